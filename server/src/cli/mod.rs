//! The command line. Names here are a contract (scripts and later features build on them):
//! extend, do not rename.

mod access;
mod bench;
mod bench_ingest;
mod bench_notify;
mod bench_pages;
mod demo;
mod destinations;
mod detect;
mod eval;
mod ingest;
mod ingest_s3;
mod insights;
mod serve;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Self-hosted CloudTrail Insights: ingest CloudTrail logs, detect unusual API activity,
/// and explore it in a browser.
#[derive(Parser)]
#[command(name = "trailsight", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the dashboard (and run detection every minute).
    Serve(serve::ServeArgs),
    /// Store CloudTrail records from files, directories (recursively) or `-` (stdin).
    Ingest(ingest::IngestArgs),
    /// Run detection over all stored history; running it again changes nothing.
    Detect(detect::DetectArgs),
    /// Print the stored insight events.
    Insights(insights::InsightsArgs),
    /// Fill the database with two weeks of demo history and detect its insights.
    Demo(demo::DemoArgs),
    /// Manage the users who sign in to the dashboard (add, list, remove, passwd).
    Users(access::UsersArgs),
    /// Manage API tokens for scripts, log forwarders and the AWS API (create, list, revoke).
    Tokens(access::TokensArgs),
    /// Where insight events are sent: webhooks, Slack, e-mail, S3, a directory (add, list,
    /// remove, test).
    Destinations(destinations::DestinationsArgs),
    /// Score the detector on labelled scenarios, beside a naive reference detector.
    Eval(eval::EvalArgs),
    /// Time detection on synthetic counts: series-minutes per second (build with --release).
    BenchDetect(bench::BenchArgs),
    /// Measure ingest speed (parse only and end to end into SQLite) on ~1M real records.
    BenchIngest(bench_ingest::BenchIngestArgs),
    /// Measure seconds from a pushed burst to its insight at a webhook (p50/p95 over bursts).
    BenchNotify(bench_notify::BenchNotifyArgs),
    /// Measure server time per dashboard page with ~1M events and a few hundred insights.
    BenchPages(bench_pages::BenchPagesArgs),
}

/// The database option every subcommand shares.
#[derive(Args, Clone)]
pub struct DbArgs {
    /// Database URL: `sqlite://PATH` (created if missing), or
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (an existing database).
    #[arg(long, env = "TRAILSIGHT_DB", default_value = "sqlite://trailsight.db", global = true)]
    pub db: String,
}

impl DbArgs {
    pub async fn open(&self) -> anyhow::Result<std::sync::Arc<dyn engine::Store>> {
        use anyhow::Context;
        engine::open_store(&self.db)
            .await
            .with_context(|| format!("opening the database {}", self.db))
    }
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<ExitCode> {
        match self.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Ingest(args) => ingest::run(args).await,
            Command::Detect(args) => detect::run(args).await,
            Command::Insights(args) => insights::run(args).await,
            Command::Demo(args) => demo::run(args).await,
            Command::Users(args) => access::users(args).await,
            Command::Tokens(args) => access::tokens(args).await,
            Command::Destinations(args) => destinations::run(args).await,
            Command::Eval(args) => eval::run(args),
            Command::BenchDetect(args) => bench::run(args),
            Command::BenchIngest(args) => bench_ingest::run(args).await,
            Command::BenchPages(args) => bench_pages::run(args).await,
            Command::BenchNotify(args) => bench_notify::run(args).await,
        }
    }
}

/// Parses `--now`-style RFC 3339 times for the CLI.
pub fn parse_time(text: &str) -> Result<i64, String> {
    engine::time::parse_millis(text)
        .ok_or_else(|| format!("{text:?} is not an RFC 3339 time such as 2024-05-01T12:00:00Z"))
}
