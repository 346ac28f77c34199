//! The anomaly detector for one series: per-minute counts and "now" in, anomalies out.
//!
//! It is pure (no clock, no database): [`SeriesDetector`] steps through closed minutes one
//! at a time, reading counts through a lookup it is handed, so a replay of stored history
//! ([`detect_series`]) and live streaming ([`super::stream`]) run the very same arithmetic
//! in the very same order and give the same insights for the same counts.
//!
//! # The rule (the maths is in `docs/detection.md`)
//!
//! For each closed minute `t` with a full baseline behind it (the trail's history covers the
//! `baseline_minutes` before `t`), with count `x`:
//!
//! 1. **Expected rate.** The time-of-day profile: the mean and variance of the counts in the
//!    same clock hour on the earlier days of the same kind (weekdays, or weekends) among
//!    the last `D` days (`D` = the days of history, at most `profile_days`; all days while
//!    fewer than two of the kind are known). Without a profile, the flat seven-day window. AWS's
//!    `baseline.average` is always the flat seven-day mean, zeros included.
//! 2. **Count model.** Poisson with that mean, or a negative binomial with that mean and
//!    variance when the variance is larger (see [`super::stats`]).
//! 3. **Start.** `x >= min_count`, `x >= min_ratio` times the expected mean,
//!    `P(X >= x) < start_probability`, and not routine. A *precedent* is an earlier minute
//!    that was itself a burst (at least `min_ratio` times the expected mean of its own
//!    hour) of at least `x / 2`. Routine means `max_precedents` precedents within 90
//!    minutes of the same clock time on the earlier `D` days (a nightly job, a weekly deploy, last
//!    week's same burst), or precedents at `routine_hours` different clock hours of the
//!    last seven days (work at no fixed time).
//! 4. **Hysteresis.** While an insight lasts its model is frozen (the burst must not raise
//!    its own bar); a minute is still *elevated* when `x >= max(1, min_count / 2)` and
//!    `P(X >= x) < continue_probability`. It ends after `quiet_minutes` minutes in a row
//!    that are not; End is the minute after the last elevated one. An insight still
//!    elevated at the last closed minute has no end yet.
//! 5. **Drops** (when `drops` is on): the minute is under half the expected mean and the
//!    last `drop_minutes` minutes together are far below it (`P(S <= s) <
//!    start_probability` for their sum under a Poisson of `drop_minutes` times the expected
//!    mean), for an API that normally makes at least `min_count` calls a minute at that
//!    time. It starts at the first of the run of low minutes, continues while that window
//!    test stays below `continue_probability`, and ends as in 4.

use std::collections::VecDeque;

use crate::time::{Minute, MINUTES_PER_DAY};

use super::config::DetectorConfig;
use super::stats::CountModel;

const HOUR: i64 = 60;
/// How far from the same clock time an earlier burst still counts as a precedent: a
/// pipeline that runs "around 10:00" drifts.
const PRECEDENT_SPREAD: i64 = 90;

/// A precedent must be a count this unlikely as Poisson noise around its slot's mean: over
/// the ~3,600 minutes searched for precedents, noise supplies well under one.
const PRECEDENT_PROBABILITY: f64 = 1e-4;

/// Weekdays and weekends keep separate time-of-day profiles; 1970-01-01 was a Thursday.
fn is_weekend(day: i64) -> bool {
    (day + 3).rem_euclid(7) >= 5
}

/// The profile slot of a minute: its clock hour, on a weekday or a weekend.
fn slot_of(m: Minute) -> usize {
    let hour = m.div_euclid(HOUR).rem_euclid(24) as usize;
    if is_weekend(m.div_euclid(MINUTES_PER_DAY)) {
        24 + hour
    } else {
        hour
    }
}

/// Whether an insight is unusually high or unusually low activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    Above,
    Below,
}

/// One unusual stretch of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Anomaly {
    pub start: Minute,
    /// The minute after the last unusual one; `None` while it is still going on.
    pub end: Option<Minute>,
    /// Mean count per minute over the seven days before `start` (AWS's baseline.average).
    pub baseline_average: f64,
    /// The count in the first anomalous minute.
    pub first_count: u32,
    /// Calls over `[start, end)` (or up to the last unusual minute while ongoing).
    pub total: u64,
    pub direction: Direction,
}

