//! Minutes as integers: detection works on whole UTC minutes since the Unix epoch.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// A UTC minute, counted from the Unix epoch.
pub type Minute = i64;

/// Minutes in one day, and in the seven-day baseline window AWS documents.
pub const MINUTES_PER_DAY: i64 = 1440;
pub const BASELINE_MINUTES: i64 = 7 * MINUTES_PER_DAY;

pub fn minute_of_millis(ms: i64) -> Minute {
    ms.div_euclid(60_000)
}

pub fn millis_of_minute(m: Minute) -> i64 {
    m * 60_000
}

/// `2023-07-10T11:58:00Z`, the form CloudTrail writes.
pub fn format_millis(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn format_minute(m: Minute) -> String {
    format_millis(millis_of_minute(m))
}

/// Parses an RFC 3339 timestamp (`2023-07-10T11:58:03Z`, with or without fraction or offset).
pub fn parse_millis(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_cloudtrail_timestamps() {
        let ms = parse_millis("2023-07-10T11:58:03Z").unwrap();
        assert_eq!(format_minute(minute_of_millis(ms)), "2023-07-10T11:58:00Z");
        assert_eq!(parse_millis("2023-07-10T11:58:03.250+02:00").unwrap() % 1000, 250);
        assert!(parse_millis("yesterday").is_none());
    }

    #[test]
    fn minutes_before_the_epoch_round_down() {
        assert_eq!(minute_of_millis(-1), -1);
    }
}
