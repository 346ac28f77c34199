//! Turning one document (a file's bytes, a request body, stdin) into records.
//!
//! The shape is detected from the content, not the file name: `{"Records":[...]}` as AWS
//! delivers it, a bare JSON array of records, a single record object, or one record per
//! line (NDJSON). Each record that cannot be used is reported with its index and reason;
//! the others are kept.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::record::{Record, RecordError};
use crate::selectors::EventSelectors;

/// What one document yielded.
#[derive(Debug, Default)]
pub struct ParsedDocument {
    pub records: Vec<Record>,
    /// `(record index, reason)` for each record that was rejected.
    pub rejected: Vec<(usize, String)>,
    /// Insight events found in the document (skipped: they are not API calls).
    pub insight_events: usize,
    /// Records the trail's event selectors did not select (see [`ParsedDocument::prepare`]).
    pub not_selected: NotSelected,
}

impl ParsedDocument {
    /// Readies the records for the trail: drops (and counts) those its event selectors do
    /// not select, and compresses the rest's raw JSON when `pack` is set (the store's
    /// [`crate::store::Store::packs_raw`]). Done in the parallel workers, so that the single
    /// database writer does neither.
    pub fn prepare(mut self, selectors: &EventSelectors, pack: bool) -> ParsedDocument {
        if *selectors != EventSelectors::KeepAll {
            let not_selected = &mut self.not_selected;
            self.records.retain(|r| {
                let keep = selectors.selects(r);
                if !keep {
                    not_selected.add(&r.event_source, &r.event_name);
                }
                keep
            });
        }
        if pack {
            for r in &mut self.records {
                r.packed_raw.0 = Some(crate::store::packed::pack(&r.raw));
            }
        }
        self
    }
}

/// Records not stored because the trail's event selectors do not select them, counted by API
/// (`eventSource eventName`). At most [`NotSelected::MAX_APIS`] APIs are named, the rest are
/// counted under "other APIs": the names come from the records, so they are bounded here.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct NotSelected {
    pub total: u64,
    pub by_api: BTreeMap<String, u64>,
}

impl NotSelected {
    pub const MAX_APIS: usize = 20;
    const OTHER: &'static str = "other APIs";

    fn add(&mut self, source: &str, name: &str) {
        self.add_count(format!("{source} {name}"), 1);
    }

    fn add_count(&mut self, api: String, n: u64) {
        self.total += n;
        let key = if self.by_api.contains_key(&api) || self.by_api.len() < Self::MAX_APIS { api } else { Self::OTHER.to_owned() };
        *self.by_api.entry(key).or_default() += n;
    }

    pub fn merge(&mut self, other: &NotSelected) {
        for (api, n) in &other.by_api {
            self.add_count(api.clone(), *n);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// Why a whole document could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DocumentError {
    #[error("the file is empty")]
    Empty,
    #[error("not UTF-8 text (is it compressed with something other than gzip?)")]
    NotText,
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    #[error("a JSON object without a \"Records\" array and without eventTime/eventName: not CloudTrail")]
    NotCloudTrail,
    #[error("\"Records\" is not an array")]
    RecordsNotArray,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "Records", borrow)]
    records: Option<&'a RawValue>,
    #[serde(rename = "eventTime")]
    event_time: Option<&'a RawValue>,
    #[serde(rename = "eventName")]
    event_name: Option<&'a RawValue>,
}

/// The eventTimes a record may have: from 2013-01-01 (CloudTrail began in November 2013) to
/// a day after "now" (clock skew). One record from year 1 or 9999 would otherwise make
/// detection replay, and retention keep, every minute in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTimeWindow {
    pub earliest_ms: i64,
    pub latest_ms: i64,
}

impl EventTimeWindow {
    /// 2013-01-01T00:00:00Z.
    pub const EARLIEST_MS: i64 = 1_356_998_400_000;

