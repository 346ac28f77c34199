//! `trailsight ingest` on bad input and with `--follow`, run as a user runs it: the real
//! binary, real files, a real SQLite database.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use engine::store::EventQuery;

fn trailsight(db: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trailsight"));
    cmd.env("TRAILSIGHT_DB", format!("sqlite://{}", db.display())).env("RUST_LOG", "warn");
    cmd
}

const GOOD: &str = r#"{"eventID":"g1","eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser"}"#;

#[test]
fn every_bad_input_is_named_with_file_record_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("mixed.json"),
        format!(r#"{{"Records":[{GOOD},"just text",{{"eventTime":5,"eventSource":"a","eventName":"X"}},{{"eventTime":"2024-01-01T00:00:00Z","eventName":"X"}}]}}"#),
    )
    .unwrap();
    std::fs::write(logs.join("huge.json"), vec![b' '; 3 << 20]).unwrap();
    let db = dir.path().join("t.db");
    let out = trailsight(&db)
        .args(["ingest", "--trail", "t", "--json", "--max-file-mb", "2", logs.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "rejections make the exit status 1");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["records_stored"], 1);
    let rejections: Vec<String> = summary["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let file = r["input"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
            match r["record"].as_u64() {
                Some(i) => format!("{file} #{i}: {}", r["reason"].as_str().unwrap()),
                None => format!("{file}: {}", r["reason"].as_str().unwrap()),
            }
        })
        .collect();
    assert_eq!(rejections.len(), 4, "{rejections:#?}");
    assert!(rejections[0].starts_with("huge.json: larger than the limit of 2 MiB; split it"), "{}", rejections[0]);
    assert_eq!(rejections[1], "mixed.json #1: not a JSON object (a string)");
    assert!(rejections[2].starts_with("mixed.json #2: a field has the wrong type: invalid type: integer `5`"), "{}", rejections[2]);
    assert!(rejections[3].starts_with("mixed.json #3: missing required field `eventSource`"), "{}", rejections[3]);
}

#[test]
fn a_trail_name_the_settings_page_would_refuse_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one.json");
    std::fs::write(&file, GOOD).unwrap();
    let db = dir.path().join("t.db");
    let out = trailsight(&db).args(["ingest", "--trail", "prod/eu west", file.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "an error, as for any bad argument");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--trail") && stderr.contains("1 to 128 letters, digits, periods, underscores or dashes"), "{stderr}");
    assert!(!db.exists(), "refused before the database is opened");
}

#[tokio::test(flavor = "multi_thread")]
async fn follow_ingests_files_as_they_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("AWSLogs");
    std::fs::create_dir_all(&logs).unwrap();
    let db = dir.path().join("t.db");
    let mut child = trailsight(&db)
        .args(["ingest", "--trail", "live", "--follow", "--poll-secs", "0.1", logs.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stored = |ids: &'static [&'static str]| {
        let db = db.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if db.exists() {
                    let store = engine::open_store(&format!("sqlite://{}", db.display())).await.unwrap();
                    let query = EventQuery { trail: Some("live".into()), limit: 100, ..Default::default() };
                    let mut found: Vec<String> =
                        store.list_events(&query).await.unwrap().into_iter().map(|e| e.record.event_id).collect();
                    found.sort();
                    if found == ids {
                        return true;
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            false
        }
    };
    std::fs::write(logs.join("first.json"), GOOD).unwrap();
    assert!(stored(&["g1"]).await, "the first file was not ingested");
    let day = logs.join("111122223333/CloudTrail/us-east-1/2024/01/01");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::write(day.join("second.json"), GOOD.replace("g1", "g2")).unwrap();
    assert!(stored(&["g1", "g2"]).await, "a file arriving later was not ingested");
    child.kill().unwrap();
    child.wait().unwrap();
}
