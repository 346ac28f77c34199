//! Saving an insight, the same SQL for every backend (numbered placeholders work in SQLite
//! and Postgres; see [`super::lease`]). Detection saves a Start when an insight opens and the
//! same insight again, with its End, when it closes; replaying history saves both again.
//!
//! The transaction that stores an insight event also decides who is told (see
//! [`crate::notify`] for the rules): it marks a new insight that a suppression rule matches,
//! and queues the outbox rows of the Start or End it stored. So a crash cannot lose a
//! notification, nor send one for an insight that was never stored, and a second save of the
//! same event (a replay, another server) queues nothing twice.

use sqlx::Row;

use super::rows::rule_from_row;
use super::{Result, StoredInsight};
use crate::notify::{event_id_of, top_identity, DeliveryStatus};

/// A Start is stored once: a second save of the same sharedEventID changes nothing.
const INSERT: &str = "INSERT INTO insights (shared_event_id, trail, insight_type, account, aws_region,
        event_source, event_name, error_code, start_minute, end_minute,
        baseline_average, insight_average, start_record, end_record)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
    ON CONFLICT (shared_event_id) DO NOTHING
    RETURNING shared_event_id";

/// An End closes a stored open insight, once.
const END: &str = "UPDATE insights SET end_minute = $1, insight_average = $2, end_record = $3
    WHERE shared_event_id = $4 AND end_record IS NULL
    RETURNING shared_event_id, start_record, suppressed_by";

const SUPPRESS: &str = "UPDATE insights SET suppressed_by = $1, triage_state = 'expected', triage_by = $2, triage_ms = $3
    WHERE shared_event_id = $4";

/// The destinations a new Start may go to: its trail's and every trail's, created before now.
const DESTINATIONS: &str = "SELECT name, max_age_ms, group_minutes FROM destinations
    WHERE (trail IS NULL OR trail = $1) AND created_ms <= $2 ORDER BY name";

/// When the last insight of the same series that this destination was told about ended (or
/// started, if still open). Only insights it was really sent (or is being sent) count: one
/// that was suppressed, too old, grouped itself or stored before the destination existed
/// must not silence a new one, nor may a run of grouped insights extend the window forever.
const PREVIOUS_TOLD_END: &str = "SELECT MAX(COALESCE(i.end_minute, i.start_minute)) FROM insights i
    JOIN deliveries d ON d.shared_event_id = i.shared_event_id
    WHERE d.destination = $1 AND d.status IN ('pending', 'sent', 'failed')
      AND i.trail = $2 AND i.insight_type = $3 AND i.account = $4 AND i.aws_region = $5 AND i.event_source = $6
      AND i.event_name = $7 AND COALESCE(i.error_code, '') = $8 AND i.start_minute < $9";

const QUEUE: &str = "INSERT INTO deliveries (destination, event_id, shared_event_id, trail, record, status,
        attempts, next_attempt_ms, queued_ms)
    VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7)
    ON CONFLICT (destination, event_id) DO NOTHING";

/// An End goes wherever its Start was queued (and the destination is still there), grouped
/// where the Start was, never due before its Start (the claim also waits for the Start).
const QUEUE_END: &str = "INSERT INTO deliveries (destination, event_id, shared_event_id, trail, record, status,
        attempts, next_attempt_ms, queued_ms)
    SELECT s.destination, $1, s.shared_event_id, s.trail, $2,
           CASE WHEN s.status = 'grouped' THEN 'grouped' ELSE 'pending' END, 0,
           CASE WHEN s.next_attempt_ms > $3 THEN s.next_attempt_ms ELSE $3 END, $3
    FROM deliveries s JOIN destinations ON destinations.name = s.destination AND destinations.created_ms <= s.queued_ms
    WHERE s.shared_event_id = $5 AND s.event_id = $4
    ON CONFLICT (destination, event_id) DO NOTHING";

const RULES: &str = "SELECT name, insight_type, event_source, event_name, account, region, identity, until_ms,
        reason, created_by, created_ms
    FROM suppressions WHERE event_source = $1 AND event_name = $2 ORDER BY name";

