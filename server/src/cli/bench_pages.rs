//! `trailsight bench-pages`: server time per dashboard page with about a million events and
//! a few hundred insights stored in SQLite, measured through the real router (no socket, no
//! browser: what the server spends). Prints p50 / p95 / max per page.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use axum::body::Body;
use axum::http::Request;
use clap::Args;
use engine::demo::{self, DemoPlan};
use engine::ingest::{ingest_paths_with, IngestOptions};
use tower::ServiceExt;

#[derive(Args)]
pub struct BenchPagesArgs {
    /// How many events to store (time-shifted copies of real records), besides the demo.
    #[arg(long, default_value_t = 1_000_000)]
    records: usize,
    /// How many insights to store in all (the demo's real ones, then copies of them).
    #[arg(long, default_value_t = 300)]
    insights: usize,
    /// Timed requests per page.
    #[arg(long, default_value_t = 30)]
    requests: usize,
    /// A directory of real CloudTrail logs to copy records from (searched recursively).
    #[arg(long, env = "TRAILSIGHT_BENCH_DATA", default_value = "../shared/data/cloudtrail")]
    data: PathBuf,
    /// Where the generated logs and the database are kept between runs.
    #[arg(long, default_value = "target/bench-pages")]
    work_dir: PathBuf,
}

/// Builds (once) the database the pages are timed on.
async fn database(args: &BenchPagesArgs) -> anyhow::Result<std::sync::Arc<dyn engine::Store>> {
    let db = args.work_dir.join(format!("pages-{}-{}-30d.db", args.records, args.insights));
    let ready = db.with_extension("complete");
    let store = engine::open_store(&format!("sqlite://{}", db.display())).await?;
    if ready.exists() {
        eprintln!("reusing {}", db.display());
        return Ok(store);
    }
    let mut log = |line: &str| eprintln!("{line}");
    // The events are the last 30 days' history, as a team's trail holds it.
    let end = chrono::Utc::now().timestamp_millis();
    let timeline = engine::ingest::bench::Timeline::LastDays { end_ms: end, days: 30 };
    let (tree, _) = engine::ingest::bench::build_tree(&args.data, args.records, timeline, &args.work_dir, &mut log)?;
    eprintln!("storing {} events (takes a minute or two)", args.records);
    ingest_paths_with(store.as_ref(), "bench", vec![tree], &IngestOptions::default(), |_| {}).await?;
    eprintln!("storing the demo history and detecting its insights");
    demo::load(store.as_ref(), "demo", &DemoPlan::ending_at(42, end)).await?;
    engine::detect::detect_trails(store.as_ref(), Some("demo"), end).await?;
    let real = store.list_insights(&Default::default()).await?;
    anyhow::ensure!(!real.is_empty(), "the demo yielded no insight to copy");
    for n in real.len()..args.insights {
        let mut copy = real[n % real.len()].clone();
        copy.shared_event_id = format!("bench-{n:05}-{}", copy.shared_event_id);
        copy.start_minute -= 60 * n as i64;
        copy.end_minute = copy.end_minute.map(|m| m - 60 * n as i64);
        store.save_insight(&copy, 0).await?;
    }
    std::fs::write(&ready, b"").context("marking the benchmark database complete")?;
    Ok(store)
}

pub async fn run(args: BenchPagesArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.work_dir)?;
    let store = database(&args).await?;
    let insight = store
        .list_insights(&engine::store::InsightFilter { trail: Some("demo".into()), ..Default::default() })
        .await?
        .into_iter()
        .find(|i| i.key.event_name == "PutParameter")
        .context("the demo's PutParameter insight is missing")?;
    let event = store
        .list_events(&engine::store::EventQuery { limit: 1, ..Default::default() })
        .await?
        .pop()
        .context("no events stored")?;
    let id = &insight.shared_event_id;
    let pages = [
        ("home", "/".to_owned()),
        ("insights", "/insights".to_owned()),
        ("insights, filtered", "/insights?attr=name&q=PutParameter&type=ApiCallRateInsight".to_owned()),
        ("insights, page 5", "/insights?page=5".to_owned()),
        ("insight (graph, attributions)", format!("/insights/{id}")),
        ("insight, 1-week graph", format!("/insights/{id}?span=1w")),
        ("insight, CloudTrail Events", format!("/insights/{id}?tab=events")),
        ("insight, records", format!("/insights/{id}?tab=records")),
        ("event history", "/events".to_owned()),
        ("event history by name", "/events?attr=EventName&value=Decrypt".to_owned()),
        ("event history by user", "/events?attr=Username&value=bert-jan".to_owned()),
        ("event", format!("/events/{}", event.record.event_id)),
        ("settings", "/settings".to_owned()),
        ("insights.csv", "/insights.csv".to_owned()),
    ];
    let site = args.work_dir.join("site");
    let router = crate::web::router(store, &site, crate::web::WebSettings::for_addr("127.0.0.1:0".parse()?));
    println!("{:<32} {:>9} {:>9} {:>9}", "page (server time, ms)", "p50", "p95", "max");
    let mut worst_p95: f64 = 0.0;
    for (name, uri) in pages {
        let mut times = Vec::with_capacity(args.requests);
        for i in 0..args.requests + 3 {
            let started = Instant::now();
            let response = router.clone().oneshot(Request::get(&uri).body(Body::empty())?).await?;
            let status = response.status();
            axum::body::to_bytes(response.into_body(), usize::MAX).await?;
            anyhow::ensure!(status.is_success(), "{uri} answered {status}");
            if i >= 3 {
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        worst_p95 = worst_p95.max(at(0.95));
        println!("{name:<32} {:>9.1} {:>9.1} {:>9.1}", at(0.5), at(0.95), times[times.len() - 1]);
    }
    println!("slowest p95: {worst_p95:.1} ms (target: under 50 ms; build with --release for real figures)");
    Ok(ExitCode::SUCCESS)
}
