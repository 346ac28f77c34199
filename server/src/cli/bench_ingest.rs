//! `trailsight bench-ingest`: measures ingest speed against its practical limit, on about a
//! million real CloudTrail records (time-shifted copies), and prints both figures.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

#[derive(Args)]
pub struct BenchIngestArgs {
    /// How many records to build and ingest.
    #[arg(long, default_value_t = 1_000_000)]
    records: usize,
    /// A directory of real CloudTrail logs to copy records from (searched recursively).
    #[arg(long, env = "TRAILSIGHT_BENCH_DATA", default_value = "../shared/data/cloudtrail")]
    data: PathBuf,
    /// Where the generated logs (kept for later runs) and the scratch database go.
    #[arg(long, default_value = "target/bench-ingest")]
    work_dir: PathBuf,
    /// Also measure end-to-end ingest into this Postgres database (its trail `bench-ingest` is
    /// emptied before and after).
    #[arg(long, env = "TRAILSIGHT_BENCH_POSTGRES_URL")]
    postgres: Option<String>,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: BenchIngestArgs) -> anyhow::Result<ExitCode> {
    let report = engine::ingest::bench::run(&args.data, args.records, &args.work_dir, args.postgres.as_deref(), |line| {
        eprintln!("{line}")
    })
    .await
    .context("running the ingest benchmark")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", engine::ingest::bench::describe(&report));
    }
    Ok(ExitCode::SUCCESS)
}
