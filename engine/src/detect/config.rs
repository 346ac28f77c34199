//! The detector's settings: a per-trail [`Sensitivity`] and the validated
//! [`DetectorConfig`] built from it.
//!
//! A config is checked once, where it is made ([`DetectorConfig::validate`]), so the
//! detector itself never meets a nonsensical one (a zero-minute baseline, a probability
//! above one).

use crate::time::{BASELINE_MINUTES, MINUTES_PER_DAY};

/// How sensitive detection is; a per-trail setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sensitivity {
    Low,
    #[default]
    Medium,
    High,
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

/// The detector's parameters (see [`super::detector`] for the rule they drive).
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorConfig {
    /// The flat window AWS reports as `baseline.average` (seven days).
    pub baseline_minutes: i64,
    /// Days of history the time-of-day profile learns from (up to 28); 0 turns seasonality
    /// off and the flat seven-day baseline is tested instead.
    pub profile_days: i64,
    /// No insight starts below this many calls in a minute.
    pub min_count: u32,
    /// ... nor below this many times the expected rate.
    pub min_ratio: f64,
    /// The tail probability a minute must fall below to start an insight.
    pub start_probability: f64,
    /// Minutes near the same time of day on earlier days that reached half the count: this
    /// many make a burst routine (a nightly job, a weekly deploy, last week's same burst).
    pub max_precedents: usize,
    /// Bursts of at least half the count at this many different clock hours of the last
    /// seven days make it routine too: work that recurs at no fixed time.
    pub routine_hours: usize,
    /// The looser tail probability that keeps an insight going (hysteresis).
    pub continue_probability: f64,
    /// Quiet minutes in a row that end an insight.
    pub quiet_minutes: i64,
    /// Report drops below the baseline as insights too.
    pub drops: bool,
    /// Minutes in a row a drop must last before it is reported.
    pub drop_minutes: i64,
}

/// A config the detector cannot work with, naming the field and what would be valid.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("detector setting {field} is {value}: {expected}")]
    Invalid { field: &'static str, value: String, expected: &'static str },
}

impl DetectorConfig {
    /// A trail's own settings: its sensitivity, and drops when it has them on.
    pub fn for_trail(trail: &crate::store::Trail) -> DetectorConfig {
        DetectorConfig { drops: trail.drops, ..DetectorConfig::new(trail.sensitivity) }
    }

    pub fn new(sensitivity: Sensitivity) -> DetectorConfig {
        // 1.44e5 series-minutes per hundred series-days: 1e-6 allows ~0.1 chance starts
        // there before the count floor, ratio and precedents remove most of them (the
        // evaluation measures what is left).
        let (min_count, start_probability) = match sensitivity {
            Sensitivity::Low => (10, 1e-9),
            Sensitivity::Medium => (5, 1e-6),
            Sensitivity::High => (3, 1e-5),
        };
        DetectorConfig {
            baseline_minutes: BASELINE_MINUTES,
            profile_days: 28,
            min_count,
            min_ratio: 2.0,
            start_probability,
            max_precedents: 3,
            routine_hours: 4,
            continue_probability: 1e-3,
            quiet_minutes: 3,
            drops: false,
            drop_minutes: 10,
        }
    }

    /// Checks every field; the detector assumes a config that passed.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, value: String, expected| Err(ConfigError::Invalid { field, value, expected });
        let probability = |p: f64| p > 0.0 && p < 1.0;
        if self.baseline_minutes < MINUTES_PER_DAY || self.baseline_minutes % MINUTES_PER_DAY != 0 {
            return invalid("baseline_minutes", self.baseline_minutes.to_string(), "whole days, at least 1440");
        }
        if !(0..=56).contains(&self.profile_days) {
            return invalid("profile_days", self.profile_days.to_string(), "0 (off) to 56 days");
        }
        if self.min_count == 0 {
            return invalid("min_count", "0".into(), "at least 1 call");
        }
        if !(self.min_ratio >= 1.0) {
            return invalid("min_ratio", self.min_ratio.to_string(), "at least 1.0");
        }
        if !probability(self.start_probability) {
            return invalid("start_probability", self.start_probability.to_string(), "between 0 and 1, exclusive");
        }
        if !probability(self.continue_probability) || self.continue_probability < self.start_probability {
            return invalid(
                "continue_probability",
                self.continue_probability.to_string(),
                "between start_probability and 1 (a looser bar than starting)",
            );
        }
        if self.max_precedents == 0 || self.routine_hours == 0 {
            return invalid("max_precedents", "0".into(), "at least 1 (0 would call every burst routine)");
        }
        if !(1..=60).contains(&self.quiet_minutes) {
            return invalid("quiet_minutes", self.quiet_minutes.to_string(), "1 to 60 minutes");
        }
        if !(1..=240).contains(&self.drop_minutes) {
            return invalid("drop_minutes", self.drop_minutes.to_string(), "1 to 240 minutes");
        }
        Ok(())
    }
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig::new(Sensitivity::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sensitivity_builds_a_valid_config() {
        for s in Sensitivity::ALL {
            assert_eq!(DetectorConfig::new(s).validate(), Ok(()), "{s:?}");
        }
    }

    #[test]
    fn a_bad_setting_is_named_with_what_would_do() {
        let cfg = DetectorConfig { start_probability: 2.0, ..DetectorConfig::default() };
        let message = cfg.validate().unwrap_err().to_string();
        assert!(message.contains("start_probability is 2"), "{message}");
        assert!(message.contains("between 0 and 1"), "{message}");
    }
}
