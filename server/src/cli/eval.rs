//! `trailsight eval`: score the detector on the labelled scenario and print the figures.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;

#[derive(Args)]
pub struct EvalArgs {
    /// One seed of the scenario's noise and burst placement (same seed, same figures), shown
    /// in full with every detector; without it, seeds 1 to 10 for the default detector, and
    /// the targets must hold on every one.
    #[arg(long)]
    seed: Option<u64>,
    /// Print the JSON summary instead of the table.
    #[arg(long)]
    json: bool,
}

/// Exits 0 when the targets are met and 1 when not, so CI can hold the detector to them.
pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let (text, met) = match args.seed {
        Some(seed) => {
            let summary = engine::eval::evaluate(seed);
            let text = if args.json { serde_json::to_string_pretty(&summary)? + "\n" } else { summary.table() };
            (text, summary.targets_met)
        }
        None => {
            let summary = engine::eval::evaluate_seeds(1..=10);
            let text = if args.json { serde_json::to_string_pretty(&summary)? + "\n" } else { summary.table() };
            (text, summary.targets_met())
        }
    };
    let text = if args.json { text } else { format!("{text}evaluated in {:.1} s\n", started.elapsed().as_secs_f64()) };
    // A closed pipe (`| head`) is the reader's choice, not an error worth a panic.
    let _ = std::io::stdout().write_all(text.as_bytes());
    Ok(if met { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
