//! The shapes server functions send to the browser. Plain data: the server converts its
//! database rows into these, and nothing here knows about storage.

use serde::{Deserialize, Serialize};

/// One insight, as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsightRow {
    /// The sharedEventID: the insight's stable identity and URL.
    pub id: String,
    pub trail: String,
    pub insight_type: String,
    pub event_source: String,
    pub event_name: String,
    pub error_code: Option<String>,
    pub account: String,
    pub region: String,
    /// RFC 3339, UTC.
    pub start_time: String,
    pub end_time: Option<String>,
    pub duration_minutes: Option<i64>,
    pub baseline_average: f64,
    pub insight_average: f64,
}

/// One insight with its AWS records, for the insight page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsightDetail {
    pub row: InsightRow,
    pub start_event_id: String,
    pub end_event_id: Option<String>,
    /// The Start and End records as AWS writes them, pretty-printed.
    pub start_record: String,
    pub end_record: Option<String>,
}
