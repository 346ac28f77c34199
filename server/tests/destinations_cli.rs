//! `trailsight destinations ...` as an admin runs it: the real binary on a real SQLite file,
//! sending samples to real receivers on 127.0.0.1 (an HTTP server for Slack, aiosmtpd for
//! e-mail, moto for S3, a directory), and refusing what cannot work with a reason.

mod receivers;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};

use receivers::{free_port, start_listening, venv_program, Receiver};

fn trailsight(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trailsight"))
        .args(args)
        .env("TRAILSIGHT_DB", format!("sqlite://{}", db.display()))
        .env("RUST_LOG", "warn")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("TRAILSIGHT_DESTINATION_SECRET")
        .env_remove("TRAILSIGHT_PUBLIC_URL")
        .env_remove("TRAILSIGHT_DESTINATION_URL")
        .env_remove("TRAILSIGHT_DESTINATION_SMTP")
        .output()
        .unwrap()
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "failed: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn refused(o: Output) -> String {
    assert!(!o.status.success(), "succeeded: {}", String::from_utf8_lossy(&o.stdout));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes).read_to_string(&mut text).unwrap();
    text
}

/// `{"Records":[<the sample Start>]}`, checked field by field against what the test asked for.
fn assert_sample_records(text: &str) {
    let file: serde_json::Value = serde_json::from_str(text).unwrap();
    let records = file["Records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!((r["eventType"].as_str(), r["eventCategory"].as_str()), (Some("AwsCloudTrailInsight"), Some("Insight")));
    assert_eq!(r["insightDetails"]["state"], "Start");
    assert_eq!(r["insightDetails"]["eventName"], "RunInstances");
}

#[test]
fn destinations_are_added_listed_tested_and_removed_without_showing_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let slack = Receiver::start(Vec::new());
    let secret_path = "/services/T000/B000/XXXXSECRETXXXX";
    let slack_url = slack.url.replace("/hook", secret_path);
    ok(trailsight(&db, &["destinations", "add", "team", "--kind", "slack", "--url", &slack_url]));
    let files = dir.path().join("insight-files");
    ok(trailsight(&db, &["destinations", "add", "archive", "--kind", "directory", "--path", files.to_str().unwrap()]));
    let hook = ok(trailsight(&db, &["destinations", "add", "siem", "--kind", "webhook", "--url", "https://siem.example.com/in?key=abc", "--secret", "s3cret"]));
    assert_eq!(hook.trim(), "added siem: webhook https://siem.example.com/… (signed) (every trail)");

    // Mistakes name the option to fix.
    assert!(refused(trailsight(&db, &["destinations", "add", "x", "--kind", "pager"])).contains("use webhook, slack, email, s3 or directory"));
    assert!(refused(trailsight(&db, &["destinations", "add", "x", "--kind", "webhook"])).contains("--url is needed"));
    assert!(refused(trailsight(&db, &["destinations", "add", "team", "--kind", "directory", "--path", "/tmp"])).contains("already exists"));
    assert!(refused(trailsight(&db, &["destinations", "add", "x", "--kind", "slack", "--url", "http://x", "--trail", "nope"])).contains("no trail named \"nope\""));
    assert!(refused(trailsight(&db, &["destinations", "test", "nope"])).contains("destinations list"));

    let list = ok(trailsight(&db, &["destinations", "list"]));
    assert!(!list.contains("XXXXSECRET") && !list.contains("s3cret") && !list.contains("key=abc"), "{list}");
    assert!(list.contains("team\tslack http://127.0.0.1:"), "{list}");

    // Slack: a message a person can act on, with a link to the insight.
    ok(trailsight(&db, &["destinations", "test", "team", "--public-url", "https://trailsight.example.com/"]));
    let got = slack.wait_for(1);
    assert_eq!(got[0].path, secret_path);
    let message = got[0].json();
    let text = message.to_string();
    assert!(message["text"].as_str().unwrap().contains("Unusual call rate: ec2 RunInstances"), "{text}");
    for expected in ["40 calls/min in its first minute, baseline 0.5 calls/min", "123456789012 / us-east-1 / sample",
        "arn:aws:iam::123456789012:user/trailsight-test", "https://trailsight.example.com/insights/"] {
        assert!(text.contains(expected), "{expected:?} missing from {text}");
    }

    // Directory: the file CloudTrail would write, at the path CloudTrail would use.
    ok(trailsight(&db, &["destinations", "test", "archive"]));
    let written: Vec<_> = walk(&files);
    assert_eq!(written.len(), 1, "{written:?}");
    let key = written[0].strip_prefix(&files).unwrap().to_string_lossy().into_owned();
    assert!(regex_like(&key), "{key}");
    assert_sample_records(&gunzip(&std::fs::read(&written[0]).unwrap()));

    // A receiver that refuses: the error says what it answered.
    let failing = Receiver::start(vec![receivers::Answer::Status(404)]);
    ok(trailsight(&db, &["destinations", "add", "gone", "--kind", "webhook", "--url", &failing.url]));
    let why = refused(trailsight(&db, &["destinations", "test", "gone"]));
    assert!(why.contains("answered 404"), "{why}");

    ok(trailsight(&db, &["destinations", "remove", "siem"]));
    assert!(refused(trailsight(&db, &["destinations", "remove", "siem"])).contains("no destination named \"siem\""));
    assert!(!ok(trailsight(&db, &["destinations", "list"])).contains("siem"));
}

