//! Every view's state, as it lives in the URL: parsed from the query string, written back
//! to it, so a copied link opens the same view (server-rendered) in a fresh browser.

use serde::{Deserialize, Serialize};

/// Time range presets, as the console offers them.
pub const RANGES: [(&str, &str, i64); 5] = [
    ("30m", "30 minutes", 30),
    ("1h", "1 hour", 60),
    ("3h", "3 hours", 180),
    ("12h", "12 hours", 720),
    ("7d", "7 days", 7 * 1440),
];

/// The insights list: filters, time range and page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InsightsQuery {
    /// Which attribute `q` filters: `name` (event name), `source` (event source) or `id`
    /// (event ID); empty matches any of them.
    pub attr: String,
    pub q: String,
    pub insight_type: String,
    pub trail: String,
    /// A preset from [`RANGES`], `custom` (then `from`/`to`), or empty for all time.
    pub range: String,
    pub from: String,
    pub to: String,
    /// Triage state (`new`, `acknowledged`, `resolved`, `expected`), or empty for any.
    pub state: String,
    /// Also list insights a suppression rule marked expected (hidden by default).
    pub suppressed: bool,
    pub page: u32,
}


/// Builds `path?k=v&...` from the non-empty pairs, percent-encoding values.
pub fn url(path: &str, pairs: &[(&str, String)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    if query.is_empty() { path.to_owned() } else { format!("{path}?{}", query.join("&")) }
}

/// Where an event list page is, for Newer / Older links: `before` is the cursor this page
/// starts at (empty on the first page) and `back` the cursors of the pages before it, oldest
/// last, comma-separated in the URL (`~` stands for the first page). Only the last
/// [`PageTrail::KEPT`] are kept, so the URL stays short; beyond them "Newest" still works.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageTrail {
    pub before: String,
    pub back: Vec<String>,
}

impl PageTrail {
    pub const KEPT: usize = 20;
    const FIRST: &'static str = "~";

    pub fn parse(before: &str, back: &str) -> PageTrail {
        let back = back.split(',').filter(|c| !c.is_empty()).take(Self::KEPT + 1).map(str::to_owned).collect();
        PageTrail { before: before.to_owned(), back }
    }

    /// `(before, back)` of the next older page, which starts at `next`.
    pub fn older(&self, next: &str) -> (String, String) {
        let mut back = self.back.clone();
        back.push(if self.before.is_empty() { Self::FIRST.to_owned() } else { self.before.clone() });
        let skip = back.len().saturating_sub(Self::KEPT);
        (next.to_owned(), back[skip..].join(","))
    }

    /// `(before, back)` of the next newer page; `None` on the first page. When the trail was
    /// cut short, the newest page.
    pub fn newer(&self) -> Option<(String, String)> {
        if self.before.is_empty() {
            return None;
        }
        let mut back = self.back.clone();
        Some(match back.pop() {
            Some(c) if c != Self::FIRST => (c, back.join(",")),
            _ => (String::new(), String::new()),
        })
    }
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl InsightsQuery {
    /// Reads the state from the URL's query parameters (`get` looks one up).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> InsightsQuery {
        let get = |key: &str| get(key).map(|v| v.trim().to_owned()).unwrap_or_default();
        InsightsQuery {
            attr: get("attr"),
            q: get("q"),
            insight_type: get("type"),
            trail: get("trail"),
            range: get("range"),
            from: get("from"),
            to: get("to"),
            state: get("state"),
            suppressed: get("suppressed") == "1",
            page: get("page").parse().unwrap_or(1).max(1),
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("attr", self.attr.clone()),
            ("q", self.q.clone()),
            ("type", self.insight_type.clone()),
            ("trail", self.trail.clone()),
            ("range", self.range.clone()),
            ("from", if self.range == "custom" { self.from.clone() } else { String::new() }),
            ("to", if self.range == "custom" { self.to.clone() } else { String::new() }),
            ("state", self.state.clone()),
            ("suppressed", if self.suppressed { "1".into() } else { String::new() }),
            ("page", if self.page > 1 { self.page.to_string() } else { String::new() }),
        ]
    }

    /// The list's URL for this state.
    pub fn to_url(&self) -> String {
        url("/insights", &self.pairs())
    }

    /// The download URL (`/insights.csv` or `/insights.json`) for the same filters.
    pub fn download_url(&self, format: &str) -> String {
        let mut pairs = self.pairs();
        pairs.retain(|(k, _)| *k != "page");
        url(&format!("/insights.{format}"), &pairs)
    }

    /// The same filters on another page.
    pub fn with_page(&self, page: u32) -> InsightsQuery {
        InsightsQuery { page, ..self.clone() }
    }
}

/// Parses a time from a URL: RFC 3339, or `YYYY-MM-DDTHH:MM` as `<input type=datetime-local>`
/// sends it (read as UTC).
pub fn parse_time_ms(text: &str) -> Option<i64> {
    if text.is_empty() {
        return None;
    }
    let full = if text.len() == 16 { format!("{text}:00Z") } else if !text.ends_with('Z') && text.len() == 19 { format!("{text}Z") } else { text.to_owned() };
    chrono_free_parse(&full)
}

