//! `trailsight bench-detect`: how fast detection replays history, in series-minutes per
//! second, on synthetic counts held in memory.

use std::process::ExitCode;

use clap::Args;

#[derive(Args)]
pub struct BenchArgs {
    /// Seed of the synthetic counts.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let figures = engine::eval::bench::run(args.seed);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(ExitCode::SUCCESS);
    }
    if cfg!(debug_assertions) {
        println!("note: a debug build; `cargo build --release` gives the real figures");
    }
    for f in figures {
        println!(
            "{}: {} events, {} series-minutes in {:.2} s = {:.1}M series-minutes/s ({} insights)",
            f.name, f.events, f.series_minutes, f.seconds, f.series_minutes_per_second / 1e6, f.insights
        );
    }
    Ok(ExitCode::SUCCESS)
}
