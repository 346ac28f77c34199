//! Batched inserts of records into SQLite: the hot path of ingest.
//!
//! One transaction per batch; within it, multi-row `INSERT ... ON CONFLICT DO NOTHING
//! RETURNING` statements of [`ROWS_PER_STATEMENT`] rows. The statement text is the same for
//! every full chunk, so sqlx prepares it once per connection and reuses it: the cost per
//! record is binding its values, not parsing SQL. `RETURNING` names the rows that were new,
//! which is both the "stored" count and the key for their resources.

use std::collections::HashMap;
use std::sync::OnceLock;

use sqlx::{Row, SqlitePool};

use crate::record::Record;
use crate::store::Result;

const EVENT_COLUMNS: usize = 18;
/// 18 values a row: 200 rows stay far below SQLite's limit of 32,766 bound values.
const ROWS_PER_STATEMENT: usize = 200;
const RESOURCES_PER_STATEMENT: usize = 500;

fn placeholders(rows: usize, columns: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(","));
    vec![row; rows].join(",")
}

fn events_sql(rows: usize) -> String {
    format!(
        "INSERT INTO events (trail, event_id, event_time_ms, minute, event_source,
            event_name, aws_region, account, error_code, read_only, is_management,
            is_write, user_arn, user_name, access_key_id, user_agent, source_ip, raw)
         VALUES {}
         ON CONFLICT (trail, event_id) DO NOTHING
         RETURNING id, event_id",
        placeholders(rows, EVENT_COLUMNS)
    )
}

fn resources_sql(rows: usize) -> String {
    format!(
        "INSERT INTO event_resources (event_row, resource_type, resource_name) VALUES {}",
        placeholders(rows, 3)
    )
}

/// The SQL for a chunk: full chunks share one cached string (and so one prepared statement).
fn sql_for(rows: usize, full: &'static OnceLock<String>, full_rows: usize, make: fn(usize) -> String) -> std::borrow::Cow<'static, str> {
    if rows == full_rows {
        full.get_or_init(|| make(full_rows)).as_str().into()
    } else {
        make(rows).into()
    }
}

/// Stores `records` under `trail` in one transaction; returns how many were new.
pub async fn insert_events(pool: &SqlitePool, trail: &str, records: &[Record]) -> Result<u64> {
    static FULL_EVENTS: OnceLock<String> = OnceLock::new();
    static FULL_RESOURCES: OnceLock<String> = OnceLock::new();
    let mut tx = pool.begin().await?;
    let mut stored = 0u64;
    let mut resources: Vec<(i64, &str, &str)> = Vec::new();
    for chunk in records.chunks(ROWS_PER_STATEMENT) {
        let sql = sql_for(chunk.len(), &FULL_EVENTS, ROWS_PER_STATEMENT, events_sql);
        let mut query = sqlx::query(&sql);
        for r in chunk {
            query = query
                .bind(trail)
                .bind(&r.event_id)
                .bind(r.event_time_ms)
                .bind(r.minute())
                .bind(&r.event_source)
                .bind(&r.event_name)
                .bind(&r.aws_region)
                .bind(&r.account)
                .bind(&r.error_code)
                .bind(r.read_only)
                .bind(r.is_management)
                .bind(r.is_write)
                .bind(&r.user_arn)
                .bind(&r.user_name)
                .bind(&r.access_key_id)
                .bind(&r.user_agent)
                .bind(&r.source_ip)
                .bind(&r.raw);
        }
        let rows = query.fetch_all(&mut *tx).await?;
        stored += rows.len() as u64;
        if chunk.iter().any(|r| !r.resources.is_empty()) {
            let mut new: HashMap<String, i64> =
                rows.iter().map(|row| (row.get::<String, _>(1), row.get::<i64, _>(0))).collect();
            for r in chunk {
                // `remove`: when one chunk holds the same eventID twice, only the copy that
                // was inserted (the first) brings its resources.
                if let Some(id) = new.remove(&r.event_id) {
                    resources.extend(r.resources.iter().map(|(t, n)| (id, t.as_str(), n.as_str())));
                }
            }
        }
    }
    for chunk in resources.chunks(RESOURCES_PER_STATEMENT) {
        let sql = sql_for(chunk.len(), &FULL_RESOURCES, RESOURCES_PER_STATEMENT, resources_sql);
        let mut query = sqlx::query(&sql);
        for (id, kind, name) in chunk {
            query = query.bind(*id).bind(*kind).bind(*name);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(stored)
}
