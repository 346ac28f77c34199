//! Hostile documents thrown at the document parser, which reads whatever a file, a bucket, stdin
//! or the push endpoint hands it: [`engine::ingest::parse_document`] and the gzip step before it,
//! [`engine::ingest::source::decompress_if_gzip`].
//!
//! The contract checked, for every input: no panic; an answer within [`TIME_LIMIT`]; a broken
//! document is an error that says why; and nothing valid is lost: every record of an intact
//! document comes back, and a junk record among valid ones is rejected by its index while
//! its neighbours are kept. Real records come from the Invictus IR fixture
//! (`fixtures/invictus/attack-bursts.json.gz`, 174 CloudTrail records).
//!
//! Each property runs 64 cases by default (a few seconds in all). To search longer:
//!
//! ```sh
//! PROPTEST_CASES=100000 cargo test -p engine --test fuzz_documents
//! ```
//!
//! A failing case is shrunk to a minimal input, printed, and (outside CI) saved next to this
//! file in `fuzz_documents.proptest-regressions`, which later runs replay first. Commit that
//! file only with the fix of the bug it found.

use std::io::{Read, Write};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use engine::ingest::source::decompress_if_gzip;
use engine::ingest::{parse_document, DocumentError, ParsedDocument};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::value::RawValue;

/// How long one document of a few hundred KiB may take, in a debug build on a slow machine.
const TIME_LIMIT: Duration = Duration::from_secs(5);

/// 64 cases per property unless `PROPTEST_CASES` says otherwise; failures persisted beside
/// this file, except in CI (`CI` set), where the printed minimal input is what is kept.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 64;
    }
    config.failure_persistence = if std::env::var_os("CI").is_some() {
        None
    } else {
        Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions")))
    };
    config
}

/// The fixture, gunzipped: `{"Records":[...174 records...]}`.
fn fixture() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let gz = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/invictus/attack-bursts.json.gz")).unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_string(&mut text).unwrap();
        text
    })
}

/// The fixture's records, each as its raw JSON text.
fn fixture_records() -> &'static [String] {
    static RECORDS: OnceLock<Vec<String>> = OnceLock::new();
    RECORDS.get_or_init(|| {
        #[derive(serde::Deserialize)]
        struct Envelope<'a> {
            #[serde(rename = "Records", borrow)]
            records: Vec<&'a RawValue>,
        }
        let env: Envelope = serde_json::from_str(fixture()).unwrap();
        env.records.iter().map(|r| r.get().to_owned()).collect()
    })
}

/// Parses in a thread of its own, so that a parser that never returns fails the test after
/// [`TIME_LIMIT`] instead of hanging it; a panic in the parser is re-raised here.
fn parse_bounded(bytes: Vec<u8>) -> Result<ParsedDocument, DocumentError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let len = bytes.len();
    let worker = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let started = Instant::now();
            let parsed = parse_document(&bytes);
            let _ = tx.send((parsed, started.elapsed()));
        })
        .unwrap();
    match rx.recv_timeout(TIME_LIMIT) {
        Ok((parsed, took)) => {
            assert!(took < TIME_LIMIT, "a {len}-byte document took {took:?}");
            parsed
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("a {len}-byte document was still being parsed after {TIME_LIMIT:?}")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(worker.join().unwrap_err())
        }
    }
}

