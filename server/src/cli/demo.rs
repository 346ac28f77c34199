//! `trailsight demo`: two weeks of demo history, stored and analysed.

use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use engine::demo::{self, DemoPlan};
use engine::detect::detect_trails;
use engine::time::format_minute;

use super::{parse_time, DbArgs};

#[derive(Args)]
pub struct DemoArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The trail to fill.
    #[arg(long, default_value = "demo")]
    trail: String,
    /// The generator's seed: the same seed and end give the same history.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Where the history ends (RFC 3339; default: now).
    #[arg(long, value_parser = parse_time)]
    end: Option<i64>,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let store = args.db.open().await?;
    let end = args.end.unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
    let plan = DemoPlan::ending_at(args.seed, end);
    println!(
        "generating {} days of demo history ({} to {}), attack at {}",
        demo::DEMO_DAYS,
        format_minute(plan.start),
        format_minute(plan.end),
        format_minute(plan.attack_start)
    );
    let started = Instant::now();
    let summary = demo::load(store.as_ref(), &args.trail, &plan).await?;
    println!(
        "stored {} records ({} already present) in {:.1} s",
        summary.records_stored,
        summary.duplicates_skipped,
        started.elapsed().as_secs_f64()
    );
    let reports = detect_trails(store.as_ref(), Some(&args.trail), end).await?;
    super::detect::print_reports(&reports);
    Ok(ExitCode::SUCCESS)
}
