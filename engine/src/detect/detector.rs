//! The anomaly detector for one series: per-minute counts and "now" in, anomalies out.
//!
//! It is a pure function (no clock, no database), so live detection and a replay of stored
//! history give the same answer for the same counts.
//!
//! # The rule
//!
//! For each closed minute `t` with a full baseline behind it (the trail's history covers the
//! `baseline_minutes` before `t`):
//!
//! 1. The baseline is the mean `m` and variance `v` of the counts in `[t - 7 days, t)`,
//!    zeros included, as AWS defines `baseline.average`.
//! 2. A count model is fitted: Poisson(m), or a negative binomial with mean `m` and variance
//!    `v` when `v > 1.1 m` (see [`super::stats`]).
//! 3. An insight **starts** at `t` when the count `x` is at least `min_count`, at least
//!    `min_ratio` times `m`, `P(X >= x) < start_probability` under the model, and fewer
//!    than `max_precedents` minutes of the baseline window reached `x`: an hourly batch
//!    job's spike has precedents every hour and is not news, however rare it looks to a
//!    model of the average minute.
//! 4. While it lasts the baseline is frozen (the burst must not raise its own bar). A minute
//!    is still *elevated* when `x >= max(1, min_count / 2)` and `P(X >= x) <
//!    continue_probability`, a much looser bar: hysteresis, so one burst with a dip in the
//!    middle is one insight, not a flickering series.
//! 5. It **ends** after `quiet_minutes` minutes in a row that are not elevated; the End time
//!    is the minute after the last elevated one. An insight still elevated at `until` has no
//!    end yet.

use crate::time::{Minute, BASELINE_MINUTES};

use super::stats::CountModel;

/// How sensitive detection is; a per-trail setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sensitivity {
    Low,
    #[default]
    Medium,
    High,
}

/// The detector's parameters. Build one from a [`Sensitivity`] with [`DetectorConfig::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorConfig {
    pub baseline_minutes: i64,
    pub min_count: u32,
    pub min_ratio: f64,
    pub start_probability: f64,
    pub max_precedents: usize,
    pub continue_probability: f64,
    pub quiet_minutes: i64,
}

impl Sensitivity {
    pub const ALL: [Sensitivity; 3] = [Sensitivity::Low, Sensitivity::Medium, Sensitivity::High];

    pub fn as_str(self) -> &'static str {
        match self {
            Sensitivity::Low => "low",
            Sensitivity::Medium => "medium",
            Sensitivity::High => "high",
        }
    }

    pub fn parse(text: &str) -> Option<Sensitivity> {
        Sensitivity::ALL.into_iter().find(|s| s.as_str().eq_ignore_ascii_case(text))
    }
}

impl DetectorConfig {
    pub fn new(sensitivity: Sensitivity) -> DetectorConfig {
        // With ~10^4 series-minutes per series-week, 1e-7 keeps chance starts to well under
        // one per hundred series-days even before the count floor.
        let (min_count, start_probability) = match sensitivity {
            Sensitivity::Low => (10, 1e-9),
            Sensitivity::Medium => (5, 1e-7),
            Sensitivity::High => (3, 1e-5),
        };
        DetectorConfig {
            baseline_minutes: BASELINE_MINUTES,
            min_count,
            min_ratio: 2.0,
            start_probability,
            max_precedents: 3,
            continue_probability: 1e-3,
            quiet_minutes: 3,
        }
    }
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig::new(Sensitivity::default())
    }
}

/// One unusual stretch of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Anomaly {
    pub start: Minute,
    /// The minute after the last elevated one; `None` while it is still going on.
    pub end: Option<Minute>,
    /// Mean count per minute over the baseline window before `start`.
    pub baseline_average: f64,
    /// The count in the first anomalous minute.
    pub first_count: u32,
    /// Calls over `[start, end)` (or up to `until` while ongoing).
    pub total: u64,
}

impl Anomaly {
    /// Mean calls per minute over the whole insight (needs an end).
    pub fn insight_average(&self) -> Option<f64> {
        self.end.map(|end| self.total as f64 / (end - self.start) as f64)
    }
}

