//! Turning one document (a file's bytes, a request body, stdin) into records.
//!
//! The shape is detected from the content, not the file name: `{"Records":[...]}` as AWS
//! delivers it, a bare JSON array of records, a single record object, or one record per
//! line (NDJSON). Each record that cannot be used is reported with its index and reason;
//! the others are kept.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::record::{Record, RecordError};

/// What one document yielded.
#[derive(Debug, Default)]
pub struct ParsedDocument {
    pub records: Vec<Record>,
    /// `(record index, reason)` for each record that was rejected.
    pub rejected: Vec<(usize, String)>,
    /// Insight events found in the document (skipped: they are not API calls).
    pub insight_events: usize,
}

impl ParsedDocument {
    /// Compresses every record's raw JSON for storage when `pack` is set (the store's
    /// [`crate::store::Store::packs_raw`]): done here, in the parallel workers, so that the
    /// single database writer does not.
    pub fn packed_if(mut self, pack: bool) -> ParsedDocument {
        if pack {
            for r in &mut self.records {
                r.packed_raw.0 = Some(crate::store::packed::pack(&r.raw));
            }
        }
        self
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

/// Parses a whole document; see the module docs for the shapes accepted.
pub fn parse_document(bytes: &[u8]) -> Result<ParsedDocument, DocumentError> {
    let text = std::str::from_utf8(bytes).map_err(|_| DocumentError::NotText)?;
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Err(DocumentError::Empty);
    }
    if trimmed.starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(trimmed).map_err(invalid_json)?;
        return Ok(parse_records(items));
    }
    match serde_json::from_str::<Envelope>(trimmed) {
        Ok(env) => match env.records {
            Some(records) => {
                let items: Vec<&RawValue> = serde_json::from_str(records.get())
                    .map_err(|_| DocumentError::RecordsNotArray)?;
                Ok(parse_records(items))
            }
            None if env.event_time.is_some() || env.event_name.is_some() => {
                let one: &RawValue = serde_json::from_str(trimmed).map_err(invalid_json)?;
                Ok(parse_records(vec![one]))
            }
            None => Err(DocumentError::NotCloudTrail),
        },
        // Several values one after another: one record per line.
        Err(e) if e.is_data() || e.to_string().contains("trailing characters") => {
            parse_ndjson(trimmed)
        }
        Err(e) => Err(invalid_json(e)),
    }
}

fn parse_ndjson(text: &str) -> Result<ParsedDocument, DocumentError> {
    let mut doc = ParsedDocument::default();
    for (index, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        match serde_json::from_str::<&RawValue>(line.trim()) {
            Ok(raw) => classify(&mut doc, index, Record::parse(raw)),
            Err(e) => doc.rejected.push((index, format!("invalid JSON on this line: {e}"))),
        }
    }
    if doc.records.is_empty() && doc.insight_events == 0 && !doc.rejected.is_empty() {
        // Nothing on any line parsed: this was one broken document, not NDJSON.
        return Err(DocumentError::InvalidJson(doc.rejected.swap_remove(0).1));
    }
    Ok(doc)
}

fn parse_records(items: Vec<&RawValue>) -> ParsedDocument {
    let mut doc = ParsedDocument { records: Vec::with_capacity(items.len()), ..Default::default() };
    for (index, raw) in items.into_iter().enumerate() {
        classify(&mut doc, index, Record::parse(raw));
    }
    doc
}

fn classify(doc: &mut ParsedDocument, index: usize, parsed: Result<Record, RecordError>) {
    match parsed {
        Ok(record) => doc.records.push(record),
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
    fn broken_documents_say_why() {
        assert_eq!(parse_document(b"  \n").unwrap_err(), DocumentError::Empty);
        let cut = format!(r#"{{"Records":[{A},{{"eventID":"#);
        let err = parse_document(cut.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
        assert_eq!(parse_document(b"{\"foo\":1}").unwrap_err(), DocumentError::NotCloudTrail);
        assert_eq!(parse_document(&[0xff, 0xfe, 0]).unwrap_err(), DocumentError::NotText);
    }
}
