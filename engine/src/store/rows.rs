//! Rows into values, written once for every backend: the column names are the same in each
//! schema, and sqlx decodes the same Rust types from SQLite and Postgres.

use sqlx::{ColumnIndex, Decode, Row, Type};

// Each function needs `T: Decode<'r, R::Database> + Type<R::Database>` for every column
// type it reads; Rust does not carry such bounds through a trait, so they are spelled out.

use super::{EventCursor, EventSelectors, InsightType, SeriesCounts, SeriesKey, StoredEvent, StoredInsight, Trail, TrailOptions};
use crate::detect::Sensitivity;
use crate::notify::{SuppressionRule, Triage, TriageState};
use crate::record::Record;

pub(crate) fn trail_from_row<'r, R: Row>(row: &'r R) -> super::Result<Trail>
where
    &'static str: ColumnIndex<R>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
{
    let mut insight_types = Vec::new();
    if row.get::<bool, _>("call_rate_enabled") {
        insight_types.push(InsightType::ApiCallRate);
    }
    if row.get::<bool, _>("error_rate_enabled") {
        insight_types.push(InsightType::ApiErrorRate);
    }
    let name: String = row.get("name");
    // A row that cannot be read (edited by hand, or stricter rules in a later version) must
    // not take every trail down with it: it is logged, and the trail keeps everything and
    // reports default options until its settings are saved again.
    let unreadable = |column: &str, reason: String| {
        tracing::error!(trail = %name, column, "the stored trail settings cannot be read ({reason}): using the defaults");
    };
    let options = match row.get::<Option<String>, _>("options") {
        None => TrailOptions::for_ingested_logs(),
        Some(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
            unreadable("options", e.to_string());
            TrailOptions::for_ingested_logs()
        }),
    };
    let event_selectors = EventSelectors::from_stored(row.get::<Option<String>, _>("event_selectors").as_deref()).unwrap_or_else(|e| {
        unreadable("event_selectors", e);
        EventSelectors::KeepAll
    });
    Ok(Trail {
        insight_types,
        sensitivity: Sensitivity::parse(&row.get::<String, _>("sensitivity")).unwrap_or_default(),
        logging: row.get("logging"),
        s3_bucket: row.get("s3_bucket"),
        created_ms: row.get("created_ms"),
        last_event_ms: row.get("last_event_ms"),
        options,
        event_selectors,
        start_logging_ms: row.get("start_logging_ms"),
        stop_logging_ms: row.get("stop_logging_ms"),
        drops: row.get("drops"),
        name,
    })
}

pub(crate) fn insight_from_row<'r, R: Row>(row: &'r R) -> StoredInsight
where
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    f64: Decode<'r, R::Database> + Type<R::Database>,
{
    let kind: String = row.get("insight_type");
    StoredInsight {
        shared_event_id: row.get("shared_event_id"),
        trail: row.get("trail"),
        insight_type: InsightType::parse(&kind).unwrap_or(InsightType::ApiCallRate),
        key: SeriesKey {
            account: row.get("account"),
            region: row.get("aws_region"),
            event_source: row.get("event_source"),
            event_name: row.get("event_name"),
            error_code: row.get("error_code"),
        },
        start_minute: row.get("start_minute"),
        end_minute: row.get("end_minute"),
        baseline_average: row.get("baseline_average"),
        insight_average: row.get("insight_average"),
        start_record: row.get("start_record"),
        end_record: row.get("end_record"),
        triage: Triage {
            state: row.get::<Option<String>, _>("triage_state").as_deref().and_then(TriageState::parse).unwrap_or_default(),
            by: row.get("triage_by"),
            at_ms: row.get("triage_ms"),
            suppressed_by: row.get("suppressed_by"),
        },
    }
}

/// An event with the given resources and raw JSON (each backend stores those its own way).
pub(crate) fn event_from_row<'r, R: Row>(row: &'r R, resources: Vec<(String, String)>, raw: String) -> StoredEvent
where
    &'static str: ColumnIndex<R>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    Option<bool>: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    StoredEvent {
        cursor: EventCursor { time_ms: row.get("event_time_ms"), row: row.get("id") },
        trail: row.get("trail"),
        record: Record {
            event_id: row.get("event_id"),
            event_time_ms: row.get("event_time_ms"),
            event_source: row.get("event_source"),
            event_name: row.get("event_name"),
            aws_region: row.get("aws_region"),
            account: row.get("account"),
            error_code: row.get("error_code"),
            read_only: row.get("read_only"),
            is_management: row.get("is_management"),
            // Only ingest's event selectors read it; it is not stored.
            network_activity: false,
            is_write: row.get("is_write"),
            user_arn: row.get("user_arn"),
            user_name: row.get("user_name"),
            access_key_id: row.get("access_key_id"),
            user_agent: row.get("user_agent"),
            source_ip: row.get("source_ip"),
            resources,
            raw,
            packed_raw: Default::default(),
        },
    }
}

/// Rows of (account, region, source, name, code, minute, count), ordered by series then
/// minute, as the series they make up.
pub(crate) fn series_from_rows<'r, R: Row>(rows: &'r [R]) -> Vec<SeriesCounts>
where
    usize: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let mut series: Vec<SeriesCounts> = Vec::new();
    for row in rows {
        let key = SeriesKey {
            account: row.get(0),
            region: row.get(1),
            event_source: row.get(2),
            event_name: row.get(3),
            error_code: row.get(4),
        };
        let point = (row.get::<i64, _>(5), row.get::<i64, _>(6) as u32);
        match series.last_mut() {
            Some(last) if last.key == key => last.counts.push(point),
            _ => series.push(SeriesCounts { key, counts: vec![point] }),
        }
    }
    series
}

/// The rule of a `suppressions` row.
pub(crate) fn rule_from_row<'r, R: Row>(row: &'r R) -> SuppressionRule
where
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
{
    SuppressionRule {
        name: row.get("name"),
        insight_type: row.get::<Option<String>, _>("insight_type").as_deref().and_then(InsightType::parse),
        event_source: row.get("event_source"),
        event_name: row.get("event_name"),
        account: row.get("account"),
        region: row.get("region"),
        identity: row.get("identity"),
        until_ms: row.get("until_ms"),
        reason: row.get("reason"),
        created_by: row.get("created_by"),
        created_ms: row.get("created_ms"),
    }
}