impl Anomaly {
    /// Mean calls per minute over the whole insight (needs an end).
    pub fn insight_average(&self) -> Option<f64> {
        self.end.map(|end| self.total as f64 / (end - self.start) as f64)
    }
}

#[derive(Debug, Clone)]
struct Active {
    anomaly: Anomaly,
    model: CountModel,
    last_unusual: Minute,
}

/// One series' detector between two minutes: rolling sums, the time-of-day profile and
/// the insight in progress. Feed it every minute in order with [`SeriesDetector::step`].
#[derive(Debug, Clone)]
pub struct SeriesDetector {
    cfg: DetectorConfig,
    history_start: Minute,
    /// The next minute to step.
    next: Minute,
    /// Sum and sum of squares over the flat window `[next - baseline_minutes, next)`.
    sum: f64,
    sum_sq: f64,
    /// The current clock hour's sums, and whether they started at its first minute.
    hour_sum: f64,
    hour_sum_sq: f64,
    hour_whole: bool,
    /// Per hour of the day on weekdays (0-23) and weekends (24-47), `(day, sum, sum of
    /// squares)` of that hour on earlier days within `profile_days`, newest last.
    slots: Vec<VecDeque<(i64, f64, f64)>>,
    active: Option<Active>,
}

impl SeriesDetector {
    /// The first minute a series whose first call is at `first` must be stepped from: far
    /// enough back that its windows see the zeros before that call.
    pub fn origin(cfg: &DetectorConfig, history_start: Minute, first: Minute) -> Minute {
        let lookback = cfg.baseline_minutes.max(cfg.profile_days * MINUTES_PER_DAY);
        (first - lookback).max(history_start)
    }

    /// A detector for a series whose first call is at `first`, in a trail whose history
    /// starts at `history_start`. `cfg` must have passed [`DetectorConfig::validate`].
    pub fn new(cfg: DetectorConfig, history_start: Minute, first: Minute) -> SeriesDetector {
        let next = SeriesDetector::origin(&cfg, history_start, first);
        SeriesDetector {
            cfg,
            history_start,
            next,
            sum: 0.0,
            sum_sq: 0.0,
            hour_sum: 0.0,
            hour_sum_sq: 0.0,
            // Set at the first hour boundary: a partial first hour never enters the profile.
            hour_whole: false,
            slots: vec![VecDeque::new(); 48],
            active: None,
        }
    }

    /// The next minute [`SeriesDetector::step`] will judge.
    pub fn next_minute(&self) -> Minute {
        self.next
    }

    /// The insight in progress, if any.
    pub fn ongoing(&self) -> Option<&Anomaly> {
        self.active.as_ref().map(|a| &a.anomaly)
    }

    /// Judges the next minute; `at(m)` is the count of any minute up to it (0 for minutes
    /// before the series' first call). Returns the insight that this minute ended, if any.
    pub fn step(&mut self, at: &impl Fn(Minute) -> u32) -> Option<Anomaly> {
        let t = self.next;
        let x = at(t);
        if t.rem_euclid(HOUR) == 0 {
            if self.hour_whole {
                let day = (t - 1).div_euclid(MINUTES_PER_DAY);
                let slot = &mut self.slots[slot_of(t - 1)];
                slot.push_back((day, self.hour_sum, self.hour_sum_sq));
                while slot.front().is_some_and(|(d, _, _)| *d <= day - self.cfg.profile_days) {
                    slot.pop_front();
                }
            }
            (self.hour_sum, self.hour_sum_sq, self.hour_whole) = (0.0, 0.0, true);
        }
        let ended = if t >= self.history_start + self.cfg.baseline_minutes { self.judge(t, x, at) } else { None };
        let (entering, leaving) = (x as f64, at(t - self.cfg.baseline_minutes) as f64);
        self.sum += entering - leaving;
        self.sum_sq += entering * entering - leaving * leaving;
        self.hour_sum += entering;
        self.hour_sum_sq += entering * entering;
        self.next += 1;
        ended
    }

