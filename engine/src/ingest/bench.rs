//! The ingest benchmark: how fast records go from gzip files into SQLite, against the
//! practical limit (decompressing and parsing the same files with no store at all).
//!
//! The data is real: every record found under a directory of CloudTrail logs, sorted by time
//! and copied until the target count is reached, each copy shifted by the whole span of the
//! originals (so the copies follow one another, as a trail's history does) and given fresh
//! `eventID`s, then written as gzip `{"Records":[...]}` files in the S3 delivery layout
//! (`.../YYYY/MM/DD/`), 250 records a file. Walked in path order, the tree is in time order,
//! like a real `AWSLogs/` tree. Generated files are kept and reused by later runs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;

use super::{discover, ingest_paths_with, pipeline, read_document, IngestOptions};
use crate::store::{open_store, StoreError};
use crate::time::{format_millis, parse_millis};

const RECORDS_PER_FILE: usize = 250;
const DAY_MS: i64 = 86_400_000;

/// When the generated records happened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Timeline {
    /// Copies follow one another, each shifted by the originals' whole span (the ingest
    /// benchmark: the files' day folders are as many as a long history's).
    Consecutive,
    /// Spread evenly over the `days` days before `end_ms`, as a trail's recent history is:
    /// what pages are timed on (a page over a history reaching into the 2100s says little).
    LastDays { end_ms: i64, days: i64 },
}

/// The figures one benchmark run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    pub records: u64,
    pub files: usize,
    pub workers: usize,
    /// Decompress + parse into [`crate::Record`] on every worker, nothing stored.
    pub parse_only_per_s: f64,
    /// The same on one thread.
    pub parse_one_thread_per_s: f64,
    /// `ingest` into a fresh SQLite database, commit included.
    pub end_to_end_per_s: f64,
    /// Records per second of CPU time the process used (all threads), for each phase: the
    /// machine's other load does not change these.
    pub parse_only_per_cpu_s: f64,
    pub end_to_end_per_cpu_s: f64,
    /// SQLite alone storing the same rows into the same schema (`INSERT ... SELECT` from the
    /// end-to-end database, as many rows a transaction as ingest's batches): the ceiling for
    /// any writer of this schema on this machine.
    pub sqlite_alone_per_s: f64,
    /// The same end-to-end ingest into Postgres, when a database URL was given.
    pub postgres_end_to_end_per_s: Option<f64>,
    /// The 1-minute load average when the run ended (another build running halves the figures).
    pub load_average: f64,
    pub database_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("no CloudTrail records found under {0}: point --data at a directory of CloudTrail logs")]
    NoRecords(String),
    #[error("writing the benchmark files under {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every record under `data` that ingest accepts, as JSON values in time order, and the
/// shift (whole days covering their span) between consecutive copies.
fn real_records(data: &Path) -> (Vec<Value>, i64) {
    let found = discover(&[data.to_path_buf()]);
    let mut out = Vec::new();
    for input in &found.inputs {
        if let Ok(doc) = read_document(input, super::DEFAULT_MAX_DOCUMENT_BYTES) {
            out.extend(doc.records.into_iter().filter_map(|r| {
                Some((r.event_time_ms, serde_json::from_str::<Value>(&r.raw).ok()?))
            }));
        }
    }
    out.sort_by_key(|(time, _)| *time);
    let span = out.last().map_or(0, |l| l.0) - out.first().map_or(0, |f| f.0);
    (out.into_iter().map(|(_, r)| r).collect(), (span / DAY_MS + 1) * DAY_MS)
}

/// A record moved `shift` ms later, with an eventID of its own (derived from the generated
/// record's position `index`, so every generated record is distinct).
fn shifted(record: &Value, shift: i64, index: usize) -> Value {
    let mut r = record.clone();
    let time = r["eventTime"].as_str().and_then(parse_millis).unwrap_or(0);
    r["eventTime"] = Value::String(format_millis(time + shift));
    let id = r["eventID"].as_str().unwrap_or("").to_owned();
    let name = format!("{id}/{index}");
    r["eventID"] = Value::String(uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()).to_string());
    r
}

