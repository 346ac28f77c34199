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
    /// Triage: new, acknowledged, resolved or expected.
    pub state: String,
    /// The suppression rule that marked it expected when it was stored.
    pub suppressed_by: Option<String>,
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

/// One page of the filtered insights list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsightsPage {
    pub rows: Vec<InsightRow>,
    /// How many insights match the filters in all.
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
    /// The trails, for the trail filter.
    pub trails: Vec<String>,
}

/// One attribute's top values during the insight and during the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributionView {
    pub attribute: String,
    /// The insight's top values: `(value, average per minute during the insight)`.
    pub insight: Vec<(String, f64)>,
    /// The baseline's top values ("who normally does this"), likewise.
    pub baseline: Vec<(String, f64)>,
}

/// Everything the insight page shows beyond the list row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsightExtras {
    pub attributions: Vec<AttributionView>,
    /// Other insights of the same API and type, newest first.
    pub others: Vec<InsightRow>,
}

/// An insight's graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphView {
    /// The span the graph covers, e.g. `3h`.
    pub span: String,
    /// The graph, an SVG drawn on the server.
    pub svg: String,
    /// The same graph drawn for a phone's width.
    pub svg_narrow: String,
}

/// One stored CloudTrail event, for event lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    pub event_id: String,
    pub trail: String,
    pub event_time: String,
    pub event_name: String,
    pub event_source: String,
    pub user: String,
    pub error_code: Option<String>,
    pub read_only: bool,
    pub resources: Vec<String>,
    pub source_ip: Option<String>,
    pub access_key_id: Option<String>,
    /// The record as delivered, pretty-printed; in lists only its first
    /// [`EventRow::PREVIEW_CHARS`] characters (a record can be megabytes: the event's own page
    /// has all of it).
    pub json: String,
    /// Whether `json` was cut short.
    pub truncated: bool,
}

impl EventRow {
    pub const PREVIEW_CHARS: usize = 4000;
}

/// A page of events, newest first, and where the next page starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsPage {
    pub rows: Vec<EventRow>,
    /// An opaque position for `?before=`, when there is a next page.
    pub next: Option<String>,
}

/// A trail and its settings, as Home and Settings show them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailView {
    pub name: String,
    pub call_rate: bool,
    pub error_rate: bool,
    pub sensitivity: String,
    pub last_event_time: Option<String>,
    /// Whether it takes events (StartLogging/StopLogging); a stopped trail refuses ingest.
    pub logging: bool,
    /// Which events of its logs it keeps, in words.
    pub keeps: String,
    /// Whether drops below the baseline are insights too.
    pub drops: bool,
}

/// The home page's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomeSummary {
    pub latest: Vec<InsightRow>,
    pub last_24h: u64,
    pub last_7d: u64,
    pub total: u64,
    /// Insights nobody has triaged yet (suppressed ones left out).
    pub new: u64,
    /// `(API, insights)`, most first.
    pub top_apis: Vec<(String, u64)>,
    /// `(identity ARN, insights it leads)`, most first.
    pub top_identities: Vec<(String, u64)>,
    pub trails: Vec<TrailView>,
}

/// Who is signed in, for the page frame and for hiding controls a viewer may not use (the
/// server checks the role again on every change).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub name: String,
    /// `viewer`, `admin` or `push`.
    pub role: String,
    pub can_change: bool,
    /// False in the open loopback mode, where nobody signs in (and so nobody signs out).
    pub signed_in: bool,
}

/// A user, token or audit entry, as the access page lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRow {
    pub name: String,
    pub role: String,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRow {
    pub name: String,
    pub role: String,
    pub aws_access_key_id: Option<String>,
    pub created: String,
    pub created_by: String,
    pub last_used: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// Everything the access page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessOverview {
    pub users: Vec<UserRow>,
    pub tokens: Vec<TokenRow>,
    pub audit: Vec<AuditRow>,
}

/// An insight's triage, for the insight page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriageView {
    pub state: String,
    /// Who set the state, and when (RFC 3339); `None` while new.
    pub set_by: Option<String>,
    pub set_at: Option<String>,
    pub suppressed_by: Option<String>,
    pub comments: Vec<CommentView>,
    /// Where this insight's events were sent (admins only; empty for viewers).
    pub deliveries: Vec<DeliveryView>,
    /// Whether the person may mark it expected and create suppression rules (admins).
    pub can_suppress: bool,
    /// What a rule made from this insight would match, to prefill the form.
    pub top_identity: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommentView {
    pub author: String,
    pub at: String,
    pub body: String,
}

/// One insight event for one destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub destination: String,
    /// `Start` or `End`.
    pub event: String,
    pub event_id: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub queued: String,
    pub done: Option<String>,
}

/// A destination as admins see it (never its secrets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DestinationView {
    pub name: String,
    pub kind: String,
    pub description: String,
    pub sent: u64,
    pub pending: u64,
    pub failed: u64,
    pub grouped: u64,
    pub last_error: Option<String>,
}

/// A suppression rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleView {
    pub name: String,
    pub description: String,
    pub reason: String,
    /// `YYYY-MM-DD` (UTC) or empty: the last day it applies.
    pub until: String,
    pub created_by: String,
}

/// The notification settings: admins see destinations; everyone sees the rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationSettings {
    pub can_change: bool,
    pub destinations: Vec<DestinationView>,
    pub rules: Vec<RuleView>,
    pub trails: Vec<String>,
}
