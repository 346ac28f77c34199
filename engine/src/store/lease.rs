//! Leases, the same SQL for every backend: one row per lease in the `leases` table
//! (migration 0005), taken with an upsert that only succeeds for the current holder or once
//! the lease has expired. The database serialises the upsert, so two servers racing for
//! the same lease never both get it.
//!
//! Numbered placeholders work in both SQLite (as named parameters, numbered in order of
//! first use) and Postgres.

use sqlx::{Database, Encode, Executor, IntoArguments, Pool, Type};

use super::Result;

/// Binds: name, holder, expires_ms, now_ms. Returns a row when the lease is taken.
const ACQUIRE: &str = "INSERT INTO leases (name, holder, expires_ms) VALUES ($1, $2, $3)
    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms
    WHERE leases.holder = excluded.holder OR leases.expires_ms <= $4
    RETURNING holder";

/// See [`crate::Store::acquire_lease`].
pub(crate) async fn acquire<DB: Database>(pool: &Pool<DB>, name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Result<bool>
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let query = sqlx::query::<DB>(ACQUIRE).bind(name).bind(holder).bind(now_ms + ttl_ms).bind(now_ms);
    Ok(query.fetch_optional(pool).await?.is_some())
}

/// See [`crate::Store::release_lease`].
pub(crate) async fn release<DB: Database>(pool: &Pool<DB>, name: &str, holder: &str) -> Result<()>
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    sqlx::query::<DB>("DELETE FROM leases WHERE name = $1 AND holder = $2").bind(name).bind(holder).execute(pool).await?;
    Ok(())
}
