//! Day partitions of the events table, and retention by dropping them.
//!
//! Each UTC day of eventTime has its own partition, `events_YYYYMMDD`, created when the
//! first record of that day is stored. Retention drops the partitions wholly before the
//! cutoff (cheap however many rows they hold) and deletes only the rows of the one day the
//! cutoff falls in, so its result is exactly SQLite's.

use chrono::{TimeZone, Utc};

use super::PostgresStore;
use crate::store::{retention_cutoff_ms, RetentionReport, Result};
use crate::time::{minute_of_millis, MINUTES_PER_DAY};

const DAY_MS: i64 = MINUTES_PER_DAY * 60_000;

/// Serialises partition creation across servers: two servers storing the first records of
/// a new day would otherwise race to create the same table.
const PARTITION_LOCK: i64 = 0x7472_6169_6c70_6172; // "trailpar"

fn partition_name(day: i64) -> String {
    let date = Utc.timestamp_millis_opt(day * DAY_MS).single().map(|t| t.format("%Y%m%d").to_string());
    format!("events_{}", date.unwrap_or_else(|| format!("d{day}")))
}

/// The day a partition holds, from its name; `None` for tables that are not ours.
fn partition_day(name: &str) -> Option<i64> {
    let date = chrono::NaiveDate::parse_from_str(name.strip_prefix("events_")?, "%Y%m%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis().div_euclid(DAY_MS))
}

impl PostgresStore {
    /// Creates the partitions of the days these event times fall in, if missing.
    pub(super) async fn ensure_partitions(&self, times_ms: impl Iterator<Item = i64>) -> Result<()> {
        let mut days: Vec<i64> = {
            let known = self.partitions.lock().unwrap_or_else(|e| e.into_inner());
            times_ms.map(|t| t.div_euclid(DAY_MS)).filter(|d| !known.contains(d)).collect()
        };
        days.sort_unstable();
        days.dedup();
        if days.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(PARTITION_LOCK).execute(&mut *tx).await?;
        for &day in &days {
            let sql = format!(
                "CREATE TABLE IF NOT EXISTS \"{}\" PARTITION OF events FOR VALUES FROM ({}) TO ({})",
                partition_name(day),
                day * DAY_MS,
                (day + 1) * DAY_MS
            );
            sqlx::query(&sql).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.partitions.lock().unwrap_or_else(|e| e.into_inner()).extend(days);
        Ok(())
    }

    pub(super) async fn retain(&self, now_ms: i64, days: u32) -> Result<RetentionReport> {
        let cutoff = retention_cutoff_ms(now_ms, days);
        let mut report = RetentionReport::default();
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'events'::regclass",
        )
        .fetch_all(&self.pool)
        .await?;
        for name in names {
            let Some(day) = partition_day(&name) else { continue };
            if (day + 1) * DAY_MS > cutoff {
                continue;
            }
            let mut tx = self.pool.begin().await?;
            // Same lock as creation, so a server never creates a partition while another
            // drops it (the other way round, a later insert recreates it).
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(PARTITION_LOCK).execute(&mut *tx).await?;
            let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
                .bind(&name)
                .fetch_one(&mut *tx)
                .await?;
            if exists {
                let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{name}\""))
                    .fetch_one(&mut *tx)
                    .await?;
                report.events_removed += rows as u64;
            }
            sqlx::query(&format!("DROP TABLE IF EXISTS \"{name}\"")).execute(&mut *tx).await?;
            tx.commit().await?;
            self.partitions.lock().unwrap_or_else(|e| e.into_inner()).remove(&day);
        }
        // The day the cutoff falls in: only its older rows go.
        report.events_removed += sqlx::query("DELETE FROM events WHERE event_time_ms < $1")
            .bind(cutoff)
            .execute(&self.pool)
            .await?
            .rows_affected();
        report.insights_removed =
            sqlx::query("DELETE FROM insights WHERE end_minute IS NOT NULL AND end_minute <= $1")
                .bind(minute_of_millis(cutoff))
                .execute(&self.pool)
                .await?
                .rows_affected();
        Ok(report)
    }
}
