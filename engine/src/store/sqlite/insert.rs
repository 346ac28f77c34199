//! Batched inserts of records into SQLite: the hot path of ingest.
//!
//! One `BEGIN IMMEDIATE` transaction per batch; within it, multi-row `INSERT ... ON CONFLICT
//! DO NOTHING` statements of [`ROWS_PER_STATEMENT`] rows. The statement text is the same for
//! every full chunk, so sqlx prepares it once per connection and reuses it: the cost per
//! record is binding its values, not parsing SQL.
//!
//! The inserts return nothing (`RETURNING` made SQLite buffer every new row and sqlx hand
//! each back, ~15% of the writer's time). What is needed of the new rows comes cheaper:
//! - how many were new: each statement's changed-row count;
//! - the row IDs of the few records with `resources` (their rows in event_resources point at
//!   the event): looked up by identity afterwards. The transaction holds the write lock from
//!   its start, so every row with an ID above the highest one before the batch is new in it,
//!   which tells a record stored now from a duplicate stored earlier (whose resources are
//!   stored already).
//!
//! [`SqliteStore::copy_events_from`] is the yardstick for all this: the same rows stored by
//! SQLite alone, which `bench-ingest` prints beside ingest's own rate.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use sqlx::{Row, SqlitePool};

use super::SqliteStore;
use crate::record::Record;
use crate::store::packed;
use crate::store::Result;

const EVENT_COLUMNS: usize = 19;
/// 19 values a row: 200 rows stay far below SQLite's limit of 32,766 bound values.
const ROWS_PER_STATEMENT: usize = 200;
const RESOURCES_PER_STATEMENT: usize = 500;
/// (day, eventID) pairs per lookup of new rows' IDs.
const IDS_PER_LOOKUP: usize = 500;
const DAY_MS: i64 = 86_400_000;

fn placeholders(rows: usize, columns: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(","));
    vec![row; rows].join(",")
}

fn events_sql(rows: usize) -> String {
    format!(
        "INSERT INTO events (trail, event_id, event_time_ms, day, minute, event_source,
            event_name, aws_region, account, error_code, read_only, is_management,
            is_write, user_arn, user_name, access_key_id, user_agent, source_ip, raw)
         VALUES {}
         ON CONFLICT (trail, day, event_id) DO NOTHING",
        placeholders(rows, EVENT_COLUMNS)
    )
}

fn resources_sql(rows: usize) -> String {
    format!(
        "INSERT INTO event_resources (event_row, resource_type, resource_name) VALUES {}",
        placeholders(rows, 3)
    )
}

/// The IDs of the rows among (day, eventID) pairs, then in a trail, newer than an ID.
fn new_ids_sql(pairs: usize) -> String {
    format!(
        "SELECT e.id, e.day, e.event_id FROM (VALUES {}) v
         JOIN events e ON e.trail = ? AND e.day = v.column1 AND e.event_id = v.column2
         WHERE e.id > ?",
        placeholders(pairs, 2)
    )
}

/// The SQL for a chunk: full chunks share one cached string (and so one prepared statement).
fn sql_for(rows: usize, full: &'static OnceLock<String>, full_rows: usize, make: fn(usize) -> String) -> Cow<'static, str> {
    if rows == full_rows {
        full.get_or_init(|| make(full_rows)).as_str().into()
    } else {
        make(rows).into()
    }
}

/// The day a record's identity is filed under (SQLite's integer division, as in migration 0008).
pub(super) fn day_of(event_time_ms: i64) -> i64 {
    event_time_ms / DAY_MS
}

type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// One multi-row insert of `chunk` (with `raw`, its stored raw values) into `trail`, with
/// `sql` from [`events_sql`] for its length.
fn events_query<'q>(sql: &'q str, trail: &'q str, chunk: &'q [Record], raw: &'q [Cow<'q, [u8]>]) -> SqliteQuery<'q> {
    let mut query = sqlx::query(sql);
    for (r, raw) in chunk.iter().zip(raw) {
        query = query
            .bind(trail)
            .bind(&r.event_id)
            .bind(r.event_time_ms)
            .bind(day_of(r.event_time_ms))
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
            .bind(raw.as_ref());
    }
    query
}

