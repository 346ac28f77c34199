//! Where documents come from: files and directories (walked recursively, in the S3 delivery
//! layout or any other), and standard input. Gzip is recognised by its magic bytes, so a
//! compressed file without `.gz` (or a plain one with it) is still read correctly.

use std::io::Read;
use std::path::{Path, PathBuf};

/// One document to ingest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Input {
    File(PathBuf),
    Stdin,
}

impl std::fmt::Display for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Input::File(p) => write!(f, "{}", p.display()),
            Input::Stdin => f.write_str("<stdin>"),
        }
    }
}

/// What walking the paths found.
#[derive(Debug, Default)]
pub struct Discovered {
    pub inputs: Vec<Input>,
    /// CloudTrail digest files: integrity proofs, not events.
    pub digests_skipped: usize,
    /// Paths that could not be read at all, with the reason.
    pub unreadable: Vec<(String, String)>,
}

/// What kind of non-regular file a path is, for rejections.
fn special_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        } else if t.is_socket() {
            return "a socket";
        } else if t.is_char_device() {
            return "a character device";
        } else if t.is_block_device() {
            return "a block device";
        }
    }
    let _ = meta;
    "not a regular file"
}

/// The reason a non-regular file is skipped: reading a FIFO or `/dev/zero` never ends, and
/// a device is not a log.
fn not_regular(meta: &std::fs::Metadata) -> String {
    format!(
        "not a regular file ({}): skipped; to ingest from a pipe, pass - and send it to standard input",
        special_kind(meta)
    )
}

/// Expands files and directories into the documents to read, in a stable order. `-` is stdin.
/// Symbolic links are followed, except back into a directory being walked (a loop), which is
/// reported; FIFOs, sockets and devices are reported, never read.
pub fn discover(paths: &[PathBuf]) -> Discovered {
    let mut found = Discovered::default();
    let mut walked = Walked::default();
    for path in paths {
        if path.as_os_str() == "-" {
            found.inputs.push(Input::Stdin);
            continue;
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut found, &mut walked),
            // A file named explicitly is read whatever its name.
            Ok(meta) if meta.is_file() => found.inputs.push(Input::File(path.clone())),
            Ok(meta) => found.unreadable.push((path.display().to_string(), not_regular(&meta))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                found.unreadable.push((path.display().to_string(), "no such file or directory".into()))
            }
            Err(e) => found.unreadable.push((path.display().to_string(), e.to_string())),
        }
    }
    found
}

/// Directories walked so far, by their canonical path (symbolic links resolved).
#[derive(Default)]
struct Walked {
    /// The directories being walked, from the root down: meeting one again is a loop.
    ancestors: Vec<PathBuf>,
    /// Every directory walked: one reached again by another link is not read twice.
    all: std::collections::HashSet<PathBuf>,
}

fn walk(dir: &Path, found: &mut Discovered, walked: &mut Walked) {
    let canonical = match std::fs::canonicalize(dir) {
        Ok(c) => c,
        Err(e) => return found.unreadable.push((dir.display().to_string(), e.to_string())),
    };
    if walked.ancestors.contains(&canonical) {
        return found.unreadable.push((
            dir.display().to_string(),
            format!("directory loop: this is {} again (a symbolic link to a parent directory); skipped", canonical.display()),
        ));
    }
    if !walked.all.insert(canonical.clone()) {
        return; // already read through another link
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return found.unreadable.push((dir.display().to_string(), e.to_string())),
    };
    walked.ancestors.push(canonical);
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        // Follows symbolic links; a dangling one is reported only if it looks like a log.
        let meta = match std::fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) => {
                if is_log_file(&path) {
                    found.unreadable.push((path.display().to_string(), e.to_string()));
                }
                continue;
            }
        };
        if meta.is_dir() {
            if path.file_name().is_some_and(|n| n == "CloudTrail-Digest") {
                found.digests_skipped += count_files(&path);
            } else {
                walk(&path, found, walked);
            }
        } else if is_log_file(&path) {
            if path.to_string_lossy().contains("CloudTrail-Digest") {
                found.digests_skipped += 1;
            } else if meta.is_file() {
                found.inputs.push(Input::File(path));
            } else {
                found.unreadable.push((path.display().to_string(), not_regular(&meta)));
            }
        }
    }
    walked.ancestors.pop();
}

/// Counts the files under a digest folder without following symbolic links (so a loop in
/// it cannot make the count run forever).
fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| if e.file_type().is_ok_and(|t| t.is_dir()) { count_files(&e.path()) } else { 1 })
                .sum()
        })
        .unwrap_or(0)
}