    /// The window for records ingested at `now_ms`.
    pub fn ending_at(now_ms: i64) -> EventTimeWindow {
        EventTimeWindow { earliest_ms: Self::EARLIEST_MS, latest_ms: now_ms.saturating_add(24 * 3600 * 1000) }
    }

    fn check(&self, record: &Record) -> Result<(), String> {
        let t = record.event_time_ms;
        if (self.earliest_ms..=self.latest_ms).contains(&t) {
            return Ok(());
        }
        let date = |ms: i64| crate::time::format_millis(ms).get(..10).unwrap_or_default().to_owned();
        Err(format!(
            "field `eventTime` {} is outside {} to {} (CloudTrail began in 2013; up to a day ahead of this server's clock): correct the record's time or leave the record out",
            crate::time::format_millis(t),
            date(self.earliest_ms),
            date(self.latest_ms),
        ))
    }
}

/// Parses a whole document, accepting eventTimes up to a day after the server's clock; see
/// the module docs for the shapes accepted.
pub fn parse_document(bytes: &[u8]) -> Result<ParsedDocument, DocumentError> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    parse_document_within(bytes, EventTimeWindow::ending_at(now_ms))
}

/// Parses a whole document, rejecting records whose eventTime is outside `window`.
pub fn parse_document_within(bytes: &[u8], window: EventTimeWindow) -> Result<ParsedDocument, DocumentError> {
    let text = std::str::from_utf8(bytes).map_err(|_| DocumentError::NotText)?;
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Err(DocumentError::Empty);
    }
    if trimmed.starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(trimmed).map_err(invalid_json)?;
        return Ok(parse_records(items, window));
    }
    match serde_json::from_str::<Envelope>(trimmed) {
        Ok(env) => match env.records {
            Some(records) => {
                let items: Vec<&RawValue> = serde_json::from_str(records.get())
                    .map_err(|_| DocumentError::RecordsNotArray)?;
                Ok(parse_records(items, window))
            }
            None if env.event_time.is_some() || env.event_name.is_some() => {
                let one: &RawValue = serde_json::from_str(trimmed).map_err(invalid_json)?;
                Ok(parse_records(vec![one], window))
            }
            None => Err(DocumentError::NotCloudTrail),
        },
        // Several values one after another: one record per line.
        Err(e) if e.is_data() || e.to_string().contains("trailing characters") => {
            parse_ndjson(trimmed, window)
        }
        Err(e) => Err(invalid_json(e)),
    }
}

fn parse_ndjson(text: &str, window: EventTimeWindow) -> Result<ParsedDocument, DocumentError> {
    let mut doc = ParsedDocument::default();
    for (index, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        match serde_json::from_str::<&RawValue>(line.trim()) {
            Ok(raw) => classify(&mut doc, index, Record::parse(raw), window),
            Err(e) => doc.rejected.push((index, format!("invalid JSON on this line: {e}"))),
        }
    }
    if doc.records.is_empty() && doc.insight_events == 0 && !doc.rejected.is_empty() {
        // Nothing on any line parsed: this was one broken document, not NDJSON.
        return Err(DocumentError::InvalidJson(doc.rejected.swap_remove(0).1));
    }
    Ok(doc)
}

fn parse_records(items: Vec<&RawValue>, window: EventTimeWindow) -> ParsedDocument {
    let mut doc = ParsedDocument { records: Vec::with_capacity(items.len()), ..Default::default() };
    for (index, raw) in items.into_iter().enumerate() {
        classify(&mut doc, index, Record::parse(raw), window);
    }
    doc
}

fn classify(doc: &mut ParsedDocument, index: usize, parsed: Result<Record, RecordError>, window: EventTimeWindow) {
    match parsed {
        Ok(record) => match window.check(&record) {
            Ok(()) => doc.records.push(record),
            Err(reason) => doc.rejected.push((index, reason)),
        },
        Err(RecordError::InsightEvent) => doc.insight_events += 1,
        Err(reason) => doc.rejected.push((index, reason.to_string())),
    }
}

