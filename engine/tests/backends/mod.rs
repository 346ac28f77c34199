//! The databases tests run against: SQLite always (a fresh file in a temporary directory),
//! Postgres when `TRAILSIGHT_TEST_POSTGRES_URL` names a server (a fresh schema per test, so
//! tests run in parallel and leave nothing behind).
//!
//! Whether Postgres tests run is decided when the tests are built (`build.rs` sets the
//! `trailsight_postgres_tests` cfg from the variable), so a machine without Postgres lists
//! them as ignored, with the reason, instead of passing them silently.

#![allow(dead_code)] // each test binary uses its own part of this module

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use engine::Store;

/// A fresh, empty database and what keeps it alive: dropping it removes the database.
pub struct TestDb {
    pub url: String,
    _sqlite_dir: Option<tempfile::TempDir>,
    postgres_schema: Option<(String, String)>,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        TestDb { url, _sqlite_dir: Some(dir), postgres_schema: None }
    }

    /// A new schema in the database named by `TRAILSIGHT_TEST_POSTGRES_URL`, reached by a URL
    /// whose connections use it as their search path.
    pub async fn postgres() -> TestDb {
        let server = std::env::var("TRAILSIGHT_TEST_POSTGRES_URL")
            .expect("these tests were built with TRAILSIGHT_TEST_POSTGRES_URL set; set it again to run them");
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let schema = format!(
            "trailsight_test_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        run_sql(&server, &format!("CREATE SCHEMA {schema}")).await;
        let separator = if server.contains('?') { '&' } else { '?' };
        let url = format!("{server}{separator}options=-c%20search_path%3D{schema}");
        TestDb { url, _sqlite_dir: None, postgres_schema: Some((server, schema)) }
    }

    pub async fn open(&self) -> Arc<dyn Store> {
        engine::open_store(&self.url).await.unwrap()
    }
}

async fn run_sql(url: &str, sql: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.expect("cannot reach TRAILSIGHT_TEST_POSTGRES_URL");
    sqlx::query(sql).execute(&mut conn).await.unwrap();
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, schema)) = self.postgres_schema.take() else { return };
        // Drop runs inside the test's runtime, which cannot be blocked on: use another.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(run_sql(&server, &format!("DROP SCHEMA {schema} CASCADE")));
        })
        .join();
    }
}

/// Defines each named test function once per backend, as `sqlite::NAME` and
/// `postgres::NAME`. The functions take an `Arc<dyn Store>` on a fresh database, or with
/// `db:` first, the `&TestDb` itself (for tests that start processes on its URL).
#[macro_export]
macro_rules! for_each_backend {
    (db: $($name:ident),* $(,)?) => {
        $crate::for_each_backend!(@each db; $($name),*);
    };
    ($($name:ident),* $(,)?) => {
        $crate::for_each_backend!(@each store; $($name),*);
    };
    (@call db $name:ident $db:ident) => { super::$name(&$db).await };
    (@call store $name:ident $db:ident) => { super::$name($db.open().await).await };
    (@each $takes:ident; $($name:ident),*) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::backends::TestDb::sqlite();
                    $crate::for_each_backend!(@call $takes $name db);
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(trailsight_postgres_tests), ignore = "Postgres skipped: set TRAILSIGHT_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1/test to run it")]
                async fn $name() {
                    let db = $crate::backends::TestDb::postgres().await;
                    $crate::for_each_backend!(@call $takes $name db);
                }
            )*
        }
    };
}
