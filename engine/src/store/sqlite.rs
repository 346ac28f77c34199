//! The SQLite [`Store`]: one file, WAL mode so the dashboard reads while ingest writes.

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use super::rows::{insight_from_row, trail_from_row};
use super::*;
use crate::detect::Sensitivity;

mod retention;
mod insert;

pub struct SqliteStore {
    pool: SqlitePool,
    /// The one connection ingest writes through. SQLite's page cache is per connection and
    /// is dropped whenever another connection has written, so batches that took turns on the
    /// pool's connections re-read the indexes from the OS each time (measured: ~200,000
    /// page reads per million records). One writer keeps them in its cache.
    ingest_writer: SqlitePool,
}

impl SqliteStore {
    /// Opens `sqlite://PATH`, creating the file if missing, and runs the migrations.
    pub async fn open(url: &str) -> Result<SqliteStore> {
        let open_err = |source| StoreError::Open { url: url.to_owned(), source };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(open_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL still never corrupts the database; a power cut may lose the
            // last transactions, which re-running the same ingest restores.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(30))
            // Ingest inserts into a dozen indexes keyed by random eventIDs: with SQLite's
            // default 2 MiB page cache nearly every insert re-reads index pages from the OS.
            // 256 MiB per connection (allocated only as used) keeps the hot pages in memory;
            // 1 GiB measured only 3% faster on a million records.
            .pragma("cache_size", "-262144")
            // Checkpoint the WAL every ~64 MiB rather than every 4 MiB: fewer fsyncs of the
            // database file during bulk ingest, the same durability.
            .pragma("wal_autocheckpoint", "16384")
            // Multi-row inserts keep a statement journal (to undo a half-done statement);
            // in memory it costs a copy instead of a write to a temporary file per page.
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await
            .map_err(open_err)?;
        migrate(&pool).await?;
        let ingest_writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(open_err)?;
        Ok(SqliteStore { pool, ingest_writer })
    }
}

/// Brings the schema up to date. sqlx's migrator takes no lock on SQLite (it does on
/// Postgres), so two processes opening a new or older database at once (the dashboard and an
/// ingest, say) would both apply the same migration and one would fail with "table ...
/// already exists". Running every pending migration inside one `BEGIN IMMEDIATE`
/// transaction makes the second opener wait for the first (up to the busy timeout), then find
/// nothing left to do; each migration still applies wholly or not at all.
async fn migrate(pool: &SqlitePool) -> Result<()> {
    let mut conn = pool.acquire().await?;
    let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
    // `run_direct` is `run` on a connection we hold; `run` itself cannot take one without
    // making this future !Send (sqlx's "Acquire is not general enough").
    sqlx::migrate!("../migrations/sqlite").run_direct(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
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

/// The SQL condition selecting the events an insight type counts.
fn counted_events(kind: InsightType) -> &'static str {
    match kind {
        InsightType::ApiCallRate => "is_management = 1 AND is_write = 1",
        InsightType::ApiErrorRate => "is_management = 1 AND error_code IS NOT NULL",
    }
}

const TRAIL_COLUMNS: &str = "name, call_rate_enabled, error_rate_enabled, sensitivity, logging,
    s3_bucket, created_ms,
    (SELECT MAX(event_time_ms) FROM events WHERE events.trail = trails.name) AS last_event_ms";


const EVENT_COLUMNS: &str = "id, trail, event_id, event_time_ms, event_source, event_name,
    aws_region, account, error_code, read_only, is_management, is_write, user_arn, user_name,
    access_key_id, user_agent, source_ip, raw";

/// The condition finding an eventID (its one `?`) in any trail on any day. The identity index
/// is (trail, day, event_id): this probes it once per trail and stored day (`day IN` a list
/// of every day from the oldest event to the newest), a few thousand seeks for years of
/// history, where a scan of the table would read every event. See migration 0008.
const EVENT_ID_LOOKUP: &str = "trail IN (SELECT name FROM trails)
    AND day IN (WITH RECURSIVE d(x) AS (
            SELECT (SELECT MIN(event_time_ms) FROM events) / 86400000
            UNION ALL
            SELECT x + 1 FROM d WHERE x < (SELECT MAX(event_time_ms) FROM events) / 86400000)
        SELECT x FROM d)
    AND event_id = ?";

/// An event row (resources are attached after); raw is a zstd frame or, in rows written
/// before migration 0008, text.
fn event_from_row(row: sqlx::sqlite::SqliteRow) -> Result<StoredEvent> {
    let raw = super::packed::unpack(row.try_get("raw")?)?;
    Ok(super::rows::event_from_row(&row, Vec::new(), raw))
}

/// The first millisecond of a minute: API-and-minute-range selections filter on
/// event_time_ms so that they run on the events_name (event_name, event_time_ms) index.
fn minute_start_ms(minute: Minute) -> i64 {
    minute * 60_000
}


impl SqliteStore {
    /// Fills in `resources` for a page of events with one query.
    async fn attach_resources(&self, events: &mut [StoredEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = events.iter().map(|e| e.cursor.row.to_string()).collect();
        // The IDs are integers from our own rows, never user input.
        let sql = format!(
            "SELECT event_row, resource_type, resource_name FROM event_resources
             WHERE event_row IN ({}) ORDER BY rowid",
            ids.join(",")
        );
        for row in sqlx::query(&sql).fetch_all(&self.pool).await? {
            let id: i64 = row.get(0);
            if let Some(e) = events.iter_mut().find(|e| e.cursor.row == id) {
                e.record.resources.push((row.get(1), row.get(2)));
            }
        }
        Ok(())
    }

    async fn update_trail<'q>(
        &self,
        trail: &str,
        query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    ) -> Result<()> {
        if query.execute(&self.pool).await?.rows_affected() == 0 {
            return Err(StoreError::NoSuchTrail(trail.to_owned()));
        }
        Ok(())
    }
}

/// The WHERE clause shared by listing and counting insights, and its arguments in order.
fn insight_conditions(f: &InsightFilter) -> (String, Vec<Option<String>>, Vec<Option<i64>>) {
    let sql = "(? IS NULL OR trail = ?) AND (? IS NULL OR insight_type = ?)
        AND (? IS NULL OR event_name = ?) AND (? IS NULL OR event_source = ?)
        AND (? IS NULL OR shared_event_id = ? OR instr(start_record, '\"eventID\":\"' || ? || '\"') > 0
             OR instr(COALESCE(end_record, ''), '\"eventID\":\"' || ? || '\"') > 0)
        AND (? IS NULL OR start_minute >= ?) AND (? IS NULL OR start_minute < ?)";
    let texts = vec![
        f.trail.clone(),
        f.insight_type.map(|t| t.as_str().to_owned()),
        f.event_name.clone(),
        f.event_source.clone(),
        f.event_id.clone(),
    ];
    (sql.to_owned(), texts, vec![f.from, f.to])
}

fn bind_insight_conditions<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    texts: &'q [Option<String>],
    minutes: &'q [Option<i64>],
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    for (i, t) in texts.iter().enumerate() {
        let repeat = if i == 4 { 4 } else { 2 };
        for _ in 0..repeat {
            q = q.bind(t);
        }
    }
    for m in minutes {
        q = q.bind(m).bind(m);
    }
    q
}


#[async_trait]
impl Store for SqliteStore {
    async fn ensure_trail(&self, name: &str) -> Result<()> {
        super::trails::create(&self.pool, name, None, chrono::Utc::now().timestamp_millis()).await?;
        Ok(())
    }

