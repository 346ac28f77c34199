//! Month partitions of the events table, and retention by dropping them.
//!
//! Each UTC calendar month of eventTime has its own partition, `events_YYYYMM`, created when
//! the first record of that month is stored. Retention drops the partitions wholly before
//! the cutoff (cheap however many rows they hold) and deletes only the older rows of the
//! month the cutoff falls in, so its result is exactly SQLite's.
//!
//! Why months, not days: a query that cannot prune by time (a trail's per-minute counts, an
//! unfiltered listing) locks every partition and its indexes, and Postgres's lock table
//! holds `max_locks_per_transaction` (64 by default) per connection. Day partitions ran out
//! of it with five years of replayed history ("out of shared memory"); months keep twenty
//! years of history to 240 partitions.

use chrono::{Datelike, TimeZone, Utc};

use super::PostgresStore;
use crate::store::retention::trail_cutoffs;
use crate::store::{RetentionReport, Result};
use crate::time::minute_of_millis;

/// A month as a number: `year * 12 + (month - 1)`.
fn month_of(ms: i64) -> i64 {
    let t = Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    t.year() as i64 * 12 + t.month0() as i64
}

/// The first millisecond of a month.
fn month_start_ms(month: i64) -> i64 {
    let (year, month0) = (month.div_euclid(12) as i32, month.rem_euclid(12) as u32);
    Utc.with_ymd_and_hms(year, month0 + 1, 1, 0, 0, 0).single().map(|t| t.timestamp_millis()).unwrap_or_default()
}

/// Serialises partition creation across servers: two servers storing the first records of
/// a new day would otherwise race to create the same table.
const PARTITION_LOCK: i64 = 0x7472_6169_6c70_6172; // "trailpar"

fn partition_name(month: i64) -> String {
    format!("events_{:04}{:02}", month.div_euclid(12), month.rem_euclid(12) + 1)
}

/// The month a partition holds, from its name; `None` for tables that are not ours.
fn partition_month(name: &str) -> Option<i64> {
    let digits = name.strip_prefix("events_")?;
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (year, month) = (digits[..4].parse::<i64>().ok()?, digits[4..].parse::<i64>().ok()?);
    (1..=12).contains(&month).then_some(year * 12 + month - 1)
}

impl PostgresStore {
    /// Creates the partitions of the months these event times fall in, if missing.
    pub(super) async fn ensure_partitions(&self, times_ms: impl Iterator<Item = i64>) -> Result<()> {
        let months: Vec<i64> = {
            let known = self.partitions.lock().unwrap_or_else(|e| e.into_inner());
            let mut months: Vec<i64> = times_ms.map(month_of).collect();
            months.sort_unstable();
            months.dedup();
            months.retain(|m| !known.contains(m));
            months
        };
        if months.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(PARTITION_LOCK).execute(&mut *tx).await?;
        for &month in &months {
            let sql = format!(
                "CREATE TABLE IF NOT EXISTS \"{}\" PARTITION OF events FOR VALUES FROM ({}) TO ({})",
                partition_name(month),
                month_start_ms(month),
                month_start_ms(month + 1)
            );
            sqlx::query(&sql).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.partitions.lock().unwrap_or_else(|e| e.into_inner()).extend(months);
        Ok(())
    }

    pub(super) async fn retain(&self, now_ms: i64, days: u32) -> Result<RetentionReport> {
        crate::store::retention::forget_finished(&self.pool, now_ms, days).await?;
        let cutoffs = trail_cutoffs(&self.pool, now_ms, days).await?;
        let mut report = RetentionReport::default();
        // A month's partition holds every trail's events: it goes only when the month is
        // past every trail's cutoff.
        let Some(oldest_cutoff) = cutoffs.iter().map(|(_, c)| *c).min() else {
            return Ok(report);
        };
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'events'::regclass",
        )
        .fetch_all(&self.pool)
        .await?;
        for name in names {
            let Some(month) = partition_month(&name) else { continue };
            if month_start_ms(month + 1) > oldest_cutoff {
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
            self.partitions.lock().unwrap_or_else(|e| e.into_inner()).remove(&month);
        }
        // The rest, trail by trail: only rows older than the trail's own cutoff go.
        for (trail, cutoff) in cutoffs {
            report.events_removed += sqlx::query("DELETE FROM events WHERE trail = $1 AND event_time_ms < $2")
                .bind(&trail)
                .bind(cutoff)
                .execute(&self.pool)
                .await?
                .rows_affected();
            report.insights_removed +=
                sqlx::query("DELETE FROM insights WHERE trail = $1 AND end_minute IS NOT NULL AND end_minute <= $2")
                    .bind(&trail)
                    .bind(minute_of_millis(cutoff))
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_name_and_bound_their_partitions() {
        let march = month_of(crate::time::parse_millis("2026-03-10T11:58:00Z").unwrap());
        assert_eq!(partition_name(march), "events_202603");
        assert_eq!(partition_month("events_202603"), Some(march));
        assert_eq!(month_start_ms(march), crate::time::parse_millis("2026-03-01T00:00:00Z").unwrap());
        assert_eq!(month_start_ms(march + 10), crate::time::parse_millis("2027-01-01T00:00:00Z").unwrap());
        assert_eq!(partition_month("events_20260310"), None, "not ours: left alone");
        assert_eq!(partition_month("events_202613"), None);
    }
}
