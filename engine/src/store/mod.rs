//! Storage: what detection and the dashboard need from a database, behind one trait.
//!
//! [`Store`] is implemented for SQLite ([`sqlite::SqliteStore`], the embedded default) and
//! Postgres ([`postgres::PostgresStore`], for several servers on one database);
//! [`open_store`] picks the implementation from the URL scheme. Every write that must be
//! all-or-nothing (a batch of records, an insight) is one transaction.

pub mod access;
pub mod notify;
pub mod tags;
mod checkpoint;
mod lease;
mod retention;
mod secret;
pub mod packed;
mod trails;
pub mod postgres;
mod rows;
mod save_insight;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::detect::Sensitivity;
use crate::record::Record;
pub use crate::selectors::EventSelectors;
use crate::time::Minute;

/// The two insight types CloudTrail defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum InsightType {
    #[serde(rename = "ApiCallRateInsight")]
    ApiCallRate,
    #[serde(rename = "ApiErrorRateInsight")]
    ApiErrorRate,
}

impl InsightType {
    pub const ALL: [InsightType; 2] = [InsightType::ApiCallRate, InsightType::ApiErrorRate];

    /// The name AWS uses in records and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            InsightType::ApiCallRate => "ApiCallRateInsight",
            InsightType::ApiErrorRate => "ApiErrorRateInsight",
        }
    }

    pub fn parse(name: &str) -> Option<InsightType> {
        InsightType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// A trail: a named stream of records, its insight selectors and detection settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Trail {
    pub name: String,
    pub insight_types: Vec<InsightType>,
    pub sensitivity: Sensitivity,
    /// Whether the trail takes events (StartLogging/StopLogging): ingest and push refuse a
    /// stopped trail unless told otherwise.
    pub logging: bool,
    pub s3_bucket: Option<String>,
    pub created_ms: i64,
    pub last_event_ms: Option<i64>,
    /// What CreateTrail/UpdateTrail set.
    pub options: TrailOptions,
    /// Which events of its logs the trail keeps.
    pub event_selectors: EventSelectors,
    /// The latest StartLogging (or the creation of a trail that logs from the start).
    pub start_logging_ms: Option<i64>,
    /// The latest StopLogging.
    pub stop_logging_ms: Option<i64>,
    /// Whether activity far below the baseline is an insight too (off by default).
    pub drops: bool,
}

/// The CreateTrail/UpdateTrail options trailsight keeps and answers with, under AWS's member
/// names. They say how AWS would run the trail; trailsight reads logs that already exist, so
/// they change nothing here but what the API returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrailOptions {
    pub is_multi_region_trail: bool,
    pub include_global_service_events: bool,
    pub log_file_validation_enabled: bool,
    pub is_organization_trail: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_key_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sns_topic_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logs_log_group_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logs_role_arn: Option<String>,
}

impl TrailOptions {
    /// AWS's defaults for CreateTrail: one region, global service events included.
    pub fn aws_default() -> TrailOptions {
        TrailOptions {
            is_multi_region_trail: false,
            include_global_service_events: true,
            log_file_validation_enabled: false,
            is_organization_trail: false,
            s3_key_prefix: None,
            sns_topic_name: None,
            kms_key_id: None,
            cloud_watch_logs_log_group_arn: None,
            cloud_watch_logs_role_arn: None,
        }
    }

    /// What a trail made by ingest, push or the dashboard reports: its logs may come from
    /// every region, as an organization's or an all-region trail's do.
    pub fn for_ingested_logs() -> TrailOptions {
        TrailOptions { is_multi_region_trail: true, ..TrailOptions::aws_default() }
    }
}

/// A trail to create.
#[derive(Debug, Clone)]
pub struct NewTrail<'a> {
    pub name: &'a str,
    pub s3_bucket: Option<&'a str>,
    /// Whether it takes events at once (API trails wait for StartLogging, as on AWS).
    pub logging: bool,
    /// `None`: [`TrailOptions::for_ingested_logs`].
    pub options: Option<&'a TrailOptions>,
    pub event_selectors: &'a EventSelectors,
}

impl<'a> NewTrail<'a> {
    /// The trail ingest, push and the dashboard make: logging, keeping every event.
    pub fn for_ingest(name: &'a str) -> NewTrail<'a> {
        NewTrail { name, s3_bucket: None, logging: true, options: None, event_selectors: &EventSelectors::KeepAll }
    }
}

/// The attributes CloudTrail's LookupEvents (and the event history page) filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LookupAttribute {
    EventId,
    EventName,
    ReadOnly,
    Username,
    ResourceType,
    ResourceName,
    EventSource,
    AccessKeyId,
}

