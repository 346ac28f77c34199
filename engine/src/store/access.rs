//! Users, sessions, API tokens and the audit log (migration 0010), behind [`AccessStore`].
//!
//! The SQL is the same for SQLite and Postgres (numbered placeholders, `RETURNING`), so one
//! implementation, [`SqlAccess`], serves both; a macro instantiates it per database because
//! sqlx's generic bounds for a dozen queries would bury the SQL. Several servers on one
//! Postgres share sessions and tokens through these tables.

use async_trait::async_trait;
use sqlx::{Pool, Row};

use super::{Result, StoreError};
use crate::access::Role;

/// A built-in user (single sign-on users have sessions, not rows here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub role: Role,
    pub created_ms: i64,
}

/// A signed-in session, found by the digest of its cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub role: Role,
    pub created_ms: i64,
    pub last_seen_ms: i64,
}

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session unused this long is over.
    pub idle_ms: i64,
    /// A session this old is over, however busy.
    pub max_ms: i64,
}

impl SessionLimits {
    /// A session's last use is written at most this often, so that reading pages does not
    /// write to the database on every request.
    pub const TOUCH_EVERY_MS: i64 = 60_000;
}

/// An API token (its secret is shown once, at creation, and stored only as a digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub name: String,
    pub role: Role,
    /// Set when the token is an AWS access key pair for the AWS API.
    pub aws_access_key_id: Option<String>,
    pub created_ms: i64,
    pub created_by: String,
    pub last_used_ms: Option<i64>,
}

/// One change, as the audit log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at_ms: i64,
    /// Who made the change: a user, a token, `local` (open mode) or `cli` (the command line).
    pub actor: String,
    /// What was done, as a dotted verb: `trail.delete`, `user.add`, `token.revoke`.
    pub action: String,
    /// What it was done to: a trail, user or token name.
    pub target: String,
    /// The new values, when there are any (JSON or words).
    pub detail: String,
}

/// Users, sessions, tokens and the audit log.
#[async_trait]
pub trait AccessStore: Send + Sync {
    /// Fails with [`StoreError::UserExists`] when the name is taken.
    async fn add_user(&self, name: &str, role: Role, password_hash: &str, now_ms: i64) -> Result<()>;
    /// The user and their password hash.
    async fn get_user(&self, name: &str) -> Result<Option<(User, String)>>;
    async fn list_users(&self) -> Result<Vec<User>>;
    /// Replaces the password and ends every session of the user.
    async fn set_password(&self, name: &str, password_hash: &str) -> Result<()>;
    /// Removes the user and ends their sessions.
    async fn remove_user(&self, name: &str) -> Result<()>;

    async fn create_session(&self, id_hash: &str, user: &str, role: Role, now_ms: i64) -> Result<()>;
    /// The live session with this digest; an expired one is deleted and not returned.
    async fn session(&self, id_hash: &str, now_ms: i64, limits: SessionLimits) -> Result<Option<Session>>;
    async fn end_session(&self, id_hash: &str) -> Result<()>;
    /// Deletes every expired session; returns how many.
    async fn purge_sessions(&self, now_ms: i64, limits: SessionLimits) -> Result<u64>;

    /// Fails with [`StoreError::TokenExists`] when the name or key is taken.
    async fn create_token(&self, token: &ApiToken, secret_hash: &str, aws_secret: Option<&str>) -> Result<()>;
    /// The token with this secret digest (its last use is noted).
    async fn token_by_secret(&self, secret_hash: &str, now_ms: i64) -> Result<Option<ApiToken>>;
    /// The token with this AWS access key ID, and its secret access key.
    async fn token_by_aws_key(&self, access_key_id: &str) -> Result<Option<(ApiToken, String)>>;
    async fn list_tokens(&self) -> Result<Vec<ApiToken>>;
    async fn revoke_token(&self, name: &str) -> Result<()>;

    /// Appends to the audit log (the id is assigned; the entry's `id` is ignored).
    async fn record_audit(&self, entry: &AuditEntry) -> Result<()>;
    /// Newest first.
    async fn list_audit(&self, limit: u32) -> Result<Vec<AuditEntry>>;
}

/// [`AccessStore`] on a sqlx pool of either database.
pub struct SqlAccess<DB: sqlx::Database> {
    pub(crate) pool: Pool<DB>,
}

