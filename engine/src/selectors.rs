//! Event selectors: which of the events in a trail's logs trailsight keeps.
//!
//! On AWS a trail's event selectors decide what CloudTrail logs. Here the logs already exist,
//! so the same selectors decide what ingest *stores*: a record no selector selects is skipped
//! (counted in the ingest summary with its source and name, never silently), which lets a team
//! drop noisy data events (`s3 GetObject` on a build bucket, say) before they fill the store.
//!
//! Both of AWS's forms are accepted, validated as AWS validates them (`PutEventSelectors`):
//!
//! - **basic** ([`BasicSelector`]): up to 5; read/write type, management events on or off,
//!   management event sources to exclude (`kms.amazonaws.com`, `rdsdata.amazonaws.com`), and
//!   data resources (`AWS::S3::Object`, `AWS::Lambda::Function`, `AWS::DynamoDB::Table`, at
//!   most 250 ARN prefixes in all);
//! - **advanced** ([`AdvancedSelector`]): conditions on record fields (`Equals`,
//!   `StartsWith`, `EndsWith` and their `Not` forms), at most 500 values in all.
//!
//! An event is kept when any selector selects it. Within an advanced selector every field
//! condition must hold; within one condition, any of the positive values may match and none
//! of the negative ones.
//!
//! **Defaults.** A trail created through the AWS API starts with AWS's default, all read and
//! write management events and no data events ([`EventSelectors::aws_default`]). A trail
//! created by ingest, push or the dashboard keeps every event its logs hold
//! ([`EventSelectors::KeepAll`]): those logs were already filtered by the trail that wrote
//! them, and dropping data events nobody asked to drop would lose them. GetEventSelectors
//! shows that default as two advanced selectors, all management and all data events;
//! trailsight accepts `eventCategory = Data` without `resources.type` for that reason (AWS
//! requires the resource type because it must decide what to log).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::record::Record;

/// A trail's event selectors.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum EventSelectors {
    /// Every event the logs hold (the default for trails not made through the AWS API).
    #[default]
    KeepAll,
    Basic(Vec<BasicSelector>),
    Advanced(Vec<AdvancedSelector>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ReadWriteType {
    ReadOnly,
    WriteOnly,
    #[default]
    All,
}

/// AWS's `EventSelector`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct BasicSelector {
    #[serde(default)]
    pub read_write_type: ReadWriteType,
    #[serde(default = "yes")]
    pub include_management_events: bool,
    #[serde(default)]
    pub data_resources: Vec<DataResource>,
    #[serde(default)]
    pub exclude_management_event_sources: Vec<String>,
}

fn yes() -> bool {
    true
}

/// AWS's `DataResource`: a resource type and ARN prefixes of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DataResource {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(default)]
    pub values: Vec<String>,
}

/// AWS's `AdvancedEventSelector`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AdvancedSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub field_selectors: Vec<FieldSelector>,
}

/// AWS's `AdvancedFieldSelector`: one field and its conditions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct FieldSelector {
    pub field: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub starts_with: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ends_with: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_equals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_starts_with: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_ends_with: Vec<String>,
}

/// The record fields advanced selectors on trails may name (AWS's list for trails).
const FIELDS: [&str; 11] = [
    "eventCategory",
    "eventSource",
    "eventName",
    "eventType",
    "readOnly",
    "resources.type",
    "resources.ARN",
    "userIdentity.arn",
    "errorCode",
    "sessionCredentialFromConsole",
    "vpcEndpointId",
];
/// Fields on which only `Equals` is allowed.
const EQUALS_ONLY: [&str; 3] = ["readOnly", "eventCategory", "resources.type"];
const BASIC_RESOURCE_TYPES: [(&str, &str); 3] =
    [("AWS::S3::Object", "s3"), ("AWS::Lambda::Function", "lambda"), ("AWS::DynamoDB::Table", "dynamodb")];
const EXCLUDABLE_SOURCES: [&str; 2] = ["kms.amazonaws.com", "rdsdata.amazonaws.com"];

impl EventSelectors {
    /// What AWS gives a trail created without selectors: all read and write management events.
    pub fn aws_default() -> EventSelectors {
        EventSelectors::Basic(vec![BasicSelector {
            read_write_type: ReadWriteType::All,
            include_management_events: true,
            data_resources: Vec::new(),
            exclude_management_event_sources: Vec::new(),
        }])
    }