fn invalid_json(e: serde_json::Error) -> DocumentError {
    let hint = if e.is_eof() { " (the file ends too early: truncated?)" } else { "" };
    DocumentError::InvalidJson(format!("{e}{hint}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = r#"{"eventID":"a","eventTime":"2024-01-01T00:00:00Z","eventSource":"s","eventName":"PutX"}"#;
    const B: &str = r#"{"eventID":"b","eventTime":"2024-01-01T00:01:00Z","eventSource":"s","eventName":"PutX"}"#;

    fn ids(doc: &ParsedDocument) -> Vec<&str> {
        doc.records.iter().map(|r| r.event_id.as_str()).collect()
    }

    #[test]
    fn accepts_every_shape_seen_in_the_wild() {
        let envelope = format!(r#"{{"Records":[{A},{B}]}}"#);
        let array = format!("[{A},{B}]");
        let ndjson = format!("{A}\n{B}\n");
        for doc in [envelope, array, ndjson] {
            assert_eq!(ids(&parse_document(doc.as_bytes()).unwrap()), ["a", "b"], "{doc}");
        }
        assert_eq!(ids(&parse_document(A.as_bytes()).unwrap()), ["a"]);
    }

    #[test]
    fn bad_records_are_rejected_one_by_one() {
        let doc = format!(r#"{{"Records":[{A},42,{{"eventTime":"2024-01-01T00:00:00Z"}},{B}]}}"#);
        let parsed = parse_document(doc.as_bytes()).unwrap();
        assert_eq!(ids(&parsed), ["a", "b"]);
        assert_eq!(parsed.rejected.len(), 2);
        assert_eq!(parsed.rejected[0].0, 1);
        assert!(parsed.rejected[0].1.contains("not a JSON object"));
        assert!(parsed.rejected[1].1.contains("eventSource"));
    }

    #[test]
    fn event_times_before_cloudtrail_or_past_tomorrow_are_rejected_by_name() {
        // now = 2026-03-10T18:00:00Z: the window is 2013-01-01T00:00:00Z to 2026-03-11T18:00:00Z.
        let window = EventTimeWindow::ending_at(1_773_165_600_000);
        let at = |id: &str, time: &str| format!(r#"{{"eventID":"{id}","eventTime":"{time}","eventSource":"s","eventName":"PutX"}}"#);
        let doc = format!(
            "[{},{},{},{},{}]",
            at("year-1", "0001-01-01T00:00:00Z"),
            at("last-of-2012", "2012-12-31T23:59:59Z"),
            at("first-of-2013", "2013-01-01T00:00:00Z"),
            at("tomorrow", "2026-03-11T18:00:00Z"),
            at("too-far", "2026-03-11T18:00:01Z"),
        );
        let parsed = parse_document_within(doc.as_bytes(), window).unwrap();
        assert_eq!(ids(&parsed), ["first-of-2013", "tomorrow"]);
        let rejected: Vec<usize> = parsed.rejected.iter().map(|(i, _)| *i).collect();
        assert_eq!(rejected, [0, 1, 4]);
        let reason = &parsed.rejected[0].1;
        assert!(reason.starts_with("field `eventTime` 0001-01-01T00:00:00"), "{reason}");
        assert!(reason.contains("outside 2013-01-01 to 2026-03-11"), "{reason}");
    }

    #[test]
    fn broken_documents_say_why() {
        assert_eq!(parse_document(b"  \n").unwrap_err(), DocumentError::Empty);
        let cut = format!(r#"{{"Records":[{A},{{"eventID":"#);
        let err = parse_document(cut.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
        assert_eq!(parse_document(b"{\"foo\":1}").unwrap_err(), DocumentError::NotCloudTrail);
        assert_eq!(parse_document(&[0xff, 0xfe, 0]).unwrap_err(), DocumentError::NotText);
    }
}
