//! Ingest from an S3 bucket (`s3://bucket/prefix`), reading only what is new.
//!
//! The bucket's account/region folders are found with delimiter listings ([`layout`]);
//! each is listed from its first day not yet fully read, and the unread objects go through
//! the same pipeline as files (parallel fetch and parse on the reader threads, batched
//! ordered writes, the same rejections naming each object). A location's checkpoint is saved
//! in the store only after its objects are stored, so a crash costs re-reading, never a gap.
//! Memory stays bounded: object keys of one run are held (bytes each), documents only in
//! the pipeline's window.

pub mod client;
pub mod layout;

use std::fmt;
use std::sync::{Arc, Mutex};

use super::{parse_document, store_documents, IngestOptions, IngestSummary, Progress};
use crate::store::{Store, StoreError};
pub use client::{S3Client, S3Config};
use layout::Checkpoint;

/// Why S3 ingest could not go on. Problems with single objects are rejections instead.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("{url:?} is not an S3 location: write s3://BUCKET or s3://BUCKET/PREFIX")]
    BadUrl { url: String },
    #[error("the S3 endpoint {endpoint:?} is not usable ({reason}); give a URL such as http://127.0.0.1:9000 with --endpoint-url or AWS_ENDPOINT_URL")]
    Endpoint { endpoint: String, reason: String },
    #[error("{what}: cannot reach S3 ({reason}); check the network and --endpoint-url")]
    Transport { what: String, reason: String },
    #[error("{what}: S3 answered {status} {code}: {message}{hint}")]
    Status { what: String, status: u16, code: String, message: String, hint: &'static str },
    #[error("{what}: unexpected answer from S3 ({reason}); is --endpoint-url an S3 endpoint?")]
    Response { what: String, reason: String },
    #[error("{what}: larger than the limit of {limit_mb} MiB; raise --max-file-mb")]
    TooLarge { what: String, limit_mb: u64 },
    #[error("no CloudTrail logs under {location}: give the prefix the trail delivers to (the part of the key before AWSLogs/)")]
    NoLogs { location: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl S3Error {
    /// Whether trying again later can help: the network, throttling and S3's own faults.
    pub fn is_transient(&self) -> bool {
        match self {
            S3Error::Transport { .. } => true,
            S3Error::Status { status, .. } => *status == 429 || *status == 503 || *status >= 500,
            _ => false,
        }
    }

    /// An S3 error answer, with its `<Code>` and `<Message>` and what to do about common ones.
    fn status(what: &str, status: u16, body: &str) -> S3Error {
        let tag = |name: &str| {
            let start = body.find(&format!("<{name}>"))? + name.len() + 2;
            Some(body[start..].split("</").next()?.to_owned())
        };
        let code = tag("Code").unwrap_or_default();
        let hint = match (status, code.as_str()) {
            (_, "NoSuchBucket") => "; check the bucket name (and AWS_REGION or --endpoint-url)",
            (403, _) | (_, "InvalidAccessKeyId") | (_, "SignatureDoesNotMatch") => {
                "; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) to keys that may read the bucket"
            }
            (301, _) | (_, "PermanentRedirect") | (_, "AuthorizationHeaderMalformed") => "; set AWS_REGION to the bucket's region",
            _ => "",
        };
        S3Error::Status { what: what.to_owned(), status, code, message: tag("Message").unwrap_or_default(), hint }
    }
}

/// `s3://bucket/prefix`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub prefix: String,
}

impl S3Location {
    /// `None` when `text` does not start with `s3://` (it is then a local path).
    pub fn parse(text: &str) -> Option<Result<S3Location, S3Error>> {
        let rest = text.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        Some(if bucket.is_empty() {
            Err(S3Error::BadUrl { url: text.to_owned() })
        } else {
            Ok(S3Location { bucket: bucket.to_owned(), prefix: prefix.to_owned() })
        })
    }
}

/// One object to read; shown as `s3://bucket/key` in rejections and progress.
#[derive(Debug, Clone)]
struct Object {
    bucket: Arc<str>,
    key: String,
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// One location with what its listing found.
struct Pending {
    location: String,
    checkpoint: Checkpoint,
    listed: Vec<String>,
    unread: Vec<String>,
}

/// Ingests the objects under `source` not read by an earlier run for this trail.
pub async fn ingest_s3(
    store: &dyn Store,
    trail: &str,
    source: &S3Location,
    config: &S3Config,
    options: &IngestOptions,
    mut on_progress: impl FnMut(Progress),
) -> Result<IngestSummary, S3Error> {
    let selectors = super::open_trail(store, trail, options.even_if_stopped).await?;
    let client = Arc::new(S3Client::new(config, &source.bucket)?);
    let endpoint = config.endpoint.as_deref().map(|e| format!(" at {e}")).unwrap_or_default();
    let checkpoint_key = |location: &str| format!("s3://{}/{location}{endpoint}", source.bucket);

    let locations = blocking(&client, {
        let prefix = source.prefix.clone();
        move |c| layout::locations(c, &prefix)
    })
    .await?;
    let mut pending = Vec::new();
    for location in locations {
        let checkpoint = Checkpoint::parse(store.get_checkpoint(trail, &checkpoint_key(&location)).await?.as_deref());
        let start_after = checkpoint.start_after(&location);
        let prefix = location.clone();
        let listed = blocking(&client, move |c| c.list_keys(&prefix, &start_after)).await?;
        let unread = checkpoint.unread(&location, &listed);
        pending.push(Pending { location, checkpoint, listed, unread });
    }

    let files_total = pending.iter().map(|p| p.unread.len()).sum();
    let (mut summary, bucket): (IngestSummary, Arc<str>) = (IngestSummary::default(), source.bucket.as_str().into());
    for p in pending {
        let failed = Arc::new(Mutex::new(Vec::new()));
        let objects = p.unread.iter().map(|key| Object { bucket: bucket.clone(), key: key.clone() }).collect();
        let (client, fails, max_bytes) = (client.clone(), failed.clone(), options.max_document_bytes);
        let (pack, selectors) = (store.packs_raw(), selectors.clone());
        let documents = super::pipeline::ordered_parallel(objects, options.workers, move |object: &Object| {
            let bytes = client.get(&object.key, max_bytes).inspect_err(|e| {
                // Not fetched (network, permissions): retried next run. Too large: final.
                if !matches!(e, S3Error::TooLarge { .. }) {
                    fails.lock().expect("failures lock").push(object.key.clone());
                }
            });
            let bytes = bytes.map_err(|e| e.to_string())?;
            let bytes = super::source::decompress_if_gzip(bytes, max_bytes).map_err(|e| e.to_string())?;
            parse_document(&bytes).map(|doc| doc.prepare(&selectors, pack)).map_err(|e| e.to_string())
        });
        // files_done counts across locations already (it is the summary's count).
        let progress = |p: Progress| on_progress(Progress { files_total, ..p });
        store_documents(store, trail, documents, options.batch_records, &mut summary, progress).await?;
        let failed = failed.lock().expect("failures lock").clone();
        let next = p.checkpoint.advance(&p.location, &p.listed, &p.unread, &failed);
        if next != p.checkpoint {
            let value = serde_json::to_string(&next).expect("a checkpoint serialises");
            store.set_checkpoint(trail, &checkpoint_key(&p.location), &value).await?;
        }
    }
    Ok(summary)
}

/// Runs a blocking S3 call off the async runtime's threads.
async fn blocking<T: Send + 'static>(
    client: &Arc<S3Client>,
    call: impl FnOnce(&S3Client) -> Result<T, S3Error> + Send + 'static,
) -> Result<T, S3Error> {
    let client = client.clone();
    tokio::task::spawn_blocking(move || call(&client)).await.expect("an S3 listing thread panicked")
}
