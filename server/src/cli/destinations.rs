//! `trailsight destinations ...`: where insight events are sent. A serving trailsight sends
//! them (every server runs the delivery worker); these commands change the list, written to
//! the audit log with the actor `cli`, and `test` sends a sample at once.

use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use engine::access::check_name;
use engine::notify::{Destination, TargetSpec};

use super::DbArgs;

#[derive(Args)]
pub struct DestinationsArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(subcommand)]
    command: DestinationsCommand,
}

#[derive(Subcommand)]
enum DestinationsCommand {
    /// Add a destination: every new insight event (Start and End) of its trail, or of every
    /// trail, is sent there.
    Add(AddArgs),
    /// List the destinations (never their secrets) with what was sent and the last error.
    List,
    /// Remove a destination; what is still waiting for it is dropped.
    Remove { name: String },
    /// Send a sample insight event (a Start of ApiCallRateInsight on ec2 RunInstances) now.
    Test {
        name: String,
        /// Where links in the message point (the dashboard's address).
        #[arg(long, env = "TRAILSIGHT_PUBLIC_URL")]
        public_url: Option<url::Url>,
    },
}

#[derive(Args)]
struct AddArgs {
    name: String,
    /// webhook (the EventBridge event, POSTed), slack (an incoming webhook), email, s3 or
    /// directory (insight files as CloudTrail writes them).
    #[arg(long)]
    kind: String,
    /// Only this trail's insights (default: every trail's).
    #[arg(long)]
    trail: Option<String>,
    /// webhook, slack: the URL to POST to. Prefer TRAILSIGHT_DESTINATION_URL when it holds a
    /// token (a Slack URL does): arguments show in `ps` and the shell's history.
    #[arg(long, env = "TRAILSIGHT_DESTINATION_URL", hide_env_values = true)]
    url: Option<String>,
    /// webhook: sign each body; receivers check `X-Trailsight-Signature: sha256=<hex
    /// HMAC-SHA256 of the body>`. Prefer TRAILSIGHT_DESTINATION_SECRET (arguments show in `ps`).
    #[arg(long, env = "TRAILSIGHT_DESTINATION_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// email: the address(es) to write to (repeat, or separate with commas).
    #[arg(long)]
    to: Vec<String>,
    /// email: the SMTP server, e.g. smtp://mail.example.com:587?tls=required or
    /// smtps://user:password@mail.example.com (default smtp://127.0.0.1:25); with a password,
    /// prefer TRAILSIGHT_DESTINATION_SMTP. A password needs TLS (smtps or tls=required).
    #[arg(long, env = "TRAILSIGHT_DESTINATION_SMTP", hide_env_values = true)]
    smtp: Option<String>,
    /// email: the sender address (default trailsight@localhost).
    #[arg(long)]
    from: Option<String>,
    /// s3: BUCKET or BUCKET/PREFIX; credentials come from the AWS environment variables or
    /// the shared credentials file of the server that sends.
    #[arg(long)]
    bucket: Option<String>,
    /// s3: an S3-compatible endpoint (MinIO, moto, ...).
    #[arg(long)]
    endpoint_url: Option<String>,
    /// directory: where the AWSLogs/... folders are written.
    #[arg(long)]
    path: Option<std::path::PathBuf>,
    /// Send only insights that started at most this many hours before they were stored: a
    /// backfill of old logs notifies nobody.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=8760))]
    max_age_hours: u32,
    /// Group an API's insight that starts within this many minutes of its previous one's End
    /// with it (shown in the dashboard, not sent); 0 sends every one.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(0..=1440))]
    group_minutes: u32,
    /// Attempts (with exponential backoff) before a delivery is marked failed.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=100))]
    max_attempts: u32,
}

pub async fn run(args: DestinationsArgs) -> anyhow::Result<ExitCode> {
    let store = args.db.open().await?;
    let notify = store.notify();
    match args.command {
        DestinationsCommand::Add(add) => {
            check_name("destination", &add.name).map_err(|why| anyhow::anyhow!("{why}"))?;
            if let Some(trail) = &add.trail {
                if store.get_trail(trail).await?.is_none() {
                    bail!("there is no trail named {trail:?} (`trailsight ingest --trail {trail}` creates it)");
                }
            }
            let path = match &add.path {
                Some(p) => Some(std::path::absolute(p).with_context(|| format!("resolving {}", p.display()))?.to_string_lossy().into_owned()),
                None => None,
            };
            let spec = TargetSpec {
                kind: add.kind.clone(),
                url: add.url,
                secret: add.secret,
                to: add.to,
                smtp: add.smtp,
                from: add.from,
                bucket: add.bucket,
                endpoint_url: add.endpoint_url,
                path,
            };
            let target = spec.check().map_err(|why| anyhow::anyhow!("{why}"))?;
            let destination = Destination {
                name: add.name.clone(),
                trail: add.trail.clone(),
                target,
                max_age_ms: i64::from(add.max_age_hours) * 3_600_000,
                group_minutes: i64::from(add.group_minutes),
                max_attempts: i64::from(add.max_attempts),
                created_ms: chrono::Utc::now().timestamp_millis(),
                created_by: "cli".to_owned(),
            };
            match notify.add_destination(&destination).await {
                Err(engine::StoreError::DestinationExists(_)) => {
                    bail!("a destination named {:?} already exists: remove it first, or choose another name", add.name)
                }
                other => other?,
            }
            let what = destination.describe();
            super::access::audit(store.as_ref(), "destination.add", &add.name, what.clone()).await?;
            println!("added {}: {what}", add.name);
        }
        DestinationsCommand::List => {
            for d in notify.list_destinations().await? {
                let counts = notify.delivery_counts(&d.name).await?;
                println!(
                    "{}\t{}\tsent {}, pending {}, failed {}, grouped {}{}",
                    d.name,
                    d.describe(),
                    counts.sent,
                    counts.pending,
                    counts.failed,
                    counts.grouped,
                    counts.last_error.map(|e| format!("\tlast error: {e}")).unwrap_or_default()
                );
            }
        }
        DestinationsCommand::Remove { name } => {
            notify.remove_destination(&name).await.map_err(|e| match e {
                engine::StoreError::NoSuchDestination(_) => {
                    anyhow::anyhow!("there is no destination named {name:?} (`trailsight destinations list` shows them)")
                }
                other => other.into(),
            })?;
            super::access::audit(store.as_ref(), "destination.remove", &name, String::new()).await?;
            println!("removed {name}");
        }
        DestinationsCommand::Test { name, public_url } => {
            let Some(d) = notify.get_destination(&name).await? else {
                bail!("there is no destination named {name:?} (`trailsight destinations list` shows them)");
            };
            match crate::notify::send_sample(&d, public_url.as_ref()).await {
                Ok(()) => println!("sent a sample insight event to {name} ({})", d.target.describe()),
                Err(e) => bail!("sending to {name} failed: {e}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
