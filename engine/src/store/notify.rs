//! Destinations, the outbox of deliveries, and triage (migration 0011), behind
//! [`NotifyStore`]. The rows of the outbox are written by [`super::save_insight`] in the
//! transaction that stores the insight event; this module claims, finishes and lists them.
//!
//! Several servers on one Postgres each send a delivery only after claiming it: an UPDATE
//! that sets `claimed_by`/`claimed_until_ms` on rows whose claim is free, with the same
//! conditions repeated outside the subquery, so that when two servers pick the same row the
//! second one's UPDATE, after waiting for the first to commit, finds the claim taken and skips
//! it (Postgres re-checks the WHERE clause on the row it waited for; SQLite has one writer).
//! On Postgres the subquery also skips rows another server has locked (`SKIP LOCKED`), so
//! servers claim different rows instead of queueing behind each other. An End is claimed
//! only once its Start is no longer pending, so people never read "back to normal" first.
//! As for access, one macro instantiates the SQL for both databases.

use async_trait::async_trait;
use sqlx::{Pool, Row};

use super::{Result, StoreError};
use crate::notify::{Comment, Delivery, DeliveryStatus, Destination, SuppressionRule, Target, TriageState};

/// How a claimed delivery ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The destination accepted it.
    Sent,
    /// It failed; try again at `at_ms`.
    Retry { at_ms: i64, error: String },
    /// It failed for good (attempts used up, or an error no retry mends).
    Failed { error: String },
}

/// Deliveries per status, and the latest error, of one destination.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeliveryCounts {
    pub pending: u64,
    pub sent: u64,
    pub failed: u64,
    pub grouped: u64,
    pub last_error: Option<String>,
}

/// Destinations, deliveries, triage states, comments and suppression rules.
#[async_trait]
pub trait NotifyStore: Send + Sync {
    /// Fails with [`StoreError::DestinationExists`] when the name is taken.
    async fn add_destination(&self, destination: &Destination) -> Result<()>;
    async fn list_destinations(&self) -> Result<Vec<Destination>>;
    async fn get_destination(&self, name: &str) -> Result<Option<Destination>>;
    /// Removes the destination and the deliveries still waiting for it.
    async fn remove_destination(&self, name: &str) -> Result<()>;

    /// Claims up to `limit` pending deliveries that are due at `now_ms` for `holder`, until
    /// `now_ms + claim_ms`; each is claimed by at most one holder at a time.
    async fn claim_deliveries(&self, holder: &str, now_ms: i64, claim_ms: i64, limit: u32) -> Result<Vec<Delivery>>;
    /// Records the attempt on a delivery `holder` claimed; returns false (changing nothing)
    /// when the claim had passed to another holder.
    async fn finish_delivery(&self, id: i64, holder: &str, now_ms: i64, outcome: &Outcome) -> Result<bool>;
    /// The newest deliveries, optionally of one destination or one insight.
    async fn list_deliveries(&self, destination: Option<&str>, shared_event_id: Option<&str>, limit: u32) -> Result<Vec<Delivery>>;
    /// Per destination: how many deliveries are in each status, and the last error.
    async fn delivery_counts(&self, destination: &str) -> Result<DeliveryCounts>;

    /// Sets the insight's triage state; fails with [`StoreError::NoSuchInsight`].
    async fn set_triage(&self, shared_event_id: &str, state: TriageState, by: &str, now_ms: i64) -> Result<()>;
    async fn add_comment(&self, shared_event_id: &str, author: &str, now_ms: i64, body: &str) -> Result<()>;
    /// Oldest first.
    async fn comments(&self, shared_event_id: &str) -> Result<Vec<Comment>>;

    /// Fails with [`StoreError::SuppressionExists`] when the name is taken.
    async fn add_suppression(&self, rule: &SuppressionRule) -> Result<()>;
    /// Replaces the rule of that name (its reason and until date; what it matches).
    async fn update_suppression(&self, rule: &SuppressionRule) -> Result<()>;
    async fn remove_suppression(&self, name: &str) -> Result<()>;
    async fn list_suppressions(&self) -> Result<Vec<SuppressionRule>>;
}

/// [`NotifyStore`] on a sqlx pool of either database.
pub struct SqlNotify<DB: sqlx::Database> {
    pub(crate) pool: Pool<DB>,
}

const DESTINATION_COLUMNS: &str = "name, trail, config, max_age_ms, group_minutes, max_attempts, created_ms, created_by";
const DELIVERY_COLUMNS: &str = "id, destination, event_id, shared_event_id, trail, record, status, attempts,
    next_attempt_ms, last_error, queued_ms, done_ms";