    /// Reads and validates a PutEventSelectors request's `EventSelectors` or
    /// `AdvancedEventSelectors` (exactly one of them). The error says what to change.
    pub fn from_request(input: &Value) -> Result<EventSelectors, String> {
        let selectors = EventSelectors::from_members(input)?;
        selectors.validate()?;
        Ok(selectors)
    }

    /// Reads the members without validating them (see [`EventSelectors::from_request`]).
    fn from_members(input: &Value) -> Result<EventSelectors, String> {
        let present = |name: &str| input.get(name).is_some_and(|v| !v.is_null());
        let selectors = match (present("EventSelectors"), present("AdvancedEventSelectors")) {
            (true, true) => return Err("Give EventSelectors or AdvancedEventSelectors, not both.".into()),
            (false, false) => return Err("Give EventSelectors or AdvancedEventSelectors.".into()),
            (true, false) => {
                let mut basic: Vec<BasicSelector> = serde_json::from_value(input["EventSelectors"].clone())
                    .map_err(|e| format!("EventSelectors is not a list of event selectors: {e}"))?;
                // At most two sources can be excluded: a list repeating them is read once, so
                // no record is compared against thousands of copies.
                for selector in &mut basic {
                    selector.exclude_management_event_sources.sort();
                    selector.exclude_management_event_sources.dedup();
                }
                EventSelectors::Basic(basic)
            }
            (false, true) => EventSelectors::Advanced(
                serde_json::from_value(input["AdvancedEventSelectors"].clone())
                    .map_err(|e| format!("AdvancedEventSelectors is not a list of advanced event selectors: {e}"))?,
            ),
        };
        Ok(selectors)
    }

    /// AWS's limits and rules.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            EventSelectors::KeepAll => Ok(()),
            EventSelectors::Basic(selectors) => validate_basic(selectors),
            EventSelectors::Advanced(selectors) => validate_advanced(selectors),
        }
    }

    /// The stored form: `{"EventSelectors": [...]}` or `{"AdvancedEventSelectors": [...]}`,
    /// or `None` for [`EventSelectors::KeepAll`].
    pub fn to_stored(&self) -> Option<String> {
        match self {
            EventSelectors::KeepAll => None,
            other => Some(other.to_response().to_string()),
        }
    }

    pub fn from_stored(stored: Option<&str>) -> Result<EventSelectors, String> {
        match stored {
            None => Ok(EventSelectors::KeepAll),
            // Validated when they were put: read on every trail listing, they are only parsed.
            Some(text) => {
                let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
                EventSelectors::from_members(&value)
            }
        }
    }

    /// The members GetEventSelectors and PutEventSelectors answer with.
    pub fn to_response(&self) -> Value {
        match self {
            EventSelectors::KeepAll => serde_json::json!({ "AdvancedEventSelectors": [
                { "Name": "Management events", "FieldSelectors": [{ "Field": "eventCategory", "Equals": ["Management"] }] },
                { "Name": "Data events (trailsight keeps every data event its logs hold)",
                  "FieldSelectors": [{ "Field": "eventCategory", "Equals": ["Data"] }] },
            ]}),
            EventSelectors::Basic(s) => serde_json::json!({ "EventSelectors": s }),
            EventSelectors::Advanced(s) => serde_json::json!({ "AdvancedEventSelectors": s }),
        }
    }

    /// What the trail keeps, in words, for the dashboard.
    pub fn describe(&self) -> String {
        match self {
            EventSelectors::KeepAll => "every event its logs hold".to_owned(),
            s if *s == EventSelectors::aws_default() => "management events only (AWS's default)".to_owned(),
            EventSelectors::Basic(s) => format!("what its {} event selector(s) select", s.len()),
            EventSelectors::Advanced(s) => format!("what its {} advanced event selector(s) select", s.len()),
        }
    }

    /// Whether these are not AWS's default (the `HasCustomEventSelectors` of a trail).
    pub fn is_custom(&self) -> bool {
        *self != EventSelectors::aws_default()
    }

    /// Whether the trail keeps this record.
    pub fn selects(&self, record: &Record) -> bool {
        match self {
            EventSelectors::KeepAll => true,
            EventSelectors::Basic(selectors) => selectors.iter().any(|s| s.selects(record)),
            EventSelectors::Advanced(selectors) => {
                let mut fields = RecordFields::new(record);
                selectors.iter().any(|s| s.selects(&mut fields))
            }
        }
    }
}