impl LookupAttribute {
    pub const ALL: [LookupAttribute; 8] = [
        LookupAttribute::EventId,
        LookupAttribute::EventName,
        LookupAttribute::ReadOnly,
        LookupAttribute::Username,
        LookupAttribute::ResourceType,
        LookupAttribute::ResourceName,
        LookupAttribute::EventSource,
        LookupAttribute::AccessKeyId,
    ];

    /// The AttributeKey AWS uses.
    pub fn as_str(self) -> &'static str {
        match self {
            LookupAttribute::EventId => "EventId",
            LookupAttribute::EventName => "EventName",
            LookupAttribute::ReadOnly => "ReadOnly",
            LookupAttribute::Username => "Username",
            LookupAttribute::ResourceType => "ResourceType",
            LookupAttribute::ResourceName => "ResourceName",
            LookupAttribute::EventSource => "EventSource",
            LookupAttribute::AccessKeyId => "AccessKeyId",
        }
    }

    pub fn parse(key: &str) -> Option<LookupAttribute> {
        LookupAttribute::ALL.into_iter().find(|a| a.as_str() == key)
    }
}

/// A position in a newest-first listing of events: everything strictly older comes next.
/// Keyset pagination, so pages stay stable while newer events arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventCursor {
    pub time_ms: i64,
    pub row: i64,
}

/// Which events to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub trail: Option<String>,
    pub lookup: Option<(LookupAttribute, String)>,
    pub event_source: Option<String>,
    pub event_name: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub error_code: Option<String>,
    /// Leave out data events (CloudTrail's event history holds management events only).
    pub management_only: bool,
    /// Only write calls (what the call-rate insight counts).
    pub writes_only: bool,
    /// Inclusive bounds on eventTime, in milliseconds.
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub before: Option<EventCursor>,
    pub limit: u32,
}

/// A stored event and its place in listings.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub cursor: EventCursor,
    pub trail: String,
    pub record: Record,
}

/// Per-minute counts of one API over a time range, for graphs and metric data.
#[derive(Debug, Clone, Default)]
pub struct SeriesQuery {
    pub trail: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub event_source: String,
    pub event_name: String,
    pub error_code: Option<String>,
    /// Count only what this insight type counts; `None` counts every call of the API.
    pub counted: Option<InsightType>,
    /// `[from, to)` in minutes.
    pub from: Minute,
    pub to: Minute,
}

/// What identifies one analysed series: one API in one region of one account (and, for the
/// error-rate type, one error code).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    pub account: String,
    pub region: String,
    pub event_source: String,
    pub event_name: String,
    pub error_code: Option<String>,
}

/// The non-zero per-minute counts of one series, in minute order.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesCounts {
    pub key: SeriesKey,
    pub counts: Vec<(Minute, u32)>,
}

/// The record fields insights attribute activity to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute {
    UserIdentityArn,
    UserAgent,
    ErrorCode,
}

impl Attribute {
    pub fn as_str(self) -> &'static str {
        match self {
            Attribute::UserIdentityArn => "userIdentityArn",
            Attribute::UserAgent => "userAgent",
            Attribute::ErrorCode => "errorCode",
        }
    }
}

/// A stored insight: the Start record, and the End record once it has ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredInsight {
    pub shared_event_id: String,
    pub trail: String,
    pub insight_type: InsightType,
    #[serde(skip)]
    pub key: SeriesKey,
    pub start_minute: Minute,
    pub end_minute: Option<Minute>,
    pub baseline_average: f64,
    /// The mean rate over the whole insight once ended; the first minute's rate before that.
    pub insight_average: f64,
    pub start_record: String,
    pub end_record: Option<String>,
    /// trailsight's own triage, beside the AWS records (never inside them).
    #[serde(skip)]
    pub triage: crate::notify::Triage,
}