/// What every outcome must satisfy, whatever the input: an error names its reason; kept
/// records are well formed; rejections name distinct records, each with a reason.
fn check_outcome(parsed: &Result<ParsedDocument, DocumentError>) {
    match parsed {
        Err(e) => assert!(!e.to_string().trim().is_empty(), "an error without a reason: {e:?}"),
        Ok(doc) => {
            for r in &doc.records {
                assert!(r.raw.starts_with('{'), "a kept record is not an object: {}", r.raw);
            }
            let mut indices: Vec<usize> = doc.rejected.iter().map(|(i, _)| *i).collect();
            indices.dedup();
            assert_eq!(indices.len(), doc.rejected.len(), "a record rejected twice: {:?}", doc.rejected);
            assert!(indices.windows(2).all(|w| w[0] < w[1]), "rejections out of order: {:?}", doc.rejected);
            for (i, reason) in &doc.rejected {
                assert!(!reason.trim().is_empty(), "record {i} rejected without a reason");
            }
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// One edit of a document's bytes; positions are fractions of the length so that they shrink
/// towards the start and apply to any document.
#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: f64, bit: u8 },
    Insert { at: f64, bytes: Vec<u8> },
    Delete { at: f64, len: usize },
    Truncate { at: f64 },
    Duplicate { at: f64, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0.0..1.0f64;
    let bytes = prop_oneof![
        prop::collection::vec(any::<u8>(), 1..8),
        prop::sample::select(vec![
            b"[".to_vec(), b"]".to_vec(), b"{".to_vec(), b"}".to_vec(), b",".to_vec(), b"\"".to_vec(),
            b"\\".to_vec(), b"\\u".to_vec(), b"\\ud800".to_vec(), b"1e999999".to_vec(), b"-".to_vec(),
            b"\n".to_vec(), b"\0".to_vec(), "\u{feff}".as_bytes().to_vec(), "é".as_bytes().to_vec(),
            vec![0xff], vec![0xc3], b"null".to_vec(), b"\"eventTime\":".to_vec(),
        ]),
    ];
    prop_oneof![
        (at.clone(), 0..8u8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (at.clone(), bytes).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (at.clone(), 1..64usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        at.clone().prop_map(|at| Mutation::Truncate { at }),
        (at, 1..256usize).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
    ]
}

fn apply(doc: &mut Vec<u8>, m: &Mutation) {
    let pos = |at: f64, len: usize| ((at * len as f64) as usize).min(len);
    match m {
        Mutation::Flip { at, bit } => {
            if !doc.is_empty() {
                let i = pos(*at, doc.len() - 1);
                doc[i] ^= 1 << bit;
            }
        }
        Mutation::Insert { at, bytes } => {
            let i = pos(*at, doc.len());
            doc.splice(i..i, bytes.iter().copied());
        }
        Mutation::Delete { at, len } => {
            let i = pos(*at, doc.len());
            doc.drain(i..(i + len).min(doc.len()));
        }
        Mutation::Truncate { at } => doc.truncate(pos(*at, doc.len())),
        Mutation::Duplicate { at, len } => {
            let i = pos(*at, doc.len());
            let copy: Vec<u8> = doc[i..(i + len).min(doc.len())].to_vec();
            doc.splice(i..i, copy);
        }
    }
}

/// Something in a records array that is not a usable record, and what the parser does with it.
#[derive(Debug, Clone)]
enum Junk {
    /// Must be rejected at its index.
    Rejected(String),
    /// An insight event: skipped and counted, not rejected.
    Insight(String),
}

/// A record of the fixture with `eventTime` replaced by `time` (any JSON text).
fn with_event_time(time_json: &str) -> String {
    let base = &fixture_records()[0];
    let at = base.find("\"eventTime\":\"").unwrap();
    let end = at + base[at + 13..].find('"').unwrap() + 14;
    format!("{}\"eventTime\":{time_json}{}", &base[..at], &base[end..])
}

fn junk() -> impl Strategy<Value = Junk> {
    let no_time = fixture_records()[1].replacen("\"eventTime\"", "\"eventTimeX\"", 1);
    let no_source = fixture_records()[2].replacen("\"eventSource\"", "\"eventSourceX\"", 1);
    let no_name = fixture_records()[3].replacen("\"eventName\"", "\"eventNameX\"", 1);
    let insight = r#"{"eventVersion":"1.08","eventTime":"2023-07-10T11:00:00Z","eventSource":"ssm.amazonaws.com","eventName":"PutParameter","eventType":"AwsCloudTrailInsight","insightDetails":{"state":"Start"}}"#;
    let fixed = prop::sample::select(vec![
        "42".to_owned(), "-0".to_owned(), "1e999999".to_owned(), "123456789012345678901234567890".to_owned(),
        "null".to_owned(), "true".to_owned(), "\"a string\"".to_owned(), "\"\\ud800\"".to_owned(), "[]".to_owned(),
        "[[[[[[[[]]]]]]]]".to_owned(), "{}".to_owned(), no_time, no_source, no_name,
        r#"{"eventTime":"2023-07-10T11:00:00Z","eventSource":"s","eventName":7}"#.to_owned(),
        r#"{"eventTime":"2023-07-10T11:00:00Z","eventSource":"s","eventName":"X","readOnly":"maybe"}"#.to_owned(),
        r#"{"eventTime":"2023-07-10T11:00:00Z","eventSource":"s","eventName":"X","userIdentity":"me"}"#.to_owned(),
        r#"{"eventTime":"2023-07-10T11:00:00Z","eventSource":"s","eventName":"X","resources":{}}"#.to_owned(),
        r#"{"eventTime":"2023-07-10T11:00:00Z","eventTime":"2023-07-10T11:00:00Z","eventSource":"s","eventName":"X"}"#.to_owned(),
        with_event_time("null"),
        with_event_time("1688990087"),
        with_event_time("1e999999"),
        with_event_time("\"\""),
        with_event_time("\"2023-07-10\""),
        with_event_time("\"2023-07-10 11:54:47\""),
        with_event_time("\"2023-13-10T11:54:47Z\""),
        with_event_time("\"2023-07-10T11:54:47\""),
        with_event_time("\"\\u0032023-07-10T11:54:47Z \""),
    ]);
    prop_oneof![
        8 => fixed.prop_map(Junk::Rejected),
        1 => Just(Junk::Insight(insight.to_owned())),
        // A random eventTime string that is not RFC 3339 (almost all of them).
        2 => "[0-9T:Z.+ -]{0,30}|\\PC{0,20}"
            .prop_filter("valid RFC 3339", |t| engine::time::parse_millis(t).is_none())
            .prop_map(|t| Junk::Rejected(with_event_time(&serde_json::to_string(&t).unwrap()))),
    ]
}

/// How a list of records is laid out as a document.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Envelope,
    BareArray,
    Ndjson,
    PrettyEnvelope,
}

fn shape() -> impl Strategy<Value = Shape> {
    prop::sample::select(vec![Shape::Envelope, Shape::BareArray, Shape::Ndjson, Shape::PrettyEnvelope])
}

fn layout(records: &[&str], shape: Shape) -> String {
    match shape {
        Shape::Envelope => format!("{{\"Records\":[{}]}}", records.join(",")),
        Shape::BareArray => format!("[{}]", records.join(",")),
        Shape::Ndjson => records.iter().map(|r| format!("{r}\n")).collect(),
        Shape::PrettyEnvelope => format!("{{\n  \"Records\" : [\n    {}\n  ]\n}}\n", records.join(",\n    ")),
    }
}

/// What surrounds a document in the wild: a byte-order mark, blank lines, CRLF.
fn frame() -> impl Strategy<Value = (bool, &'static str, &'static str)> {
    (any::<bool>(), prop::sample::select(vec!["", " ", "\n\n", "\t\r\n"]), prop::sample::select(vec!["", "\n", "\r\n", "  \n\n"]))
}

fn framed(doc: &str, (bom, before, after): (bool, &str, &str)) -> Vec<u8> {
    format!("{}{before}{doc}{after}", if bom { "\u{feff}" } else { "" }).into_bytes()
}

fn raws(doc: &ParsedDocument) -> Vec<&str> {
    doc.records.iter().map(|r| r.raw.as_str()).collect()
}

#[test]
fn the_whole_fixture_is_kept() {
    let doc = parse_bounded(fixture().as_bytes().to_vec()).unwrap();
    assert_eq!(doc.records.len(), 174);
    assert!(doc.rejected.is_empty(), "{:?}", doc.rejected);
    let expected: Vec<&str> = fixture_records().iter().map(String::as_str).collect();
    assert_eq!(raws(&doc), expected);
}

#[test]
fn deep_nesting_is_an_error_or_a_rejection_not_a_stack_overflow() {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    for text in [
        "[".repeat(100_000),
        "{\"Records\":".to_owned() + &"[".repeat(100_000),
        "{\"a\":".repeat(100_000),
        deep(100_000),
        format!("{{\"Records\":{}}}", deep(100_000)),
    ] {
        check_outcome(&parse_bounded(text.into_bytes()));
    }
    // A deep value inside one record: its neighbours are still kept.
    let deep_record = with_event_time("\"2023-07-10T11:54:47Z\"").replacen('{', &format!("{{\"deep\":{},", deep(100_000)), 1);
    let good = &fixture_records()[5];
    let text = format!("{{\"Records\":[{good},{deep_record},{good}]}}");
    let parsed = parse_bounded(text.into_bytes());
    check_outcome(&parsed);
    let doc = parsed.expect("one deep record must not lose the whole document");
    assert_eq!(doc.records.iter().filter(|r| r.raw == *good).count(), 2);
}

proptest! {
    #![proptest_config(config())]

    /// Any bytes at all, plain or behind a gzip header: an answer, never a panic.
    #[test]
    fn arbitrary_bytes_get_an_answer(bytes in prop::collection::vec(any::<u8>(), 0..2048), gz_header in any::<bool>()) {
        let bytes = if gz_header { [&[0x1f, 0x8b][..], &bytes].concat() } else { bytes };
        if let Ok(plain) = decompress_if_gzip(bytes, 1 << 20) {
            check_outcome(&parse_bounded(plain));
        }
    }

    /// Text made of JSON's own punctuation, inside and outside an envelope.
    #[test]
    fn json_shaped_junk_gets_an_answer(text in "[\\[\\]{}\",:0-9a-zA-Z\\\\ \n.eE+-]{0,400}", wrap in 0..3u8) {
        let text = match wrap {
            0 => text,
            1 => format!("{{\"Records\":[{text}]}}"),
            _ => format!("{{\"eventTime\":\"2023-07-10T11:54:47Z\",\"eventSource\":{text}}}"),
        };
        check_outcome(&parse_bounded(text.into_bytes()));
    }

    /// Real documents with bytes flipped, inserted, deleted, duplicated or cut off.
    #[test]
    fn mutated_real_documents_get_an_answer(mutations in prop::collection::vec(mutation(), 1..6), compressed in any::<bool>()) {
        let mut doc = fixture().as_bytes().to_vec();
        if compressed {
            doc = gzip(&doc);
        }
        for m in &mutations {
            apply(&mut doc, m);
        }
        let plain = match decompress_if_gzip(doc, 1 << 30) {
            Ok(plain) => plain,
            Err(e) => {
                prop_assert!(e.to_string().contains("gzip"), "{e}");
                return Ok(());
            }
        };
        let parsed = parse_bounded(plain);
        check_outcome(&parsed);
        if let Ok(doc) = parsed {
            // Whatever was kept is kept byte for byte: on its own it parses to the same record.
            for r in &doc.records {
                let alone = parse_document(r.raw.as_bytes()).unwrap();
                prop_assert_eq!(&alone.records, &vec![r.clone()]);
            }
        }
    }

    /// Any selection of real records, in any of the shapes delivered in the wild: all kept, in order.
    #[test]
    fn every_valid_record_is_kept(
        picked in prop::sample::subsequence((0..174usize).collect::<Vec<_>>(), 1..=174),
        shape in shape(),
        frame in frame(),
    ) {
        let records: Vec<&str> = picked.iter().map(|&i| fixture_records()[i].as_str()).collect();
        let doc = parse_bounded(framed(&layout(&records, shape), frame)).unwrap();
        prop_assert!(doc.rejected.is_empty(), "{:?}", doc.rejected);
        prop_assert_eq!(raws(&doc), records);
    }

    /// Junk among real records: each junk item is rejected by its index (or counted, for an
    /// insight event) and every real record around it is kept.
    #[test]
    fn junk_records_are_rejected_by_index_and_their_neighbours_kept(
        items in prop::collection::vec(prop_oneof![3 => (0..174usize).prop_map(Ok), 1 => junk().prop_map(Err)], 1..40),
        shape in prop::sample::select(vec![Shape::Envelope, Shape::BareArray, Shape::PrettyEnvelope]),
    ) {
        let texts: Vec<&str> = items.iter().map(|item| match item {
            Ok(i) => fixture_records()[*i].as_str(),
            Err(Junk::Rejected(t) | Junk::Insight(t)) => t.as_str(),
        }).collect();
        let parsed = parse_bounded(layout(&texts, shape).into_bytes());
        check_outcome(&parsed);
        let doc = match parsed {
            Ok(doc) => doc,
            Err(e) => return Err(TestCaseError::fail(format!("the whole document was refused ({e}), losing its valid records"))),
        };
        let valid: Vec<&str> = items.iter().zip(&texts).filter(|(i, _)| i.is_ok()).map(|(_, t)| *t).collect();
        prop_assert_eq!(raws(&doc), valid);
        let junk_at: Vec<usize> = items.iter().enumerate().filter(|(_, i)| matches!(i, Err(Junk::Rejected(_)))).map(|(n, _)| n).collect();
        let rejected_at: Vec<usize> = doc.rejected.iter().map(|(n, _)| *n).collect();
        prop_assert_eq!(rejected_at, junk_at, "reasons: {:?}", doc.rejected);
        prop_assert_eq!(doc.insight_events, items.iter().filter(|i| matches!(i, Err(Junk::Insight(_)))).count());
    }

    /// eventTime strings of every shape: accepted exactly when they are RFC 3339 and inside
    /// the window CloudTrail can have written (2013-01-01 to a day ahead of now), at the instant
    /// they name; otherwise rejected with a reason that names the field.
    #[test]
    fn event_times_of_every_shape(time in prop_oneof![
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,12})?(Z|z|[+-][0-9]{2}:[0-9]{2})",
        "[+-]?[0-9]{1,7}-[0-9]{1,3}-[0-9]{1,3}[Tt ][0-9]{1,3}:[0-9]{1,3}:[0-9]{1,3}(\\.[0-9]{0,30})?[Zz+-]?[0-9:]{0,6}",
        "\\PC{0,40}",
        prop::sample::select(vec!["9999-12-31T23:59:59.999999999+00:00", "0000-01-01T00:00:00-23:59", "2016-12-31T23:59:60Z", "1970-01-01T00:00:00Z"]).prop_map(str::to_owned),
    ]) {
        let record = with_event_time(&serde_json::to_string(&time).unwrap());
        let doc = parse_bounded(format!("[{record}]").into_bytes()).unwrap();
        match chrono::DateTime::parse_from_rfc3339(&time) {
            Ok(t) if t.timestamp_millis() >= 1_356_998_400_000
                && t.timestamp_millis() <= chrono::Utc::now().timestamp_millis() + 86_400_000 - 60_000 => {
                prop_assert!(doc.rejected.is_empty(), "{:?}", doc.rejected);
                prop_assert_eq!(doc.records[0].event_time_ms, t.timestamp_millis());
            }
            _ if doc.records.len() == 1 => {
                // Only the minute before the window's moving end may go either way.
                let t = chrono::DateTime::parse_from_rfc3339(&time).unwrap().timestamp_millis();
                prop_assert!((t - (chrono::Utc::now().timestamp_millis() + 86_400_000)).abs() < 120_000, "{time} accepted");
            }
            _ => {
                prop_assert!(doc.records.is_empty());
                prop_assert_eq!(doc.rejected.len(), 1);
                prop_assert!(doc.rejected[0].1.contains("eventTime"), "{}", doc.rejected[0].1);
            }
        }
    }

    /// Odd Unicode and escapes in string fields: the record is kept, byte for byte, with the
    /// field decoded; a lone surrogate (valid JSON grammar, not Unicode) is at worst a rejection.
    #[test]
    fn odd_unicode_and_escapes_in_fields(name in "\\PC{0,30}|[\\u{0}-\\u{1f}\\u{7f}-\\u{9f}\\u{feff}\\u{fffd}\\u{10ffff}]{1,10}", escape_all in any::<bool>()) {
        let mut json_name = serde_json::to_string(&name).unwrap();
        if escape_all {
            json_name = format!("\"{}\"", name.encode_utf16().map(|u| format!("\\u{u:04x}")).collect::<String>());
        }
        let record = fixture_records()[0].replacen("\"eventName\":\"GetPasswordData\"", &format!("\"eventName\":{json_name}"), 1);
        let other = &fixture_records()[1];
        let doc = parse_bounded(format!("{{\"Records\":[{record},{other},{{\"eventName\":\"\\ud800\",\"eventTime\":\"2023-07-10T11:54:47Z\",\"eventSource\":\"s\"}}]}}").into_bytes());
        check_outcome(&doc);
        let doc = doc.unwrap();
        prop_assert_eq!(doc.records.len() + doc.rejected.len(), 3);
        prop_assert_eq!(doc.records[0].event_name.as_str(), name.as_str());
        prop_assert_eq!(doc.records[0].raw.as_str(), record.as_str());
        prop_assert_eq!(doc.records[1].raw.as_str(), other.as_str());
    }

    /// Gzip: any bytes round-trip, several members are one document, and the output limit holds.
    #[test]
    fn gzip_round_trips_and_respects_its_limit(a in prop::collection::vec(any::<u8>(), 0..4096), b in prop::collection::vec(any::<u8>(), 0..4096), limit in 0..8192u64) {
        let both = [gzip(&a), gzip(&b)].concat();
        let whole = [a.clone(), b.clone()].concat();
        match decompress_if_gzip(both, limit) {
            Ok(out) => {
                prop_assert!(out.len() as u64 <= limit);
                prop_assert_eq!(out, whole);
            }
            Err(e) => {
                prop_assert!(whole.len() as u64 > limit, "{}", e);
                prop_assert!(e.to_string().contains("larger than the limit"), "{}", e);
            }
        }
    }
}
