//! What the demo's attack must yield, worked out here from the attack's own records (the
//! bundled Invictus fixture) and AWS's definitions, not from trailsight's output: a burst is
//! ten or more calls of one API in one minute (the demo's background calls these APIs a few
//! times a day); `ApiCallRateInsight` counts write management calls, one insight per API
//! that bursts; `ApiErrorRateInsight` counts failed calls, one per API and error code that
//! burst. A detector change that loses an attack or invents an insight fails the tests that
//! compare with this, naming which.

#![allow(dead_code)] // each test binary uses its own part of this module

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

pub const ATTACK: &[u8] = include_bytes!("../../../engine/fixtures/invictus/attack-bursts.json.gz");

/// The attack's records.
pub fn attack_records() -> Vec<serde_json::Value> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(ATTACK).read_to_string(&mut text).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["Records"].as_array().unwrap().clone()
}

/// `(insight type, event name, error code)` of every insight the attack must raise.
pub fn attack_insights() -> BTreeSet<(String, String, Option<String>)> {
    let mut per_minute: BTreeMap<(String, String, Option<String>, String), usize> = BTreeMap::new();
    for r in attack_records() {
        let name = r["eventName"].as_str().unwrap().to_owned();
        let minute = r["eventTime"].as_str().unwrap()[..16].to_owned();
        if r["readOnly"] == false {
            *per_minute.entry(("ApiCallRateInsight".into(), name.clone(), None, minute.clone())).or_default() += 1;
        }
        if let Some(code) = r["errorCode"].as_str() {
            *per_minute.entry(("ApiErrorRateInsight".into(), name, Some(code.to_owned()), minute)).or_default() += 1;
        }
    }
    per_minute.into_iter().filter(|(_, n)| *n >= 10).map(|((kind, name, code, _), _)| (kind, name, code)).collect()
}

/// The same triple for a stored AWS insight record.
pub fn of_record(r: &serde_json::Value) -> (String, String, Option<String>) {
    let d = &r["insightDetails"];
    (d["insightType"].as_str().unwrap().to_owned(), d["eventName"].as_str().unwrap().to_owned(), d["errorCode"].as_str().map(str::to_owned))
}