/// Inside directories only log-looking files are read (a README or a `.DS_Store` is not).
fn is_log_file(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    [".json", ".json.gz", ".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz", ".gz"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Why a document's bytes could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("gzip data is truncated or corrupt ({0}); fetch the file again")]
    Gzip(std::io::Error),
    #[error("larger than the limit of {limit_mb} MiB{after}; split it into smaller files or raise --max-file-mb")]
    TooLarge { limit_mb: u64, after: &'static str },
    #[error("not a regular file ({0}): skipped; to ingest from a pipe, pass - and send it to standard input")]
    NotRegular(&'static str),
    #[error("gzip inside gzip: the data is still gzip after one decompression; compress the document once")]
    NestedGzip,
    /// The bytes are not a CloudTrail document (the parser's reason).
    #[error("{0}")]
    Document(String),
}

/// The default largest document (after decompression) read into memory. CloudTrail's own
/// files are a few MiB; the limit protects memory from a stray dump or a gzip bomb.
pub const DEFAULT_MAX_DOCUMENT_BYTES: u64 = 1 << 30;

/// Reads a document, decompressing gzip when the content is gzip, refusing documents larger
/// than `max_bytes` before or after decompression.
pub fn read_input(input: &Input, max_bytes: u64) -> Result<Vec<u8>, ReadError> {
    let too_large = |after| ReadError::TooLarge { limit_mb: max_bytes >> 20, after };
    let bytes = match input {
        Input::File(path) => {
            // The checks are on the opened file, so a path swapped for a FIFO or a link to
            // /dev/zero after discovery is still caught; the bounded read catches a file
            // that grows, or a size the metadata does not tell.
            // Refused before opening too: opening a FIFO waits for a writer.
            let before = std::fs::metadata(path)?;
            if !before.is_file() {
                return Err(ReadError::NotRegular(special_kind(&before)));
            }
            let file = std::fs::File::open(path)?;
            let meta = file.metadata()?;
            if !meta.is_file() {
                return Err(ReadError::NotRegular(special_kind(&meta)));
            }
            if meta.len() > max_bytes {
                return Err(too_large(""));
            }
            let mut buf = Vec::with_capacity(meta.len() as usize);
            file.take(max_bytes + 1).read_to_end(&mut buf)?;
            if buf.len() as u64 > max_bytes {
                return Err(too_large(""));
            }
            buf
        }
        Input::Stdin => {
            let mut buf = Vec::new();
            std::io::stdin().take(max_bytes + 1).read_to_end(&mut buf)?;
            if buf.len() as u64 > max_bytes {
                return Err(too_large(""));
            }
            buf
        }
    };
    decompress_if_gzip(bytes, max_bytes)
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Returns the bytes, gunzipped if they start with the gzip magic number; at most `max_bytes`
/// of output. Decompresses once: output that is itself gzip is refused
/// ([`ReadError::NestedGzip`]) rather than inflated again, since each layer multiplies the
/// size (11 KB of gzip-of-gzip is 1 GB) and no log shipper double-compresses.
pub fn decompress_if_gzip(bytes: Vec<u8>, max_bytes: u64) -> Result<Vec<u8>, ReadError> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(bytes);
    }
    let mut out = Vec::with_capacity((bytes.len() * 8).min(max_bytes as usize));
    flate2::read::MultiGzDecoder::new(&bytes[..])
        .take(max_bytes + 1)
        .read_to_end(&mut out)
        .map_err(ReadError::Gzip)?;
    if out.len() as u64 > max_bytes {
        return Err(ReadError::TooLarge { limit_mb: max_bytes >> 20, after: " after decompression" });
    }
    if out.starts_with(&GZIP_MAGIC) {
        return Err(ReadError::NestedGzip);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn walks_the_s3_layout_and_skips_digests() {
        let root = tempfile::tempdir().unwrap();
        let day = root.path().join("AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/02");
        let digest = root.path().join("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/01/02");
        std::fs::create_dir_all(&day).unwrap();
        std::fs::create_dir_all(&digest).unwrap();
        std::fs::write(day.join("b.json.gz"), b"").unwrap();
        std::fs::write(day.join("a.json"), b"").unwrap();
        std::fs::write(day.join("notes.txt"), b"").unwrap();
        std::fs::write(digest.join("d.json.gz"), b"").unwrap();
        let found = discover(&[root.path().to_path_buf()]);
        let names: Vec<String> = found.inputs.iter().map(|i| i.to_string()).collect();
        assert_eq!(names.len(), 2);
        assert!(names[0].ends_with("a.json") && names[1].ends_with("b.json.gz"));
        assert_eq!(found.digests_skipped, 1);
    }

    #[test]
    fn gzip_is_detected_by_content_and_truncation_is_reported() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"{\"Records\":[]}").unwrap();
        let bytes = gz.finish().unwrap();
        assert_eq!(decompress_if_gzip(bytes.clone(), 1 << 20).unwrap(), b"{\"Records\":[]}");
        assert_eq!(decompress_if_gzip(b"plain".to_vec(), 1 << 20).unwrap(), b"plain");
        let err = decompress_if_gzip(bytes[..bytes.len() / 2].to_vec(), 1 << 20).unwrap_err();
        assert!(err.to_string().contains("truncated or corrupt"), "{err}");
    }

    #[test]
    fn huge_documents_are_refused_before_they_fill_memory() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&vec![b' '; 3 << 20]).unwrap();
        let err = decompress_if_gzip(gz.finish().unwrap(), 1 << 20).unwrap_err().to_string();
        assert!(err.contains("larger than the limit of 1 MiB after decompression"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json");
        std::fs::write(&path, vec![b' '; 2 << 20]).unwrap();
        let err = read_input(&Input::File(path), 1 << 20).unwrap_err().to_string();
        assert!(err.contains("larger than the limit of 1 MiB; split it"), "{err}");
    }

    #[test]
    fn gzip_of_gzip_is_refused_after_one_inflation() {
        // 8 MiB of spaces, gzipped twice: the outer layer inflates to the inner gzip (a few
        // KiB), well under the 1 MiB limit; inflating that again would give 8 MiB. One
        // inflation, then a refusal that says why.
        let gz = |data: &[u8]| {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            gz.write_all(data).unwrap();
            gz.finish().unwrap()
        };
        let inner = gz(&vec![b' '; 8 << 20]);
        assert!(inner.len() < 1 << 20, "the inner layer fits the limit: {} bytes", inner.len());
        let err = decompress_if_gzip(gz(&inner), 1 << 20).unwrap_err();
        assert!(matches!(err, ReadError::NestedGzip), "{err}");
        assert!(err.to_string().contains("gzip inside gzip"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn fifos_devices_and_directory_loops_are_reported_not_read() {
        let root = tempfile::tempdir().unwrap();
        let logs = root.path().join("logs");
        std::fs::create_dir_all(logs.join("day")).unwrap();
        std::fs::write(logs.join("day/a.json"), b"{}").unwrap();
        // A FIFO named like a log: opening it to read would wait for a writer forever.
        let status = std::process::Command::new("mkfifo").arg(logs.join("day/pipe.json")).status().unwrap();
        assert!(status.success());
        // A link to /dev/zero: endless zeros.
        std::os::unix::fs::symlink("/dev/zero", logs.join("day/zero.json")).unwrap();
        // A link back to the root: walking it would never end.
        std::os::unix::fs::symlink(&logs, logs.join("day/loop")).unwrap();

        let found = discover(&[logs.clone()]);
        let names: Vec<String> = found.inputs.iter().map(|i| i.to_string()).collect();
        assert_eq!(names, [logs.join("day/a.json").display().to_string()]);
        let reasons: Vec<(String, String)> = found
            .unreadable
            .iter()
            .map(|(p, r)| (p.strip_prefix(&logs.display().to_string()).unwrap_or(p).to_owned(), r.clone()))
            .collect();
        assert_eq!(reasons.len(), 3, "{reasons:#?}");
        assert_eq!(reasons[0].0, "/day/loop");
        assert!(reasons[0].1.starts_with("directory loop"), "{reasons:?}");
        assert_eq!(reasons[1].0, "/day/pipe.json");
        assert!(reasons[1].1.starts_with("not a regular file (a FIFO)"), "{reasons:?}");
        assert_eq!(reasons[2].0, "/day/zero.json");
        assert!(reasons[2].1.starts_with("not a regular file (a character device)"), "{reasons:?}");

        // Named explicitly, they are refused too, and reading one directly is refused.
        let explicit = discover(&[logs.join("day/pipe.json"), PathBuf::from("/dev/zero")]);
        assert!(explicit.inputs.is_empty());
        assert_eq!(explicit.unreadable.len(), 2);
        let err = read_input(&Input::File(PathBuf::from("/dev/zero")), 1 << 20).unwrap_err();
        assert!(err.to_string().starts_with("not a regular file (a character device)"), "{err}");
    }

    #[test]
    fn missing_paths_are_reported() {
        let found = discover(&[PathBuf::from("/no/such/trail")]);
        assert_eq!(found.unreadable[0].1, "no such file or directory");
    }
}