    async fn create_trail(&self, name: &str, s3_bucket: Option<&str>) -> Result<Trail> {
        if !super::trails::create(&self.pool, name, s3_bucket, chrono::Utc::now().timestamp_millis()).await? {
            return Err(StoreError::TrailExists(name.to_owned()));
        }
        self.get_trail(name).await?.ok_or_else(|| StoreError::NoSuchTrail(name.to_owned()))
    }

    async fn get_trail(&self, name: &str) -> Result<Option<Trail>> {
        let sql = format!("SELECT {TRAIL_COLUMNS} FROM trails WHERE name = ?");
        let row = sqlx::query(&sql).bind(name).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(trail_from_row))
    }

    async fn list_trails(&self) -> Result<Vec<Trail>> {
        let sql = format!("SELECT {TRAIL_COLUMNS} FROM trails ORDER BY name");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(trail_from_row).collect())
    }

    async fn rename_trail(&self, from: &str, to: &str) -> Result<()> {
        super::trails::rename(&self.pool, from, to).await
    }

    async fn delete_trail(&self, name: &str) -> Result<()> {
        super::trails::delete(&self.pool, name).await
    }

    async fn set_insight_types(&self, trail: &str, types: &[InsightType]) -> Result<()> {
        let q = sqlx::query("UPDATE trails SET call_rate_enabled = ?, error_rate_enabled = ? WHERE name = ?")
            .bind(types.contains(&InsightType::ApiCallRate))
            .bind(types.contains(&InsightType::ApiErrorRate))
            .bind(trail);
        self.update_trail(trail, q).await
    }

    async fn set_sensitivity(&self, trail: &str, sensitivity: Sensitivity) -> Result<()> {
        let q = sqlx::query("UPDATE trails SET sensitivity = ? WHERE name = ?")
            .bind(sensitivity.as_str())
            .bind(trail);
        self.update_trail(trail, q).await
    }

    async fn set_logging(&self, trail: &str, logging: bool) -> Result<()> {
        let q = sqlx::query("UPDATE trails SET logging = ? WHERE name = ?").bind(logging).bind(trail);
        self.update_trail(trail, q).await
    }

    async fn insert_events(&self, trail: &str, records: &[Record]) -> Result<u64> {
        insert::insert_events(&self.ingest_writer, trail, records).await
    }

    fn packs_raw(&self) -> bool {
        true
    }

    async fn event_span(&self, trail: &str) -> Result<Option<(Minute, Minute)>> {
        // On events_time (trail, event_time_ms): two seeks.
        let row = sqlx::query("SELECT MIN(event_time_ms), MAX(event_time_ms) FROM events WHERE trail = ?")
            .bind(trail)
            .fetch_one(&self.pool)
            .await?;
        let span = row.get::<Option<i64>, _>(0).zip(row.get::<Option<i64>, _>(1));
        Ok(span.map(|(first, last)| (crate::time::minute_of_millis(first), crate::time::minute_of_millis(last))))
    }

    async fn list_events(&self, q: &EventQuery) -> Result<Vec<StoredEvent>> {
        let (attribute, value) = match &q.lookup {
            Some((a, v)) => (Some(*a), Some(v.as_str())),
            None => (None, None),
        };
        let lookup = match attribute {
            None => "1",
            Some(LookupAttribute::EventId) => EVENT_ID_LOOKUP,
            Some(LookupAttribute::EventName) => "event_name = ?",
            Some(LookupAttribute::EventSource) => "event_source = ?",
            Some(LookupAttribute::Username) => "user_name = ?",
            Some(LookupAttribute::AccessKeyId) => "access_key_id = ?",
            Some(LookupAttribute::ReadOnly) => "is_write = (lower(?) <> 'true')",
            Some(LookupAttribute::ResourceType) => {
                "EXISTS (SELECT 1 FROM event_resources r WHERE r.event_row = events.id AND r.resource_type = ?)"
            }
            Some(LookupAttribute::ResourceName) => {
                "EXISTS (SELECT 1 FROM event_resources r WHERE r.event_row = events.id AND r.resource_name = ?)"
            }
        };
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE {lookup} AND (? IS NULL OR trail = ?)
               AND (? IS NULL OR event_source = ?) AND (? IS NULL OR event_name = ?)
               AND (? IS NULL OR account = ?) AND (? IS NULL OR aws_region = ?)
               AND (? IS NULL OR error_code = ?) AND (? = 0 OR is_management = 1) AND (? = 0 OR is_write = 1)
               AND (? IS NULL OR event_time_ms >= ?) AND (? IS NULL OR event_time_ms <= ?)
               AND (? IS NULL OR event_time_ms < ? OR (event_time_ms = ? AND id < ?))
             ORDER BY event_time_ms DESC, id DESC LIMIT ?"
        );
        let mut query = sqlx::query(&sql);
        if let Some(v) = value {
            query = query.bind(v);
        }
        for text in [&q.trail, &q.event_source, &q.event_name, &q.account, &q.region, &q.error_code] {
            query = query.bind(text).bind(text);
        }
        query = query.bind(q.management_only).bind(q.writes_only);
        for ms in [q.from_ms, q.to_ms] {
            query = query.bind(ms).bind(ms);
        }
        let (time, row) = (q.before.map(|c| c.time_ms), q.before.map(|c| c.row));
        query = query.bind(time).bind(time).bind(time).bind(row).bind(q.limit);
        let mut events = query.fetch_all(&self.pool).await?.into_iter().map(event_from_row).collect::<Result<Vec<_>>>()?;
        self.attach_resources(&mut events).await?;
        Ok(events)
    }

    async fn get_event(&self, event_id: &str) -> Result<Vec<StoredEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE {EVENT_ID_LOOKUP} ORDER BY trail"
        );
        let rows = sqlx::query(&sql).bind(event_id).fetch_all(&self.pool).await?;
        let mut events = rows.into_iter().map(event_from_row).collect::<Result<Vec<_>>>()?;
        self.attach_resources(&mut events).await?;
        Ok(events)
    }

    async fn series_counts(&self, q: &SeriesQuery) -> Result<Vec<(Minute, u32)>> {
        let counted = q.counted.map(counted_events).unwrap_or("1");
        let sql = format!(
            "SELECT minute, COUNT(*) FROM events
             WHERE event_name = ? AND event_time_ms >= ? AND event_time_ms < ?
               AND event_source = ? AND {counted}
               AND (? IS NULL OR trail = ?) AND (? IS NULL OR account = ?)
               AND (? IS NULL OR aws_region = ?) AND (? IS NULL OR error_code = ?)
             GROUP BY minute ORDER BY minute"
        );
        let rows = sqlx::query(&sql)
            .bind(&q.event_name)
            .bind(minute_start_ms(q.from))
            .bind(minute_start_ms(q.to))
            .bind(&q.event_source)
            .bind(&q.trail)
            .bind(&q.trail)
            .bind(&q.account)
            .bind(&q.account)
            .bind(&q.region)
            .bind(&q.region)
            .bind(&q.error_code)
            .bind(&q.error_code)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| (r.get::<i64, _>(0), r.get::<i64, _>(1) as u32)).collect())
    }

    async fn minute_counts(&self, trail: &str, kind: InsightType) -> Result<Vec<SeriesCounts>> {
        let error_code = match kind {
            InsightType::ApiCallRate => "NULL",
            InsightType::ApiErrorRate => "error_code",
        };
        let sql = format!(
            "SELECT account, aws_region, event_source, event_name, {error_code} AS code,
                    minute, COUNT(*) AS n
             FROM events WHERE trail = ? AND {}
             GROUP BY account, aws_region, event_source, event_name, code, minute
             ORDER BY account, aws_region, event_source, event_name, code, minute",
            counted_events(kind)
        );
        let rows = sqlx::query(&sql).bind(trail).fetch_all(&self.pool).await?;
        Ok(super::rows::series_from_rows(&rows))
    }

    async fn top_values(
        &self,
        trail: &str,
        kind: InsightType,
        key: &SeriesKey,
        attribute: Attribute,
        from: Minute,
        to: Minute,
        limit: u32,
    ) -> Result<Vec<(String, u64)>> {
        let column = super::attribute_column(attribute);
        let sql = format!(
            "SELECT {column} AS value, COUNT(*) AS n FROM events
             WHERE event_name = ? AND event_time_ms >= ? AND event_time_ms < ?
               AND trail = ? AND event_source = ? AND account = ? AND aws_region = ? AND {}
               AND (? IS NULL OR error_code = ?) AND value IS NOT NULL
             GROUP BY value ORDER BY n DESC, value LIMIT ?",
            counted_events(kind)
        );
        let rows = sqlx::query(&sql)
            .bind(&key.event_name)
            .bind(minute_start_ms(from))
            .bind(minute_start_ms(to))
            .bind(trail)
            .bind(&key.event_source)
            .bind(&key.account)
            .bind(&key.region)
            .bind(&key.error_code)
            .bind(&key.error_code)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get::<i64, _>(1) as u64)).collect())
    }

    async fn save_insight(&self, i: &StoredInsight) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO insights (shared_event_id, trail, insight_type, account, aws_region,
                event_source, event_name, error_code, start_minute, end_minute,
                baseline_average, insight_average, start_record, end_record)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (shared_event_id) DO NOTHING",
        )
        .bind(&i.shared_event_id)
        .bind(&i.trail)
        .bind(i.insight_type.as_str())
        .bind(&i.key.account)
        .bind(&i.key.region)
        .bind(&i.key.event_source)
        .bind(&i.key.event_name)
        .bind(&i.key.error_code)
        .bind(i.start_minute)
        .bind(i.end_minute)
        .bind(i.baseline_average)
        .bind(i.insight_average)
        .bind(&i.start_record)
        .bind(&i.end_record)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let ended = if inserted == 0 && i.end_record.is_some() {
            sqlx::query(
                "UPDATE insights SET end_minute = ?, insight_average = ?, end_record = ?
                 WHERE shared_event_id = ? AND end_record IS NULL",
            )
            .bind(i.end_minute)
            .bind(i.insight_average)
            .bind(&i.end_record)
            .bind(&i.shared_event_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        } else {
            0
        };
        tx.commit().await?;
        Ok(inserted + ended > 0)
    }

    async fn list_insights(&self, filter: &InsightFilter) -> Result<Vec<StoredInsight>> {
        let (conditions, texts, minutes) = insight_conditions(filter);
        let sql = format!(
            "SELECT * FROM insights WHERE {conditions}
             ORDER BY start_minute DESC, shared_event_id LIMIT ? OFFSET ?"
        );
        let rows = bind_insight_conditions(sqlx::query(&sql), &texts, &minutes)
            .bind(filter.limit.map(i64::from).unwrap_or(-1))
            .bind(filter.offset)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(insight_from_row).collect())
    }

    async fn count_insights(&self, filter: &InsightFilter) -> Result<u64> {
        let (conditions, texts, minutes) = insight_conditions(filter);
        let sql = format!("SELECT COUNT(*) FROM insights WHERE {conditions}");
        let row = bind_insight_conditions(sqlx::query(&sql), &texts, &minutes).fetch_one(&self.pool).await?;
        Ok(row.get::<i64, _>(0) as u64)
    }

    async fn get_insight(&self, shared_event_id: &str) -> Result<Option<StoredInsight>> {
        let row = sqlx::query("SELECT * FROM insights WHERE shared_event_id = ?")
            .bind(shared_event_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(insight_from_row))
    }

    async fn apply_retention(&self, now_ms: i64, days: u32) -> Result<RetentionReport> {
        self.retain(now_ms, days).await
    }

    async fn acquire_lease(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Result<bool> {
        lease::acquire(&self.pool, name, holder, now_ms, ttl_ms).await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        lease::release(&self.pool, name, holder).await
    }

    async fn get_checkpoint(&self, trail: &str, key: &str) -> Result<Option<String>> {
        checkpoint::get(&self.pool, trail, key).await
    }

    async fn set_checkpoint(&self, trail: &str, key: &str, value: &str) -> Result<()> {
        checkpoint::set(&self.pool, trail, key, value).await
    }
}
