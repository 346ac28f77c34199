//! One CloudTrail record: the raw JSON kept byte for byte, plus the fields that detection,
//! queries and the dashboard filter on.
//!
//! Records from every CloudTrail event version are accepted. Only what detection cannot do
//! without is required: `eventTime`, `eventSource` and `eventName`. Everything else is
//! optional, and the classification rules below decide what older records lack.
//!
//! # Classification (documented in the README, tested below)
//!
//! - **Management or data.** `managementEvent` decides when present. Otherwise
//!   `eventCategory` decides (`"Data"` is data; anything else, or nothing, is management:
//!   AWS's own default before the field existed).
//! - **Read or write.** `readOnly` decides when present (`true`/`false`, or the strings
//!   `"true"`/`"false"` some exporters write). When it is missing, the API name decides: a
//!   name starting with a read verb (`Get`, `List`, `Describe`, `Head`, `Lookup`, `Search`,
//!   `Query`, `Scan`, `BatchGet`, `Select`, `View`) is a read; every other name counts as a
//!   write, so a `Create*`/`Delete*`/`Put*`/`Run*` call is never silently dropped.
//! - **Insight events** (`eventType: AwsCloudTrailInsight`) are not API calls; ingest skips
//!   them so they are never counted as activity.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::time::{minute_of_millis, parse_millis, Minute};

/// A stored CloudTrail record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// `eventID`, or `sha:<digest of the raw JSON>` when a record has none, so duplicates
    /// of an ID-less record still deduplicate.
    pub event_id: String,
    pub event_time_ms: i64,
    pub event_source: String,
    pub event_name: String,
    pub aws_region: String,
    pub account: String,
    pub error_code: Option<String>,
    /// `readOnly` as written, `None` when absent.
    pub read_only: Option<bool>,
    pub is_management: bool,
    /// `eventCategory` is `NetworkActivity` (VPC endpoint events). Read at ingest, for event
    /// selectors; not stored, so `false` on records read back from a store.
    pub network_activity: bool,
    /// The classification the call-rate insight uses (see the module docs).
    pub is_write: bool,
    pub user_arn: Option<String>,
    pub user_name: Option<String>,
    pub access_key_id: Option<String>,
    pub user_agent: Option<String>,
    pub source_ip: Option<String>,
    /// `resources[]` as `(type, name)` pairs, for lookups by resource.
    pub resources: Vec<(String, String)>,
    /// The record exactly as delivered.
    pub raw: String,
    /// `raw` compressed for storage, when ingest's workers have done it already.
    pub packed_raw: PackedRaw,
}

/// A record's raw JSON compressed for storage ([`crate::store::packed`]), filled in by ingest's
/// parallel workers so that the single database writer does not compress. It is derived from
/// `raw`, so it takes no part in comparing records.
#[derive(Debug, Clone, Default)]
pub struct PackedRaw(pub Option<Vec<u8>>);

impl PartialEq for PackedRaw {
    fn eq(&self, _: &PackedRaw) -> bool {
        true
    }
}

impl Record {
    pub fn minute(&self) -> Minute {
        minute_of_millis(self.event_time_ms)
    }
}

/// Why one record could not be stored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordError {
    #[error("not a JSON object ({0})")]
    NotAnObject(String),
    #[error("missing required field `{0}` (detection needs eventTime, eventSource and eventName)")]
    Missing(&'static str),
    #[error("field `eventTime` is not an RFC 3339 timestamp: {0:?}")]
    BadTime(String),
    #[error("{0}")]
    BadField(String),
    #[error("this is an insight event, not an API call")]
    InsightEvent,
}

/// The fields read from a record; every one optional so that old and trimmed records parse.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fields {
    #[serde(rename = "eventID")]
    event_id: Option<String>,
    event_time: Option<String>,
    event_source: Option<String>,
    event_name: Option<String>,
    aws_region: Option<String>,
    recipient_account_id: Option<String>,
    error_code: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    read_only: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    management_event: Option<bool>,
    event_category: Option<String>,
    event_type: Option<String>,
    user_identity: Option<UserIdentity>,
    user_agent: Option<String>,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: Option<String>,
    resources: Option<Vec<Resource>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserIdentity {
    #[serde(rename = "type")]
    kind: Option<String>,
    principal_id: Option<String>,
    arn: Option<String>,
    user_name: Option<String>,
    access_key_id: Option<String>,
}

