//! The command-line contract, run as a user runs it: the real binary, real files, a real
//! SQLite database.

mod expected;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use expected::{attack_insights, attack_records, of_record, ATTACK};

fn trailsight(db: &Path, args: &[&str]) -> Output {
    trailsight_with_stdin(db, args, b"")
}

fn trailsight_with_stdin(db: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trailsight"))
        .args(args)
        .env("TRAILSIGHT_DB", format!("sqlite://{}", db.display()))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn bad_files_are_named_with_their_reason_and_good_files_still_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("AWSLogs/123837392027/CloudTrail/us-east-1/2023/07/10");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("good.json.gz"), ATTACK).unwrap();
    std::fs::write(logs.join("truncated.json.gz"), &ATTACK[..ATTACK.len() / 2]).unwrap();
    std::fs::write(logs.join("invalid.json"), b"{\"Records\": [{\"eventTime\": ").unwrap();
    std::fs::write(logs.join("empty.json"), b"").unwrap();
    std::fs::write(
        logs.join("one-bad-record.json"),
        br#"{"Records":[{"eventID":"x1","eventTime":"2023-07-10T11:00:00Z","eventSource":"s3.amazonaws.com","eventName":"CreateBucket"},
                         {"eventID":"x2","eventTime":"not a time","eventSource":"s3.amazonaws.com","eventName":"CreateBucket"}]}"#,
    )
    .unwrap();
    let db = dir.path().join("t.db");
    let root = dir.path().join("AWSLogs");

    let out = trailsight(&db, &["ingest", "--trail", "t", root.to_str().unwrap()]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "rejections make the exit status 1\n{stderr}");
    // The attack's records, and the one good record of one-bad-record.json.
    let good = attack_records().len() + 1;
    assert!(stdout.contains(&format!("5 files, {good} records stored, 0 duplicates skipped, 4 rejected")), "{stdout}");
    assert!(stderr.contains("truncated.json.gz: gzip data is truncated or corrupt"), "{stderr}");
    assert!(stderr.contains("invalid.json: invalid JSON"), "{stderr}");
    assert!(stderr.contains("empty.json: the file is empty"), "{stderr}");
    assert!(stderr.contains("one-bad-record.json: record 1: field `eventTime` is not an RFC 3339 timestamp"), "{stderr}");

    // The same tree again: everything valid is already there, nothing is stored twice.
    let again = trailsight(&db, &["ingest", "--trail", "t", "--json", root.to_str().unwrap()]);
    let summary: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(summary["records_stored"], 0);
    assert_eq!(summary["duplicates_skipped"], good);
    assert_eq!(summary["rejections"].as_array().unwrap().len(), 4);
    assert_eq!(summary["rejections"][0]["input"].as_str().unwrap().rsplit('/').next(), Some("empty.json"));
}

#[test]
fn stdin_takes_one_record_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let lines = b"{\"eventID\":\"a\",\"eventTime\":\"2024-01-01T00:00:00Z\",\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"CreateUser\"}\n\
                  {\"eventID\":\"b\",\"eventTime\":\"2024-01-01T00:00:09Z\",\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"CreateUser\"}\n";
    let out = trailsight_with_stdin(&db, &["ingest", "--trail", "t", "-"], lines);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("1 files, 2 records stored"), "{}", text(&out.stdout));
}

#[test]
fn demo_detect_and_insights_json_form_complete_start_end_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let demo = trailsight(&db, &["demo", "--seed", "7", "--end", "2026-03-10T18:00:00Z"]);
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    let expected = attack_insights();
    let n = expected.len();
    assert!(text(&demo.stdout).contains(&format!("{n} insights, {n} new")), "{}", text(&demo.stdout));

    let rerun = trailsight(&db, &["detect", "--now", "2026-03-10T18:00:00Z"]);
    assert!(text(&rerun.stdout).contains(&format!("{n} insights, 0 new or newly ended")), "{}", text(&rerun.stdout));

    let out = trailsight(&db, &["insights", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let records = doc["Records"].as_array().unwrap();
    let found: std::collections::BTreeSet<_> = records.iter().map(of_record).collect();
    assert_eq!(found, expected, "the insights differ from the attack's bursts");
    assert_eq!(records.len(), 2 * n, "a Start and an End each (every burst lasts one minute)");
    for start in records.iter().filter(|r| r["insightDetails"]["state"] == "Start") {
        let id = &start["sharedEventID"];
        let end = records
            .iter()
            .find(|r| r["sharedEventID"] == *id && r["insightDetails"]["state"] == "End")
            .expect("every Start has its End");
        assert!(end["eventTime"].as_str() > start["eventTime"].as_str());
        assert_eq!(start["eventCategory"], "Insight");
    }

    let unknown = trailsight(&db, &["detect", "--trail", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains("no trail named \"nope\""), "{}", text(&unknown.stderr));
}

#[test]
fn a_bad_database_url_says_what_to_use() {
    let out = Command::new(env!("CARGO_BIN_EXE_trailsight"))
        .args(["insights", "--db", "mysql://x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("use sqlite://PATH"), "{}", text(&out.stderr));
}

#[test]
fn eval_prints_the_table_and_a_json_summary_and_exits_zero_when_targets_are_met() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("unused.db");
    let table = trailsight(&db, &["eval", "--seed", "1"]);
    assert!(table.status.success(), "{}", text(&table.stdout));
    let out = text(&table.stdout);
    for row in ["precision", "recall", "F1", "false per 100 series-days", "median delay", "p90 delay"] {
        assert!(out.contains(row), "missing row {row}: {out}");
    }
    assert!(out.contains("naive (7-day mean + 3 sd)"), "{out}");
    let json = trailsight(&db, &["eval", "--seed", "1", "--json"]);
    let summary: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(summary["targets_met"], true);
    assert!(summary["scores"][0]["positives"].as_u64().unwrap() >= 20);
    assert!(!db.exists(), "the evaluation needs no database");
}
