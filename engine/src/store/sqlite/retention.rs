//! SQLite retention: deleting each trail's old events (see [`crate::store::retention`]) in
//! bounded batches, so readers and ingest are never locked out for long.

use super::SqliteStore;
use crate::store::retention::trail_cutoffs;
use crate::store::{RetentionReport, Result};

/// Rows deleted per transaction: large enough to be quick, small enough that a concurrent
/// ingest waits at most a moment for the write lock.
const DELETE_BATCH: i64 = 10_000;

impl SqliteStore {
    pub(super) async fn retain(&self, now_ms: i64, days: u32) -> Result<RetentionReport> {
        let mut report = RetentionReport::default();
        for (trail, cutoff) in trail_cutoffs(&self.pool, now_ms, days).await? {
            loop {
                // event_resources rows go with their events (ON DELETE CASCADE).
                let deleted = sqlx::query(
                    "DELETE FROM events WHERE id IN
                       (SELECT id FROM events WHERE trail = ? AND event_time_ms < ? LIMIT ?)",
                )
                .bind(&trail)
                .bind(cutoff)
                .bind(DELETE_BATCH)
                .execute(&self.pool)
                .await?
                .rows_affected();
                report.events_removed += deleted;
                if deleted < DELETE_BATCH as u64 {
                    break;
                }
            }
            report.insights_removed +=
                sqlx::query("DELETE FROM insights WHERE trail = ? AND end_minute IS NOT NULL AND end_minute <= ?")
                    .bind(&trail)
                    .bind(crate::time::minute_of_millis(cutoff))
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
        }
        crate::store::retention::forget_finished(&self.pool, now_ms, days).await?;
        Ok(report)
    }
}
