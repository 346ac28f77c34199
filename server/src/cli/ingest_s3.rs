//! `trailsight ingest s3://BUCKET/PREFIX`: which arguments are buckets, the S3 settings
//! from the environment, and `--follow` for buckets (each poll reads only new objects,
//! thanks to the per-trail checkpoints the engine keeps).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use engine::ingest::s3::{ingest_s3, S3Config, S3Location};
use engine::ingest::{IngestOptions, IngestSummary};

use super::ingest::{print_summary, IngestArgs};

/// Separates `s3://` sources from local paths, refusing malformed S3 URLs.
pub fn split_sources(args: &[PathBuf]) -> anyhow::Result<(Vec<S3Location>, Vec<PathBuf>)> {
    let (mut buckets, mut paths) = (Vec::new(), Vec::new());
    for arg in args {
        match arg.to_str().and_then(S3Location::parse) {
            Some(location) => buckets.push(location?),
            None => paths.push(arg.clone()),
        }
    }
    Ok((buckets, paths))
}

/// Credentials and region from the environment, the endpoint from `--endpoint-url`.
pub fn config(args: &IngestArgs) -> S3Config {
    S3Config::from_env(args.endpoint_url.clone().filter(|e| !e.is_empty()))
}

/// `--follow` with buckets: polls each bucket (and the local paths) until Ctrl-C or SIGTERM.
/// A failed poll (the network, a permission) is reported and retried at the next poll.
pub async fn follow(
    store: &dyn engine::Store,
    args: &IngestArgs,
    buckets: &[S3Location],
    paths: &[PathBuf],
    options: &IngestOptions,
) -> anyhow::Result<ExitCode> {
    if !paths.is_empty() {
        anyhow::bail!("--follow watches either buckets or directories; run one `trailsight ingest --follow` for each");
    }
    let interval = std::time::Duration::from_secs_f64(args.poll_secs.max(0.05));
    let names: Vec<String> = buckets.iter().map(|b| format!("s3://{}/{}", b.bucket, b.prefix)).collect();
    eprintln!("following {} (every {:.1} s); Ctrl-C stops", names.join(", "), interval.as_secs_f64());
    let s3 = config(args);
    let stop = super::serve::shutdown_signal();
    tokio::pin!(stop);
    loop {
        let mut summary = IngestSummary::default();
        for bucket in buckets {
            match ingest_s3(store, &args.trail, bucket, &s3, options, |_| {}).await {
                Ok(read) => summary.merge(read),
                Err(e) => eprintln!("error: {e} (trying again in {:.1} s)", interval.as_secs_f64()),
            }
        }
        if summary.files > 0 || !summary.rejections.is_empty() {
            if args.json {
                println!("{}", serde_json::to_string(&summary).unwrap_or_default());
            } else {
                print_summary(&summary, 0.0);
            }
            let _ = std::io::stdout().flush();
        }
        tokio::select! {
            _ = &mut stop => return Ok(ExitCode::SUCCESS),
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