/// `AWSLogs/123456789012/CloudTrail-Insight/us-east-1/YYYY/MM/DD/123456789012_CloudTrail-Insight_us-east-1_YYYYMMDDTHHmmZ_<16 alphanumerics>.json.gz`
/// with the same date in the folders and the name.
fn regex_like(key: &str) -> bool {
    let parts: Vec<&str> = key.split('/').collect();
    let [aws, account, kind, region, y, m, d, name] = parts[..] else { return false };
    let Some(rest) = name.strip_prefix("123456789012_CloudTrail-Insight_us-east-1_") else { return false };
    let Some(rest) = rest.strip_suffix(".json.gz") else { return false };
    let Some((stamp, suffix)) = rest.split_once('_') else { return false };
    (aws, account, kind, region) == ("AWSLogs", "123456789012", "CloudTrail-Insight", "us-east-1")
        && stamp.len() == 14
        && stamp.starts_with(&format!("{y}{m}{d}T"))
        && stamp.ends_with('Z')
        && suffix.len() == 16
        && suffix.chars().all(|c| c.is_ascii_alphanumeric())
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        if entry.file_type().unwrap().is_dir() {
            files.extend(walk(&entry.path()));
        } else {
            files.push(entry.path());
        }
    }
    files
}

#[test]
fn an_email_with_text_and_html_reaches_a_real_smtp_server() {
    let aiosmtpd = match venv_program("aiosmtpd") {
        Ok(p) => p,
        Err(why) => return eprintln!("skipped: {why}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("mail");
    let port = free_port();
    let _smtp = start_listening(&aiosmtpd, &["-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox", maildir.to_str().unwrap()], port);
    let db = dir.path().join("d.db");
    let smtp = format!("smtp://127.0.0.1:{port}");
    ok(trailsight(&db, &["destinations", "add", "sec", "--kind", "email", "--to", "sec@example.com,oncall@example.com", "--from", "trailsight@example.com", "--smtp", &smtp]));
    ok(trailsight(&db, &["destinations", "test", "sec"]));
    let delivered: Vec<_> = walk(&maildir.join("new"));
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    let mail = std::fs::read_to_string(&delivered[0]).unwrap();
    let unfolded = mail.replace("=\r\n", "").replace("=\n", "");
    for expected in ["Subject: Unusual call rate: ec2 RunInstances", "From: trailsight@example.com", "sec@example.com", "oncall@example.com",
        "multipart/alternative", "text/plain", "text/html", "Top identities", "arn:aws:iam::123456789012:user/trailsight-test"] {
        assert!(unfolded.contains(expected), "{expected:?} missing from:\n{mail}");
    }
}

#[test]
fn insight_files_reach_a_real_s3_server_where_cloudtrail_writes_them() {
    let (moto, python) = match (venv_program("moto_server"), venv_program("python")) {
        (Ok(m), Ok(p)) => (m, p),
        (Err(why), _) | (_, Err(why)) => return eprintln!("skipped: {why}"),
    };
    let port = free_port();
    let _s3 = start_listening(&moto, &["-H", "127.0.0.1", "-p", &port.to_string()], port);
    let endpoint = format!("http://127.0.0.1:{port}");
    let boto = |script: &str| {
        let out = Command::new(&python)
            .args(["-c", &format!("import boto3, sys\ns3 = boto3.client('s3', endpoint_url='{endpoint}', region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\n{script}")])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    boto("s3.create_bucket(Bucket='insight-files')");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    ok(trailsight(&db, &["destinations", "add", "s3", "--kind", "s3", "--bucket", "insight-files/team/", "--endpoint-url", &endpoint]));
    ok(trailsight(&db, &["destinations", "test", "s3"]));
    let keys = String::from_utf8(boto("print('\\n'.join(o['Key'] for o in s3.list_objects_v2(Bucket='insight-files').get('Contents', [])))")).unwrap();
    let keys: Vec<&str> = keys.lines().collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let key = keys[0].strip_prefix("team/").unwrap_or_else(|| panic!("not under the prefix: {}", keys[0]));
    assert!(regex_like(key), "{key}");
    let body = boto(&format!("sys.stdout.buffer.write(s3.get_object(Bucket='insight-files', Key='{}')['Body'].read())", keys[0]));
    assert_sample_records(&gunzip(&body));
}