#[derive(Deserialize)]
struct Resource {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(rename = "ARN")]
    arn: Option<String>,
}

fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<B>::deserialize(d)? {
        Some(B::Bool(b)) => Some(b),
        Some(B::Text(t)) if t.eq_ignore_ascii_case("true") => Some(true),
        Some(B::Text(t)) if t.eq_ignore_ascii_case("false") => Some(false),
        Some(B::Text(t)) => {
            return Err(serde::de::Error::custom(format!(
                "expected true or false, found {t:?}"
            )))
        }
        None => None,
    })
}

const READ_VERBS: &[&str] = &[
    "Get", "List", "Describe", "Head", "Lookup", "Search", "Query", "Scan", "BatchGet", "Select",
    "View",
];

/// Whether an API call without `readOnly` is a read, judged by its name (see module docs).
pub fn name_looks_read_only(event_name: &str) -> bool {
    READ_VERBS.iter().any(|verb| {
        event_name.starts_with(verb)
            && event_name[verb.len()..].chars().next().is_none_or(|c| !c.is_lowercase())
    })
}

impl Record {
    /// Parses one record from its raw JSON text.
    pub fn parse(raw: &RawValue) -> Result<Record, RecordError> {
        let text = raw.get();
        if !text.starts_with('{') {
            return Err(RecordError::NotAnObject(describe_json(text)));
        }
        let f: Fields = serde_json::from_str(text).map_err(|e| {
            RecordError::BadField(format!("a field has the wrong type: {}", strip_position(&e)))
        })?;
        if f.event_type.as_deref() == Some("AwsCloudTrailInsight") {
            return Err(RecordError::InsightEvent);
        }
        let event_time = f.event_time.ok_or(RecordError::Missing("eventTime"))?;
        let event_time_ms = parse_millis(&event_time).ok_or(RecordError::BadTime(event_time))?;
        let event_source = f.event_source.ok_or(RecordError::Missing("eventSource"))?;
        let event_name = f.event_name.ok_or(RecordError::Missing("eventName"))?;

        let is_management = match (f.management_event, f.event_category.as_deref()) {
            (Some(m), _) => m,
            (None, Some(category)) => !category.eq_ignore_ascii_case("Data"),
            (None, None) => true,
        };
        let is_write = match f.read_only {
            Some(read_only) => !read_only,
            None => !name_looks_read_only(&event_name),
        };
        let identity = f.user_identity;
        let user_name = identity.as_ref().and_then(event_history_user_name);
        let event_id = match f.event_id {
            Some(id) if !id.is_empty() => id,
            _ => format!("sha:{}", content_digest(text)),
        };
        Ok(Record {
            event_id,
            event_time_ms,
            event_source,
            event_name,
            aws_region: f.aws_region.unwrap_or_default(),
            account: f.recipient_account_id.unwrap_or_default(),
            error_code: f.error_code.filter(|c| !c.is_empty()),
            read_only: f.read_only,
            is_management,
            network_activity: f.event_category.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("NetworkActivity")),
            is_write,
            user_arn: identity.as_ref().and_then(|u| u.arn.clone()),
            user_name,
            access_key_id: identity.and_then(|u| u.access_key_id),
            user_agent: f.user_agent,
            source_ip: f.source_ip_address,
            resources: f
                .resources
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| Some((r.kind.unwrap_or_default(), r.arn?)))
                .collect(),
            raw: text.to_owned(),
            packed_raw: PackedRaw::default(),
        })
    }
}

