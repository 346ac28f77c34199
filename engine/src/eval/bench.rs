//! The detection benchmark behind `trailsight bench-detect`: synthetic per-minute counts in
//! memory, timed through the same replay `trailsight detect` runs.
//!
//! This is the one place in the engine that reads a clock, because measuring wall time is
//! its whole job; the detector it times never does.

use std::time::Instant;

use crate::demo::Rng;
use crate::detect::{detect_series, DetectorConfig};
use crate::time::{Minute, MINUTES_PER_DAY};

/// One benchmark's outcome.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchFigures {
    pub name: String,
    pub series: usize,
    pub days: i64,
    pub events: u64,
    pub series_minutes: u64,
    pub seconds: f64,
    pub series_minutes_per_second: f64,
    pub insights: usize,
}

/// Daily rhythm: busy afternoons, quiet nights.
fn rhythm(m: Minute) -> f64 {
    let hour = m.rem_euclid(MINUTES_PER_DAY) as f64 / 60.0;
    0.2 + 0.8 * (-((hour - 13.0) / 4.0).powi(2)).exp()
}

/// `rates.len()` series over `days` days, each a Poisson process at its peak rate times
/// the rhythm, with a burst of 50 calls a minute for 5 minutes somewhere in the last week.
pub fn workload(rates: &[f64], days: i64, seed: u64) -> Vec<Vec<(Minute, u32)>> {
    let mut rng = Rng(seed);
    rates
        .iter()
        .map(|&peak| {
            let burst = (days - 7) * MINUTES_PER_DAY + rng.below((7 * MINUTES_PER_DAY) as usize) as i64;
            (0..days * MINUTES_PER_DAY)
                .map(|m| {
                    let extra = if (burst..burst + 5).contains(&m) { 50.0 } else { 0.0 };
                    (m, rng.poisson(peak * rhythm(m) + extra))
                })
                .filter(|(_, c)| *c > 0)
                .collect()
        })
        .collect()
}

/// Times the replay of every series of `workload` over `days` days.
pub fn time_detection(name: &str, workload: &[Vec<(Minute, u32)>], days: i64) -> BenchFigures {
    let cfg = DetectorConfig::default();
    let until = days * MINUTES_PER_DAY;
    let started = Instant::now();
    let insights: usize = workload.iter().map(|counts| detect_series(counts, 0, until, &cfg).len()).sum();
    let seconds = started.elapsed().as_secs_f64();
    let series_minutes = workload.len() as u64 * until as u64;
    BenchFigures {
        name: name.to_owned(),
        series: workload.len(),
        days,
        events: workload.iter().flatten().map(|(_, c)| *c as u64).sum(),
        series_minutes,
        seconds,
        series_minutes_per_second: series_minutes as f64 / seconds,
        insights,
    }
}

/// The two benchmarks issue #3 asks for: 1,000 series of mixed rates over 30 days, and
/// 30 days of a trail logging 1M events a day across 2,000 series (Zipf-distributed).
pub fn run(seed: u64) -> Vec<BenchFigures> {
    let days = 30;
    let mut rng = Rng(seed);
    // Peak rates from one call a day to 20 a minute, spread evenly in log scale.
    let mixed: Vec<f64> = (0..1000).map(|_| 10f64.powf(-3.0 + 4.3 * rng.unit())).collect();
    let first = time_detection("1,000 series x 30 days, mixed rates", &workload(&mixed, days, seed), days);
    // 1M events a day: ~694 a minute on average, at peak rate divided by the rhythm's mean.
    let mean_rhythm = (0..MINUTES_PER_DAY).map(rhythm).sum::<f64>() / MINUTES_PER_DAY as f64;
    let weights: Vec<f64> = (1..=2000).map(|i| 1.0 / (i as f64).powf(1.1)).collect();
    let total: f64 = weights.iter().sum();
    let per_minute = 1_000_000.0 / MINUTES_PER_DAY as f64 / mean_rhythm;
    let zipf: Vec<f64> = weights.iter().map(|w| per_minute * w / total).collect();
    let second = time_detection("1M events/day x 30 days, 2,000 series", &workload(&zipf, days, seed), days);
    vec![first, second]
}