fn is_read(record: &Record) -> bool {
    record.read_only.unwrap_or(!record.is_write)
}

impl BasicSelector {
    fn selects(&self, record: &Record) -> bool {
        let read_write = match self.read_write_type {
            ReadWriteType::All => true,
            ReadWriteType::ReadOnly => is_read(record),
            ReadWriteType::WriteOnly => !is_read(record),
        };
        if !read_write {
            return false;
        }
        if record.is_management {
            return self.include_management_events
                && !self.exclude_management_event_sources.iter().any(|s| *s == record.event_source);
        }
        self.data_resources.iter().any(|resource| {
            record.resources.iter().any(|(kind, arn)| {
                *kind == resource.kind && resource.values.iter().any(|prefix| arn.starts_with(prefix.as_str()))
            })
        })
    }
}

impl AdvancedSelector {
    /// Every field condition holds. `resources.ARN` conditions look at the resources of the
    /// type the selector names in `resources.type`, as AWS's do: an S3 object event also lists
    /// its bucket, whose ARN must not decide a condition written for objects.
    fn selects(&self, fields: &mut RecordFields<'_>) -> bool {
        let types = self.field_selectors.iter().find(|f| f.field == "resources.type").map(|f| f.equals.as_slice());
        self.field_selectors.iter().all(|f| f.holds(&fields.values(&f.field, types)))
    }
}

impl FieldSelector {
    /// Some value meets every positive condition (Equals, StartsWith, EndsWith), and no value
    /// meets a negative one. A field the record lacks reads as "": positive conditions fail,
    /// negative ones hold.
    fn holds(&self, values: &[String]) -> bool {
        let empty = [String::new()];
        let values = if values.is_empty() { &empty[..] } else { values };
        let positive = |v: &str| {
            (self.equals.is_empty() || self.equals.iter().any(|x| x == v))
                && (self.starts_with.is_empty() || self.starts_with.iter().any(|x| v.starts_with(x.as_str())))
                && (self.ends_with.is_empty() || self.ends_with.iter().any(|x| v.ends_with(x.as_str())))
        };
        let negative = |v: &str| {
            self.not_equals.iter().any(|x| x == v)
                || self.not_starts_with.iter().any(|x| v.starts_with(x.as_str()))
                || self.not_ends_with.iter().any(|x| v.ends_with(x.as_str()))
        };
        values.iter().any(|v| positive(v)) && !values.iter().any(|v| negative(v))
    }

    fn operators(&self) -> [(&'static str, &Vec<String>); 6] {
        [
            ("Equals", &self.equals),
            ("StartsWith", &self.starts_with),
            ("EndsWith", &self.ends_with),
            ("NotEquals", &self.not_equals),
            ("NotStartsWith", &self.not_starts_with),
            ("NotEndsWith", &self.not_ends_with),
        ]
    }
}

/// A record's field values as selectors read them; the raw JSON is parsed only if a selector
/// names a field the parsed record does not carry, and then once.
struct RecordFields<'a> {
    record: &'a Record,
    raw: Option<Value>,
}

impl<'a> RecordFields<'a> {
    fn new(record: &'a Record) -> Self {
        RecordFields { record, raw: None }
    }

    /// The field's values; `resources.ARN` only of the resource types in `types` when given.
    fn values(&mut self, field: &str, types: Option<&[String]>) -> Vec<String> {
        let r = self.record;
        let one = |v: &str| vec![v.to_owned()];
        match field {
            "eventCategory" => one(if r.network_activity {
                "NetworkActivity"
            } else if r.is_management {
                "Management"
            } else {
                "Data"
            }),
            "eventSource" => one(&r.event_source),
            "eventName" => one(&r.event_name),
            "readOnly" => one(if is_read(r) { "true" } else { "false" }),
            "resources.type" => r.resources.iter().map(|(kind, _)| kind.clone()).collect(),
            "resources.ARN" => r
                .resources
                .iter()
                .filter(|(kind, _)| types.is_none_or(|t| t.contains(kind)))
                .map(|(_, arn)| arn.clone())
                .collect(),
            "userIdentity.arn" => r.user_arn.iter().cloned().collect(),
            "errorCode" => r.error_code.iter().cloned().collect(),
            other => {
                let raw = self.raw.get_or_insert_with(|| serde_json::from_str(&r.raw).unwrap_or(Value::Null));
                match &raw[other] {
                    Value::String(s) => vec![s.clone()],
                    Value::Bool(b) => vec![b.to_string()],
                    _ => Vec::new(),
                }
            }
        }
    }
}

