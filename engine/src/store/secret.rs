//! Server secrets, the same SQL for every backend: one row per name in the
//! `server_secrets` table (migration 0009). The first server to need a secret offers a
//! random value; the insert keeps whichever value got there first, and every server reads
//! that one back, so servers sharing a database share the secret.

use sqlx::{Database, Decode, Encode, Executor, IntoArguments, Pool, Type};

use super::Result;

/// See [`crate::Store::server_secret`].
pub(crate) async fn get_or_insert<DB: Database>(pool: &Pool<DB>, name: &str, candidate: &str) -> Result<String>
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    // Read first: once the secret exists (every call but the very first) this is a plain
    // read, and SQLite's write lock is not taken for it.
    if let Some(value) = read(pool, name).await? {
        return Ok(value);
    }
    sqlx::query::<DB>("INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .bind(candidate)
        .execute(pool)
        .await?;
    // Whoever inserted first, this is the value every server uses.
    // (A row deleted by hand in between reads as "no row": an error, not a panic.)
    Ok(read(pool, name).await?.ok_or(sqlx::Error::RowNotFound)?)
}

async fn read<DB: Database>(pool: &Pool<DB>, name: &str) -> Result<Option<String>>
where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    Ok(sqlx::query_scalar::<DB, String>("SELECT value FROM server_secrets WHERE name = $1").bind(name).fetch_optional(pool).await?)
}