/// Stores `records` under `trail` in one transaction; returns how many were new.
pub async fn insert_events(pool: &SqlitePool, trail: &str, records: &[Record]) -> Result<u64> {
    static FULL_RESOURCES: OnceLock<String> = OnceLock::new();
    static FULL_NEW_IDS: OnceLock<String> = OnceLock::new();
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let newest_before: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM events").fetch_one(&mut *tx).await?;
    // Records from ingest's workers arrive compressed; others (a test, a one-off call) are
    // compressed here.
    let packed: Vec<Cow<[u8]>> = records
        .iter()
        .map(|r| match &r.packed_raw.0 {
            Some(bytes) => Cow::Borrowed(bytes.as_slice()),
            None => Cow::Owned(packed::pack(&r.raw)),
        })
        .collect();
    let statements: Vec<(&[Record], &[Cow<[u8]>])> =
        records.chunks(ROWS_PER_STATEMENT).zip(packed.chunks(ROWS_PER_STATEMENT)).collect();
    static FULL_EVENTS: OnceLock<String> = OnceLock::new();
    let full_sql = FULL_EVENTS.get_or_init(|| events_sql(ROWS_PER_STATEMENT)).as_str();
    // Only the last chunk may be short; its SQL is made once, for this batch.
    let short_sql = (records.len() % ROWS_PER_STATEMENT != 0).then(|| events_sql(records.len() % ROWS_PER_STATEMENT));
    let sql_for_chunk = |chunk: &[Record]| match &short_sql {
        Some(sql) if chunk.len() < ROWS_PER_STATEMENT => sql.as_str(),
        _ => full_sql,
    };
    let query_for = |i: usize| {
        statements.get(i).map(|&(chunk, raw)| events_query(sql_for_chunk(chunk), trail, chunk, raw))
    };
    let mut stored = 0u64;
    // sqlx runs each statement on its own worker thread: the next statement's ~4,000 values
    // are bound here while the worker executes the current one, instead of the two taking
    // turns.
    let mut next = query_for(0);
    for i in 0..statements.len() {
        let query = next.take().expect("one query built per statement");
        let (done, built) = tokio::join!(query.execute(&mut *tx), async {
            query_for(i + 1)
        });
        stored += done?.rows_affected();
        next = built;
    }

    let with_resources: Vec<&Record> = records.iter().filter(|r| !r.resources.is_empty()).collect();
    let mut new_rows: HashMap<(i64, String), i64> = HashMap::new();
    for chunk in with_resources.chunks(IDS_PER_LOOKUP) {
        let sql = sql_for(chunk.len(), &FULL_NEW_IDS, IDS_PER_LOOKUP, new_ids_sql);
        let mut query = sqlx::query(&sql);
        for r in chunk {
            query = query.bind(day_of(r.event_time_ms)).bind(&r.event_id);
        }
        query = query.bind(trail).bind(newest_before);
        for row in query.fetch_all(&mut *tx).await? {
            new_rows.insert((row.get(1), row.get(2)), row.get(0));
        }
    }
    let mut resources: Vec<(i64, &str, &str)> = Vec::new();
    for r in with_resources {
        // `remove`: when one batch holds the same record twice, only the copy that was
        // inserted (the first) brings its resources.
        if let Some(id) = new_rows.remove(&(day_of(r.event_time_ms), r.event_id.clone())) {
            resources.extend(r.resources.iter().map(|(t, n)| (id, t.as_str(), n.as_str())));
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

impl SqliteStore {
    /// SQLite's own rate of storing events in this schema, with no parsing or binding: copies
    /// the events (and resources) of the trailsight database at `source` into this one, in
    /// row order, `batch` rows a transaction, through the ingest connection. The ingest
    /// benchmark prints it as the ceiling for any writer of this schema. Returns the rows
    /// copied.
    pub async fn copy_events_from(&self, source: &std::path::Path, batch: i64) -> Result<u64> {
        let mut conn = self.ingest_writer.acquire().await?;
        sqlx::query("ATTACH DATABASE ? AS source").bind(source.display().to_string()).execute(&mut *conn).await?;
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM source.events").fetch_one(&mut *conn).await?;
        let mut copied = 0;
        for from in (0..last).step_by(batch.max(1) as usize) {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            copied += sqlx::query("INSERT INTO events SELECT * FROM source.events WHERE id > ? AND id <= ?")
                .bind(from)
                .bind(from + batch)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("INSERT INTO event_resources SELECT * FROM source.event_resources WHERE event_row > ? AND event_row <= ?")
                .bind(from)
                .bind(from + batch)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        sqlx::query("DETACH DATABASE source").execute(&mut *conn).await?;
        Ok(copied)
    }
}