/// A time typed in a form (`2026-03-10T11:00`, no zone) read in the `zone` the person shows
/// times in; a time with `Z` is UTC whatever the zone.
pub fn parse_time_ms_in(text: &str, zone: crate::format::Zone) -> Option<i64> {
    let ms = parse_time_ms(text)?;
    Some(if text.ends_with('Z') { ms } else { ms - zone.offset_minutes as i64 * 60_000 })
}

/// A small RFC 3339 reader (UTC `Z` only) so the browser bundle needs no time library.
pub(crate) fn chrono_free_parse(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || !text.ends_with('Z') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, m, d, hh, mm, ss) = (n(0..4)?, n(5..7)?, n(8..10)?, n(11..13)?, n(14..16)?, n(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400) + hh * 3600 + mm * 60 + ss) * 1000)
}

impl InsightsQuery {
    /// The time range in milliseconds, given "now": `(from, to)`, each optional.
    pub fn time_range(&self, now_ms: i64) -> (Option<i64>, Option<i64>) {
        self.time_range_in(now_ms, crate::format::Zone::UTC)
    }

    /// The same, with typed dates read in `zone`.
    pub fn time_range_in(&self, now_ms: i64, zone: crate::format::Zone) -> (Option<i64>, Option<i64>) {
        if let Some((_, _, minutes)) = RANGES.iter().find(|(key, _, _)| *key == self.range) {
            return (Some(now_ms - minutes * 60_000), Some(now_ms));
        }
        // "All time" with From or To filled in means those times: without JavaScript nothing
        // switches the range to "custom" when a date is typed.
        if self.range == "custom" || (self.range.is_empty() && (!self.from.is_empty() || !self.to.is_empty())) {
            return (parse_time_ms_in(&self.from, zone), parse_time_ms_in(&self.to, zone));
        }
        (None, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_pairs(list: &[(&str, &str)]) -> InsightsQuery {
        InsightsQuery::from_lookup(|key| list.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn the_url_round_trips() {
        let q = from_pairs(&[
            ("attr", "name"), ("q", "Put Parameter"), ("type", "ApiCallRateInsight"),
            ("range", "custom"), ("from", "2026-03-10T11:00"), ("to", "2026-03-10T13:00"), ("page", "2"),
        ]);
        assert_eq!(q.to_url(), "/insights?attr=name&q=Put%20Parameter&type=ApiCallRateInsight&range=custom&from=2026-03-10T11:00&to=2026-03-10T13:00&page=2");
        let back = from_pairs(&[("attr", "name"), ("q", "Put Parameter"), ("type", "ApiCallRateInsight"), ("range", "custom"), ("from", "2026-03-10T11:00"), ("to", "2026-03-10T13:00"), ("page", "2")]);
        assert_eq!(back, q);
        assert_eq!(q.download_url("csv"), "/insights.csv?attr=name&q=Put%20Parameter&type=ApiCallRateInsight&range=custom&from=2026-03-10T11:00&to=2026-03-10T13:00");
    }

    #[test]
    fn event_pages_go_older_and_back_newer() {
        let first = PageTrail::parse("", "");
        assert_eq!(first.newer(), None);
        let (before, back) = first.older("c1");
        let second = PageTrail::parse(&before, &back);
        assert_eq!((second.before.as_str(), back.as_str()), ("c1", "~"));
        let (before, back) = second.older("c2");
        let third = PageTrail::parse(&before, &back);
        assert_eq!(third.newer(), Some(("c1".to_owned(), "~".to_owned())));
        assert_eq!(second.newer(), Some((String::new(), String::new())), "back to the first page");
        // A long walk keeps the last 20 and still finds the way to the newest page.
        let mut page = PageTrail::default();
        for i in 0..30 {
            let (before, back) = page.older(&format!("c{i}"));
            page = PageTrail::parse(&before, &back);
        }
        assert_eq!(page.back.len(), PageTrail::KEPT);
        assert_eq!(page.newer().unwrap().0, "c28");
    }

    #[test]
    fn time_ranges_are_relative_to_now_or_custom() {
        let now = 1_000_000_000_000;
        let q = InsightsQuery { range: "1h".into(), ..Default::default() };
        assert_eq!(q.time_range(now), (Some(now - 3_600_000), Some(now)));
        let custom = InsightsQuery { range: "custom".into(), from: "2026-03-10T11:00".into(), to: "2026-03-10T13:00:00Z".into(), ..Default::default() };
        assert_eq!(custom.time_range(now), (Some(1_773_140_400_000), Some(1_773_147_600_000)));
        assert_eq!(InsightsQuery::default().time_range(now), (None, None));
        let typed = InsightsQuery { from: "2026-03-10T11:00".into(), ..Default::default() };
        assert_eq!(typed.time_range(now), (Some(1_773_140_400_000), None), "dates typed without picking Custom count");
    }
}
