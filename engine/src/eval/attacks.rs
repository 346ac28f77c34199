//! Real attack activity for the evaluation: the Invictus IR bursts (the demo's fixture) and
//! Stratus Red Team detonation logs, each moved as a whole to a chosen minute.
//!
//! Records are classified by [`Record::parse`], the same code ingest uses, so what each
//! insight type sees of an attack is exactly what it would see in a real trail.

use serde_json::value::RawValue;
use serde_json::Value;

use crate::record::Record;
use crate::time::{minute_of_millis, Minute};

use super::world::{Call, Intent, World};

macro_rules! stratus {
    ($id:literal) => {
        ($id, include_bytes!(concat!("../../fixtures/stratus/aws.", $id, ".json")))
    };
}
/// Stratus techniques the scenario places: `(technique id, bare JSON array of records)`.
pub const STRATUS: &[(&str, &[u8])] = &[
    stratus!("credential-access.ec2-get-password-data"),
    stratus!("discovery.ec2-download-user-data"),
    stratus!("defense-evasion.cloudtrail-stop"),
    stratus!("persistence.iam-backdoor-user"),
    stratus!("execution.ssm-start-session"),
    stratus!("persistence.lambda-overwrite-code"),
    stratus!("lateral-movement.ec2-instance-connect"),
];

/// Places the Invictus bursts so that their first record falls in `at`.
pub fn place_invictus(world: &mut World, name: &str, region: &'static str, at: Minute) {
    let tag = world.tag(name, Intent::Attack);
    place(world, tag, region, crate::demo::attack_records(at));
}

/// Places one Stratus technique's records so that the first falls in `at`.
pub fn place_stratus(world: &mut World, technique: &(&str, &[u8]), region: &'static str, at: Minute) {
    let (id, bytes) = technique;
    let mut records: Vec<Value> = serde_json::from_slice(bytes).expect("bundled Stratus logs are JSON arrays");
    let minutes: Vec<Minute> = records.iter().map(|r| record_minute(r).unwrap_or(at)).collect();
    let first = minutes.iter().copied().min().unwrap_or(at);
    for (record, minute) in records.iter_mut().zip(minutes) {
        let ms = crate::time::millis_of_minute(minute - first + at);
        record["eventTime"] = Value::String(crate::time::format_millis(ms));
    }
    let tag = world.tag(format!("stratus {id}"), Intent::Attack);
    place(world, tag, region, records);
}

fn record_minute(record: &Value) -> Option<Minute> {
    crate::time::parse_millis(record["eventTime"].as_str()?).map(minute_of_millis)
}

fn place(world: &mut World, tag: usize, region: &'static str, records: Vec<Value>) {
    for value in records {
        let raw = RawValue::from_string(value.to_string()).expect("a JSON value serialises");
        let Ok(r) = Record::parse(&raw) else { continue };
        let call = Call {
            source: &r.event_source,
            name: &r.event_name,
            read_only: Some(!r.is_write),
            management: r.is_management,
        };
        let (ok, errors) = if r.error_code.is_some() { (0, 1) } else { (1, 0) };
        world.add(region, call, r.minute(), ok, errors, r.error_code.as_deref(), Some(tag));
    }
}
