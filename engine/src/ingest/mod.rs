//! Ingest: documents in, records stored, every rejection explained.
//!
//! Reader threads (one per core, see [`pipeline`]) discover, decompress and parse documents
//! while the caller's task stores them, so parsing and writing overlap and only a bounded
//! window of parsed documents is held in memory whatever the size of the tree. Documents are
//! stored whole, several to a transaction (a batch of about [`IngestOptions::batch_records`]
//! records): a crash loses at most the batch in flight, nothing half-written is ever visible,
//! and running the same command again stores exactly what is missing, because records are
//! deduplicated by `eventID` per trail.

pub mod bench;
pub mod follow;
pub mod parse;
pub mod pipeline;
pub mod s3;
pub mod source;

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use crate::record::Record;
use crate::selectors::EventSelectors;
use crate::store::{Store, StoreError};
pub use parse::{parse_document, parse_document_within, DocumentError, EventTimeWindow, NotSelected, ParsedDocument};
pub use source::{discover, read_input, Input, DEFAULT_MAX_DOCUMENT_BYTES};

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
    /// Valid records not stored because the trail's event selectors do not select them.
    pub not_selected: NotSelected,
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
        self.not_selected.merge(&other.not_selected);
        self.rejections.extend(other.rejections);
    }

    /// Adds one parsed document's outcome (after its records were stored).
    fn add_document(&mut self, input: &str, doc: &ParsedDocument, stored: u64) {
        self.records_stored += stored;
        self.duplicates_skipped += doc.records.len() as u64 - stored;
        self.insight_events_skipped += doc.insight_events as u64;
        self.not_selected.merge(&doc.not_selected);
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

/// Progress after each stored batch, for progress bars and log lines.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub files_done: usize,
    pub files_total: usize,
    pub records_stored: u64,
    /// Records read so far, stored or already present.
    pub records_read: u64,
}

/// How an ingest run reads and writes.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Threads decompressing and parsing documents.
    pub workers: usize,
    /// The largest document read, before or after decompression.
    pub max_document_bytes: u64,
    /// Records per transaction (whole documents are never split, so a batch may be larger).
    pub batch_records: usize,
    /// Store events even into a trail that is not logging (see [`open_trail`]).
    pub even_if_stopped: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            workers: pipeline::default_workers(),
            max_document_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
            // Large enough that per-transaction costs (a WAL commit) vanish, small enough
            // that a crash loses little work and progress moves smoothly.
            batch_records: 20_000,
            even_if_stopped: false,
        }
    }
}

/// Reads and parses one input, the work each reader thread does.
fn read_document(input: &Input, max_bytes: u64) -> Result<ParsedDocument, String> {
    read_input(input, max_bytes)
        .map_err(|e| e.to_string())
        .and_then(|bytes| parse_document(&bytes).map_err(|e| e.to_string()))
}

/// Decompresses (once, see [`source::decompress_if_gzip`]) and parses one document held in
/// memory, with at most `max_bytes` after decompression. CPU-bound: async callers run it on
/// a blocking thread. The error is the reason the document is rejected.
pub fn parse_bytes(bytes: Vec<u8>, max_bytes: u64) -> Result<ParsedDocument, source::ReadError> {
    let plain = source::decompress_if_gzip(bytes, max_bytes)?;
    parse_document(&plain).map_err(|e| source::ReadError::Document(e.to_string()))
}

/// Makes `trail` ready to take events: creates it if new (logging, keeping every event),
/// refuses it with [`StoreError::TrailStopped`] if it is not logging (unless
/// `even_if_stopped`), and returns the event selectors that decide which events it keeps.
pub async fn open_trail(store: &dyn Store, trail: &str, even_if_stopped: bool) -> Result<Arc<EventSelectors>, StoreError> {
    store.ensure_trail(trail).await?;
    let found = store.get_trail(trail).await?.ok_or_else(|| StoreError::NoSuchTrail(trail.to_owned()))?;
    if !found.logging && !even_if_stopped {
        return Err(StoreError::TrailStopped(trail.to_owned()));
    }
    Ok(Arc::new(found.event_selectors))
}

/// Stores a document parsed by [`parse_bytes`] (or its rejection) under `trail`, keeping the
/// records `selectors` select (from [`open_trail`]).
pub async fn ingest_parsed(
    store: &dyn Store,
    trail: &str,
    selectors: &EventSelectors,
    input: &str,
    parsed: Result<ParsedDocument, source::ReadError>,
) -> Result<IngestSummary, StoreError> {
    let mut summary = IngestSummary { files: 1, ..Default::default() };
    match parsed {
        Ok(doc) => {
            let doc = doc.prepare(selectors, false);
            let stored = store.insert_events(trail, &doc.records).await?;
            summary.add_document(input, &doc, stored);
        }
        Err(reason) => summary.reject_document(input, reason.to_string()),
    }
    Ok(summary)
}