fn validate_basic(selectors: &[BasicSelector]) -> Result<(), String> {
    if selectors.is_empty() || selectors.len() > 5 {
        return Err(format!("A trail takes 1 to 5 event selectors; {} were given.", selectors.len()));
    }
    let mut values = 0;
    for (i, selector) in selectors.iter().enumerate() {
        for source in &selector.exclude_management_event_sources {
            if !EXCLUDABLE_SOURCES.contains(&source.as_str()) {
                return Err(format!(
                    "Event selector {i}: ExcludeManagementEventSources may hold only kms.amazonaws.com and rdsdata.amazonaws.com, not {source:?}."
                ));
            }
        }
        for resource in &selector.data_resources {
            let Some((_, service)) = BASIC_RESOURCE_TYPES.iter().find(|(kind, _)| *kind == resource.kind) else {
                return Err(format!(
                    "Event selector {i}: data resource type {:?} is not one basic selectors take (AWS::S3::Object, AWS::Lambda::Function, AWS::DynamoDB::Table); use AdvancedEventSelectors for others.",
                    resource.kind
                ));
            };
            if resource.values.is_empty() {
                return Err(format!("Event selector {i}: data resource {} needs at least one ARN or ARN prefix in Values.", resource.kind));
            }
            for value in &resource.values {
                // arn:<partition>:<service>[:...]
                let mut parts = value.split(':');
                let ok = parts.next() == Some("arn") && parts.next().is_some_and(|p| !p.is_empty()) && parts.next() == Some(service);
                if !ok {
                    return Err(format!(
                        "Event selector {i}: {value:?} is not an ARN or ARN prefix of {} (it must start arn:aws:{service}).",
                        resource.kind
                    ));
                }
            }
            values += resource.values.len();
        }
    }
    if values > 250 {
        return Err(format!("A trail's event selectors take at most 250 data resource values in all; {values} were given."));
    }
    Ok(())
}

