//! `trailsight ingest s3://...` against a real S3-compatible server: moto, started here on
//! 127.0.0.1 from the virtualenv `target/s3-venv` (scripts/test.sh creates it). Objects are
//! uploaded with boto3 in CloudTrail's delivery layout; the real binary reads them into a
//! real SQLite file. Without moto the test says so and skips, except under `CI=true`, where
//! it fails.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use engine::store::EventQuery;

const BUCKET: &str = "trail-logs";

/// moto's server, stopped when dropped.
struct Moto {
    child: Child,
    endpoint: String,
    python: PathBuf,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts moto on a free port, or says why it cannot.
fn start_moto() -> Result<Moto, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let bin = target.join("s3-venv/bin");
    if !bin.join("moto_server").exists() {
        return Err(format!(
            "{} is missing; install it with: python3 -m venv {venv} && {venv}/bin/pip install -r server/tests/s3/requirements.txt",
            bin.join("moto_server").display(),
            venv = target.join("s3-venv").display()
        ));
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(bin.join("moto_server"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start moto_server: {e}"))?;
    let moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}"), python: bin.join("python") };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(format!("moto_server did not listen on port {port} within 30 s"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(moto)
}

impl Moto {
    /// Uploads the tree under `dir` as the bucket's keys.
    fn upload(&self, dir: &Path) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/s3/upload.py");
        let out = Command::new(&self.python)
            .arg(script)
            .args([self.endpoint.as_str(), BUCKET, dir.to_str().unwrap()])
            .envs(credentials())
            .output()
            .unwrap();
        assert!(out.status.success(), "upload failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn ingest(&self, db: &Path) -> (Output, serde_json::Value) {
        let out = Command::new(env!("CARGO_BIN_EXE_trailsight"))
            .args(["ingest", "--trail", "prod", "--json", "--endpoint-url", &self.endpoint])
            .arg(format!("s3://{BUCKET}/logs"))
            .env("TRAILSIGHT_DB", format!("sqlite://{}", db.display()))
            .env("RUST_LOG", "warn")
            .envs(credentials())
            .output()
            .unwrap();
        let summary = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("no JSON summary; stderr: {}", String::from_utf8_lossy(&out.stderr)));
        (out, summary)
    }
}

fn credentials() -> [(&'static str, &'static str); 3] {
    [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_REGION", "us-east-1")]
}

/// The real records of the bundled Invictus fixture.
fn fixture_records() -> Vec<serde_json::Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/fixtures/invictus/attack-bursts.json.gz");
    let text = std::io::read_to_string(flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["Records"].as_array().unwrap().clone()
}

/// Writes `records` as a gzip CloudTrail file at `key` under `root`.
fn put(root: &Path, key: &str, records: &[serde_json::Value]) {
    let path = root.join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(serde_json::json!({ "Records": records }).to_string().as_bytes()).unwrap();
    std::fs::write(path, gz.finish().unwrap()).unwrap();
}

async fn stored_ids(db: &Path) -> usize {
    let store = engine::open_store(&format!("sqlite://{}", db.display())).await.unwrap();
    let query = EventQuery { trail: Some("prod".into()), limit: 10_000, ..Default::default() };
    store.list_events(&query).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_run_reads_only_the_new_objects() {
    let moto = match start_moto() {
        Ok(moto) => moto,
        // The README's test command installs moto, so in CI a missing moto is a failure,
        // not a quiet pass; a bare `cargo test` elsewhere says why it skipped.
        Err(why) if std::env::var("CI").as_deref() == Ok("true") => panic!("moto is required in CI: {why}"),
        Err(why) => return println!("SKIPPED a_second_run_reads_only_the_new_objects: {why}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s3.db");
    let records = fixture_records();
    let chunk: Vec<&[serde_json::Value]> = records.chunks(30).collect(); // 174 records: 6 chunks
    let account = "logs/AWSLogs/111122223333/CloudTrail/us-east-1";
    let org = "logs/AWSLogs/o-abc123def4/444455556666/CloudTrail/eu-west-1";

    // First delivery: two days of one account, a day of an organization trail's member
    // account, a digest (never read), and a file outside the trail's prefix (never read).
    let first = dir.path().join("first");
    put(&first, &format!("{account}/2023/07/09/111122223333_CloudTrail_us-east-1_20230709T1200Z_a.json.gz"), chunk[0]);
    put(&first, &format!("{account}/2023/07/10/111122223333_CloudTrail_us-east-1_20230710T0900Z_b.json.gz"), chunk[1]);
    put(&first, &format!("{org}/2023/07/10/444455556666_CloudTrail_eu-west-1_20230710T0900Z_c.json.gz"), chunk[2]);
    put(&first, "logs/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/07/10/digest.json.gz", chunk[5]);
    put(&first, "other/AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/x.json.gz", chunk[5]);
    moto.upload(&first);

    let (out, summary) = moto.ingest(&db);
    assert_eq!(out.status.code(), Some(0), "{summary}");
    assert_eq!((summary["files"].as_u64(), summary["records_stored"].as_u64()), (Some(3), Some(90)), "{summary}");
    assert_eq!(stored_ids(&db).await, 90);

    // Second delivery: a late file for an open day, a new day, and a corrupt object.
    let second = dir.path().join("second");
    put(&second, &format!("{account}/2023/07/10/111122223333_CloudTrail_us-east-1_20230710T0855Z_late.json.gz"), chunk[3]);
    put(&second, &format!("{org}/2023/07/11/444455556666_CloudTrail_eu-west-1_20230711T0000Z_d.json.gz"), chunk[5]);
    let broken = format!("{org}/2023/07/11/444455556666_CloudTrail_eu-west-1_20230711T0005Z_broken.json.gz");
    put(&second, &broken, chunk[4]);
    let path = second.join(&broken);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    moto.upload(&second);

    let (out, summary) = moto.ingest(&db);
    assert_eq!(out.status.code(), Some(1), "the corrupt object is a rejection: {summary}");
    assert_eq!(summary["files"], 3, "only the new objects are read: {summary}");
    assert_eq!((summary["records_stored"].as_u64(), summary["duplicates_skipped"].as_u64()), (Some(54), Some(0)), "{summary}");
    let rejection = &summary["rejections"][0];
    assert_eq!(rejection["input"], format!("s3://{BUCKET}/{broken}"));
    assert!(rejection["reason"].as_str().unwrap().contains("truncated or corrupt"), "{rejection}");
    assert_eq!(stored_ids(&db).await, 144);

    // Nothing new: nothing read, not even the rejected object (reading it again cannot help).
    let (out, summary) = moto.ingest(&db);
    assert_eq!((out.status.code(), summary["files"].as_u64()), (Some(0), Some(0)), "{summary}");
}

#[tokio::test(flavor = "multi_thread")]
async fn follow_reads_objects_as_they_arrive() {
    let moto = match start_moto() {
        Ok(moto) => moto,
        Err(why) if std::env::var("CI").as_deref() == Ok("true") => panic!("moto is required in CI: {why}"),
        Err(why) => return println!("SKIPPED follow_reads_objects_as_they_arrive: {why}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("follow.db");
    let records = fixture_records();
    let chunk: Vec<&[serde_json::Value]> = records.chunks(30).collect();
    let day = "logs/AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10";
    let first = dir.path().join("first");
    put(&first, &format!("{day}/111122223333_CloudTrail_us-east-1_20230710T0900Z_a.json.gz"), chunk[0]);
    moto.upload(&first);

    let mut follower = Command::new(env!("CARGO_BIN_EXE_trailsight"))
        .args(["ingest", "--trail", "prod", "--follow", "--poll-secs", "0.2", "--endpoint-url", &moto.endpoint])
        .arg(format!("s3://{BUCKET}/logs"))
        .env("TRAILSIGHT_DB", format!("sqlite://{}", db.display()))
        .env("RUST_LOG", "warn")
        .envs(credentials())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let wait_for = async |want: usize| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !db.exists() || stored_ids(&db).await != want {
            assert!(Instant::now() < deadline, "{want} records not stored within a minute");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    wait_for(30).await;
    // A new object, delivered while it watches: read at its next poll, without a restart.
    let second = dir.path().join("second");
    put(&second, &format!("{day}/111122223333_CloudTrail_us-east-1_20230710T1000Z_b.json.gz"), chunk[1]);
    moto.upload(&second);
    wait_for(60).await;
    assert!(follower.try_wait().unwrap().is_none(), "--follow keeps running");
    let _ = follower.kill();
    let _ = follower.wait();
}