/// Which insights to list.
#[derive(Debug, Clone, Default)]
pub struct InsightFilter {
    pub trail: Option<String>,
    pub insight_type: Option<InsightType>,
    pub event_name: Option<String>,
    pub event_source: Option<String>,
    /// Matches the sharedEventID or the eventID of the Start or End record.
    pub event_id: Option<String>,
    /// Insights starting in `[from, to)`, in minutes.
    pub from: Option<Minute>,
    pub to: Option<Minute>,
    /// Only insights people have put in this triage state.
    pub triage_state: Option<crate::notify::TriageState>,
    /// Leave out insights a suppression rule marked expected (the dashboard's default; the
    /// AWS API and downloads list every stored insight).
    pub hide_suppressed: bool,
    pub limit: Option<u32>,
    pub offset: u32,
}

/// What [`Store::apply_retention`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    pub events_removed: u64,
    pub insights_removed: u64,
}

/// The SQL expression (the same in both schemas) whose values an attribution counts.
pub(crate) fn attribute_column(attribute: Attribute) -> &'static str {
    match attribute {
        Attribute::UserIdentityArn => "user_arn",
        Attribute::UserAgent => "user_agent",
        // AWS writes "null" for the calls that did not fail.
        Attribute::ErrorCode => "COALESCE(error_code, 'null')",
    }
}

