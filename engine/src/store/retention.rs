//! Retention's anchors, the same SQL for every backend: each trail keeps the events within
//! `days` of its own newest event (capped at "now"), so replaying an old trail's history
//! is not undone because another trail has recent events.

use sqlx::{Database, Decode, Encode, Executor, IntoArguments, Pool, Type};

use super::{retention_cutoff_ms, Result};

/// `(trail, cutoff_ms)` for every trail with events: its events before `cutoff_ms` are past
/// a retention of `days` days counted back from `min(its newest event, now_ms)`. One index
/// lookup per trail (`events_time` is `(trail, event_time_ms)`), not a scan of the events.
pub(crate) async fn trail_cutoffs<DB: Database>(pool: &Pool<DB>, now_ms: i64, days: u32) -> Result<Vec<(String, i64)>>
where
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'r> Option<i64>: Decode<'r, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    (String, Option<i64>): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let newest: Vec<(String, Option<i64>)> = sqlx::query_as::<DB, (String, Option<i64>)>(
        "SELECT name, (SELECT MAX(event_time_ms) FROM events WHERE events.trail = trails.name) FROM trails",
    )
    .fetch_all(pool)
    .await?;
    Ok(newest
        .into_iter()
        .filter_map(|(trail, newest)| newest.map(|n| (trail, retention_cutoff_ms(n.min(now_ms), days))))
        .collect())
}

/// The notification side of retention: finished deliveries (sent, failed, grouped) older
/// than `days` by the clock, and the comments of insights retention has removed. Pending
/// deliveries stay whatever their age.
pub(crate) async fn forget_finished<DB: Database>(pool: &Pool<DB>, now_ms: i64, days: u32) -> Result<()>
where
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    // Grouped rows are never sent, so they have no done_ms: their age is their queueing.
    sqlx::query::<DB>("DELETE FROM deliveries WHERE status <> 'pending' AND COALESCE(done_ms, queued_ms) < $1")
        .bind(retention_cutoff_ms(now_ms, days))
        .execute(pool)
        .await?;
    sqlx::query::<DB>(
        "DELETE FROM insight_comments WHERE NOT EXISTS
           (SELECT 1 FROM insights WHERE insights.shared_event_id = insight_comments.shared_event_id)",
    )
    .execute(pool)
    .await?;
    Ok(())
}
