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

/// `2023-07-10T11:58:00Z` as `2023-07-10 11:58 UTC`.
pub fn time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(hm)) => format!("{day} {hm} UTC"),
        _ => rfc3339.to_owned(),
    }
}

/// `2023-07-10T11:58:03Z` (or with milliseconds) as `2023-07-10 11:58:03 UTC`: event
/// lists need seconds, 78 events in one minute must be told apart.
pub fn time_seconds(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..19)) {
        (Some(day), Some(hms)) => format!("{day} {hms} UTC"),
        _ => rfc3339.to_owned(),
    }
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
        assert_eq!(time("2023-07-10T11:58:00Z"), "2023-07-10 11:58 UTC");
        assert_eq!(duration(Some(5)), "5 min");
        assert_eq!(duration(Some(125)), "2 h 5 min");
        assert_eq!(duration(None), "ongoing");
    }
}