/// Writes `target` records (rounded up to whole files) under `dir`; returns the file count.
fn generate(real: &[Value], shift: i64, timeline: Timeline, target: usize, dir: &Path, workers: usize) -> Result<usize, BenchError> {
    let files = target.div_ceil(RECORDS_PER_FILE);
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| BenchError::Io { path: path.clone(), source }
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || -> Result<(), BenchError> {
                    for file in (w..files).step_by(workers) {
                        let first = file * RECORDS_PER_FILE;
                        let records: Vec<Value> = (first..(first + RECORDS_PER_FILE).min(target))
                            .map(|i| {
                                let original = &real[i % real.len()];
                                match timeline {
                                    Timeline::Consecutive => shifted(original, (i / real.len()) as i64 * shift, i),
                                    Timeline::LastDays { end_ms, days } => {
                                        let at = end_ms - days * DAY_MS + (i as i128 * (days * DAY_MS) as i128 / target as i128) as i64;
                                        let time = original["eventTime"].as_str().and_then(parse_millis).unwrap_or(0);
                                        shifted(original, at - time, i)
                                    }
                                }
                            })
                            .collect();
                        let date = records[0]["eventTime"].as_str().unwrap_or("0000-00-00");
                        let day = format!("{}/{}/{}", &date[..4], &date[5..7], &date[8..10]);
                        let folder = dir.join(format!("AWSLogs/111122223333/CloudTrail/us-east-1/{day}"));
                        std::fs::create_dir_all(&folder).map_err(io(&folder))?;
                        let path = folder.join(format!("111122223333_CloudTrail_us-east-1_{file:07}.json.gz"));
                        let doc = serde_json::to_vec(&serde_json::json!({ "Records": records }))
                            .expect("JSON values serialise");
                        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                        gz.write_all(&doc).and_then(|_| gz.finish()).and_then(|bytes| std::fs::write(&path, bytes)).map_err(io(&path))?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles.into_iter().try_for_each(|h| h.join().expect("generator threads do not panic"))
    })?;
    Ok(files)
}

/// CPU seconds this process has used so far (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: f64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<f64>().ok()).sum();
    ticks / 100.0
}

fn load_average() -> f64 {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().next().and_then(|l| l.parse().ok()).unwrap_or(0.0)
}

/// Decompresses and parses every file on `workers` threads; returns records per second.
async fn parse_only(tree: &Path, workers: usize) -> (u64, f64) {
    let inputs = discover(&[tree.to_path_buf()]).inputs;
    let started = Instant::now();
    let mut documents = pipeline::ordered_parallel(inputs, workers, |input| {
        read_document(input, super::DEFAULT_MAX_DOCUMENT_BYTES).map(|d| d.records.len() as u64)
    });
    let mut records = 0;
    while let Some((_, parsed)) = documents.next().await {
        records += parsed.unwrap_or(0);
    }
    (records, records as f64 / started.elapsed().as_secs_f64())
}

/// The tree of about `target` time-shifted real records under `work_dir` (built from the
/// logs under `data` on first use, reused after), and how many files it holds.
pub fn build_tree(
    data: &Path,
    target: usize,
    timeline: Timeline,
    work_dir: &Path,
    log: &mut impl FnMut(&str),
) -> Result<(PathBuf, usize), BenchError> {
    let workers = pipeline::default_workers();
    let tree: PathBuf = match timeline {
        Timeline::Consecutive => work_dir.join(format!("logs-{target}")),
        Timeline::LastDays { end_ms, days } => work_dir.join(format!("logs-{target}-{days}d-to-{}", &format_millis(end_ms)[..10])),
    };
    let files = if tree.join("complete").exists() {
        log(&format!("reusing the {target} records under {}", tree.display()));
        target.div_ceil(RECORDS_PER_FILE)
    } else {
        let (real, shift) = real_records(data);
        if real.is_empty() {
            return Err(BenchError::NoRecords(data.display().to_string()));
        }
        log(&format!("writing {target} records (time-shifted copies of {} real ones) under {}", real.len(), tree.display()));
        let _ = std::fs::remove_dir_all(&tree);
        let files = generate(&real, shift, timeline, target, &tree, workers)?;
        std::fs::write(tree.join("complete"), b"").map_err(|source| BenchError::Io { path: tree.display().to_string(), source })?;
        files
    };
    Ok((tree, files))
}

