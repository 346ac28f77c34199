//! Saving an insight, the same SQL for every backend (numbered placeholders work in SQLite
//! and Postgres; see [`super::lease`]). Detection saves a Start when an insight opens and the
//! same insight again, with its End, when it closes; replaying history saves both again.

use sqlx::{Database, Encode, Executor, IntoArguments, Pool, Type};

use super::{Result, StoredInsight};

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
    RETURNING shared_event_id";

/// See [`crate::Store::save_insight`]: returns whether anything was stored (a new insight, or
/// the End of an open one).
pub(crate) async fn save<DB: Database>(pool: &Pool<DB>, i: &StoredInsight) -> Result<bool>
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Type<DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query::<DB>(INSERT)
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
    let ended = !inserted
        && i.end_record.is_some()
        && sqlx::query::<DB>(END)
            .bind(i.end_minute)
            .bind(i.insight_average)
            .bind(i.end_record.as_deref())
            .bind(i.shared_event_id.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
    tx.commit().await?;
    Ok(inserted || ended)
}
