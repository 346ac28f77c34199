//! The Postgres [`Store`]: for teams whose logs outgrow one machine and for several
//! `trailsight serve` processes sharing one database.
//!
//! It behaves exactly as the SQLite store does (the contract suite in
//! `engine/tests/store_contract.rs` runs against both); what differs is how the data is
//! laid out for scale (see `migrations/postgres/0001_init.sql`): events are partitioned by
//! month ([`partitions`]), so retention drops whole months, and event queries ([`events`]) are
//! built with only the conditions asked for, so every one can use its index.
//!
//! Orderings on text use `COLLATE "C"` so lists come out in the same (byte) order as
//! SQLite's, whatever the database's locale.

mod events;
mod partitions;

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Mutex;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

use super::rows::{insight_from_row, trail_from_row};
use super::*;
use crate::detect::Sensitivity;

pub struct PostgresStore {
    pool: PgPool,
    /// Months (`year * 12 + month0`) whose event partition is known to exist, so ingest asks the
    /// catalog only for new days.
    partitions: Mutex<HashSet<i64>>,
    access: access::SqlAccess<Postgres>,
    notify: notify::SqlNotify<Postgres>,
    tags: tags::SqlTags<Postgres>,
}

impl PostgresStore {
    /// Opens `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` and runs the migrations.
    /// Servers starting together are safe: sqlx migrates under an advisory lock.
    pub async fn open(url: &str) -> Result<PostgresStore> {
        let open_err = |source| StoreError::Open { url: url.to_owned(), source };
        let options = PgConnectOptions::from_str(url).map_err(open_err)?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(open_err)?;
        // Postgres's migrator takes an advisory lock, so concurrent openers queue. On a held
        // connection (`run_direct`), so that opening is a Send future like SQLite's.
        sqlx::migrate!("../migrations/postgres").run_direct(&mut *pool.acquire().await?).await?;
        let access = access::SqlAccess { pool: pool.clone() };
        let notify = notify::SqlNotify { pool: pool.clone() };
        let tags = tags::SqlTags { pool: pool.clone() };
        Ok(PostgresStore { pool, partitions: Mutex::new(HashSet::new()), access, notify, tags })
    }
}

const TRAIL_COLUMNS: &str = "name, call_rate_enabled, error_rate_enabled, sensitivity, logging,
    s3_bucket, created_ms, options, event_selectors, start_logging_ms, stop_logging_ms, drops,
    (SELECT MAX(event_time_ms) FROM events WHERE events.trail = trails.name) AS last_event_ms";


/// Adds the filter's conditions to a query that ends in `WHERE TRUE`.
fn push_insight_conditions(qb: &mut QueryBuilder<'_, Postgres>, f: &InsightFilter) {
    let texts = [
        ("trail", f.trail.clone()),
        ("insight_type", f.insight_type.map(|t| t.as_str().to_owned())),
        ("event_name", f.event_name.clone()),
        ("event_source", f.event_source.clone()),
    ];
    for (column, value) in texts {
        if let Some(v) = value {
            qb.push(format_args!(" AND {column} = ")).push_bind(v);
        }
    }
    if let Some(id) = &f.event_id {
        let needle = format!("\"eventID\":\"{id}\"");
        qb.push(" AND (shared_event_id = ").push_bind(id.clone());
        qb.push(" OR strpos(start_record, ").push_bind(needle.clone());
        qb.push(") > 0 OR strpos(COALESCE(end_record, ''), ").push_bind(needle).push(") > 0)");
    }
    if let Some(from) = f.from {
        qb.push(" AND start_minute >= ").push_bind(from);
    }
    if let Some(to) = f.to {
        qb.push(" AND start_minute < ").push_bind(to);
    }
    if let Some(state) = f.triage_state {
        qb.push(" AND triage_state = ").push_bind(state.as_str());
    }
    if f.hide_suppressed {
        qb.push(" AND suppressed_by IS NULL");
    }
}


#[async_trait]
impl Store for PostgresStore {
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
        let sql = format!("SELECT {TRAIL_COLUMNS} FROM trails WHERE name = $1");
        let row = sqlx::query(&sql).bind(name).fetch_optional(&self.pool).await?;
        row.as_ref().map(trail_from_row).transpose()
    }

    async fn list_trails(&self) -> Result<Vec<Trail>> {
        let sql = format!("SELECT {TRAIL_COLUMNS} FROM trails ORDER BY name COLLATE \"C\"");
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
        self.insert(trail, records).await
    }

    async fn event_span(&self, trail: &str) -> Result<Option<(Minute, Minute)>> {
        let row = sqlx::query("SELECT MIN(minute), MAX(minute) FROM events WHERE trail = $1")
            .bind(trail)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get::<Option<i64>, _>(0).zip(row.get::<Option<i64>, _>(1)))
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
        super::save_insight::save_postgres(&self.pool, insight, now_ms).await
    }

    async fn list_insights(&self, filter: &InsightFilter) -> Result<Vec<StoredInsight>> {
        let mut qb = QueryBuilder::new("SELECT * FROM insights WHERE TRUE");
        push_insight_conditions(&mut qb, filter);
        qb.push(" ORDER BY start_minute DESC, shared_event_id COLLATE \"C\" LIMIT ");
        qb.push_bind(filter.limit.map(i64::from)).push(" OFFSET ").push_bind(i64::from(filter.offset));
        let rows = qb.build().fetch_all(&self.pool).await?;
        Ok(rows.iter().map(insight_from_row).collect())
    }

    async fn count_insights(&self, filter: &InsightFilter) -> Result<u64> {
        let mut qb = QueryBuilder::new("SELECT COUNT(*) FROM insights WHERE TRUE");
        push_insight_conditions(&mut qb, filter);
        let row = qb.build().fetch_one(&self.pool).await?;
        Ok(row.get::<i64, _>(0) as u64)
    }

    async fn get_insight(&self, shared_event_id: &str) -> Result<Option<StoredInsight>> {
        let row = sqlx::query("SELECT * FROM insights WHERE shared_event_id = $1")
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
