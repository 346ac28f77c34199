//! Crash safety, tested the hard way: a real `trailsight ingest` process killed with SIGKILL
//! in the middle of a large tree, then the same command again. The stored events and the
//! insights detected from them must be exactly those of a run that was never interrupted.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use engine::demo::{self, DemoPlan};
use engine::store::{EventQuery, Store};

const END: &str = "2026-03-10T18:00:00Z";
const END_MS: i64 = 1_773_165_600_000;

/// Two weeks of demo history (with the real attack burst) as hourly gzip files in the S3 layout.
fn write_tree(root: &Path) -> usize {
    let mut records = 0;
    for (hour, doc) in demo::generate(&DemoPlan::ending_at(7, END_MS)) {
        let stamp = engine::time::format_minute(hour);
        let day = root.join(format!(
            "AWSLogs/123837392027/CloudTrail/us-east-1/{}/{}/{}",
            &stamp[..4],
            &stamp[5..7],
            &stamp[8..10]
        ));
        std::fs::create_dir_all(&day).unwrap();
        let name = format!("123837392027_CloudTrail_us-east-1_{}_demo.json.gz", stamp.replace([':', '-'], ""));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&doc).unwrap();
        std::fs::write(day.join(name), gz.finish().unwrap()).unwrap();
        records += engine::ingest::parse_document(&doc).unwrap().records.len();
    }
    records
}

fn trailsight(db: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trailsight"));
    cmd.args(args)
        .env("TRAILSIGHT_DB", format!("sqlite://{}", db.display()))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

async fn open(db: &Path) -> std::sync::Arc<dyn Store> {
    engine::open_store(&format!("sqlite://{}", db.display())).await.unwrap()
}

/// Everything a user can see of the stored events and insights, in a stable order.
async fn contents(db: &Path) -> (Vec<engine::Record>, Vec<engine::store::StoredInsight>) {
    let store = open(db).await;
    let query = EventQuery { trail: Some("prod".into()), limit: u32::MAX, ..Default::default() };
    let mut events: Vec<_> = store.list_events(&query).await.unwrap().into_iter().map(|e| e.record).collect();
    events.sort_by(|a, b| a.event_id.cmp(&b.event_id));
    let insights = store.list_insights(&Default::default()).await.unwrap();
    (events, insights)
}

fn ingest_and_detect(db: &Path, tree: &Path) -> serde_json::Value {
    let out = trailsight(db, &["ingest", "--trail", "prod", "--json", tree.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let detect = trailsight(db, &["detect", "--now", END]).output().unwrap();
    assert!(detect.status.success(), "{}", String::from_utf8_lossy(&detect.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_mid_ingest_then_rerun_equals_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("logs");
    let total = write_tree(&tree);

    let clean_db = dir.path().join("clean.db");
    ingest_and_detect(&clean_db, &tree);
    let clean = contents(&clean_db).await;
    assert_eq!(clean.0.len(), total);
    assert!(!clean.1.is_empty(), "the history holds insights to compare");

    // Kill the second ingest as soon as its first batch is committed.
    let crash_db: PathBuf = dir.path().join("crash.db");
    let mut child = trailsight(&crash_db, &["ingest", "--trail", "prod", tree.to_str().unwrap()]).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(child.try_wait().unwrap().is_none(), "ingest finished before it could be killed: make the tree larger");
        assert!(Instant::now() < deadline, "no batch was committed within two minutes");
        if crash_db.exists() {
            let query = EventQuery { trail: Some("prod".into()), limit: 1, ..Default::default() };
            if !open(&crash_db).await.list_events(&query).await.unwrap().is_empty() {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no destructor, no rollback, no flush runs
    child.wait().unwrap();

    let rerun = ingest_and_detect(&crash_db, &tree);
    let stored = rerun["records_stored"].as_u64().unwrap() as usize;
    let skipped = rerun["duplicates_skipped"].as_u64().unwrap() as usize;
    assert!(stored > 0 && skipped > 0, "the kill landed mid-way: {stored} stored now, {skipped} before");
    assert_eq!(stored + skipped, total);
    let recovered = contents(&crash_db).await;
    assert_eq!(recovered.0.len(), clean.0.len());
    assert!(recovered.0 == clean.0, "stored events differ from the uninterrupted run");
    assert_eq!(recovered.1, clean.1, "insights differ from the uninterrupted run");
}
