//! Scoring one detector against the scenario's labels, insight by insight.
//!
//! Labels come from the scenario, never from a detector: a burst injected into a series is
//! a **positive** when it is an attack and big enough to be an insight at all (at least 5
//! calls in its peak minute, and at least twice that series' usual rate at that time of
//! day). Attack activity below that (a single `StopLogging` call) is **too small**: an
//! insight on it is neither credited nor counted as false. Everything else an insight
//! overlaps (background, harmless recurring work, distractors) makes it **false**, and so
//! does a second insight on a burst that already has one (a flicker).

use serde::Serialize;

use crate::detect::Anomaly;
use crate::time::{format_minute, Minute, BASELINE_MINUTES, MINUTES_PER_DAY};

use super::world::{Intent, World};

/// Minimum calls in a burst's peak minute for it to be a positive.
pub const MIN_POSITIVE_PEAK: u32 = 5;

/// How one detector did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Score {
    pub detector: String,
    pub positives: usize,
    pub detected: usize,
    pub true_insights: usize,
    pub false_insights: usize,
    /// Insights on attack activity too small to be a positive.
    pub uncounted_insights: usize,
    pub series: usize,
    pub series_days: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub false_per_100_series_days: f64,
    pub median_delay_minutes: Option<f64>,
    pub p90_delay_minutes: Option<f64>,
    /// `series: burst` for every positive not found.
    pub missed: Vec<String>,
    /// `series at time (what it overlapped)` for every false insight.
    pub false_alarms: Vec<String>,
}

/// Scores `detect(counts, history_start, until)` over every series of `world`.
pub fn score(
    world: &World,
    detector: &str,
    detect: impl Fn(&[(Minute, u32)], Minute, Minute) -> Vec<Anomaly>,
) -> Score {
    let mut s = Score { detector: detector.to_owned(), ..Default::default() };
    let mut delays = Vec::new();
    for (id, counts) in world.series() {
        s.series += 1;
        let bursts = world.bursts_in(id);
        // (tag, start, end, positive?)
        let labelled: Vec<(usize, Minute, Minute, bool)> = bursts
            .iter()
            .map(|&(tag, start, end, peak)| {
                let attack = world.tags[tag].intent == Intent::Attack;
                let big = peak >= MIN_POSITIVE_PEAK && peak as f64 >= 2.0 * world.usual_rate(id, start);
                (tag, start, end, attack && big)
            })
            .collect();
        s.positives += labelled.iter().filter(|b| b.3).count();
        let mut found_burst = vec![false; labelled.len()];
        for a in detect(&counts, world.start, world.end()) {
            let end = a.end.unwrap_or(world.end());
            let overlaps = |b: &&(usize, Minute, Minute, bool)| a.start < b.2 && end > b.1;
            let hit = labelled.iter().enumerate().find(|(_, b)| b.3 && overlaps(b));
            match hit {
                Some((i, b)) if !found_burst[i] => {
                    found_burst[i] = true;
                    s.true_insights += 1;
                    delays.push((a.start - b.1).max(0) as f64);
                }
                _ if hit.is_none()
                    && labelled.iter().any(|b| overlaps(&b) && world.tags[b.0].intent == Intent::Attack) =>
                {
                    s.uncounted_insights += 1;
                }
                _ => {
                    s.false_insights += 1;
                    let what: Vec<&str> =
                        labelled.iter().filter(|b| overlaps(b)).map(|b| world.tags[b.0].name.as_str()).collect();
                    let what = if what.is_empty() { "background".to_owned() } else { what.join(", ") };
                    s.false_alarms.push(format!("{id} at {} ({what})", format_minute(a.start)));
                }
            }
        }
        for (b, found) in labelled.iter().zip(&found_burst) {
            if b.3 && !found {
                s.missed.push(format!("{id}: {} at {}", world.tags[b.0].name, format_minute(b.1)));
            }
        }
    }
    s.detected = delays.len();
    let judged_days = (world.days * MINUTES_PER_DAY - BASELINE_MINUTES) as f64 / MINUTES_PER_DAY as f64;
    s.series_days = s.series as f64 * judged_days;
    let claimed = s.true_insights + s.false_insights;
    s.precision = if claimed == 0 { 0.0 } else { s.true_insights as f64 / claimed as f64 };
    s.recall = if s.positives == 0 { 0.0 } else { s.detected as f64 / s.positives as f64 };
    s.f1 = if s.precision + s.recall == 0.0 { 0.0 } else { 2.0 * s.precision * s.recall / (s.precision + s.recall) };
    s.false_per_100_series_days = 100.0 * s.false_insights as f64 / s.series_days;
    delays.sort_by(f64::total_cmp);
    s.median_delay_minutes = percentile(&delays, 0.5);
    s.p90_delay_minutes = percentile(&delays, 0.9);
    s
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v = [0.0, 0.0, 1.0, 2.0, 10.0];
        assert_eq!(percentile(&v, 0.5), Some(1.0));
        assert_eq!(percentile(&v, 0.9), Some(10.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
