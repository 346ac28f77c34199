//! The SQLite [`Store`]: one file, WAL mode so the dashboard reads while ingest writes.

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use super::rows::trail_from_row;
use super::*;
use crate::detect::Sensitivity;

mod events;
mod insert;
mod insights;
mod retention;

pub struct SqliteStore {
    pool: SqlitePool,
    /// The one connection ingest writes through. SQLite's page cache is per connection and
    /// is dropped whenever another connection has written, so batches that took turns on the
    /// pool's connections re-read the indexes from the OS each time (measured: ~200,000
    /// page reads per million records). One writer keeps them in its cache.
    ingest_writer: SqlitePool,
    access: access::SqlAccess<sqlx::Sqlite>,
    notify: notify::SqlNotify<sqlx::Sqlite>,
    tags: tags::SqlTags<sqlx::Sqlite>,
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
        let pool = connect(SqlitePoolOptions::new().max_connections(4), options.clone()).await.map_err(open_err)?;
        migrate(&pool).await?;
        let ingest_writer = connect(SqlitePoolOptions::new().max_connections(1), options).await.map_err(open_err)?;
        let access = access::SqlAccess { pool: pool.clone() };
        let notify = notify::SqlNotify { pool: pool.clone() };
        let tags = tags::SqlTags { pool: pool.clone() };
        Ok(SqliteStore { pool, ingest_writer, access, notify, tags })
    }
}

/// Opens a pool, waiting out a database that is busy being opened by another process. Turning
/// an older rollback-journal file into WAL needs the database to itself, and SQLite answers
/// that with "database is locked" at once rather than through the busy timeout; several
/// servers and an ingest starting together on an upgraded database met it (seen in CI while
/// another opener ran the migrations). Tried for up to 30 s, as the busy timeout is.
async fn connect(pool: SqlitePoolOptions, options: SqliteConnectOptions) -> std::result::Result<SqlitePool, sqlx::Error> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match pool.clone().connect_with(options.clone()).await {
            // SQLITE_BUSY and its extended codes (the low byte is 5).
            Err(sqlx::Error::Database(e))
                if e.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == 5)
                    && std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            other => return other,
        }
    }
}