fn validate_advanced(selectors: &[AdvancedSelector]) -> Result<(), String> {
    if selectors.is_empty() {
        return Err("AdvancedEventSelectors needs at least one selector.".into());
    }
    let mut values = 0;
    for (i, selector) in selectors.iter().enumerate() {
        let name = selector.name.as_deref().map(|n| format!(" ({n:?})")).unwrap_or_default();
        let at = |why: String| format!("Advanced event selector {i}{name}: {why}");
        if selector.name.as_ref().is_some_and(|n| n.chars().count() > 1000) {
            return Err(at("its Name is longer than 1000 characters.".into()));
        }
        if selector.field_selectors.is_empty() {
            return Err(at("FieldSelectors needs at least one field.".into()));
        }
        let mut category = None;
        for field in &selector.field_selectors {
            if !FIELDS.contains(&field.field.as_str()) {
                return Err(at(format!("{:?} is not a field trails select on; use one of {}.", field.field, FIELDS.join(", "))));
            }
            let used: Vec<_> = field.operators().into_iter().filter(|(_, v)| !v.is_empty()).collect();
            if used.is_empty() {
                return Err(at(format!("field {} has no condition: give Equals, StartsWith, EndsWith or a Not form.", field.field)));
            }
            if EQUALS_ONLY.contains(&field.field.as_str()) && used.iter().any(|(op, _)| *op != "Equals") {
                return Err(at(format!("field {} takes only Equals.", field.field)));
            }
            for (op, list) in &used {
                if let Some(bad) = list.iter().find(|v| v.is_empty() || v.chars().count() > 2048) {
                    return Err(at(format!("{} {op} value {bad:?} must be 1 to 2048 characters.", field.field)));
                }
                values += list.len();
            }
            match field.field.as_str() {
                "eventCategory" => {
                    if let Some(bad) = field.equals.iter().find(|v| !["Management", "Data", "NetworkActivity"].contains(&v.as_str())) {
                        return Err(at(format!("eventCategory {bad:?} is not Management, Data or NetworkActivity.")));
                    }
                    category = field.equals.first().cloned();
                }
                "readOnly" => {
                    if let Some(bad) = field.equals.iter().find(|v| !["true", "false"].contains(&v.as_str())) {
                        return Err(at(format!("readOnly {bad:?} is not true or false.")));
                    }
                }
                _ => {}
            }
        }
        if category.is_none() {
            return Err(at("it needs an eventCategory field (Equals Management, Data or NetworkActivity).".into()));
        }
    }
    if values > 500 {
        return Err(format!("Advanced event selectors take at most 500 values in all; {values} were given."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(json: Value) -> Record {
        let text = json.to_string();
        let raw: Box<serde_json::value::RawValue> = serde_json::from_str(&text).unwrap();
        Record::parse(&raw).unwrap()
    }

    fn management(name: &str, read_only: bool) -> Record {
        record(json!({ "eventTime": "2026-03-10T12:00:00Z", "eventSource": "ec2.amazonaws.com",
            "eventName": name, "readOnly": read_only, "managementEvent": true, "eventCategory": "Management" }))
    }

    fn s3_get(bucket: &str) -> Record {
        record(json!({ "eventTime": "2026-03-10T12:00:00Z", "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject", "readOnly": true, "managementEvent": false, "eventCategory": "Data",
            "resources": [{ "type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{bucket}/a.txt") },
                          { "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}") }] }))
    }

    fn parse(input: Value) -> Result<EventSelectors, String> {
        EventSelectors::from_request(&input)
    }

    #[test]
    fn aws_default_keeps_management_events_and_no_data_events() {
        let default = EventSelectors::aws_default();
        assert!(default.selects(&management("RunInstances", false)));
        assert!(default.selects(&management("DescribeInstances", true)));
        assert!(!default.selects(&s3_get("logs")));
        assert!(EventSelectors::KeepAll.selects(&s3_get("logs")));
    }

    #[test]
    fn basic_selectors_filter_by_read_write_source_and_resource() {
        // AWS's own example: write-only keeps RunInstances and drops GetConsoleOutput.
        let write_only = parse(json!({ "EventSelectors": [{ "ReadWriteType": "WriteOnly" }] })).unwrap();
        assert!(write_only.selects(&management("RunInstances", false)));
        assert!(!write_only.selects(&management("GetConsoleOutput", true)));

        let one_bucket = parse(json!({ "EventSelectors": [{ "IncludeManagementEvents": false,
            "DataResources": [{ "Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::keep/"] }] }] }))
        .unwrap();
        assert!(one_bucket.selects(&s3_get("keep")));
        assert!(!one_bucket.selects(&s3_get("noisy")));
        assert!(!one_bucket.selects(&management("RunInstances", false)));

        let no_kms = parse(json!({ "EventSelectors": [{ "ExcludeManagementEventSources": ["kms.amazonaws.com"] }] })).unwrap();
        let decrypt = record(json!({ "eventTime": "2026-03-10T12:00:00Z", "eventSource": "kms.amazonaws.com", "eventName": "Decrypt" }));
        assert!(!no_kms.selects(&decrypt));
        assert!(no_kms.selects(&management("RunInstances", false)));
    }

    #[test]
    fn advanced_selectors_combine_conditions() {
        // All management events, and S3 data events except reads of the "noisy" bucket.
        let selectors = parse(json!({ "AdvancedEventSelectors": [
            { "Name": "management", "FieldSelectors": [{ "Field": "eventCategory", "Equals": ["Management"] }] },
            { "Name": "s3 but noisy reads", "FieldSelectors": [
                { "Field": "eventCategory", "Equals": ["Data"] },
                { "Field": "resources.type", "Equals": ["AWS::S3::Object"] },
                { "Field": "resources.ARN", "NotStartsWith": ["arn:aws:s3:::noisy/"] } ] } ] }))
        .unwrap();
        assert!(selectors.selects(&management("RunInstances", false)));
        assert!(selectors.selects(&s3_get("keep")));
        // The record lists the bucket too ("arn:aws:s3:::noisy", which does not start with the
        // prefix): the condition looks at the object, as AWS's does, and drops the read.
        assert!(!selectors.selects(&s3_get("noisy")));
        let only_object = parse(json!({ "AdvancedEventSelectors": [{ "FieldSelectors": [
            { "Field": "eventCategory", "Equals": ["Data"] },
            { "Field": "eventName", "NotEquals": ["GetObject"] } ] }] }))
        .unwrap();
        assert!(!only_object.selects(&s3_get("keep")));
        assert!(!only_object.selects(&management("RunInstances", false)));
    }

    #[test]
    fn network_activity_is_its_own_category() {
        let vpce = record(json!({ "eventTime": "2026-03-10T12:00:00Z", "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject", "eventCategory": "NetworkActivity", "managementEvent": false }));
        let only = parse(json!({ "AdvancedEventSelectors": [{ "FieldSelectors": [
            { "Field": "eventCategory", "Equals": ["NetworkActivity"] } ] }] }))
        .unwrap();
        assert!(only.selects(&vpce));
        assert!(!only.selects(&management("RunInstances", false)));
        // Repeated sources to exclude are kept once.
        let repeated = vec!["kms.amazonaws.com"; 5000];
        let EventSelectors::Basic(basic) = parse(json!({ "EventSelectors": [{ "ExcludeManagementEventSources": repeated }] })).unwrap() else {
            panic!("basic selectors")
        };
        assert_eq!(basic[0].exclude_management_event_sources, ["kms.amazonaws.com"]);
    }

    #[test]
    fn the_keep_all_default_can_be_put_back() {
        let shown = EventSelectors::KeepAll.to_response();
        let again = EventSelectors::from_request(&shown).unwrap();
        assert!(again.selects(&s3_get("any")) && again.selects(&management("RunInstances", false)));
        assert_eq!(EventSelectors::from_stored(None), Ok(EventSelectors::KeepAll));
        let basic = EventSelectors::aws_default();
        assert_eq!(EventSelectors::from_stored(basic.to_stored().as_deref()), Ok(basic));
    }

    #[test]
    fn invalid_selectors_are_refused_with_the_reason() {
        let refused = |input: Value, needle: &str| {
            let e = parse(input).unwrap_err();
            assert!(e.contains(needle), "{e:?} should mention {needle:?}");
        };
        refused(json!({}), "Give EventSelectors or AdvancedEventSelectors");
        refused(json!({ "EventSelectors": [{}], "AdvancedEventSelectors": [] }), "not both");
        refused(json!({ "EventSelectors": [{}, {}, {}, {}, {}, {}] }), "1 to 5");
        refused(json!({ "EventSelectors": [{ "ReadWriteType": "Sometimes" }] }), "EventSelectors is not a list");
        refused(json!({ "EventSelectors": [{ "ExcludeManagementEventSources": ["ec2.amazonaws.com"] }] }), "kms.amazonaws.com");
        refused(json!({ "EventSelectors": [{ "DataResources": [{ "Type": "AWS::EC2::Instance", "Values": ["arn:aws:ec2"] }] }] }), "AdvancedEventSelectors for others");
        refused(json!({ "EventSelectors": [{ "DataResources": [{ "Type": "AWS::S3::Object", "Values": ["arn:aws:lambda"] }] }] }), "arn:aws:s3");
        let many: Vec<String> = (0..251).map(|i| format!("arn:aws:s3:::b{i}/")).collect();
        refused(json!({ "EventSelectors": [{ "DataResources": [{ "Type": "AWS::S3::Object", "Values": many }] }] }), "250");
        refused(json!({ "AdvancedEventSelectors": [{ "FieldSelectors": [{ "Field": "eventTime", "Equals": ["x"] }] }] }), "not a field");
        refused(json!({ "AdvancedEventSelectors": [{ "FieldSelectors": [{ "Field": "readOnly", "StartsWith": ["t"] }] }] }), "only Equals");
        refused(json!({ "AdvancedEventSelectors": [{ "FieldSelectors": [{ "Field": "eventCategory", "Equals": ["Other"] }] }] }), "not Management");
        refused(json!({ "AdvancedEventSelectors": [{ "FieldSelectors": [{ "Field": "eventName", "Equals": ["A"] }] }] }), "needs an eventCategory");
        refused(json!({ "AdvancedEventSelectors": [{ "FieldSelectors": [{ "Field": "eventName" }] }] }), "has no condition");
        let five_hundred_one: Vec<String> = (0..500).map(|i| format!("Op{i}")).collect();
        refused(json!({ "AdvancedEventSelectors": [{ "FieldSelectors": [
            { "Field": "eventCategory", "Equals": ["Management"] },
            { "Field": "eventName", "Equals": five_hundred_one } ] }] }), "500");
    }
}
