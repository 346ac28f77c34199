//! Storage benchmark: the demo's two weeks of history (about 68,000 records) ingested,
//! ingested again (all duplicates), detected, then cut to one week by retention, on SQLite
//! and, when `TRAILSIGHT_TEST_POSTGRES_URL` is set, on Postgres (in a scratch schema that
//! is dropped afterwards). Prints one line of figures per backend.
//!
//! `TRAILSIGHT_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1/test cargo run --release -p engine --example store_bench`

#[path = "../tests/backends/mod.rs"]
mod backends;

use std::time::Instant;

use engine::demo::{self, DemoPlan};
use engine::detect::{detect_trail, DetectorConfig};
use engine::ingest::ingest_bytes;

const END_MS: i64 = 1_700_000_000_000;

async fn bench(name: &str, db: &backends::TestDb) {
    let store = db.open().await;
    let plan = DemoPlan::ending_at(42, END_MS);
    let documents = demo::generate(&plan);
    store.ensure_trail("bench").await.unwrap();

    let timed = Instant::now();
    let mut stored = 0;
    for (_, doc) in documents.clone() {
        stored += ingest_bytes(store.as_ref(), "bench", &engine::selectors::EventSelectors::KeepAll, "demo", doc).await.unwrap().records_stored;
    }
    let ingest = timed.elapsed().as_secs_f64();

    let timed = Instant::now();
    for (_, doc) in documents {
        ingest_bytes(store.as_ref(), "bench", &engine::selectors::EventSelectors::KeepAll, "demo", doc).await.unwrap();
    }
    let again = timed.elapsed().as_secs_f64();

    let trail = store.get_trail("bench").await.unwrap().unwrap();
    let timed = Instant::now();
    let report = detect_trail(store.as_ref(), &trail, END_MS, &DetectorConfig::default()).await.unwrap();
    let detect = timed.elapsed().as_secs_f64();

    let timed = Instant::now();
    let retained = store.apply_retention(END_MS, 7).await.unwrap();
    let retention = timed.elapsed().as_secs_f64();

    println!(
        "{name:<9} ingest {stored} records in {ingest:.2} s ({:.0}/s) | again (all duplicates) {again:.2} s \
         | detect {detect:.2} s ({} insights) | retention to 7 days: {} events in {retention:.3} s",
        stored as f64 / ingest,
        report.insights_found,
        retained.events_removed,
    );
}

#[tokio::main]
async fn main() {
    bench("sqlite", &backends::TestDb::sqlite()).await;
    if std::env::var_os("TRAILSIGHT_TEST_POSTGRES_URL").is_some() {
        bench("postgres", &backends::TestDb::postgres().await).await;
    } else {
        println!("postgres  skipped: set TRAILSIGHT_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1/test");
    }
}