/// The schema's migrations (`migrations/sqlite`), built into the binary.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// Brings the schema up to date. sqlx's migrator takes no lock on SQLite (it does on
/// Postgres), so two processes opening a new or older database at once (the dashboard and an
/// ingest, say) would both apply the same migration and one would fail with "table ...
/// already exists". Running every pending migration inside one `BEGIN IMMEDIATE`
/// transaction makes the second opener wait for the first (up to the busy timeout), then find
/// nothing left to do; each migration still applies wholly or not at all.
///
/// A database already up to date is only read: opening the dashboard must not wait for the
/// write lock that a long ingest holds batch after batch.
async fn migrate(pool: &SqlitePool) -> Result<()> {
    if up_to_date(pool).await? {
        return Ok(());
    }
    let mut conn = pool.acquire().await?;
    let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
    // `run_direct` is `run` on a connection we hold; `run` itself cannot take one without
    // making this future !Send (sqlx's "Acquire is not general enough").
    MIGRATOR.run_direct(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Whether every migration is applied as it is in this binary (same checksum). Anything else,
/// including a changed migration, takes the locked path, where sqlx reports it.
async fn up_to_date(pool: &SqlitePool) -> Result<bool> {
    let has_table: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')")
            .fetch_one(pool)
            .await?;
    if !has_table {
        return Ok(false);
    }
    let applied: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success").fetch_all(pool).await?;
    Ok(MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .all(|m| applied.iter().any(|(version, checksum)| *version == m.version && **checksum == *m.checksum)))
}

const TRAIL_COLUMNS: &str = "name, call_rate_enabled, error_rate_enabled, sensitivity, logging,
    s3_bucket, created_ms, options, event_selectors, start_logging_ms, stop_logging_ms, drops,
    (SELECT MAX(event_time_ms) FROM events WHERE events.trail = trails.name) AS last_event_ms";


#[async_trait]
impl Store for SqliteStore {
    async fn ensure_trail(&self, name: &str) -> Result<()> {
        super::trails::create(&self.pool, &NewTrail::for_ingest(name), chrono::Utc::now().timestamp_millis()).await?;
        Ok(())
    }

    async fn create_trail(&self, new: &NewTrail<'_>) -> Result<Trail> {
        if !super::trails::create(&self.pool, new, chrono::Utc::now().timestamp_millis()).await? {
            return Err(StoreError::TrailExists(new.name.to_owned()));
        }
        self.get_trail(new.name).await?.ok_or_else(|| StoreError::NoSuchTrail(new.name.to_owned()))
    }

    async fn update_trail(&self, name: &str, s3_bucket: Option<&str>, options: &TrailOptions) -> Result<()> {
        super::trails::update_trail(&self.pool, name, s3_bucket, options).await
    }

    async fn set_event_selectors(&self, name: &str, selectors: &EventSelectors) -> Result<()> {
        super::trails::set_event_selectors(&self.pool, name, selectors).await
    }

    async fn get_trail(&self, name: &str) -> Result<Option<Trail>> {
        let sql = format!("SELECT {TRAIL_COLUMNS} FROM trails WHERE name = ?");
        let row = sqlx::query(&sql).bind(name).fetch_optional(&self.pool).await?;
        row.as_ref().map(trail_from_row).transpose()
    }

    async fn list_trails(&self) -> Result<Vec<Trail>> {
        let sql = format!("SELECT {TRAIL_COLUMNS} FROM trails ORDER BY name");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(trail_from_row).collect()
    }

    async fn rename_trail(&self, from: &str, to: &str) -> Result<()> {
        super::trails::rename(&self.pool, from, to).await
    }

    async fn delete_trail(&self, name: &str) -> Result<()> {
        super::trails::delete(&self.pool, name).await
    }

    async fn set_insight_types(&self, trail: &str, types: &[InsightType]) -> Result<()> {
        super::trails::set_insight_types(&self.pool, trail, types).await
    }

    async fn set_sensitivity(&self, trail: &str, sensitivity: Sensitivity) -> Result<()> {
        super::trails::set_sensitivity(&self.pool, trail, sensitivity).await
    }

    async fn set_drops(&self, trail: &str, drops: bool) -> Result<()> {
        super::trails::set_drops(&self.pool, trail, drops).await
    }

    async fn set_logging(&self, trail: &str, logging: bool, now_ms: i64) -> Result<()> {
        super::trails::set_logging(&self.pool, trail, logging, now_ms).await
    }

    async fn insert_events(&self, trail: &str, records: &[Record]) -> Result<u64> {
        insert::insert_events(&self.ingest_writer, trail, records).await
    }

    fn packs_raw(&self) -> bool {
        true
    }

    async fn event_span(&self, trail: &str) -> Result<Option<(Minute, Minute)>> {
        self.span(trail).await
    }

    async fn list_events(&self, query: &EventQuery) -> Result<Vec<StoredEvent>> {
        self.list(query).await
    }

    async fn get_event(&self, event_id: &str) -> Result<Vec<StoredEvent>> {
        self.get(event_id).await
    }

    async fn series_counts(&self, query: &SeriesQuery) -> Result<Vec<(Minute, u32)>> {
        self.series(query).await
    }

    async fn minute_counts(&self, trail: &str, kind: InsightType) -> Result<Vec<SeriesCounts>> {
        self.all_series(trail, kind).await
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
        self.top(trail, kind, key, attribute, (from, to), limit).await
    }

    async fn save_insight(&self, insight: &StoredInsight, now_ms: i64) -> Result<bool> {
        super::save_insight::save_sqlite(&self.pool, insight, now_ms).await
    }

    async fn list_insights(&self, filter: &InsightFilter) -> Result<Vec<StoredInsight>> {
        self.list_matching(filter).await
    }

    async fn count_insights(&self, filter: &InsightFilter) -> Result<u64> {
        self.count_matching(filter).await
    }

    async fn get_insight(&self, shared_event_id: &str) -> Result<Option<StoredInsight>> {
        self.insight(shared_event_id).await
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

    fn access(&self) -> &dyn access::AccessStore {
        &self.access
    }

    fn notify(&self) -> &dyn notify::NotifyStore {
        &self.notify
    }

    fn tags(&self) -> &dyn tags::TagStore {
        &self.tags
    }

    async fn server_secret(&self, name: &str, candidate: &str) -> Result<String> {
        secret::get_or_insert(&self.pool, name, candidate).await
    }
}
