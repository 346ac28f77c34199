//! Numbers and times written for people.

/// A per-minute average: small rates keep their significant digits (AWS baselines are often
/// below 0.001), larger ones get two decimals.
pub fn average(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x.abs() < 0.01 {
        format!("{x:.6}").trim_end_matches('0').to_owned()
    } else {
        format!("{x:.2}")
    }
}

/// The "rate change": how far the insight average is from the baseline, with an arrow. In
/// percent up to tenfold; beyond that as a multiple ("▲ 39,000×"), since "▲ 3,899,900%" says
/// the same thing less readably. A zero baseline has no finite change.
pub fn rate_change(baseline: f64, insight: f64) -> String {
    if baseline == 0.0 {
        return if insight > 0.0 { "▲ new".into() } else { "–".into() };
    }
    let ratio = insight / baseline;
    if ratio >= 10.0 {
        return format!("▲ {}×", thousands(ratio.round() as u64));
    }
    let percent = (ratio - 1.0) * 100.0;
    let arrow = if percent >= 0.0 { "▲" } else { "▼" };
    format!("{arrow} {}%", thousands(percent.abs().round() as u64))
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The time zone times are shown in: UTC (the default, and CloudTrail's), or a fixed offset a
/// person chose in the page header (cookie `tz`, minutes east of UTC). A fixed offset rather
/// than a named zone: the server and the browser write the same text with no time zone
/// database in the bundle, and the label says exactly what it is ("UTC+01:00"), summer time
/// or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Zone {
    pub offset_minutes: i32,
}

impl Zone {
    pub const UTC: Zone = Zone { offset_minutes: 0 };
    pub const COOKIE: &'static str = "tz";

    /// `"60"`, `"-330"`: minutes east of UTC, in quarter hours from UTC-12:00 to UTC+14:00.
    pub fn parse(text: &str) -> Option<Zone> {
        let minutes: i32 = text.trim().parse().ok()?;
        ((-720..=840).contains(&minutes) && minutes % 15 == 0).then_some(Zone { offset_minutes: minutes })
    }

    /// The zone a `Cookie` header names, UTC when none.
    pub fn from_cookie_header(header: &str) -> Zone {
        header
            .split(';')
            .find_map(|c| c.trim().strip_prefix("tz="))
            .and_then(Zone::parse)
            .unwrap_or_default()
    }

    pub fn label(self) -> String {
        if self.offset_minutes == 0 {
            return "UTC".to_owned();
        }
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let m = self.offset_minutes.abs();
        format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
    }

    /// The choices the header offers: UTC, then every half hour from -12:00 to +14:00 and
    /// the quarter-hour zones people live in (Nepal, Chatham, Eucla).
    pub fn choices() -> Vec<Zone> {
        let mut all: Vec<i32> = (-24..=28).map(|h| h * 30).chain([345, 525, 765]).collect();
        all.sort();
        all.dedup();
        all.into_iter().map(|offset_minutes| Zone { offset_minutes }).collect()
    }
}

/// The zone this page shows times in (provided by the app from the cookie).
pub fn zone() -> Zone {
    leptos::prelude::use_context::<Zone>().unwrap_or_default()
}

/// A UTC time (`2023-07-10T11:58:00Z`, milliseconds allowed) in `zone`, to the minute or
/// the second: `2023-07-10 12:58 UTC+01:00`.
fn in_zone(rfc3339: &str, zone: Zone, seconds: bool) -> String {
    let Some(ms) = crate::query::chrono_free_parse(&format!("{}Z", rfc3339.get(..19).unwrap_or(rfc3339))) else {
        return rfc3339.to_owned();
    };
    let local = ms.div_euclid(1000) + zone.offset_minutes as i64 * 60;
    let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let clock = if seconds { format!("{hh:02}:{mm:02}:{ss:02}") } else { format!("{hh:02}:{mm:02}") };
    format!("{y:04}-{m:02}-{d:02} {clock} {}", zone.label())
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's algorithm, the
/// inverse of the one in [`crate::query`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `2023-07-10T11:58:00Z` as `2023-07-10 11:58 UTC`, or in the page's zone.
pub fn time(rfc3339: &str) -> String {
    time_in(rfc3339, zone())
}

pub fn time_in(rfc3339: &str, zone: Zone) -> String {
    in_zone(rfc3339, zone, false)
}

/// `2023-07-10T11:58:03Z` (or with milliseconds) as `2023-07-10 11:58:03 UTC`: event
/// lists need seconds, 78 events in one minute must be told apart.
pub fn time_seconds(rfc3339: &str) -> String {
    in_zone(rfc3339, zone(), true)
}

/// An error code as people read it: CloudTrail's absent code (`null`) is "no error".
pub fn error_code(code: Option<&str>) -> String {
    match code {
        None | Some("") | Some("null") => "no error".to_owned(),
        Some(code) => code.to_owned(),
    }
}

pub fn duration(minutes: Option<i64>) -> String {
    match minutes {
        None => "ongoing".into(),
        Some(m) if m < 60 => format!("{m} min"),
        Some(m) if m % 60 == 0 => format!("{} h", m / 60),
        Some(m) => format!("{} h {} min", m / 60, m % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_change_reads_like_the_console() {
        assert_eq!(rate_change(0.05, 42.0), "▲ 840×");
        assert_eq!(rate_change(0.002, 78.0), "▲ 39,000×");
        assert_eq!(rate_change(1.0, 1.5), "▲ 50%");
        assert_eq!(rate_change(10.0, 5.0), "▼ 50%");
        assert_eq!(rate_change(0.0, 3.0), "▲ new");
    }

    #[test]
    fn small_averages_keep_their_digits() {
        assert_eq!(average(0.0000882), "0.000088");
        assert_eq!(average(0.0017), "0.0017");
        assert_eq!(average(18.0), "18.00");
    }

    #[test]
    fn times_and_durations() {
        assert_eq!(time_in("2023-07-10T11:58:00Z", Zone::UTC), "2023-07-10 11:58 UTC");
        // Offsets move the clock and the day, both ways; leap days and year ends hold.
        let zone = |m| Zone::parse(m).unwrap();
        assert_eq!(time_in("2023-07-10T23:58:00Z", zone("120")), "2023-07-11 01:58 UTC+02:00");
        assert_eq!(time_in("2024-03-01T02:00:00.123Z", zone("-330")), "2024-02-29 20:30 UTC-05:30");
        assert_eq!(time_in("2023-12-31T23:30:00Z", zone("60")), "2024-01-01 00:30 UTC+01:00");
        assert_eq!(in_zone("2026-03-10T11:58:07Z", zone("345"), true), "2026-03-10 17:43:07 UTC+05:45");
        assert_eq!(Zone::parse("61"), None, "quarter hours only");
        assert_eq!(Zone::parse("900"), None);
        assert_eq!(Zone::from_cookie_header("session=abc; tz=-480"), zone("-480"));
        assert_eq!(Zone::from_cookie_header("tz=bogus"), Zone::UTC);
        assert_eq!(duration(Some(5)), "5 min");
        assert_eq!(duration(Some(125)), "2 h 5 min");
        assert_eq!(duration(None), "ongoing");
    }
}