    fn judge(&mut self, t: Minute, x: u32, at: &impl Fn(Minute) -> u32) -> Option<Anomaly> {
        let cfg = &self.cfg;
        if let Some(active) = self.active.as_mut() {
            let unusual = match active.anomaly.direction {
                Direction::Above => {
                    x >= (cfg.min_count / 2).max(1) && active.model.ln_upper_tail(x) < cfg.continue_probability.ln()
                }
                Direction::Below => drop_tail(cfg, active.model, t, at) < cfg.continue_probability.ln(),
            };
            if unusual {
                active.anomaly.total += ((active.last_unusual + 1)..=t).map(|m| at(m) as u64).sum::<u64>();
                active.last_unusual = t;
            } else if t - active.last_unusual >= cfg.quiet_minutes {
                let end = active.last_unusual + 1;
                let mut done = self.active.take().expect("an active insight").anomaly;
                done.end = Some(end);
                return Some(done);
            }
            return None;
        }
        let start = |model, start: Minute, direction, total| Active {
            anomaly: Anomaly {
                start,
                end: None,
                baseline_average: self.sum / cfg.baseline_minutes as f64,
                first_count: at(start),
                total,
                direction,
            },
            model,
            last_unusual: t,
        };
        if x >= cfg.min_count {
            let model = self.expected(t);
            if x as f64 >= cfg.min_ratio * model.mean()
                && model.ln_upper_tail(x) < cfg.start_probability.ln()
                && !self.routine(t, x, at)
            {
                self.active = Some(start(model, t, Direction::Above, x as u64));
            }
        } else if cfg.drops && t - cfg.drop_minutes + 1 >= self.history_start + cfg.baseline_minutes {
            let model = self.expected(t);
            let low = |m: Minute| (at(m) as f64) < model.mean() / 2.0;
            if model.mean() >= cfg.min_count as f64
                && low(t)
                && drop_tail(cfg, model, t, at) < cfg.start_probability.ln()
            {
                // The drop began with the run of low minutes that ends here.
                let from = (t - cfg.drop_minutes + 1..=t).rev().take_while(|&m| low(m)).last().unwrap_or(t);
                let total = (from..=t).map(|m| at(m) as u64).sum();
                self.active = Some(start(model, from, Direction::Below, total));
            }
        }
        None
    }

    /// The count model of minute `t`: its clock hour on earlier days of the same kind
    /// (weekday or weekend; all days while fewer than two of that kind are known), or the
    /// flat window without a profile.
    fn expected(&self, t: Minute) -> CountModel {
        let same_kind = &self.slots[slot_of(t)];
        let other_kind = &self.slots[(slot_of(t) + 24) % 48];
        let days: Vec<&(i64, f64, f64)> = if same_kind.len() >= 2 {
            same_kind.iter().collect()
        } else {
            same_kind.iter().chain(other_kind).collect()
        };
        let (n, sum, sum_sq) = if self.cfg.profile_days > 0 && !days.is_empty() {
            let (s, q) = days.iter().fold((0.0, 0.0), |(s, q), (_, a, b)| (s + a, q + b));
            ((days.len() as i64 * HOUR) as f64, s, q)
        } else {
            (self.cfg.baseline_minutes as f64, self.sum, self.sum_sq)
        };
        let mean = sum / n;
        CountModel::fit(mean, (sum_sq / n - mean * mean).max(0.0), 1.0 / n)
    }