/// The `Username` AWS's Event history and LookupEvents show for a caller (and filter on):
///
/// - an assumed role: the *session name*, the last part of
///   `arn:aws:sts::<account>:assumed-role/<role>/<session>` (not the role name in
///   `sessionContext.sessionIssuer`): AWS's own `aws cloudtrail lookup-events` example shows
///   `"Username": "my-session-name"` for `assumed-role/my-role/my-session-name`, and real
///   outputs show `AutoScaling` for `assumed-role/AWSServiceRoleForAutoScaling/AutoScaling`;
/// - a federated user: the name after `federated-user/`, likewise;
/// - the root user: `root`;
/// - anyone else with `userName` (IAM users, SAML and web identity users): that name;
/// - AWS services and accounts without a user name: none.
///
/// When the ARN is missing, the part of `principalId` after `:` is the session name.
fn event_history_user_name(identity: &UserIdentity) -> Option<String> {
    let after_colon = || identity.principal_id.as_deref()?.split_once(':').map(|(_, s)| s.to_owned());
    let last_part = |marker: &str| {
        let arn = identity.arn.as_deref()?;
        let rest = &arn[arn.find(marker)? + marker.len()..];
        rest.rsplit('/').next().filter(|s| !s.is_empty()).map(str::to_owned)
    };
    match identity.kind.as_deref() {
        Some("AssumedRole") => last_part(":assumed-role/").or_else(after_colon),
        Some("FederatedUser") => last_part(":federated-user/").or_else(after_colon),
        Some("Root") => Some("root".to_owned()),
        _ => identity.user_name.clone().or_else(|| {
            // Records written before `type` existed: the ARN still says what the caller was.
            last_part(":assumed-role/").or_else(|| last_part(":federated-user/"))
        }),
    }
}

/// Names what a non-object JSON value is, for error messages.
fn describe_json(text: &str) -> String {
    match text.as_bytes().first() {
        Some(b'[') => "an array".into(),
        Some(b'"') => "a string".into(),
        Some(b'n') => "null".into(),
        Some(b't' | b'f') => "a boolean".into(),
        _ => "a number".into(),
    }
}