fn role_of(text: &str) -> Role {
    // Rows are written only through this module, with valid roles; an edited row gets the
    // least power rather than an error on every request.
    Role::parse(text).unwrap_or(Role::Viewer)
}

const TOKEN_COLUMNS: &str = "name, role, aws_access_key_id, created_ms, created_by, last_used_ms";

/// Implements [`AccessStore`] for `SqlAccess<$db>`.
macro_rules! sql_access {
    ($db:ty) => {
        fn token_from_row(row: &<$db as sqlx::Database>::Row) -> ApiToken {
            ApiToken {
                name: row.get("name"),
                role: role_of(row.get::<&str, _>("role")),
                aws_access_key_id: row.get("aws_access_key_id"),
                created_ms: row.get("created_ms"),
                created_by: row.get("created_by"),
                last_used_ms: row.get("last_used_ms"),
            }
        }

        #[async_trait]
        impl AccessStore for SqlAccess<$db> {
            async fn add_user(&self, name: &str, role: Role, password_hash: &str, now_ms: i64) -> Result<()> {
                let added = sqlx::query::<$db>(
                    "INSERT INTO users (name, role, password_hash, created_ms) VALUES ($1, $2, $3, $4)
                     ON CONFLICT DO NOTHING RETURNING name",
                )
                .bind(name)
                .bind(role.as_str())
                .bind(password_hash)
                .bind(now_ms)
                .fetch_optional(&self.pool)
                .await?;
                added.map(|_| ()).ok_or_else(|| StoreError::UserExists(name.to_owned()))
            }

            async fn get_user(&self, name: &str) -> Result<Option<(User, String)>> {
                let row = sqlx::query::<$db>("SELECT name, role, password_hash, created_ms FROM users WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|row| {
                    let user = User { name: row.get("name"), role: role_of(row.get::<&str, _>("role")), created_ms: row.get("created_ms") };
                    (user, row.get::<Option<String>, _>("password_hash").unwrap_or_default())
                }))
            }

            async fn list_users(&self) -> Result<Vec<User>> {
                let rows = sqlx::query::<$db>("SELECT name, role, created_ms FROM users ORDER BY name")
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows
                    .iter()
                    .map(|row| User { name: row.get("name"), role: role_of(row.get::<&str, _>("role")), created_ms: row.get("created_ms") })
                    .collect())
            }

            async fn set_password(&self, name: &str, password_hash: &str) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                let changed = sqlx::query::<$db>("UPDATE users SET password_hash = $1 WHERE name = $2 RETURNING name")
                    .bind(password_hash)
                    .bind(name)
                    .fetch_optional(&mut *tx)
                    .await?;
                if changed.is_none() {
                    return Err(StoreError::NoSuchUser(name.to_owned()));
                }
                sqlx::query::<$db>("DELETE FROM sessions WHERE user_name = $1").bind(name).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn remove_user(&self, name: &str) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                let removed = sqlx::query::<$db>("DELETE FROM users WHERE name = $1 RETURNING name")
                    .bind(name)
                    .fetch_optional(&mut *tx)
                    .await?;
                if removed.is_none() {
                    return Err(StoreError::NoSuchUser(name.to_owned()));
                }
                sqlx::query::<$db>("DELETE FROM sessions WHERE user_name = $1").bind(name).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn create_session(&self, id_hash: &str, user: &str, role: Role, now_ms: i64) -> Result<()> {
                sqlx::query::<$db>(
                    "INSERT INTO sessions (id_hash, user_name, role, created_ms, last_seen_ms) VALUES ($1, $2, $3, $4, $4)",
                )
                .bind(id_hash)
                .bind(user)
                .bind(role.as_str())
                .bind(now_ms)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn session(&self, id_hash: &str, now_ms: i64, limits: SessionLimits) -> Result<Option<Session>> {
                let row = sqlx::query::<$db>(
                    "SELECT user_name, role, created_ms, last_seen_ms FROM sessions WHERE id_hash = $1",
                )
                .bind(id_hash)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let session = Session {
                    user: row.get("user_name"),
                    role: role_of(row.get::<&str, _>("role")),
                    created_ms: row.get("created_ms"),
                    last_seen_ms: row.get("last_seen_ms"),
                };
                if now_ms - session.last_seen_ms > limits.idle_ms || now_ms - session.created_ms > limits.max_ms {
                    self.end_session(id_hash).await?;
                    return Ok(None);
                }
                if now_ms - session.last_seen_ms > SessionLimits::TOUCH_EVERY_MS {
                    sqlx::query::<$db>("UPDATE sessions SET last_seen_ms = $1 WHERE id_hash = $2")
                        .bind(now_ms)
                        .bind(id_hash)
                        .execute(&self.pool)
                        .await?;
                }
                Ok(Some(session))
            }

            async fn end_session(&self, id_hash: &str) -> Result<()> {
                sqlx::query::<$db>("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&self.pool).await?;
                Ok(())
            }

            async fn purge_sessions(&self, now_ms: i64, limits: SessionLimits) -> Result<u64> {
                let done = sqlx::query::<$db>("DELETE FROM sessions WHERE last_seen_ms < $1 OR created_ms < $2")
                    .bind(now_ms - limits.idle_ms)
                    .bind(now_ms - limits.max_ms)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn create_token(&self, token: &ApiToken, secret_hash: &str, aws_secret: Option<&str>) -> Result<()> {
                let created = sqlx::query::<$db>(
                    "INSERT INTO tokens (name, role, secret_hash, aws_access_key_id, aws_secret_access_key, created_ms, created_by)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING name",
                )
                .bind(&token.name)
                .bind(token.role.as_str())
                .bind(secret_hash)
                .bind(token.aws_access_key_id.as_deref())
                .bind(aws_secret)
                .bind(token.created_ms)
                .bind(&token.created_by)
                .fetch_optional(&self.pool)
                .await?;
                created.map(|_| ()).ok_or_else(|| StoreError::TokenExists(token.name.clone()))
            }

            async fn token_by_secret(&self, secret_hash: &str, now_ms: i64) -> Result<Option<ApiToken>> {
                let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE secret_hash = $1");
                let row = sqlx::query::<$db>(&sql).bind(secret_hash).fetch_optional(&self.pool).await?;
                let Some(token) = row.as_ref().map(token_from_row) else { return Ok(None) };
                if token.last_used_ms.is_none_or(|used| now_ms - used > SessionLimits::TOUCH_EVERY_MS) {
                    sqlx::query::<$db>("UPDATE tokens SET last_used_ms = $1 WHERE secret_hash = $2")
                        .bind(now_ms)
                        .bind(secret_hash)
                        .execute(&self.pool)
                        .await?;
                }
                Ok(Some(token))
            }

            async fn token_by_aws_key(&self, access_key_id: &str) -> Result<Option<(ApiToken, String)>> {
                let sql = format!("SELECT {TOKEN_COLUMNS}, aws_secret_access_key FROM tokens WHERE aws_access_key_id = $1");
                let row = sqlx::query::<$db>(&sql).bind(access_key_id).fetch_optional(&self.pool).await?;
                Ok(row.map(|row| (token_from_row(&row), row.get::<Option<String>, _>("aws_secret_access_key").unwrap_or_default())))
            }

            async fn list_tokens(&self) -> Result<Vec<ApiToken>> {
                let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY name");
                let rows = sqlx::query::<$db>(&sql).fetch_all(&self.pool).await?;
                Ok(rows.iter().map(token_from_row).collect())
            }

            async fn revoke_token(&self, name: &str) -> Result<()> {
                let revoked = sqlx::query::<$db>("DELETE FROM tokens WHERE name = $1 RETURNING name")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
                revoked.map(|_| ()).ok_or_else(|| StoreError::NoSuchToken(name.to_owned()))
            }

            async fn record_audit(&self, e: &AuditEntry) -> Result<()> {
                sqlx::query::<$db>(
                    "INSERT INTO audit_log (at_ms, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(e.at_ms)
                .bind(&e.actor)
                .bind(&e.action)
                .bind(&e.target)
                .bind(&e.detail)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn list_audit(&self, limit: u32) -> Result<Vec<AuditEntry>> {
                let rows = sqlx::query::<$db>(
                    "SELECT id, at_ms, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .iter()
                    .map(|row| AuditEntry {
                        id: row.get("id"),
                        at_ms: row.get("at_ms"),
                        actor: row.get("actor"),
                        action: row.get("action"),
                        target: row.get("target"),
                        detail: row.get("detail"),
                    })
                    .collect())
            }
        }
    };
}

mod sqlite_impl {
    use super::*;
    sql_access!(sqlx::Sqlite);
}

mod postgres_impl {
    use super::*;
    sql_access!(sqlx::Postgres);
}
