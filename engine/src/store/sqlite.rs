//! The SQLite [`Store`]: one file, WAL mode so the dashboard reads while ingest writes.

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use super::*;

pub struct SqliteStore {
    pool: SqlitePool,
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
            .busy_timeout(std::time::Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(open_err)?;
        sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
        Ok(SqliteStore { pool })
    }
}

/// The SQL condition selecting the events an insight type counts.
fn counted_events(kind: InsightType) -> &'static str {
    match kind {
        InsightType::ApiCallRate => "is_management = 1 AND is_write = 1",
        InsightType::ApiErrorRate => "is_management = 1 AND error_code IS NOT NULL",
    }
}

fn trail_from_row(row: &sqlx::sqlite::SqliteRow) -> Trail {
    let mut insight_types = Vec::new();
    if row.get::<bool, _>("call_rate_enabled") {
        insight_types.push(InsightType::ApiCallRate);
    }
    if row.get::<bool, _>("error_rate_enabled") {
        insight_types.push(InsightType::ApiErrorRate);
    }
    Trail { name: row.get("name"), insight_types, last_event_ms: row.get("last_event_ms") }
}

fn insight_from_row(row: &sqlx::sqlite::SqliteRow) -> StoredInsight {
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
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ensure_trail(&self, name: &str) -> Result<()> {
        sqlx::query("INSERT INTO trails (name, created_ms) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .bind(name)
            .bind(chrono::Utc::now().timestamp_millis())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn list_trails(&self) -> Result<Vec<Trail>> {
        let rows = sqlx::query(
            "SELECT name, call_rate_enabled, error_rate_enabled,
                    (SELECT MAX(event_time_ms) FROM events WHERE events.trail = trails.name)
                        AS last_event_ms
             FROM trails ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(trail_from_row).collect())
    }

    async fn set_insight_types(&self, trail: &str, types: &[InsightType]) -> Result<()> {
        let done = sqlx::query(
            "UPDATE trails SET call_rate_enabled = ?, error_rate_enabled = ? WHERE name = ?",
        )
        .bind(types.contains(&InsightType::ApiCallRate))
        .bind(types.contains(&InsightType::ApiErrorRate))
        .bind(trail)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoSuchTrail(trail.to_owned()));
        }
        Ok(())
    }

    async fn insert_events(&self, trail: &str, records: &[Record]) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let mut stored = 0;
        for r in records {
            let row = sqlx::query(
                "INSERT INTO events (trail, event_id, event_time_ms, minute, event_source,
                    event_name, aws_region, account, error_code, read_only, is_management,
                    is_write, user_arn, user_name, access_key_id, user_agent, source_ip, raw)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (trail, event_id) DO NOTHING
                 RETURNING id",
            )
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
            .bind(&r.raw)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else { continue };
            stored += 1;
            let id: i64 = row.get(0);
            for (kind, name) in &r.resources {
                sqlx::query(
                    "INSERT INTO event_resources (event_row, resource_type, resource_name)
                     VALUES (?, ?, ?)",
                )
                .bind(id)
                .bind(kind)
                .bind(name)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(stored)
    }

    async fn event_span(&self, trail: &str) -> Result<Option<(Minute, Minute)>> {
        let row = sqlx::query("SELECT MIN(minute), MAX(minute) FROM events WHERE trail = ?")
            .bind(trail)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get::<Option<i64>, _>(0).zip(row.get::<Option<i64>, _>(1)))
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
        Ok(series)
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
        let column = match attribute {
            Attribute::UserIdentityArn => "user_arn",
            Attribute::UserAgent => "user_agent",
            // AWS writes "null" for the calls that did not fail.
            Attribute::ErrorCode => "COALESCE(error_code, 'null')",
        };
        let sql = format!(
            "SELECT {column} AS value, COUNT(*) AS n FROM events
             WHERE trail = ? AND event_source = ? AND event_name = ? AND account = ?
               AND aws_region = ? AND minute >= ? AND minute < ? AND {}
               AND (? IS NULL OR error_code = ?) AND value IS NOT NULL
             GROUP BY value ORDER BY n DESC, value LIMIT ?",
            counted_events(kind)
        );
        let rows = sqlx::query(&sql)
            .bind(trail)
            .bind(&key.event_source)
            .bind(&key.event_name)
            .bind(&key.account)
            .bind(&key.region)
            .bind(from)
            .bind(to)
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
        let rows = sqlx::query(
            "SELECT * FROM insights WHERE (? IS NULL OR trail = ?)
             ORDER BY start_minute DESC, shared_event_id LIMIT ?",
        )
        .bind(&filter.trail)
        .bind(&filter.trail)
        .bind(filter.limit.map(i64::from).unwrap_or(-1))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(insight_from_row).collect())
    }

    async fn get_insight(&self, shared_event_id: &str) -> Result<Option<StoredInsight>> {
        let row = sqlx::query("SELECT * FROM insights WHERE shared_event_id = ?")
            .bind(shared_event_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(insight_from_row))
    }
}