/// serde_json errors end in "at line 1 column 40", which means nothing inside one record.
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.find(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// A stable 128-bit digest (FNV-1a, twice, with different offsets) of a record's text: enough
/// to deduplicate records that lack an `eventID`, with no crypto dependency.
fn content_digest(text: &str) -> String {
    let fnv = |seed: u64| {
        text.bytes().fold(seed, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
    };
    format!("{:016x}{:016x}", fnv(0xcbf2_9ce4_8422_2325), fnv(0x6c62_272e_07bb_0142))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Record, RecordError> {
        let raw: Box<RawValue> = serde_json::from_str(json).unwrap();
        Record::parse(&raw)
    }

    const FULL: &str = r#"{"eventVersion":"1.08","eventTime":"2023-07-10T11:58:03Z",
        "eventSource":"ssm.amazonaws.com","eventName":"PutParameter","awsRegion":"us-east-1",
        "eventID":"e-1","readOnly":false,"managementEvent":true,"eventCategory":"Management",
        "recipientAccountId":"218007301253","userAgent":"Terraform",
        "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::218007301253:user/x","userName":"x",
          "accessKeyId":"AKIA1"},
        "resources":[{"type":"AWS::SSM::Parameter","ARN":"arn:aws:ssm:us-east-1:1:parameter/p"}]}"#;

    #[test]
    fn keeps_the_raw_record_and_the_query_fields() {
        let r = parse(FULL).unwrap();
        assert_eq!(r.event_id, "e-1");
        assert_eq!(r.event_name, "PutParameter");
        assert!(r.is_write && r.is_management);
        assert_eq!(r.user_name.as_deref(), Some("x"));
        assert_eq!(r.access_key_id.as_deref(), Some("AKIA1"));
        assert_eq!(r.resources[0].0, "AWS::SSM::Parameter");
        let original: serde_json::Value = serde_json::from_str(FULL).unwrap();
        let stored: serde_json::Value = serde_json::from_str(&r.raw).unwrap();
        assert_eq!(original, stored);
    }

    #[test]
    fn usernames_are_what_aws_event_history_shows() {
        let user = |identity: &str| {
            let json = format!(r#"{{"eventTime":"2024-01-01T00:00:00Z","eventSource":"s","eventName":"n","userIdentity":{identity}}}"#);
            parse(&json).unwrap().user_name
        };
        // The aws CLI's own lookup-events example: the session name, not the role.
        let assumed = r#"{"type":"AssumedRole","principalId":"AROAEXAMPLE:my-session-name",
            "arn":"arn:aws:sts::123456789012:assumed-role/my-role/my-session-name",
            "sessionContext":{"sessionIssuer":{"type":"Role","userName":"my-role"}}}"#;
        assert_eq!(user(assumed).as_deref(), Some("my-session-name"));
        assert_eq!(user(r#"{"type":"AssumedRole","principalId":"AROAX:i-0abc"}"#).as_deref(), Some("i-0abc"));
        assert_eq!(user(r#"{"type":"Root","arn":"arn:aws:iam::123456789012:root"}"#).as_deref(), Some("root"));
        assert_eq!(
            user(r#"{"type":"FederatedUser","arn":"arn:aws:sts::1:federated-user/bob","sessionContext":{"sessionIssuer":{"userName":"issuer"}}}"#).as_deref(),
            Some("bob")
        );
        assert_eq!(user(r#"{"type":"IAMUser","arn":"arn:aws:iam::1:user/alice","userName":"alice"}"#).as_deref(), Some("alice"));
        assert_eq!(user(r#"{"type":"AWSService","invokedBy":"autoscaling.amazonaws.com"}"#), None);
    }

    #[test]
    fn old_records_without_read_only_are_classified_by_name() {
        let old = |name: &str| {
            parse(&format!(
                r#"{{"eventTime":"2014-01-01T00:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"{name}"}}"#
            ))
            .unwrap()
        };
        for write in ["RunInstances", "CreateUser", "DeleteBucket", "PutParameter", "Getaway"] {
            assert!(old(write).is_write, "{write} must count as a write");
        }
        for read in ["GetUser", "DescribeInstances", "ListBuckets", "BatchGetItem"] {
            assert!(!old(read).is_write, "{read} must count as a read");
        }
        assert!(old("RunInstances").is_management, "no category means management");
    }

    #[test]
    fn data_events_are_not_management() {
        let r = parse(r#"{"eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com",
            "eventName":"PutObject","eventCategory":"Data","readOnly":false}"#)
        .unwrap();
        assert!(!r.is_management);
        let r = parse(r#"{"eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com",
            "eventName":"GetObject","managementEvent":false}"#)
        .unwrap();
        assert!(!r.is_management);
    }

    #[test]
    fn rejections_say_what_is_wrong() {
        let missing = parse(r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"X"}"#);
        assert_eq!(missing.unwrap_err(), RecordError::Missing("eventSource"));
        let bad_time = parse(r#"{"eventTime":"soon","eventSource":"a","eventName":"X"}"#);
        assert!(bad_time.unwrap_err().to_string().contains("\"soon\""));
        let wrong_type = parse(r#"{"eventTime":5,"eventSource":"a","eventName":"X"}"#);
        assert!(wrong_type.unwrap_err().to_string().contains("integer `5`"));
        assert_eq!(parse("[1]").unwrap_err(), RecordError::NotAnObject("an array".into()));
    }

    #[test]
    fn records_without_an_event_id_get_a_stable_content_id() {
        let json = r#"{"eventTime":"2024-01-01T00:00:00Z","eventSource":"a","eventName":"X"}"#;
        let a = parse(json).unwrap();
        assert!(a.event_id.starts_with("sha:"));
        assert_eq!(a.event_id, parse(json).unwrap().event_id);
    }

    #[test]
    fn insight_events_are_not_api_calls() {
        let r = parse(r#"{"eventTime":"2024-01-01T00:00:00Z","eventType":"AwsCloudTrailInsight"}"#);
        assert_eq!(r.unwrap_err(), RecordError::InsightEvent);
    }
}
