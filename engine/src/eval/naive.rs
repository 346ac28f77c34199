//! The naive reference detector the evaluation compares with: a flat seven-day mean plus
//! `k` standard deviations, the Gaussian z-score rule most home-grown alerting uses.
//!
//! It shares the real detector's framing (judge each closed minute once a week of history
//! lies behind it, end after a few quiet minutes) so that only the statistics differ.

use crate::detect::Anomaly;
use crate::time::{Minute, BASELINE_MINUTES};

/// Finds the minutes whose count exceeds `mean + k * sd` of the seven days before them.
pub fn detect_naive(
    counts: &[(Minute, u32)],
    history_start: Minute,
    until: Minute,
    k: f64,
    quiet: i64,
) -> Vec<Anomaly> {
    let w = BASELINE_MINUTES;
    let first_judged = history_start + w;
    if until <= first_judged {
        return Vec::new();
    }
    let mut dense = vec![0u32; (until - history_start) as usize];
    for &(m, c) in counts.iter().filter(|(m, _)| (history_start..until).contains(m)) {
        dense[(m - history_start) as usize] = c;
    }
    let at = |m: Minute| dense[(m - history_start) as usize] as f64;
    let (mut sum, mut sum_sq) = (0.0, 0.0);
    for m in history_start..first_judged {
        sum += at(m);
        sum_sq += at(m) * at(m);
    }
    let mut found = Vec::new();
    // (anomaly, frozen threshold, last minute above it)
    let mut active: Option<(Anomaly, f64, Minute)> = None;
    for t in first_judged..until {
        let x = at(t);
        let mean = sum / w as f64;
        let threshold = mean + k * (sum_sq / w as f64 - mean * mean).max(0.0).sqrt();
        match active.as_mut() {
            None if x > threshold && x > 0.0 => {
                let a = Anomaly {
                    start: t,
                    end: None,
                    baseline_average: mean,
                    first_count: x as u32,
                    total: x as u64,
                    direction: Default::default(),
                };
                active = Some((a, threshold, t));
            }
            None => {}
            Some((a, frozen, last)) => {
                if x > *frozen {
                    a.total += ((*last + 1)..=t).map(|m| at(m) as u64).sum::<u64>();
                    *last = t;
                } else if t - *last >= quiet {
                    a.end = Some(*last + 1);
                    found.push(active.take().expect("active").0);
                }
            }
        }
        sum += x - at(t - w);
        sum_sq += x * x - at(t - w) * at(t - w);
    }
    found.extend(active.map(|(a, _, _)| a));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MINUTES_PER_DAY;

    #[test]
    fn a_single_call_on_a_sparse_api_fires_the_naive_rule() {
        // The weakness the evaluation exposes: one call after a week of silence is
        // "infinitely many" standard deviations above a mean of zero.
        let counts = [(8 * MINUTES_PER_DAY, 1)];
        let found = detect_naive(&counts, 0, 9 * MINUTES_PER_DAY, 3.0, 3);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].start, found[0].end), (8 * MINUTES_PER_DAY, Some(8 * MINUTES_PER_DAY + 1)));
    }
}
