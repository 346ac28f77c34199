//! `--follow`: keep watching directories and ingest files as they arrive, so detection runs
//! on live data.
//!
//! Polling (not inotify) works the same on local disks, network mounts and containers. A
//! file is ingested when it is first seen and again whenever its size or modification time
//! changes: a file caught half-written is rejected as truncated, then read whole once the
//! writer finishes; re-reading stores nothing twice (eventIDs are deduplicated).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::{discover, ingest_found, IngestOptions, IngestSummary, Input, Progress};
use crate::store::{Store, StoreError};

/// What identifies one version of a file.
type Version = (u64, Option<SystemTime>);

fn version(input: &Input) -> Option<Version> {
    let Input::File(path) = input else { return None };
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()))
}

/// Files seen so far, so that each poll reads only what is new or changed.
#[derive(Default)]
pub struct Follower {
    seen: HashMap<PathBuf, Version>,
    /// Paths reported as unreadable (a FIFO, a directory loop...), with the reason: each is
    /// reported once, not at every poll.
    reported: std::collections::HashSet<(String, String)>,
}

impl Follower {
    /// One poll: ingests every file under `paths` that is new or changed since the last poll.
    pub async fn poll(
        &mut self,
        store: &dyn Store,
        trail: &str,
        paths: &[PathBuf],
        options: &IngestOptions,
        on_progress: impl FnMut(Progress),
    ) -> Result<IngestSummary, StoreError> {
        let mut found = discover(paths);
        found.inputs.retain(|input| match (input, version(input)) {
            (Input::File(path), Some(v)) => self.seen.insert(path.clone(), v) != Some(v),
            _ => false,
        });
        found.unreadable.retain(|problem| self.reported.insert(problem.clone()));
        // Digests are skipped silently here: counting them again every poll says nothing.
        found.digests_skipped = 0;
        if found.inputs.is_empty() && found.unreadable.is_empty() {
            return Ok(IngestSummary::default());
        }
        ingest_found(store, trail, found, options, on_progress).await
    }
}

/// Polls every `interval` until `stop` completes, reporting each poll that read anything.
pub async fn follow(
    store: &dyn Store,
    trail: &str,
    paths: &[PathBuf],
    options: &IngestOptions,
    interval: Duration,
    stop: impl std::future::Future<Output = ()>,
    mut on_poll: impl FnMut(&IngestSummary),
) -> Result<(), StoreError> {
    let mut follower = Follower::default();
    tokio::pin!(stop);
    loop {
        let summary = follower.poll(store, trail, paths, options, |_| {}).await?;
        if summary.files > 0 || !summary.rejections.is_empty() {
            on_poll(&summary);
        }
        tokio::select! {
            _ = &mut stop => return Ok(()),
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"Records":[{"eventID":"a","eventTime":"2024-01-01T00:00:00Z","eventSource":"s","eventName":"PutX"}]}"#;

    #[tokio::test]
    async fn each_poll_reads_only_new_or_changed_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::open_store(&format!("sqlite://{}", dir.path().join("f.db").display())).await.unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        let (paths, options) = (vec![logs.clone()], IngestOptions::default());
        let mut follower = Follower::default();

        std::fs::write(logs.join("1.json"), DOC).unwrap();
        let first = follower.poll(store.as_ref(), "t", &paths, &options, |_| {}).await.unwrap();
        assert_eq!((first.files, first.records_stored), (1, 1));
        let idle = follower.poll(store.as_ref(), "t", &paths, &options, |_| {}).await.unwrap();
        assert_eq!(idle.files, 0, "an unchanged file is not read again");

        // A file caught half-written is rejected, then read once it is complete.
        let whole = DOC.replace("\"a\"", "\"b\"");
        std::fs::write(logs.join("2.json"), &whole[..30]).unwrap();
        let partial = follower.poll(store.as_ref(), "t", &paths, &options, |_| {}).await.unwrap();
        assert_eq!(partial.rejections.len(), 1);
        std::fs::write(logs.join("2.json"), &whole).unwrap();
        let completed = follower.poll(store.as_ref(), "t", &paths, &options, |_| {}).await.unwrap();
        assert_eq!((completed.files, completed.records_stored), (1, 1));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_directory_loop_and_a_fifo_are_reported_once_and_polling_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::open_store(&format!("sqlite://{}", dir.path().join("f.db").display())).await.unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir_all(logs.join("sub")).unwrap();
        std::os::unix::fs::symlink(&logs, logs.join("sub/back-to-top")).unwrap();
        assert!(std::process::Command::new("mkfifo").arg(logs.join("sub/pipe.json")).status().unwrap().success());
        std::fs::write(logs.join("1.json"), DOC).unwrap();
        let (paths, options) = (vec![logs.clone()], IngestOptions::default());
        let mut follower = Follower::default();
        let first = follower.poll(store.as_ref(), "t", &paths, &options, |_| {}).await.unwrap();
        assert_eq!(first.records_stored, 1);
        let reasons: Vec<&str> = first.rejections.iter().map(|r| r.reason.as_str()).collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons[0].starts_with("directory loop") && reasons[1].starts_with("not a regular file (a FIFO)"), "{reasons:?}");
        let again = follower.poll(store.as_ref(), "t", &paths, &options, |_| {}).await.unwrap();
        assert!(again.rejections.is_empty() && again.files == 0, "reported once: {:?}", again.rejections);
    }
}
