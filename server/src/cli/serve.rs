//! `trailsight serve`: the dashboard, and detection every minute in the background.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::DbArgs;

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
    /// Seconds between background detection passes; 0 turns background detection off.
    #[arg(long, env = "TRAILSIGHT_DETECT_EVERY", default_value_t = 60)]
    detect_every: u64,
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
    if args.detect_every > 0 {
        tokio::spawn(crate::background::detect_every(store.clone(), Duration::from_secs(args.detect_every)));
    }
    let app = crate::web::router(store, &args.site_root, args.addr);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {} (is another server running there?)", args.addr))?;
    println!("trailsight is serving the dashboard at http://{}/insights", args.addr);
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
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
