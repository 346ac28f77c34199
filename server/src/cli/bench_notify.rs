//! `trailsight bench-notify`: how long a burst pushed to a serving trailsight takes to reach
//! a webhook. Everything is real and in this process: a SQLite file with eight days of quiet
//! history (past detection's warm-up), the web server with push, background detection each
//! second, the delivery worker, and a webhook receiver on 127.0.0.1. Each burst is 40 calls
//! of a new API, stamped in the minute that just closed (as late-delivered logs are), so
//! detection can judge it at once. Prints, over the bursts, p50 and p95 of push → insight
//! stored, stored → delivered, and push → delivered.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use engine::notify::{Destination, Target};

#[derive(Args)]
pub struct BenchNotifyArgs {
    /// How many bursts to push, one after the other.
    #[arg(long, default_value_t = 20)]
    bursts: usize,
    /// Where the scratch database goes (replaced on each run).
    #[arg(long, default_value = "target/bench-notify")]
    work_dir: std::path::PathBuf,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

const TRAIL: &str = "bench-notify";

fn record(id: &str, time_ms: i64, name: &str) -> serde_json::Value {
    serde_json::json!({
        "eventVersion": "1.09", "eventID": id, "eventTime": engine::time::format_millis(time_ms),
        "eventSource": "bench.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
        "recipientAccountId": "123456789012", "readOnly": false, "eventType": "AwsApiCall",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/bench"},
    })
}

/// p50 and p95 of `values` (seconds), nearest rank.
fn percentiles(values: &[f64]) -> (f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = |p: f64| sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
    (rank(0.50), rank(0.95))
}

pub async fn run(args: BenchNotifyArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.bursts > 0, "--bursts must be at least 1");
    std::fs::create_dir_all(&args.work_dir).with_context(|| format!("creating {}", args.work_dir.display()))?;
    let db = args.work_dir.join("bench-notify.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let store = engine::open_store(&format!("sqlite://{}", db.display())).await?;
    store.create_trail(&engine::store::NewTrail::for_ingest(TRAIL)).await?;
    // Eight quiet days: one call every half hour, so detection judges minutes at once.
    let now = chrono::Utc::now().timestamp_millis();
    let history: Vec<serde_json::Value> =
        (1..=8 * 48).map(|i| record(&format!("quiet-{i}"), now - i * 30 * 60_000, "DescribeThings")).collect();
    let parsed = engine::ingest::parse_document(serde_json::to_string(&history)?.as_bytes())?;
    store.insert_events(TRAIL, &parsed.records).await?;

    // The webhook receiver: notes when each API's Start arrives.
    let (arrived_tx, mut arrived) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let arrived_tx = arrived_tx.clone();
            async move {
                let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let details = &event["detail"]["insightDetails"];
                if details["state"] == "Start" {
                    let _ = arrived_tx.send((details["eventName"].as_str().unwrap_or_default().to_owned(), Instant::now()));
                }
                "ok"
            }
        }),
    );
    let hook_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook_url = format!("http://{}/hook", hook_listener.local_addr()?);
    tokio::spawn(async move { axum::serve(hook_listener, receiver).await });
    store
        .notify()
        .add_destination(&Destination {
            name: "bench".into(),
            trail: None,
            target: Target::Webhook { url: hook_url, secret: Some("bench".into()) },
            max_age_ms: Destination::DEFAULT_MAX_AGE_MS,
            group_minutes: 0,
            max_attempts: 3,
            created_ms: now - 60_000,
            created_by: "bench".into(),
        })
        .await?;

    // The server as `serve` runs it (loopback, so open), with detection every second.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = crate::web::router(store.clone(), &args.work_dir, crate::web::WebSettings::for_addr(addr));
    tokio::spawn(crate::listen::serve(listener, app, None, 64, std::future::pending()));
    let schedule = crate::background::DetectionSchedule { period: Duration::from_secs(1), lease_term: Duration::from_secs(3) };
    tokio::spawn(crate::background::BackgroundDetection::new(store.clone(), schedule).run());
    tokio::spawn(crate::notify::Notifier::new(store.clone(), crate::notify::NotifySettings::default()).run());

    let push_url = format!("http://{addr}/api/v1/trails/{TRAIL}/events");
    let (mut to_stored, mut to_delivered, mut total) = (Vec::new(), Vec::new(), Vec::new());
    for burst in 0..args.bursts {
        let name = format!("BenchCall{burst:03}");
        let closed_minute_ms = (chrono::Utc::now().timestamp_millis() / 60_000 - 1) * 60_000;
        let calls: Vec<serde_json::Value> = (0..40)
            .map(|k| record(&format!("{name}-{k}"), closed_minute_ms + 20_000 + burst as i64 * 100 + k, &name))
            .collect();
        let body = serde_json::to_vec(&calls)?;
        let pushed = Instant::now();
        let url = push_url.clone();
        let status = tokio::task::spawn_blocking(move || {
            ureq::post(&url).header("content-type", "application/json").send(&body[..]).map(|r| r.status().as_u16())
        })
        .await??;
        anyhow::ensure!(status == 200, "the push answered {status}");
        let filter = engine::store::InsightFilter { event_name: Some(name.clone()), ..Default::default() };
        let deadline = pushed + Duration::from_secs(120);
        let stored = loop {
            if store.count_insights(&filter).await? > 0 {
                break Instant::now();
            }
            anyhow::ensure!(Instant::now() < deadline, "no insight on {name} within two minutes of its push");
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let delivered = loop {
            let (api, at) = tokio::time::timeout_at(deadline.into(), arrived.recv())
                .await
                .with_context(|| format!("the Start of {name} did not reach the webhook within two minutes"))?
                .context("the receiver stopped")?;
            if api == name {
                break at;
            }
        };
        to_stored.push(stored.duration_since(pushed).as_secs_f64());
        to_delivered.push(delivered.saturating_duration_since(stored).as_secs_f64());
        total.push(delivered.duration_since(pushed).as_secs_f64());
        eprintln!("burst {}/{}: delivered {:.2} s after the push", burst + 1, args.bursts, total.last().unwrap());
    }
    let figures = [("push to stored", &to_stored), ("stored to delivered", &to_delivered), ("push to delivered", &total)];
    if args.json {
        let report: serde_json::Map<String, serde_json::Value> = figures
            .iter()
            .map(|(what, values)| {
                let (p50, p95) = percentiles(values);
                (what.replace(' ', "_"), serde_json::json!({"p50_seconds": p50, "p95_seconds": p95}))
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({"bursts": args.bursts, "figures": report}))?);
    } else {
        println!("{} bursts of 40 calls, detection every 1 s, delivery worker polling every 1 s:", args.bursts);
        for (what, values) in figures {
            let (p50, p95) = percentiles(values);
            println!("  {what:<20} p50 {p50:6.2} s   p95 {p95:6.2} s");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(super::percentiles(&values), (10.0, 19.0));
        assert_eq!(super::percentiles(&[3.0]), (3.0, 3.0));
    }
}