/// Events before this instant (in milliseconds) are past a retention of `days` days.
pub fn retention_cutoff_ms(now_ms: i64, days: u32) -> i64 {
    now_ms - i64::from(days) * crate::time::MINUTES_PER_DAY * 60_000
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "unsupported database URL {0:?}: use sqlite://PATH (for example sqlite://trailsight.db) \
         or postgres://USER@HOST/DATABASE"
    )]
    UnsupportedUrl(String),
    #[error("cannot open the database {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("no trail named {0:?}")]
    NoSuchTrail(String),
    #[error("a trail named {0:?} already exists")]
    TrailExists(String),
    #[error("trail {0:?} is not logging (StopLogging was called): start it with `aws cloudtrail start-logging --name {0}` or on the dashboard's Settings page to store its events")]
    TrailStopped(String),
    #[error(transparent)]
    Unpack(#[from] packed::UnpackError),
    #[error("a user named {0:?} already exists")]
    UserExists(String),
    #[error("no user named {0:?}")]
    NoSuchUser(String),
    #[error("a token named {0:?} already exists")]
    TokenExists(String),
    #[error("no token named {0:?}")]
    NoSuchToken(String),
    #[error("a destination named {0:?} already exists")]
    DestinationExists(String),
    #[error("no destination named {0:?}")]
    NoSuchDestination(String),
    #[error("a suppression rule named {0:?} already exists")]
    SuppressionExists(String),
    #[error("no suppression rule named {0:?}")]
    NoSuchSuppression(String),
    #[error("no insight with the ID {0:?}")]
    NoSuchInsight(String),
    #[error("the {table} row {key:?} cannot be read: {reason}")]
    BadRow { table: &'static str, key: String, reason: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// What trailsight needs from a database.
#[async_trait]
pub trait Store: Send + Sync {
    /// Creates the trail (with both insight types on) if it does not exist.
    async fn ensure_trail(&self, name: &str) -> Result<()>;
    /// Creates a new trail; fails with [`StoreError::TrailExists`] if the name is taken.
    async fn create_trail(&self, new: &NewTrail<'_>) -> Result<Trail>;
    /// Replaces what UpdateTrail changes: the bucket and the options.
    async fn update_trail(&self, name: &str, s3_bucket: Option<&str>, options: &TrailOptions) -> Result<()>;
    /// Replaces the trail's event selectors (PutEventSelectors).
    async fn set_event_selectors(&self, name: &str, selectors: &EventSelectors) -> Result<()>;
    async fn get_trail(&self, name: &str) -> Result<Option<Trail>>;
    async fn list_trails(&self) -> Result<Vec<Trail>>;
    /// Renames a trail, moving its events and insights with it.
    async fn rename_trail(&self, from: &str, to: &str) -> Result<()>;
    /// Deletes a trail with its events and insights.
    async fn delete_trail(&self, name: &str) -> Result<()>;
    /// Replaces a trail's insight selectors; an empty list turns Insights off.
    async fn set_insight_types(&self, trail: &str, types: &[InsightType]) -> Result<()>;
    async fn set_sensitivity(&self, trail: &str, sensitivity: Sensitivity) -> Result<()>;
    /// Turns insights on drops below the baseline on or off.
    async fn set_drops(&self, trail: &str, drops: bool) -> Result<()>;
    /// StartLogging/StopLogging at `now_ms`: recorded as the latest start or stop when it
    /// changes whether the trail logs.
    async fn set_logging(&self, trail: &str, logging: bool, now_ms: i64) -> Result<()>;

    /// Stores a batch in one transaction, skipping eventIDs already stored for this trail.
    /// Returns how many records were new.
    async fn insert_events(&self, trail: &str, records: &[Record]) -> Result<u64>;
    /// Whether this store keeps raw records compressed ([`packed`]): ingest then compresses
    /// them in its parallel workers, before they reach the single writer.
    fn packs_raw(&self) -> bool {
        false
    }
    /// First and last minute with any stored event in the trail.
    async fn event_span(&self, trail: &str) -> Result<Option<(Minute, Minute)>>;
    /// Events matching the query, newest first, at most `limit`.
    async fn list_events(&self, query: &EventQuery) -> Result<Vec<StoredEvent>>;
    /// Every stored copy of an event (one per trail that holds it).
    async fn get_event(&self, event_id: &str) -> Result<Vec<StoredEvent>>;
    /// Non-zero per-minute counts of one API, in minute order.
    async fn series_counts(&self, query: &SeriesQuery) -> Result<Vec<(Minute, u32)>>;

    /// Per-minute counts of every series the insight type analyses in this trail.
    async fn minute_counts(&self, trail: &str, kind: InsightType) -> Result<Vec<SeriesCounts>>;
    /// The most frequent values of `attribute` among the series' counted events in
    /// `[from, to)`, most frequent first.
    async fn top_values(
        &self,
        trail: &str,
        kind: InsightType,
        key: &SeriesKey,
        attribute: Attribute,
        from: Minute,
        to: Minute,
        limit: u32,
    ) -> Result<Vec<(String, u64)>>;

    /// Stores a new insight, or adds the End record to a stored one that had none. Never
    /// changes a stored Start, and never replaces a stored End. Returns whether anything
    /// changed. In the same transaction, marks a new insight that a suppression rule matches
    /// and queues the notifications of what it stored (see [`crate::notify`]); `now_ms` is
    /// when it is stored, which decides whether its Start is recent enough to be sent.
    async fn save_insight(&self, insight: &StoredInsight, now_ms: i64) -> Result<bool>;
    /// Newest first.
    async fn list_insights(&self, filter: &InsightFilter) -> Result<Vec<StoredInsight>>;
    /// How many insights match (ignoring `limit` and `offset`).
    async fn count_insights(&self, filter: &InsightFilter) -> Result<u64>;
    async fn get_insight(&self, shared_event_id: &str) -> Result<Option<StoredInsight>>;

    /// Deletes, for each trail, the events older than `days` days before that trail's own
    /// newest event (or `now_ms`, if that is earlier; see [`retention_cutoff_ms`]) and its
    /// insights that ended before then; insights still going on are kept. Counting per
    /// trail means an old trail's replayed history stays however recent another trail is.
    async fn apply_retention(&self, now_ms: i64, days: u32) -> Result<RetentionReport>;
    /// Takes the lease `name` for `holder` until `now_ms + ttl_ms`, or renews it if `holder`
    /// has it; a lease held by another holder is taken only once it has expired. Returns
    /// whether `holder` now holds it. Several servers on one database use this so that one
    /// of them at a time does a piece of background work.
    async fn acquire_lease(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Result<bool>;
    /// Gives the lease up (if `holder` has it) so another server can take it at once.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<()>;
    /// The checkpoint an incremental source (e.g. one S3 bucket location) saved for `trail`
    /// under `key`, if any. Deleting the trail deletes its checkpoints; renaming moves them.
    async fn get_checkpoint(&self, trail: &str, key: &str) -> Result<Option<String>>;
    /// Saves (replaces) a checkpoint; callers save it only after what it covers is stored.
    async fn set_checkpoint(&self, trail: &str, key: &str, value: &str) -> Result<()>;

    /// Users, sessions, API tokens and the audit log.
    fn access(&self) -> &dyn access::AccessStore;
    /// Notification destinations, the outbox, triage and suppression rules.
    fn notify(&self) -> &dyn notify::NotifyStore;
    /// Trails' tags.
    fn tags(&self) -> &dyn tags::TagStore;
    /// The secret stored under `name`, shared by every server on this database. The first
    /// call stores `candidate` (the caller makes it random); later calls, from any server,
    /// return that first value and ignore their candidate.
    async fn server_secret(&self, name: &str, candidate: &str) -> Result<String>;
}

/// Opens (creating if missing, and migrating) the database at `url`.
pub async fn open_store(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PostgresStore::open(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}
