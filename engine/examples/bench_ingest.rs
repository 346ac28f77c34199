//! The ingest benchmark without building the server:
//! `cargo run --release -p engine --example bench_ingest [RECORDS] [DATA_DIR] [WORK_DIR]`.
//! `trailsight bench-ingest` runs the same code; see `engine::ingest::bench`.

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let records: usize = args.next().map(|a| a.parse().expect("RECORDS is a number")).unwrap_or(1_000_000);
    let data = args.next().unwrap_or_else(|| "../shared/data/cloudtrail".into());
    let work = args.next().unwrap_or_else(|| "target/bench-ingest".into());
    let report = engine::ingest::bench::run(data.as_ref(), records, work.as_ref(), std::env::var("TRAILSIGHT_BENCH_POSTGRES_URL").ok().as_deref(), |line| eprintln!("{line}"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    println!("{}", engine::ingest::bench::describe(&report));
}
