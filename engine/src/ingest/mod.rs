//! Ingest: documents in, records stored, every rejection explained.
//!
//! One reader thread discovers, decompresses and parses documents while the caller's task
//! stores them, so parsing and writing overlap and at most a few parsed documents are held
//! in memory whatever the size of the tree. Each document is stored in one transaction:
//! a crash loses at most the document in flight, and running the same command again stores
//! exactly what is missing, because records are deduplicated by `eventID` per trail.

pub mod parse;
pub mod source;

use std::path::PathBuf;

use serde::Serialize;

use crate::store::{Store, StoreError};
pub use parse::{parse_document, DocumentError, ParsedDocument};
pub use source::{discover, read_input, Input};

/// One thing that was not stored, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rejection {
    /// The file (or `<stdin>`, or the request) it came from.
    pub input: String,
    /// The record's index within the document, when one record (not the whole document) failed.
    pub record: Option<usize>,
    pub reason: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.record {
            Some(i) => write!(f, "{}: record {i}: {}", self.input, self.reason),
            None => write!(f, "{}: {}", self.input, self.reason),
        }
    }
}

/// What an ingest run did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct IngestSummary {
    pub files: usize,
    pub records_stored: u64,
    pub duplicates_skipped: u64,
    pub insight_events_skipped: u64,
    pub digest_files_skipped: usize,
    pub rejections: Vec<Rejection>,
}

impl IngestSummary {
    /// Adds another run's outcome to this one.
    pub fn merge(&mut self, other: IngestSummary) {
        self.files += other.files;
        self.records_stored += other.records_stored;
        self.duplicates_skipped += other.duplicates_skipped;
        self.insight_events_skipped += other.insight_events_skipped;
        self.digest_files_skipped += other.digest_files_skipped;
        self.rejections.extend(other.rejections);
    }

    /// Adds one parsed document's outcome (after its records were stored).
    fn add_document(&mut self, input: &str, doc: &ParsedDocument, stored: u64) {
        self.records_stored += stored;
        self.duplicates_skipped += doc.records.len() as u64 - stored;
        self.insight_events_skipped += doc.insight_events as u64;
        self.rejections.extend(doc.rejected.iter().map(|(i, reason)| Rejection {
            input: input.to_owned(),
            record: Some(*i),
            reason: reason.clone(),
        }));
    }

    fn reject_document(&mut self, input: &str, reason: String) {
        self.rejections.push(Rejection { input: input.to_owned(), record: None, reason });
    }
}

/// Progress after each document, for progress bars and log lines.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub files_done: usize,
    pub files_total: usize,
    pub records_stored: u64,
}

/// Stores one document (an HTTP body, a file already read) under `trail`.
pub async fn ingest_bytes(
    store: &dyn Store,
    trail: &str,
    input: &str,
    bytes: Vec<u8>,
) -> Result<IngestSummary, StoreError> {
    let mut summary = IngestSummary { files: 1, ..Default::default() };
    match source::decompress_if_gzip(bytes).map_err(|e| e.to_string()).and_then(|b| {
        parse_document(&b).map_err(|e| e.to_string())
    }) {
        Ok(doc) => {
            let stored = store.insert_events(trail, &doc.records).await?;
            summary.add_document(input, &doc, stored);
        }
        Err(reason) => summary.reject_document(input, reason),
    }
    Ok(summary)
}

/// Ingests files, directories (recursively) and `-` (stdin) into `trail`.
pub async fn ingest_paths(
    store: &dyn Store,
    trail: &str,
    paths: Vec<PathBuf>,
    mut on_progress: impl FnMut(Progress),
) -> Result<IngestSummary, StoreError> {
    store.ensure_trail(trail).await?;
    let found = discover(&paths);
    let mut summary = IngestSummary {
        digest_files_skipped: found.digests_skipped,
        ..Default::default()
    };
    for (path, reason) in found.unreadable {
        summary.reject_document(&path, reason);
    }
    let files_total = found.inputs.len();

    // Parsed documents wait in a short queue: enough to keep the writer busy, small enough
    // that memory does not grow with the tree.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(String, Result<ParsedDocument, String>)>(4);
    let reader = std::thread::spawn(move || {
        for input in found.inputs {
            let parsed = read_input(&input)
                .map_err(|e| e.to_string())
                .and_then(|bytes| parse_document(&bytes).map_err(|e| e.to_string()));
            if tx.blocking_send((input.to_string(), parsed)).is_err() {
                return; // the writer stopped (a store error): nothing more to do
            }
        }
    });

    while let Some((input, parsed)) = rx.recv().await {
        summary.files += 1;
        match parsed {
            Ok(doc) => {
                let stored = store.insert_events(trail, &doc.records).await?;
                summary.add_document(&input, &doc, stored);
            }
            Err(reason) => summary.reject_document(&input, reason),
        }
        on_progress(Progress {
            files_done: summary.files,
            files_total,
            records_stored: summary.records_stored,
        });
    }
    reader.join().expect("the reader thread does not panic");
    Ok(summary)
}
