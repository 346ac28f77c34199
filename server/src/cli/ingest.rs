//! `trailsight ingest`: files, directories, stdin and S3 buckets into the store, with a summary.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use engine::ingest::{ingest_paths_with, IngestOptions, IngestSummary, Progress};

use super::DbArgs;

#[derive(Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub(super) db: DbArgs,
    /// The trail the records belong to (created, with both insight types on, if new).
    #[arg(long)]
    pub(super) trail: String,
    /// Print the summary as JSON, listing every rejection.
    #[arg(long)]
    pub(super) json: bool,
    /// Refuse documents larger than this many MiB (before or after gunzip), naming them.
    #[arg(long, default_value_t = 1024)]
    max_file_mb: u64,
    /// Keep watching the directories and ingest files as they arrive, until Ctrl-C.
    #[arg(long)]
    follow: bool,
    /// Store events even if the trail is stopped (StopLogging), e.g. to backfill history.
    #[arg(long)]
    pub(super) even_if_stopped: bool,
    /// With --follow: seconds between looks at the directories.
    #[arg(long, default_value_t = 10.0)]
    pub(super) poll_secs: f64,
    /// An S3-compatible endpoint for `s3://` sources (path-style addressing), e.g.
    /// http://127.0.0.1:9000; AWS itself when unset.
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub(super) endpoint_url: Option<String>,
    /// Files (`.json`, `.json.gz`, NDJSON) and directories (read recursively, e.g. an
    /// `AWSLogs/` tree); `-` reads standard input; `s3://BUCKET/PREFIX` reads a bucket
    /// (only objects not read by an earlier run for this trail).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

/// Exit status: 0 when everything was stored, 1 when anything was rejected.
pub async fn run(args: IngestArgs) -> anyhow::Result<ExitCode> {
    engine::names::check_trail_name(&args.trail).map_err(|e| anyhow::anyhow!("--trail: {e}"))?;
    let store = args.db.open().await?;
    let options = IngestOptions {
        max_document_bytes: args.max_file_mb << 20,
        even_if_stopped: args.even_if_stopped,
        ..Default::default()
    };
    // Checked before anything is read, so a stopped trail fails at once with what to do.
    match engine::ingest::open_trail(store.as_ref(), &args.trail, args.even_if_stopped).await {
        Err(e @ engine::StoreError::TrailStopped(_)) => anyhow::bail!("{e}; or pass --even-if-stopped"),
        other => other?,
    };
    let (buckets, paths) = super::ingest_s3::split_sources(&args.paths)?;
    if args.follow && !buckets.is_empty() {
        return super::ingest_s3::follow(store.as_ref(), &args, &buckets, &paths, &options).await;
    }
    if args.follow {
        return follow(store.as_ref(), &args, &options).await;
    }
    let started = Instant::now();
    let mut reporter = ProgressReporter::new(started);
    let mut summary = IngestSummary::default();
    if !paths.is_empty() {
        summary = ingest_paths_with(store.as_ref(), &args.trail, paths, &options, |p| reporter.report(p)).await?;
    }
    let s3 = super::ingest_s3::config(&args);
    for bucket in &buckets {
        let read = engine::ingest::s3::ingest_s3(store.as_ref(), &args.trail, bucket, &s3, &options, |p| reporter.report(p));
        summary.merge(read.await?);
    }
    reporter.finish();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&summary, started.elapsed().as_secs_f64());
    }
    Ok(if summary.rejections.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// `--follow`: a summary line for each poll that found files, until Ctrl-C or SIGTERM.
async fn follow(store: &dyn engine::Store, args: &IngestArgs, options: &IngestOptions) -> anyhow::Result<ExitCode> {
    if args.paths.iter().any(|p| p.as_os_str() == "-") {
        anyhow::bail!("--follow watches directories; it cannot follow standard input (-)");
    }
    let interval = std::time::Duration::from_secs_f64(args.poll_secs.max(0.05));
    eprintln!("following {} (every {:.1} s); Ctrl-C stops", args.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "), interval.as_secs_f64());
    let on_poll = |s: &IngestSummary| {
        if args.json {
            println!("{}", serde_json::to_string(s).unwrap_or_default());
        } else {
            print_summary(s, 0.0);
        }
        let _ = std::io::stdout().flush();
    };
    engine::ingest::follow::follow(store, &args.trail, &args.paths, options, interval, super::serve::shutdown_signal(), on_poll).await?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn print_summary(s: &IngestSummary, seconds: f64) {
    for rejection in &s.rejections {
        eprintln!("rejected: {rejection}");
    }
    println!(
        "{} files, {} records stored, {} duplicates skipped, {} rejected ({:.1} s)",
        s.files,
        s.records_stored,
        s.duplicates_skipped,
        s.rejections.len(),
        seconds
    );
    if s.insight_events_skipped > 0 {
        println!("{} insight events skipped (they are not API calls)", s.insight_events_skipped);
    }
    if s.digest_files_skipped > 0 {
        println!("{} CloudTrail digest files skipped", s.digest_files_skipped);
    }
    if !s.not_selected.is_empty() {
        let apis: Vec<String> = s.not_selected.by_api.iter().map(|(api, n)| format!("{api}: {n}")).collect();
        println!(
            "{} events not stored: the trail's event selectors do not select them ({}); see them with `aws cloudtrail get-event-selectors`",
            s.not_selected.total,
            apis.join(", ")
        );
    }
}

/// A one-line progress display on a terminal; a line every few seconds otherwise.
struct ProgressReporter {
    started: Instant,
    last: Instant,
    terminal: bool,
    drew: bool,
}

impl ProgressReporter {
    fn new(started: Instant) -> Self {
        ProgressReporter { started, last: started, terminal: std::io::stderr().is_terminal(), drew: false }
    }

    fn report(&mut self, p: Progress) {
        let interval = if self.terminal { 0.1 } else { 5.0 };
        if self.last.elapsed().as_secs_f64() < interval && p.files_done < p.files_total {
            return;
        }
        self.last = Instant::now();
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-3);
        // Records read, not only stored: a re-run of stored files is progress too.
        let rate = p.records_read as f64 / elapsed;
        let eta = if p.files_done > 0 {
            elapsed / p.files_done as f64 * (p.files_total - p.files_done) as f64
        } else {
            0.0
        };
        let line = format!(
            "{}/{} files, {} records read, {} stored, {:.0} records/s, ETA {:.0} s",
            p.files_done, p.files_total, p.records_read, p.records_stored, rate, eta
        );
        let mut err = std::io::stderr();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K{line}");
            self.drew = true;
        } else {
            let _ = writeln!(err, "{line}");
        }
    }

    fn finish(&self) {
        if self.drew {
            eprintln!();
        }
    }
}