const RULE_COLUMNS: &str = "name, insight_type, event_source, event_name, account, region, identity, until_ms,
    reason, created_by, created_ms";

/// Implements [`NotifyStore`] for `SqlNotify<$db>`; `$lock` ends the claim's subquery.
macro_rules! sql_notify {
    ($db:ty, $lock:literal) => {
        fn destination_from_row(row: &<$db as sqlx::Database>::Row) -> Result<Destination> {
            let name: String = row.get("name");
            let config: String = row.get("config");
            // The reason names where the JSON broke, never the values (which hold secrets).
            let target: Target = serde_json::from_str(&config).map_err(|e| StoreError::BadRow {
                table: "destinations",
                key: name.clone(),
                reason: format!("its settings are not valid ({:?} at line {} column {})", e.classify(), e.line(), e.column()),
            })?;
            Ok(Destination {
                name,
                trail: row.get("trail"),
                target,
                max_age_ms: row.get("max_age_ms"),
                group_minutes: row.get("group_minutes"),
                max_attempts: row.get("max_attempts"),
                created_ms: row.get("created_ms"),
                created_by: row.get("created_by"),
            })
        }

        /// Binds a rule's first nine columns, in RULE_COLUMNS' order ($1 to $9).
        fn bind_rule<'q>(
            query: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>,
            r: &'q SuppressionRule,
        ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>> {
            query
                .bind(&r.name)
                .bind(r.insight_type.map(|t| t.as_str()))
                .bind(&r.event_source)
                .bind(&r.event_name)
                .bind(r.account.as_deref())
                .bind(r.region.as_deref())
                .bind(r.identity.as_deref())
                .bind(r.until_ms)
                .bind(&r.reason)
        }

        fn delivery_from_row(row: &<$db as sqlx::Database>::Row) -> Delivery {
            Delivery {
                id: row.get("id"),
                destination: row.get("destination"),
                event_id: row.get("event_id"),
                shared_event_id: row.get("shared_event_id"),
                trail: row.get("trail"),
                record: row.get("record"),
                status: DeliveryStatus::parse(row.get::<&str, _>("status")).unwrap_or(DeliveryStatus::Failed),
                attempts: row.get("attempts"),
                next_attempt_ms: row.get("next_attempt_ms"),
                last_error: row.get("last_error"),
                queued_ms: row.get("queued_ms"),
                done_ms: row.get("done_ms"),
            }
        }

        #[async_trait]
        impl NotifyStore for SqlNotify<$db> {
            async fn add_destination(&self, d: &Destination) -> Result<()> {
                let config = serde_json::to_string(&d.target).expect("a target serializes");
                let added = sqlx::query::<$db>(
                    "INSERT INTO destinations (name, kind, trail, config, max_age_ms, group_minutes, max_attempts, created_ms, created_by)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING name",
                )
                .bind(&d.name)
                .bind(d.target.kind())
                .bind(d.trail.as_deref())
                .bind(config)
                .bind(d.max_age_ms)
                .bind(d.group_minutes)
                .bind(d.max_attempts)
                .bind(d.created_ms)
                .bind(&d.created_by)
                .fetch_optional(&self.pool)
                .await?;
                added.map(|_| ()).ok_or_else(|| StoreError::DestinationExists(d.name.clone()))
            }

            async fn list_destinations(&self) -> Result<Vec<Destination>> {
                let sql = format!("SELECT {DESTINATION_COLUMNS} FROM destinations ORDER BY name");
                let rows = sqlx::query::<$db>(&sql).fetch_all(&self.pool).await?;
                // One unreadable row (edited by hand) must not stop every other destination:
                // it is logged and left out (its deliveries fail naming it as removed).
                Ok(rows
                    .iter()
                    .filter_map(|row| destination_from_row(row).map_err(|e| tracing::error!("{e}")).ok())
                    .collect())
            }

            async fn get_destination(&self, name: &str) -> Result<Option<Destination>> {
                let sql = format!("SELECT {DESTINATION_COLUMNS} FROM destinations WHERE name = $1");
                let row = sqlx::query::<$db>(&sql).bind(name).fetch_optional(&self.pool).await?;
                row.as_ref().map(destination_from_row).transpose()
            }

            async fn remove_destination(&self, name: &str) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                let removed = sqlx::query::<$db>("DELETE FROM destinations WHERE name = $1 RETURNING name")
                    .bind(name)
                    .fetch_optional(&mut *tx)
                    .await?;
                if removed.is_none() {
                    return Err(StoreError::NoSuchDestination(name.to_owned()));
                }
                sqlx::query::<$db>("DELETE FROM deliveries WHERE destination = $1 AND status = 'pending'")
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn claim_deliveries(&self, holder: &str, now_ms: i64, claim_ms: i64, limit: u32) -> Result<Vec<Delivery>> {
                let sql = format!(
                    // The pick is a materialised CTE, run once: as a plain IN subquery with
                    // FOR UPDATE SKIP LOCKED, Postgres may run it again per row and claim more
                    // than the LIMIT (seen: 5 claimed with LIMIT 3).
                    "WITH picked AS MATERIALIZED (
                         SELECT q.id FROM deliveries q
                         WHERE q.status = 'pending' AND q.next_attempt_ms <= $3
                           AND (q.claimed_until_ms IS NULL OR q.claimed_until_ms < $3)
                           AND NOT EXISTS (SELECT 1 FROM deliveries s
                               WHERE s.destination = q.destination AND s.shared_event_id = q.shared_event_id
                                 AND s.id < q.id AND s.status = 'pending')
                         ORDER BY q.id LIMIT $4 {})
                     UPDATE deliveries SET claimed_by = $1, claimed_until_ms = $2
                     WHERE id IN (SELECT id FROM picked)
                       AND status = 'pending' AND (claimed_until_ms IS NULL OR claimed_until_ms < $3)
                     RETURNING {DELIVERY_COLUMNS}",
                    $lock
                );
                let rows = sqlx::query::<$db>(&sql)
                    .bind(holder)
                    .bind(now_ms + claim_ms)
                    .bind(now_ms)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                let mut claimed: Vec<Delivery> = rows.iter().map(delivery_from_row).collect();
                claimed.sort_by_key(|d| d.id);
                Ok(claimed)
            }

            async fn finish_delivery(&self, id: i64, holder: &str, now_ms: i64, outcome: &Outcome) -> Result<bool> {
                let (status, next_ms, error, done_ms) = match outcome {
                    Outcome::Sent => (DeliveryStatus::Sent, now_ms, None, Some(now_ms)),
                    Outcome::Retry { at_ms, error } => (DeliveryStatus::Pending, *at_ms, Some(error.as_str()), None),
                    Outcome::Failed { error } => (DeliveryStatus::Failed, now_ms, Some(error.as_str()), Some(now_ms)),
                };
                let done = sqlx::query::<$db>(
                    "UPDATE deliveries SET status = $1, next_attempt_ms = $2, last_error = COALESCE($3, last_error),
                         done_ms = $4, attempts = attempts + 1, claimed_by = NULL, claimed_until_ms = NULL
                     WHERE id = $5 AND claimed_by = $6 AND status = 'pending' RETURNING id",
                )
                .bind(status.as_str())
                .bind(next_ms)
                .bind(error)
                .bind(done_ms)
                .bind(id)
                .bind(holder)
                .fetch_optional(&self.pool)
                .await?;
                Ok(done.is_some())
            }

            async fn list_deliveries(&self, destination: Option<&str>, shared_event_id: Option<&str>, limit: u32) -> Result<Vec<Delivery>> {
                let sql = format!(
                    "SELECT {DELIVERY_COLUMNS} FROM deliveries
                     WHERE ($1 IS NULL OR destination = $1) AND ($2 IS NULL OR shared_event_id = $2)
                     ORDER BY id DESC LIMIT $3"
                );
                let rows = sqlx::query::<$db>(&sql)
                    .bind(destination)
                    .bind(shared_event_id)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.iter().map(delivery_from_row).collect())
            }

            async fn delivery_counts(&self, destination: &str) -> Result<DeliveryCounts> {
                let rows = sqlx::query::<$db>("SELECT status, COUNT(*) AS n FROM deliveries WHERE destination = $1 GROUP BY status")
                    .bind(destination)
                    .fetch_all(&self.pool)
                    .await?;
                let mut counts = DeliveryCounts::default();
                for row in rows {
                    let n = row.get::<i64, _>("n") as u64;
                    match DeliveryStatus::parse(row.get::<&str, _>("status")) {
                        Some(DeliveryStatus::Pending) => counts.pending = n,
                        Some(DeliveryStatus::Sent) => counts.sent = n,
                        Some(DeliveryStatus::Failed) => counts.failed = n,
                        Some(DeliveryStatus::Grouped) => counts.grouped = n,
                        None => {}
                    }
                }
                counts.last_error = sqlx::query::<$db>(
                    "SELECT last_error FROM deliveries WHERE destination = $1 AND last_error IS NOT NULL ORDER BY id DESC LIMIT 1",
                )
                .bind(destination)
                .fetch_optional(&self.pool)
                .await?
                .map(|row| row.get("last_error"));
                Ok(counts)
            }

            async fn set_triage(&self, shared_event_id: &str, state: TriageState, by: &str, now_ms: i64) -> Result<()> {
                // Taking an insight out of "expected" also takes it out of its rule's shadow: a
                // person reopened it, so it shows again wherever new insights show.
                let set = sqlx::query::<$db>(
                    "UPDATE insights SET triage_state = $1, triage_by = $2, triage_ms = $3,
                         suppressed_by = CASE WHEN $1 = 'expected' THEN suppressed_by ELSE NULL END
                     WHERE shared_event_id = $4 RETURNING shared_event_id",
                )
                .bind(state.as_str())
                .bind(by)
                .bind(now_ms)
                .bind(shared_event_id)
                .fetch_optional(&self.pool)
                .await?;
                set.map(|_| ()).ok_or_else(|| StoreError::NoSuchInsight(shared_event_id.to_owned()))
            }

            async fn add_comment(&self, shared_event_id: &str, author: &str, now_ms: i64, body: &str) -> Result<()> {
                // One statement: no read-then-write transaction for SQLite to refuse when ingest
                // commits in between.
                let added = sqlx::query::<$db>(
                    "INSERT INTO insight_comments (shared_event_id, author, at_ms, body)
                     SELECT shared_event_id, $2, $3, $4 FROM insights WHERE shared_event_id = $1",
                )
                .bind(shared_event_id)
                .bind(author)
                .bind(now_ms)
                .bind(body)
                .execute(&self.pool)
                .await?;
                if added.rows_affected() == 0 {
                    return Err(StoreError::NoSuchInsight(shared_event_id.to_owned()));
                }
                Ok(())
            }

            async fn comments(&self, shared_event_id: &str) -> Result<Vec<Comment>> {
                let rows = sqlx::query::<$db>(
                    "SELECT id, author, at_ms, body FROM insight_comments WHERE shared_event_id = $1 ORDER BY id",
                )
                .bind(shared_event_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .iter()
                    .map(|row| Comment { id: row.get("id"), author: row.get("author"), at_ms: row.get("at_ms"), body: row.get("body") })
                    .collect())
            }

            async fn add_suppression(&self, r: &SuppressionRule) -> Result<()> {
                let sql = format!(
                    "INSERT INTO suppressions ({RULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                     ON CONFLICT DO NOTHING RETURNING name"
                );
                let added = bind_rule(sqlx::query::<$db>(&sql), r)
                    .bind(&r.created_by)
                    .bind(r.created_ms)
                    .fetch_optional(&self.pool)
                    .await?;
                added.map(|_| ()).ok_or_else(|| StoreError::SuppressionExists(r.name.clone()))
            }

            async fn update_suppression(&self, r: &SuppressionRule) -> Result<()> {
                let query = sqlx::query::<$db>(
                    "UPDATE suppressions SET insight_type = $2, event_source = $3, event_name = $4, account = $5,
                         region = $6, identity = $7, until_ms = $8, reason = $9
                     WHERE name = $1 RETURNING name",
                );
                let updated = bind_rule(query, r)
                .fetch_optional(&self.pool)
                .await?;
                updated.map(|_| ()).ok_or_else(|| StoreError::NoSuchSuppression(r.name.clone()))
            }

            async fn remove_suppression(&self, name: &str) -> Result<()> {
                let removed = sqlx::query::<$db>("DELETE FROM suppressions WHERE name = $1 RETURNING name")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
                removed.map(|_| ()).ok_or_else(|| StoreError::NoSuchSuppression(name.to_owned()))
            }

            async fn list_suppressions(&self) -> Result<Vec<SuppressionRule>> {
                let sql = format!("SELECT {RULE_COLUMNS} FROM suppressions ORDER BY name");
                let rows = sqlx::query::<$db>(&sql).fetch_all(&self.pool).await?;
                Ok(rows.iter().map(super::super::rows::rule_from_row).collect())
            }
        }
    };
}

mod sqlite_impl {
    use super::*;
    sql_notify!(sqlx::Sqlite, "");
}

mod postgres_impl {
    use super::*;
    sql_notify!(sqlx::Postgres, "FOR UPDATE OF q SKIP LOCKED");
}
