//! `trailsight serve`: the dashboard, and detection every minute in the background.
//! Several servers can share one database (see `background` for how they share detection).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::DbArgs;
use crate::background::{retain_every, BackgroundDetection, DetectionSchedule};

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Address to listen on.
    #[arg(long, env = "TRAILSIGHT_ADDR", default_value = "127.0.0.1:3000")]
    addr: SocketAddr,
    /// Directory holding the browser bundle (`pkg/trailsight.js`, `pkg/trailsight.wasm`),
    /// built by scripts/build.sh. Without it pages still render, without interactivity.
    #[arg(long, env = "TRAILSIGHT_SITE_ROOT", default_value = "target/site")]
    site_root: PathBuf,
    /// Access key ID that the AWS-compatible API (aws CLI, SDKs) accepts, with its secret.
    #[arg(long, env = "TRAILSIGHT_AWS_ACCESS_KEY_ID", requires = "aws_secret_access_key")]
    aws_access_key_id: Option<String>,
    /// Secret access key for `--aws-access-key-id`.
    #[arg(long, env = "TRAILSIGHT_AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    aws_secret_access_key: Option<String>,
    /// Account ID shown in trail ARNs returned by the AWS-compatible API.
    #[arg(long, env = "TRAILSIGHT_AWS_ACCOUNT_ID", default_value = "123456789012")]
    aws_account_id: String,
    /// Seconds between background detection passes; 0 turns background detection off.
    #[arg(long, env = "TRAILSIGHT_DETECT_EVERY", default_value_t = 60)]
    detect_every: u64,
    /// Seconds a server's hold on a trail's detection lasts without renewal: when a server
    /// sharing the database dies, another takes over its trails within this time.
    #[arg(long, env = "TRAILSIGHT_LEASE_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(3..))]
    lease_seconds: u64,
    /// Days of events (and of ended insights) to keep, counted back from the newest stored
    /// event (so replayed old logs stay); older ones are deleted at start-up and every hour.
    /// 0 keeps everything.
    #[arg(long, env = "TRAILSIGHT_RETENTION_DAYS", default_value_t = 90)]
    retention_days: u32,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let store = args.db.open().await?;
    let bundle = args.site_root.join("pkg").join("trailsight.wasm");
    if !bundle.exists() {
        tracing::warn!(
            "no browser bundle at {}: pages render without interactivity (build it with scripts/build.sh)",
            bundle.display()
        );
    }
    let detection = (args.detect_every > 0).then(|| {
        let schedule = DetectionSchedule {
            period: Duration::from_secs(args.detect_every),
            lease_term: Duration::from_secs(args.lease_seconds),
        };
        let detection = BackgroundDetection::new(store.clone(), schedule);
        tokio::spawn(detection.clone().run());
        detection
    });
    if args.retention_days > 0 {
        tokio::spawn(retain_every(store.clone(), args.retention_days, Duration::from_secs(3600)));
    }
    let credentials: Vec<crate::aws::Credentials> = args
        .aws_access_key_id
        .zip(args.aws_secret_access_key)
        .map(|(access_key_id, secret_access_key)| crate::aws::Credentials { access_key_id, secret_access_key })
        .into_iter()
        .collect();
    if credentials.is_empty() {
        tracing::info!("AWS-compatible API off: set TRAILSIGHT_AWS_ACCESS_KEY_ID and TRAILSIGHT_AWS_SECRET_ACCESS_KEY to use the aws CLI against this server");
    }
    let aws = crate::web::AwsApiConfig { credentials, account_id: args.aws_account_id };
    let app = crate::web::router(store, &args.site_root, args.addr, aws);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {} (is another server running there?)", args.addr))?;
    println!("trailsight is serving the dashboard at http://{}/insights", args.addr);
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    if let Some(detection) = detection {
        detection.release_all().await;
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}
