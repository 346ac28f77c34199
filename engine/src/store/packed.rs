//! The stored form of a record's raw JSON in SQLite: a zstd frame compressed with a
//! dictionary trained on real CloudTrail records.
//!
//! A CloudTrail record is ~0.5–1.5 KB of JSON that repeats the same keys and many of the same
//! values (`"eventVersion":"1.08"`, `"userIdentity":{"type":"AssumedRole"`, `amazonaws.com`,
//! TLS details). Compressed one record at a time (each must be readable alone), plain zstd
//! saves little (676 → ~470 bytes on average); with a dictionary of those common fragments,
//! 676 → 205 bytes (numbers in `engine/dictionaries/README.md`). The raw column was most of
//! the database and most of what ingest wrote, so this is a large saving in ingest speed
//! and disk.
//!
//! Compression runs in ingest's parallel parse workers ([`pack`] into
//! [`crate::Record::packed_raw`]), not in the single database writer.
//!
//! The dictionary (`engine/dictionaries/`, see the README there) is part of the file format:
//! every frame names it by ID, and a dictionary that has ever been shipped must stay in the
//! binary so that old databases stay readable. A new dictionary gets a new ID and is added
//! beside the old one.
//!
//! Rows written before migration 0008 hold the JSON text itself; [`unpack`] returns those as
//! they are (a zstd frame starts with bytes that no JSON text starts with).

use std::cell::RefCell;
use std::sync::OnceLock;

use zstd::dict::{DecoderDictionary, EncoderDictionary};

/// Dictionary ID 0x54530001 ("TS", version 1), written into every frame.
const DICTIONARY_V1_ID: u32 = 0x5453_0001;
const DICTIONARY_V1: &[u8] = include_bytes!("../../dictionaries/cloudtrail-v1.zstd-dict");
/// zstd's default level: measured on the benchmark's records, level 1 gave 4% larger rows
/// and no faster ingest (the writer, not the workers, sets the pace).
const LEVEL: i32 = 3;
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("a stored record is compressed with zstd dictionary {0:#x}, which this trailsight does not have: open the database with the trailsight version that wrote it, or a newer one")]
    UnknownDictionary(u32),
    #[error("a stored record could not be decompressed ({0}): the database file may be damaged")]
    Corrupt(String),
}

fn encoder() -> &'static EncoderDictionary<'static> {
    static ENCODER: OnceLock<EncoderDictionary<'static>> = OnceLock::new();
    ENCODER.get_or_init(|| EncoderDictionary::copy(DICTIONARY_V1, LEVEL))
}

fn decoder() -> &'static DecoderDictionary<'static> {
    static DECODER: OnceLock<DecoderDictionary<'static>> = OnceLock::new();
    DECODER.get_or_init(|| DecoderDictionary::copy(DICTIONARY_V1))
}

thread_local! {
    // A compression context holds ~1 MB of tables: one per thread, reused for every record.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// `raw` as a zstd frame with the current dictionary.
pub fn pack(raw: &str) -> Vec<u8> {
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let compressor = slot.get_or_insert_with(|| {
            zstd::bulk::Compressor::with_prepared_dictionary(encoder()).expect("zstd allocates a compression context")
        });
        compressor.compress(raw.as_bytes()).expect("zstd compresses any input into a growable buffer")
    })
}

/// The JSON text of a stored raw value: a frame from [`pack`], or text stored as it came.
pub fn unpack(stored: Vec<u8>) -> Result<String, UnpackError> {
    if !stored.starts_with(&ZSTD_MAGIC) {
        return String::from_utf8(stored).map_err(|e| UnpackError::Corrupt(e.to_string()));
    }
    match zstd::zstd_safe::get_dict_id_from_frame(&stored).map(|id| id.get()) {
        Some(DICTIONARY_V1_ID) => {}
        Some(other) => return Err(UnpackError::UnknownDictionary(other)),
        None => return Err(UnpackError::Corrupt("the frame names no dictionary".into())),
    }
    let size = zstd::zstd_safe::get_frame_content_size(&stored)
        .ok()
        .flatten()
        .ok_or_else(|| UnpackError::Corrupt("the frame does not give its size".into()))?;
    let mut out = Vec::with_capacity(size as usize);
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let decompressor = match slot.as_mut() {
            Some(d) => d,
            None => slot.insert(
                zstd::bulk::Decompressor::with_prepared_dictionary(decoder())
                    .map_err(|e| UnpackError::Corrupt(e.to_string()))?,
            ),
        };
        decompressor.decompress_to_buffer(&stored, &mut out).map_err(|e| UnpackError::Corrupt(e.to_string()))
    })?;
    String::from_utf8(out).map_err(|e| UnpackError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Anonymised records from another dataset than the dictionary was trained on.
    const RECORDS: &str = include_str!("../../fixtures/stratus/aws.credential-access.ec2-get-password-data.json");

    #[test]
    fn a_record_comes_back_byte_for_byte_and_much_smaller() {
        let records: Vec<serde_json::Value> = serde_json::from_str(RECORDS).unwrap();
        assert!(!records.is_empty());
        for record in &records {
            let raw = serde_json::to_string(record).unwrap();
            let packed = pack(&raw);
            assert_eq!(unpack(packed.clone()).unwrap(), raw);
            assert!(packed.len() * 2 < raw.len(), "{} bytes packed from {}", packed.len(), raw.len());
        }
    }

    #[test]
    fn text_stored_before_compression_reads_as_it_is() {
        assert_eq!(unpack(br#"{"eventID":"a"}"#.to_vec()).unwrap(), r#"{"eventID":"a"}"#);
    }

    #[test]
    fn a_frame_from_another_dictionary_is_named_not_misread() {
        // A frame of a later dictionary: ours, with the header's dictionary ID changed
        // (zstd frame format: magic, descriptor, window byte unless single-segment, then the
        // ID in as many bytes as the descriptor's low two bits say, little-endian).
        let mut frame = pack(r#"{"eventID":"a","eventName":"RunInstances"}"#);
        let descriptor = frame[4];
        assert_eq!(descriptor & 3, 3, "a four-byte dictionary ID");
        let at = 5 + usize::from(descriptor & 0x20 == 0);
        assert_eq!(u32::from_le_bytes(frame[at..at + 4].try_into().unwrap()), DICTIONARY_V1_ID);
        frame[at..at + 4].copy_from_slice(&0x5453_0002u32.to_le_bytes());
        assert!(matches!(unpack(frame), Err(UnpackError::UnknownDictionary(0x5453_0002))));
        // Raw-content dictionaries name no ID at all.
        let mut other = zstd::bulk::Compressor::with_dictionary(3, b"some other dictionary words").unwrap();
        let frame = other.compress(b"{\"eventID\":\"a\"}").unwrap();
        assert!(matches!(unpack(frame), Err(UnpackError::Corrupt(why)) if why.contains("names no dictionary")));
        let mut damaged = pack(r#"{"eventID":"a","eventName":"RunInstances"}"#);
        let last = damaged.len() - 1;
        damaged[last] ^= 0xff;
        damaged.truncate(last);
        assert!(matches!(unpack(damaged), Err(UnpackError::Corrupt(_))));
    }
}