/// Stores one document (a file already read, plain or gzip) under `trail`.
pub async fn ingest_bytes(
    store: &dyn Store,
    trail: &str,
    selectors: &EventSelectors,
    input: &str,
    bytes: Vec<u8>,
) -> Result<IngestSummary, StoreError> {
    ingest_parsed(store, trail, selectors, input, parse_bytes(bytes, DEFAULT_MAX_DOCUMENT_BYTES)).await
}

/// Ingests files, directories (recursively) and `-` (stdin) into `trail` with default options.
pub async fn ingest_paths(
    store: &dyn Store,
    trail: &str,
    paths: Vec<PathBuf>,
    on_progress: impl FnMut(Progress),
) -> Result<IngestSummary, StoreError> {
    ingest_paths_with(store, trail, paths, &IngestOptions::default(), on_progress).await
}

/// Ingests files, directories (recursively) and `-` (stdin) into `trail`.
pub async fn ingest_paths_with(
    store: &dyn Store,
    trail: &str,
    paths: Vec<PathBuf>,
    options: &IngestOptions,
    on_progress: impl FnMut(Progress),
) -> Result<IngestSummary, StoreError> {
    ingest_found(store, trail, discover(&paths), options, on_progress).await
}

/// Ingests what [`discover`] found (the part of [`ingest_paths_with`] that `--follow` repeats).
pub async fn ingest_found(
    store: &dyn Store,
    trail: &str,
    found: source::Discovered,
    options: &IngestOptions,
    on_progress: impl FnMut(Progress),
) -> Result<IngestSummary, StoreError> {
    let selectors = open_trail(store, trail, options.even_if_stopped).await?;
    let mut summary = IngestSummary {
        digest_files_skipped: found.digests_skipped,
        ..Default::default()
    };
    for (path, reason) in found.unreadable {
        summary.reject_document(&path, reason);
    }
    let (max_bytes, pack) = (options.max_document_bytes, store.packs_raw());
    let documents = pipeline::ordered_parallel(found.inputs, options.workers, move |input| {
        read_document(input, max_bytes).map(|doc| doc.prepare(&selectors, pack))
    });
    store_documents(store, trail, documents, options.batch_records, &mut summary, on_progress).await?;
    Ok(summary)
}

/// A batch ready to store: its records, and how many files had been read when it closed.
struct Batch {
    records: Vec<Record>,
    files_done: usize,
    records_read: u64,
}

/// Takes documents in input order until the batch holds `limit` records or the input ends.
async fn collect_batch<I: std::fmt::Display>(
    documents: &mut pipeline::Ordered<I, Result<ParsedDocument, String>>,
    limit: usize,
    summary: &mut IngestSummary,
    records_read: &mut u64,
) -> Option<Batch> {
    let mut records: Vec<Record> = Vec::new();
    let mut any = false;
    while records.len() < limit {
        let Some((input, parsed)) = documents.next().await else { break };
        any = true;
        summary.files += 1;
        match parsed {
            Ok(mut doc) => {
                *records_read += doc.records.len() as u64;
                records.append(&mut doc.records);
                summary.add_document(&input.to_string(), &doc, 0);
            }
            Err(reason) => summary.reject_document(&input.to_string(), reason),
        }
    }
    any.then_some(Batch { records, files_done: summary.files, records_read: *records_read })
}

/// The single writer: stores one batch while the next is being collected (double buffering),
/// so parsing and SQLite's work overlap instead of taking turns.
async fn store_documents<I: std::fmt::Display>(
    store: &dyn Store,
    trail: &str,
    mut documents: pipeline::Ordered<I, Result<ParsedDocument, String>>,
    batch_records: usize,
    summary: &mut IngestSummary,
    mut on_progress: impl FnMut(Progress),
) -> Result<(), StoreError> {
    let files_total = documents.total();
    let mut records_read = 0u64;
    let mut pending = collect_batch(&mut documents, batch_records, summary, &mut records_read).await;
    while let Some(batch) = pending {
        let (stored, next) = tokio::join!(
            store.insert_events(trail, &batch.records),
            collect_batch(&mut documents, batch_records, summary, &mut records_read)
        );
        let stored = stored?;
        summary.records_stored += stored;
        summary.duplicates_skipped += batch.records.len() as u64 - stored;
        on_progress(Progress {
            files_done: batch.files_done,
            files_total,
            records_stored: summary.records_stored,
            records_read: batch.records_read,
        });
        pending = next;
    }
    Ok(())
}