/// Finds the anomalies of one series.
///
/// `counts` are the series' non-zero `(minute, count)` pairs in minute order. Minutes
/// before `history_start` (the trail's first stored event) are unknown, so no minute is
/// judged until a whole baseline window of history lies behind it. Only minutes before
/// `until` (the first minute not yet closed) are judged.
pub fn detect_series(
    counts: &[(Minute, u32)],
    history_start: Minute,
    until: Minute,
    cfg: &DetectorConfig,
) -> Vec<Anomaly> {
    let (Some(&(first, _)), Some(&(last, _))) = (counts.first(), counts.last()) else {
        return Vec::new();
    };
    let w = cfg.baseline_minutes;
    // Nothing can start before the first call, and everything has ended a few quiet
    // minutes after the last one, so the dense window stays as short as the series.
    let origin = (first - w).max(history_start);
    let until = until.min(last + cfg.quiet_minutes + 1);
    if until <= origin {
        return Vec::new();
    }
    let mut dense = vec![0u32; (until - origin) as usize];
    for &(m, c) in counts {
        if m >= origin && m < until {
            dense[(m - origin) as usize] = c;
        }
    }
    let at = |m: Minute| if m < origin { 0 } else { dense.get((m - origin) as usize).copied().unwrap_or(0) };

    let first_judged = (history_start + w).max(first);
    if first_judged >= until {
        return Vec::new();
    }
    // Rolling sums over the baseline window [t - w, t).
    let (mut sum, mut sum_sq) = (0f64, 0f64);
    for m in (first_judged - w)..first_judged {
        let c = at(m) as f64;
        sum += c;
        sum_sq += c * c;
    }

    let min_mean = 1.0 / w as f64;
    let continue_floor = (cfg.min_count / 2).max(1);
    let mut found = Vec::new();
    let mut active: Option<(Anomaly, CountModel, Minute)> = None; // (anomaly, model, last elevated)
    for t in first_judged..until {
        let x = at(t);
        match active.as_mut() {
            None => {
                let mean = sum / w as f64;
                if x >= cfg.min_count && x as f64 >= cfg.min_ratio * mean {
                    let variance = (sum_sq / w as f64 - mean * mean).max(0.0);
                    let model = CountModel::fit(mean, variance, min_mean);
                    let precedents = || ((t - w)..t).filter(|&m| at(m) >= x).take(cfg.max_precedents).count();
                    if model.ln_upper_tail(x) < cfg.start_probability.ln()
                        && precedents() < cfg.max_precedents
                    {
                        let anomaly = Anomaly {
                            start: t,
                            end: None,
                            baseline_average: mean,
                            first_count: x,
                            total: x as u64,
                        };
                        active = Some((anomaly, model, t));
                    }
                }
            }
            Some((anomaly, model, last_elevated)) => {
                let elevated = x >= continue_floor
                    && model.ln_upper_tail(x) < cfg.continue_probability.ln();
                if elevated {
                    for m in (*last_elevated + 1)..=t {
                        anomaly.total += at(m) as u64;
                    }
                    *last_elevated = t;
                } else if t - *last_elevated >= cfg.quiet_minutes {
                    anomaly.end = Some(*last_elevated + 1);
                    found.push(active.take().unwrap().0);
                }
            }
        }
        let (leaving, entering) = (at(t - w) as f64, x as f64);
        sum += entering - leaving;
        sum_sq += entering * entering - leaving * leaving;
    }
    found.extend(active.map(|(anomaly, _, _)| anomaly));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MINUTES_PER_DAY;

    const DAY: i64 = MINUTES_PER_DAY;

    /// A quiet API: one call every 90 minutes for `days` days.
    fn sparse(days: i64) -> Vec<(Minute, u32)> {
        (0..days * DAY).step_by(90).map(|m| (m, 1)).collect()
    }

    fn with_burst(mut counts: Vec<(Minute, u32)>, at: Minute, per_minute: &[u32]) -> Vec<(Minute, u32)> {
        counts.retain(|(m, _)| *m < at || *m >= at + per_minute.len() as i64);
        counts.extend(per_minute.iter().enumerate().map(|(i, c)| (at + i as i64, *c)));
        counts.sort();
        counts
    }

    #[test]
    fn a_burst_after_a_quiet_week_is_one_insight_with_aws_statistics() {
        let at = 9 * DAY + 600;
        let counts = with_burst(sparse(10), at, &[42, 40, 3, 38, 41]);
        let found = detect_series(&counts, 0, 10 * DAY, &DetectorConfig::default());
        assert_eq!(found.len(), 1, "{found:?}");
        let a = &found[0];
        assert_eq!((a.start, a.end, a.first_count), (at, Some(at + 5), 42));
        assert!((a.baseline_average - 112.0 / (7 * DAY) as f64).abs() < 1e-6, "{a:?}");
        assert_eq!(a.insight_average(), Some(164.0 / 5.0));
    }

    #[test]
    fn quiet_noise_raises_nothing() {
        let found = detect_series(&sparse(20), 0, 20 * DAY, &DetectorConfig::default());
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn nothing_is_judged_without_a_full_week_of_history() {
        let counts = with_burst(sparse(10), 6 * DAY, &[50, 50]);
        assert!(detect_series(&counts, 0, 10 * DAY, &DetectorConfig::default()).is_empty());
    }

    #[test]
    fn a_burst_still_going_has_no_end() {
        let at = 8 * DAY;
        let counts = with_burst(sparse(8), at, &[30, 30, 30]);
        let found = detect_series(&counts, 0, at + 2, &DetectorConfig::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].end, None);
        // Once the minutes after it are closed and quiet, it ends.
        let later = detect_series(&counts, 0, at + 10, &DetectorConfig::default());
        assert_eq!(later[0].end, Some(at + 3));
    }

    #[test]
    fn a_busy_bursty_api_needs_a_much_bigger_burst() {
        // 20 calls a minute with batch spikes of 60 every hour: a spike of 60 is routine.
        let mut counts: Vec<(Minute, u32)> =
            (0..9 * DAY).map(|m| (m, if m % 60 == 0 { 60 } else { 20 })).collect();
        let found = detect_series(&counts, 0, 9 * DAY, &DetectorConfig::default());
        assert!(found.is_empty(), "{found:?}");
        counts[(8 * DAY + 7) as usize].1 = 400;
        let found = detect_series(&counts, 0, 9 * DAY, &DetectorConfig::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].start, 8 * DAY + 7);
    }
}
