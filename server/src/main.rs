//! `trailsight`: self-hosted CloudTrail Insights.
//!
//! # Layout
//!
//! - [`cli`]: one module per subcommand (`serve`, `ingest`, `detect`, `insights`, `demo`),
//!   each a `clap` struct with a documented field per option and a `run` function.
//! - [`web`]: the axum router: the Leptos pages, the browser bundle, the stylesheet.
//! - [`background`]: work the server does by itself (detection each minute).
//!
//! `main` only parses arguments, sets up logging and maps errors to exit codes.

mod background;
mod cli;
mod web;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli::Cli::parse().run().await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
