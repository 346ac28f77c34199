//! `trailsight detect`: replay stored history through the detector.

use std::process::ExitCode;

use clap::Args;
use engine::detect::{detect_trails, DetectReport};

use super::{parse_time, DbArgs};

#[derive(Args)]
pub struct DetectArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Only this trail (default: every trail).
    #[arg(long)]
    trail: Option<String>,
    /// Judge the minutes closed at this time (RFC 3339; default: now).
    #[arg(long, value_parser = parse_time)]
    now: Option<i64>,
}

pub async fn run(args: DetectArgs) -> anyhow::Result<ExitCode> {
    let store = args.db.open().await?;
    let now = args.now.unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
    let reports = detect_trails(store.as_ref(), args.trail.as_deref(), now).await?;
    print_reports(&reports);
    Ok(ExitCode::SUCCESS)
}

pub fn print_reports(reports: &[DetectReport]) {
    if reports.is_empty() {
        println!("no trails yet: ingest some CloudTrail logs first (trailsight ingest --trail NAME PATH)");
    }
    for r in reports {
        println!(
            "trail {}: {} series analysed, {} insights, {} new or newly ended",
            r.trail, r.series_analysed, r.insights_found, r.insights_changed
        );
    }
}