/// Defines `$name(pool, insight, now_ms)` for one database: see [`crate::Store::save_insight`].
macro_rules! sql_save {
    ($name:ident, $db:ty) => {
        pub(crate) async fn $name(pool: &sqlx::Pool<$db>, i: &StoredInsight, now_ms: i64) -> Result<bool> {
            let mut tx = pool.begin().await?;
            let inserted = sqlx::query::<$db>(INSERT)
                .bind(i.shared_event_id.as_str())
                .bind(i.trail.as_str())
                .bind(i.insight_type.as_str())
                .bind(i.key.account.as_str())
                .bind(i.key.region.as_str())
                .bind(i.key.event_source.as_str())
                .bind(i.key.event_name.as_str())
                .bind(i.key.error_code.as_deref())
                .bind(i.start_minute)
                .bind(i.end_minute)
                .bind(i.baseline_average)
                .bind(i.insight_average)
                .bind(i.start_record.as_str())
                .bind(i.end_record.as_deref())
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            // The Start's outbox rows (a new insight), then the End's (new, or added now).
            let mut suppressed = false;
            if inserted {
                let rules = sqlx::query::<$db>(RULES)
                    .bind(i.key.event_source.as_str())
                    .bind(i.key.event_name.as_str())
                    .fetch_all(&mut *tx)
                    .await?;
                let identity = top_identity(&i.start_record);
                if let Some(rule) = rules.iter().map(rule_from_row).find(|r| r.matches(i, identity.as_deref())) {
                    suppressed = true;
                    sqlx::query::<$db>(SUPPRESS)
                        .bind(rule.name.as_str())
                        .bind(format!("rule {}", rule.name))
                        .bind(now_ms)
                        .bind(i.shared_event_id.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
            }
            if inserted && !suppressed {
                let start_ms = i.start_minute * 60_000;
                let destinations = sqlx::query::<$db>(DESTINATIONS)
                    .bind(i.trail.as_str())
                    .bind(now_ms)
                    .fetch_all(&mut *tx)
                    .await?;
                let start_id = event_id_of(&i.start_record).unwrap_or_else(|| i.shared_event_id.clone());
                for d in &destinations {
                    let (name, max_age_ms, group_minutes): (String, i64, i64) =
                        (d.get("name"), d.get("max_age_ms"), d.get("group_minutes"));
                    if now_ms - start_ms > max_age_ms {
                        continue;
                    }
                    let previous_end: Option<i64> = if group_minutes > 0 {
                        sqlx::query::<$db>(PREVIOUS_TOLD_END)
                            .bind(name.as_str())
                            .bind(i.trail.as_str())
                            .bind(i.insight_type.as_str())
                            .bind(i.key.account.as_str())
                            .bind(i.key.region.as_str())
                            .bind(i.key.event_source.as_str())
                            .bind(i.key.event_name.as_str())
                            .bind(i.key.error_code.as_deref().unwrap_or(""))
                            .bind(i.start_minute)
                            .fetch_one(&mut *tx)
                            .await?
                            .get::<Option<i64>, _>(0)
                    } else {
                        None
                    };
                    let grouped = previous_end.is_some_and(|end| i.start_minute - end <= group_minutes);
                    let status = if grouped { DeliveryStatus::Grouped } else { DeliveryStatus::Pending };
                    sqlx::query::<$db>(QUEUE)
                        .bind(name.as_str())
                        .bind(start_id.as_str())
                        .bind(i.shared_event_id.as_str())
                        .bind(i.trail.as_str())
                        .bind(i.start_record.as_str())
                        .bind(status.as_str())
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            let mut ended = false;
            if let Some(end_record) = i.end_record.as_deref() {
                // A new insight that arrives already ended queues its End now, as does the
                // End of an open one.
                let start_record = if inserted {
                    Some(i.start_record.clone())
                } else {
                    let row = sqlx::query::<$db>(END)
                        .bind(i.end_minute)
                        .bind(i.insight_average)
                        .bind(end_record)
                        .bind(i.shared_event_id.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                    ended = row.is_some();
                    row.map(|r| r.get::<String, _>("start_record"))
                };
                if let (Some(start_record), Some(end_id)) = (start_record, event_id_of(end_record)) {
                    let start_id = event_id_of(&start_record).unwrap_or_else(|| i.shared_event_id.clone());
                    sqlx::query::<$db>(QUEUE_END)
                        .bind(end_id.as_str())
                        .bind(end_record)
                        .bind(now_ms)
                        .bind(start_id.as_str())
                        .bind(i.shared_event_id.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            Ok(inserted || ended)
        }
    };
}

sql_save!(save_sqlite, sqlx::Sqlite);
sql_save!(save_postgres, sqlx::Postgres);
