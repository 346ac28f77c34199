//! Trail rows, the same SQL for every backend: creating, renaming and deleting a trail (with
//! everything stored under its name), and changing its settings. Like [`super::lease`], numbered placeholders work in
//! both SQLite and Postgres; `RETURNING` tells whether a row was affected, because sqlx's
//! generic query result does not.
//!
//! Reading trails stays in each backend: Postgres needs `COLLATE "C"` to order names as
//! SQLite does.

use sqlx::{Database, Encode, Executor, IntoArguments, Pool, Type};

use super::{EventSelectors, InsightType, NewTrail, Result, StoreError, TrailOptions};
use crate::detect::Sensitivity;

/// The tables holding rows under a trail's name, besides `trails` itself. Events go last:
/// SQLite removes their resources with them (ON DELETE CASCADE).
const TRAIL_TABLES: [&str; 4] = ["insights", "checkpoints", "trail_tags", "events"];

/// Creates the trail if it does not exist; returns whether it was created.
pub(crate) async fn create<DB: Database>(pool: &Pool<DB>, new: &NewTrail<'_>, now_ms: i64) -> Result<bool>
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let options = new.options.map(options_json).transpose()?;
    let created = sqlx::query::<DB>(
        "INSERT INTO trails (name, created_ms, s3_bucket, logging, start_logging_ms, options, event_selectors)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT DO NOTHING RETURNING name",
    )
    .bind(new.name)
    .bind(now_ms)
    .bind(new.s3_bucket)
    .bind(new.logging)
    .bind(new.logging.then_some(now_ms))
    .bind(options)
    .bind(new.event_selectors.to_stored())
    .fetch_optional(pool)
    .await?;
    Ok(created.is_some())
}

fn options_json(options: &TrailOptions) -> Result<String> {
    serde_json::to_string(options).map_err(|e| StoreError::BadRow { table: "trails", key: "options".into(), reason: e.to_string() })
}

/// See [`crate::Store::update_trail`].
pub(crate) async fn update_trail<DB: Database>(pool: &Pool<DB>, trail: &str, s3_bucket: Option<&str>, options: &TrailOptions) -> Result<()>
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let query = sqlx::query::<DB>("UPDATE trails SET s3_bucket = $1, options = $2 WHERE name = $3 RETURNING name")
        .bind(s3_bucket)
        .bind(options_json(options)?)
        .bind(trail);
    update(pool, trail, query).await
}

/// See [`crate::Store::set_event_selectors`].
pub(crate) async fn set_event_selectors<DB: Database>(pool: &Pool<DB>, trail: &str, selectors: &EventSelectors) -> Result<()>
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let query = sqlx::query::<DB>("UPDATE trails SET event_selectors = $1 WHERE name = $2 RETURNING name")
        .bind(selectors.to_stored())
        .bind(trail);
    update(pool, trail, query).await
}

/// See [`crate::Store::rename_trail`]: one transaction, so nothing is left half-moved.
pub(crate) async fn rename<DB: Database>(pool: &Pool<DB>, from: &str, to: &str) -> Result<()>
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let mut tx = pool.begin().await?;
    let taken = sqlx::query::<DB>("SELECT name FROM trails WHERE name = $1").bind(to).fetch_optional(&mut *tx).await?;
    if taken.is_some() {
        return Err(StoreError::TrailExists(to.to_owned()));
    }
    let renamed = sqlx::query::<DB>("UPDATE trails SET name = $1 WHERE name = $2 RETURNING name")
        .bind(to)
        .bind(from)
        .fetch_optional(&mut *tx)
        .await?;
    if renamed.is_none() {
        return Err(StoreError::NoSuchTrail(from.to_owned()));
    }
    // A destination for this trail follows it (deliveries keep the name they were sent under).
    for table in TRAIL_TABLES.iter().chain(&["destinations"]) {
        sqlx::query::<DB>(&format!("UPDATE {table} SET trail = $1 WHERE trail = $2"))
            .bind(to)
            .bind(from)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// See [`crate::Store::delete_trail`].
pub(crate) async fn delete<DB: Database>(pool: &Pool<DB>, name: &str) -> Result<()>
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let mut tx = pool.begin().await?;
    let deleted = sqlx::query::<DB>("DELETE FROM trails WHERE name = $1 RETURNING name")
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
    if deleted.is_none() {
        return Err(StoreError::NoSuchTrail(name.to_owned()));
    }
    // Comments go with their insights, and the trail's own destinations with it (a later trail
    // of the same name must not inherit them); deliveries already queued are still sent, with
    // the record they copied, to destinations that remain.
    sqlx::query::<DB>("DELETE FROM insight_comments WHERE shared_event_id IN (SELECT shared_event_id FROM insights WHERE trail = $1)")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    sqlx::query::<DB>("DELETE FROM destinations WHERE trail = $1").bind(name).execute(&mut *tx).await?;
    for table in TRAIL_TABLES {
        sqlx::query::<DB>(&format!("DELETE FROM {table} WHERE trail = $1")).bind(name).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Runs one `UPDATE trails ... WHERE name = <trail> RETURNING name`: an error if no such trail.
async fn update<'q, DB: Database>(pool: &Pool<DB>, trail: &str, query: sqlx::query::Query<'q, DB, DB::Arguments<'q>>) -> Result<()>
where
    DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    match query.fetch_optional(pool).await? {
        Some(_) => Ok(()),
        None => Err(StoreError::NoSuchTrail(trail.to_owned())),
    }
}

/// See [`crate::Store::set_insight_types`].
pub(crate) async fn set_insight_types<DB: Database>(pool: &Pool<DB>, trail: &str, types: &[InsightType]) -> Result<()>
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let query = sqlx::query::<DB>(
        "UPDATE trails SET call_rate_enabled = $1, error_rate_enabled = $2 WHERE name = $3 RETURNING name",
    )
    .bind(types.contains(&InsightType::ApiCallRate))
    .bind(types.contains(&InsightType::ApiErrorRate))
    .bind(trail);
    update(pool, trail, query).await
}

/// See [`crate::Store::set_sensitivity`].
pub(crate) async fn set_sensitivity<DB: Database>(pool: &Pool<DB>, trail: &str, sensitivity: Sensitivity) -> Result<()>
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let query = sqlx::query::<DB>("UPDATE trails SET sensitivity = $1 WHERE name = $2 RETURNING name")
        .bind(sensitivity.as_str())
        .bind(trail);
    update(pool, trail, query).await
}

/// See [`crate::Store::set_drops`].
pub(crate) async fn set_drops<DB: Database>(pool: &Pool<DB>, trail: &str, drops: bool) -> Result<()>
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let query = sqlx::query::<DB>("UPDATE trails SET drops = $1 WHERE name = $2 RETURNING name").bind(drops).bind(trail);
    update(pool, trail, query).await
}

/// See [`crate::Store::set_logging`]. Starting a trail that logs already (or stopping a
/// stopped one) keeps its recorded time, as AWS's StartLoggingTime stays put.
pub(crate) async fn set_logging<DB: Database>(pool: &Pool<DB>, trail: &str, logging: bool, now_ms: i64) -> Result<()>
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let column = if logging { "start_logging_ms" } else { "stop_logging_ms" };
    let sql = format!(
        "UPDATE trails SET {column} = CASE WHEN logging = $1 AND {column} IS NOT NULL THEN {column} ELSE $2 END, logging = $1
         WHERE name = $3 RETURNING name"
    );
    let query = sqlx::query::<DB>(&sql).bind(logging).bind(now_ms).bind(trail);
    update(pool, trail, query).await
}