    /// Whether a count of `x` at `t` is routine: it has precedents at the same time of day
    /// on earlier days, or bursts of half its size came at many different clock hours in
    /// the last week (work that recurs at no fixed time). A busy API's ordinary peak-hour
    /// minutes are not bursts, so they do not make a burst at night routine; bursts at two
    /// fixed times a day do not make a burst at a third time routine.
    fn routine(&self, t: Minute, x: u32, at: &impl Fn(Minute) -> u32) -> bool {
        let cfg = &self.cfg;
        // The smallest count that is a burst in each slot (a Monday and a Saturday stand
        // for their kind): at least `min_ratio` times the slot's mean, and beyond the
        // Poisson noise around it. Poisson, not the fitted model: recurring bursts widen
        // their slot's spread, and must not hide themselves from this test.
        let (monday, saturday) = (4 * MINUTES_PER_DAY, 2 * MINUTES_PER_DAY);
        let burst_floor: Vec<u32> = (0..48)
            .map(|s| {
                let mean = self.expected(if s < 24 { monday } else { saturday } + (s % 24) as i64 * HOUR).mean();
                let noise = CountModel::Poisson { mean };
                let mut c = ((cfg.min_ratio * mean).ceil() as u32).max(1);
                while noise.ln_upper_tail(c) >= PRECEDENT_PROBABILITY.ln() {
                    c += 1;
                }
                c
            })
            .collect();
        let half = x.div_ceil(2);
        let precedent = |m: Minute| {
            let c = at(m);
            c >= half && c >= burst_floor[slot_of(m)]
        };
        let days = cfg.profile_days.min((t - self.history_start) / MINUTES_PER_DAY);
        let same_time = (1..=days)
            .map(|d| t - d * MINUTES_PER_DAY)
            .flat_map(|m| (m - PRECEDENT_SPREAD)..=(m + PRECEDENT_SPREAD))
            .filter(|&m| precedent(m))
            .take(cfg.max_precedents)
            .count();
        if same_time >= cfg.max_precedents {
            return true;
        }
        let hour_of = |m: Minute| m.div_euclid(HOUR).rem_euclid(24) as usize;
        let mut hours = [false; 24];
        for m in ((t - cfg.baseline_minutes)..t).filter(|&m| precedent(m)) {
            hours[hour_of(m)] = true;
            if hours.iter().filter(|h| **h).count() >= cfg.routine_hours {
                return true;
            }
        }
        false
    }
}

/// ln P(S <= s) for the calls `s` in the `drop_minutes` minutes up to `t`, under a Poisson
/// of that many minutes at the model's mean.
fn drop_tail(cfg: &DetectorConfig, model: CountModel, t: Minute, at: &impl Fn(Minute) -> u32) -> f64 {
    let window: u32 = ((t - cfg.drop_minutes + 1)..=t).map(at).sum();
    CountModel::Poisson { mean: model.mean() * cfg.drop_minutes as f64 }.ln_lower_tail(window)
}