/// Runs the benchmark on about `target` records built from the logs under `data`, keeping its
/// files in `work_dir`. `log` receives a line at each step.
pub async fn run(
    data: &Path,
    target: usize,
    work_dir: &Path,
    postgres: Option<&str>,
    mut log: impl FnMut(&str),
) -> Result<BenchReport, BenchError> {
    let workers = pipeline::default_workers();
    let (tree, files) = build_tree(data, target, Timeline::Consecutive, work_dir, &mut log)?;

    log("parse only, every worker");
    let cpu = cpu_seconds();
    let (records, parse_only_per_s) = parse_only(&tree, workers).await;
    let parse_only_per_cpu_s = records as f64 / (cpu_seconds() - cpu).max(0.01);
    log("parse only, one thread");
    let (_, parse_one_thread_per_s) = parse_only(&tree, 1).await;

    log("end to end into a fresh SQLite database");
    let db = work_dir.join("bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let store = open_store(&format!("sqlite://{}", db.display())).await?;
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let summary = ingest_paths_with(store.as_ref(), "bench", vec![tree.clone()], &IngestOptions::default(), |_| {}).await?;
    let end_to_end_per_s = summary.records_stored as f64 / started.elapsed().as_secs_f64();
    let end_to_end_per_cpu_s = summary.records_stored as f64 / (cpu_seconds() - cpu).max(0.01);
    drop(store);

    log("SQLite alone: the same rows copied into a fresh database of the same schema");
    let copy = work_dir.join("bench-copy.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", copy.display()));
    }
    let copy_store = crate::store::sqlite::SqliteStore::open(&format!("sqlite://{}", copy.display())).await?;
    let started = Instant::now();
    let copied = copy_store.copy_events_from(&db, IngestOptions::default().batch_records as i64).await?;
    let sqlite_alone_per_s = copied as f64 / started.elapsed().as_secs_f64();
    drop(copy_store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", copy.display()));
    }

    let postgres_end_to_end_per_s = match postgres {
        Some(url) => {
            log("end to end into Postgres (trail bench-ingest, emptied before and after)");
            let store = open_store(url).await?;
            let _ = store.delete_trail("bench-ingest").await;
            let started = Instant::now();
            let summary = ingest_paths_with(store.as_ref(), "bench-ingest", vec![tree.clone()], &IngestOptions::default(), |_| {}).await?;
            let rate = summary.records_stored as f64 / started.elapsed().as_secs_f64();
            store.delete_trail("bench-ingest").await?;
            Some(rate)
        }
        None => None,
    };
    let database_bytes = ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", db.display())).ok())
        .map(|m| m.len())
        .sum();
    Ok(BenchReport {
        records,
        files,
        workers,
        parse_only_per_s,
        parse_one_thread_per_s,
        end_to_end_per_s,
        parse_only_per_cpu_s,
        end_to_end_per_cpu_s,
        sqlite_alone_per_s,
        postgres_end_to_end_per_s,
        load_average: load_average(),
        database_bytes,
    })
}

/// The report as the lines the benchmark command prints.
pub fn describe(r: &BenchReport) -> String {
    let ratio = 100.0 * r.end_to_end_per_s / r.parse_only_per_s;
    let alone = 100.0 * r.end_to_end_per_s / r.sqlite_alone_per_s;
    format!(
        "{} records in {} gzip files, {} reader threads\n\
         parse only (gunzip + serde_json into Record, all threads): {:>9.0} records/s\n\
         parse only (one thread):                                   {:>9.0} records/s\n\
         end to end into SQLite (commit included):                  {:>9.0} records/s ({ratio:.0}% of parse only, {alone:.0}% of SQLite alone)\n\
         SQLite alone (same rows and schema, INSERT ... SELECT):    {:>9.0} rows/s\n\
         end to end into Postgres:                                  {}\n\
         per CPU-second (unaffected by other load): parse only {:.0}, end to end {:.0} records\n\
         load average at the end: {:.1}; database size: {:.0} MiB",
        r.records,
        r.files,
        r.workers,
        r.parse_only_per_s,
        r.parse_one_thread_per_s,
        r.end_to_end_per_s,
        r.sqlite_alone_per_s,
        match r.postgres_end_to_end_per_s {
            Some(rate) => format!("{rate:>9.0} records/s"),
            None => "not measured (give --postgres postgres://...)".to_owned(),
        },
        r.parse_only_per_cpu_s,
        r.end_to_end_per_cpu_s,
        r.load_average,
        r.database_bytes as f64 / (1 << 20) as f64,
    )
}
