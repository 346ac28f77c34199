//! Checkpoints, the same SQL for every backend: one row per (trail, source key) in the
//! `checkpoints` table (migration 0006), replaced whole by an upsert. Sources such as S3
//! ingest keep in it what they have read, so a second run reads only what is new.

use sqlx::{Database, Decode, Encode, Executor, IntoArguments, Pool, Type};

use super::Result;

const SET: &str = "INSERT INTO checkpoints (trail, key, value) VALUES ($1, $2, $3)
    ON CONFLICT (trail, key) DO UPDATE SET value = excluded.value";

/// See [`crate::Store::get_checkpoint`].
pub(crate) async fn get<DB: Database>(pool: &Pool<DB>, trail: &str, key: &str) -> Result<Option<String>>
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let query = sqlx::query_scalar::<DB, String>("SELECT value FROM checkpoints WHERE trail = $1 AND key = $2");
    Ok(query.bind(trail).bind(key).fetch_optional(pool).await?)
}

/// See [`crate::Store::set_checkpoint`].
pub(crate) async fn set<DB: Database>(pool: &Pool<DB>, trail: &str, key: &str, value: &str) -> Result<()>
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    sqlx::query::<DB>(SET).bind(trail).bind(key).bind(value).execute(pool).await?;
    Ok(())
}