/// Finds the anomalies of one series by replaying its history.
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
    let origin = SeriesDetector::origin(cfg, history_start, first);
    // Everything has ended a few quiet minutes after the last call, and nothing starts on
    // silence unless drops are reported, so the replay can stop early.
    let end = if cfg.drops { until } else { until.min(last + cfg.quiet_minutes + 1) };
    if end <= origin {
        return Vec::new();
    }
    let mut dense = vec![0u32; (end - origin) as usize];
    for &(m, c) in counts.iter().filter(|(m, _)| (origin..end).contains(m)) {
        dense[(m - origin) as usize] = c;
    }
    let at = |m: Minute| if m < origin { 0 } else { dense.get((m - origin) as usize).copied().unwrap_or(0) };
    let mut detector = SeriesDetector::new(cfg.clone(), history_start, first);
    let mut found: Vec<Anomaly> = (origin..end).filter_map(|_| detector.step(&at)).collect();
    found.extend(detector.ongoing().cloned());
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
    fn each_series_starts_at_its_own_first_minute_not_the_trails() {
        // A trail whose first series began ten years before this one: the new series is
        // stepped from its own first call minus the lookback (28 days of profile), not from
        // the trail's first minute, and finds what it finds alone.
        let cfg = DetectorConfig::default();
        let offset = 10 * 365 * DAY;
        let at = 9 * DAY + 600;
        let new_series: Vec<(Minute, u32)> =
            with_burst(sparse(10), at, &[42, 40, 3, 38, 41]).into_iter().map(|(m, c)| (m + offset, c)).collect();
        assert_eq!(SeriesDetector::origin(&cfg, 0, offset), offset - 28 * DAY);
        let in_old_trail = detect_series(&new_series, 0, offset + 10 * DAY, &cfg);
        let alone = detect_series(&new_series, offset, offset + 10 * DAY, &cfg);
        assert_eq!(in_old_trail.len(), 1, "{in_old_trail:?}");
        assert_eq!((in_old_trail[0].start, in_old_trail[0].end), (offset + at, Some(offset + at + 5)));
        assert_eq!(in_old_trail, alone);
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
        let mut counts: Vec<(Minute, u32)> = (0..9 * DAY).map(|m| (m, if m % 60 == 0 { 60 } else { 20 })).collect();
        let found = detect_series(&counts, 0, 9 * DAY, &DetectorConfig::default());
        assert!(found.is_empty(), "{found:?}");
        counts[(8 * DAY + 7) as usize].1 = 400;
        let found = detect_series(&counts, 0, 9 * DAY, &DetectorConfig::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].start, 8 * DAY + 7);
    }

    /// Poisson counts at `rate(minute)` for `days` days.
    fn noisy(days: i64, seed: u64, rate: impl Fn(Minute) -> f64) -> Vec<(Minute, u32)> {
        let mut rng = crate::demo::Rng(seed);
        (0..days * DAY).map(|m| (m, rng.poisson(rate(m)))).filter(|(_, c)| *c > 0).collect()
    }

    #[test]
    fn a_nightly_job_is_routine_but_the_same_burst_at_noon_is_not() {
        let nightly = |m: Minute| if (180..183).contains(&(m % DAY)) { 20.0 } else { 0.02 };
        let counts = noisy(12, 1, nightly);
        assert!(detect_series(&counts, 0, 12 * DAY, &DetectorConfig::default()).is_empty());
        let noon = 11 * DAY + 720;
        let counts = with_burst(counts, noon, &[20, 21, 19]);
        let found = detect_series(&counts, 0, 12 * DAY, &DetectorConfig::default());
        assert_eq!(found.iter().map(|a| (a.start, a.end)).collect::<Vec<_>>(), [(noon, Some(noon + 3))]);
    }

    #[test]
    fn a_busy_api_doubled_at_night_needs_the_time_of_day_profile() {
        // 200 calls a minute in the afternoon, 20 at night: 60 at 02:00 is triple the
        // usual night but a third of a flat week's spread.
        let busy = |m: Minute| if (600..1080).contains(&(m % DAY)) { 200.0 } else { 20.0 };
        let night = 20 * DAY + 120;
        let counts = with_burst(noisy(21, 2, busy), night, &[60, 62, 58, 61, 60]);
        let flat = DetectorConfig { profile_days: 0, ..DetectorConfig::default() };
        assert!(detect_series(&counts, 0, 21 * DAY, &flat).is_empty());
        let found = detect_series(&counts, 0, 21 * DAY, &DetectorConfig::default());
        assert_eq!(found.iter().map(|a| (a.start, a.end)).collect::<Vec<_>>(), [(night, Some(night + 5))]);
    }

    #[test]
    fn an_outage_is_a_drop_only_when_drops_are_on() {
        let mut counts = noisy(10, 3, |_| 30.0);
        let outage = 9 * DAY + 300;
        counts.retain(|(m, _)| !(outage..outage + 30).contains(m));
        assert!(detect_series(&counts, 0, 10 * DAY, &DetectorConfig::default()).is_empty());
        let cfg = DetectorConfig { drops: true, ..DetectorConfig::default() };
        let found = detect_series(&counts, 0, 10 * DAY, &cfg);
        assert_eq!(found.len(), 1, "{found:?}");
        let drop = &found[0];
        assert_eq!((drop.direction, drop.start, drop.first_count), (Direction::Below, outage, 0));
        let end = drop.end.unwrap();
        assert!((outage + 30..outage + 45).contains(&end), "ends soon after calls return: {end}");
        assert!(drop.insight_average().unwrap() < drop.baseline_average / 2.0);
    }
}
