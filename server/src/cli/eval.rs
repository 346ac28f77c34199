//! `trailsight eval`: score the detector on the labelled scenario and print the figures.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;

#[derive(Args)]
pub struct EvalArgs {
    /// Seed of the scenario's noise and burst placement (same seed, same figures).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the JSON summary instead of the table.
    #[arg(long)]
    json: bool,
}

/// Exits 0 when the targets are met and 1 when not, so CI can hold the detector to them.
pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let summary = engine::eval::evaluate(args.seed);
    let text = if args.json {
        serde_json::to_string_pretty(&summary)? + "\n"
    } else {
        format!("{}evaluated in {:.1} s\n", summary.table(), started.elapsed().as_secs_f64())
    };
    // A closed pipe (`| head`) is the reader's choice, not an error worth a panic.
    let _ = std::io::stdout().write_all(text.as_bytes());
    Ok(if summary.targets_met { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
