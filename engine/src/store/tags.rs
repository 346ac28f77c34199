//! Tags on trails (migration 0012), behind [`TagStore`]; the same SQL for both databases,
//! instantiated by a macro as in [`super::access`]. A trail's tags are renamed and deleted
//! with it (`trail_tags` is one of the trail tables in [`super::trails`]).

use async_trait::async_trait;
use sqlx::{Pool, Row};

use super::Result;

/// A trail holds at most this many tags (AWS's limit).
pub const MAX_TAGS: usize = 50;

#[async_trait]
pub trait TagStore: Send + Sync {
    /// Adds or replaces the tags in one transaction; false (nothing changed) when the trail
    /// would then hold more than [`MAX_TAGS`].
    async fn add_tags(&self, trail: &str, tags: &[(String, String)]) -> Result<bool>;
    async fn remove_tags(&self, trail: &str, keys: &[String]) -> Result<()>;
    /// By key.
    async fn tags(&self, trail: &str) -> Result<Vec<(String, String)>>;
}

pub struct SqlTags<DB: sqlx::Database> {
    pub(crate) pool: Pool<DB>,
}

macro_rules! sql_tags {
    ($db:ty) => {
        #[async_trait]
        impl TagStore for SqlTags<$db> {
            async fn add_tags(&self, trail: &str, tags: &[(String, String)]) -> Result<bool> {
                let mut tx = self.pool.begin().await?;
                for (key, value) in tags {
                    sqlx::query::<$db>(
                        "INSERT INTO trail_tags (trail, tag_key, tag_value) VALUES ($1, $2, $3)
                         ON CONFLICT (trail, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
                    )
                    .bind(trail)
                    .bind(key)
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
                }
                let count: i64 = sqlx::query::<$db>("SELECT COUNT(*) FROM trail_tags WHERE trail = $1")
                    .bind(trail)
                    .fetch_one(&mut *tx)
                    .await?
                    .get(0);
                if count as usize > MAX_TAGS {
                    tx.rollback().await?;
                    return Ok(false);
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn remove_tags(&self, trail: &str, keys: &[String]) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                for key in keys {
                    sqlx::query::<$db>("DELETE FROM trail_tags WHERE trail = $1 AND tag_key = $2")
                        .bind(trail)
                        .bind(key)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn tags(&self, trail: &str) -> Result<Vec<(String, String)>> {
                let rows = sqlx::query::<$db>("SELECT tag_key, tag_value FROM trail_tags WHERE trail = $1 ORDER BY tag_key")
                    .bind(trail)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.iter().map(|r| (r.get("tag_key"), r.get("tag_value"))).collect())
            }
        }
    };
}

mod sqlite_impl {
    use super::*;
    sql_tags!(sqlx::Sqlite);
}

mod postgres_impl {
    use super::*;
    sql_tags!(sqlx::Postgres);
}
