//! The insight event, in AWS's exact JSON format (eventVersion 1.09).
//!
//! Field order follows AWS's own examples so that a stored record reads like one AWS wrote.
//! Identifiers are UUIDv5 derived from what the insight *is* (trail, series, type, start
//! minute), so detecting the same history twice produces the same IDs, never a second copy.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::store::{InsightType, SeriesKey};
use crate::time::{format_minute, Minute};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsightEvent {
    pub event_version: String,
    pub event_time: String,
    pub aws_region: String,
    #[serde(rename = "eventID")]
    pub event_id: String,
    pub event_type: String,
    pub recipient_account_id: String,
    #[serde(rename = "sharedEventID")]
    pub shared_event_id: String,
    pub insight_details: InsightDetails,
    pub event_category: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsightDetails {
    pub state: String,
    pub event_source: String,
    pub event_name: String,
    pub insight_type: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_code: Option<String>,
    pub source_event_category: String,
    pub insight_context: InsightContext,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsightContext {
    pub statistics: Statistics,
    pub attributions: Vec<Attribution>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Statistics {
    pub baseline: Average,
    pub insight: Average,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub insight_duration: Option<i64>,
    pub baseline_duration: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Average {
    pub average: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    pub attribute: String,
    pub insight: Vec<ValueAverage>,
    pub baseline: Vec<ValueAverage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueAverage {
    pub value: String,
    pub average: f64,
}

/// Whether a record opens or closes an insight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Start,
    End,
}

/// Everything needed to write one Start or End record.
pub struct InsightFacts<'a> {
    pub trail: &'a str,
    pub kind: InsightType,
    pub key: &'a SeriesKey,
    pub start: Minute,
    pub state: State,
    /// Start: the first minute. End: the minute after the last anomalous one.
    pub event_minute: Minute,
    pub baseline_average: f64,
    pub insight_average: f64,
    pub baseline_duration: i64,
    pub attributions: Vec<Attribution>,
}

const NAMESPACE: Uuid = Uuid::from_u128(0x7f1c_52a8_3a4e_4d0b_9a55_0e1c_d1a7_5ec7);

/// The sharedEventID of the insight of this type on this series starting at `start`.
pub fn shared_event_id(trail: &str, kind: InsightType, key: &SeriesKey, start: Minute) -> String {
    let name = format!(
        "{trail}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{start}",
        kind.as_str(),
        key.account,
        key.region,
        key.event_source,
        key.event_name,
        key.error_code.as_deref().unwrap_or("")
    );
    Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string()
}

/// Averages are written with at most 10 decimals, as AWS does (0.0000882145), without
/// binary noise such as 0.30000000000000004.
pub fn round_average(x: f64) -> f64 {
    (x * 1e10).round() / 1e10
}

impl InsightEvent {
    pub fn new(f: InsightFacts<'_>) -> InsightEvent {
        let shared = shared_event_id(f.trail, f.kind, f.key, f.start);
        let (state, duration) = match f.state {
            State::Start => ("Start", None),
            State::End => ("End", Some(f.event_minute - f.start)),
        };
        let event_id = Uuid::new_v5(&NAMESPACE, format!("{shared}/{state}").as_bytes());
        InsightEvent {
            event_version: "1.09".into(),
            event_time: format_minute(f.event_minute),
            aws_region: f.key.region.clone(),
            event_id: event_id.to_string(),
            event_type: "AwsCloudTrailInsight".into(),
            recipient_account_id: f.key.account.clone(),
            shared_event_id: shared,
            insight_details: InsightDetails {
                state: state.into(),
                event_source: f.key.event_source.clone(),
                event_name: f.key.event_name.clone(),
                insight_type: f.kind.as_str().into(),
                error_code: f.key.error_code.clone(),
                source_event_category: "Management".into(),
                insight_context: InsightContext {
                    statistics: Statistics {
                        baseline: Average { average: round_average(f.baseline_average) },
                        insight: Average { average: round_average(f.insight_average) },
                        insight_duration: duration,
                        baseline_duration: f.baseline_duration,
                    },
                    attributions: f.attributions,
                },
            },
            event_category: "Insight".into(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("insight events always serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SeriesKey {
        SeriesKey {
            account: "218007301253".into(),
            region: "us-east-1".into(),
            event_source: "ec2.amazonaws.com".into(),
            event_name: "GetPasswordData".into(),
            error_code: Some("Client.UnauthorizedOperation".into()),
        }
    }

    fn event(state: State, minute: Minute) -> InsightEvent {
        InsightEvent::new(InsightFacts {
            trail: "t",
            kind: InsightType::ApiErrorRate,
            key: &key(),
            start: 100,
            state,
            event_minute: minute,
            baseline_average: 0.1 + 0.2,
            insight_average: 29.0,
            baseline_duration: 10080,
            attributions: vec![],
        })
    }

    #[test]
    fn start_and_end_share_an_id_and_follow_aws_format() {
        let (start, end) = (event(State::Start, 100), event(State::End, 103));
        assert_eq!(start.shared_event_id, end.shared_event_id);
        assert_ne!(start.event_id, end.event_id);
        let json: serde_json::Value = serde_json::from_str(&end.to_json()).unwrap();
        assert_eq!(json["eventVersion"], "1.09");
        assert_eq!(json["eventType"], "AwsCloudTrailInsight");
        assert_eq!(json["eventCategory"], "Insight");
        assert_eq!(json["eventTime"], "1970-01-01T01:43:00Z");
        let details = &json["insightDetails"];
        assert_eq!(details["state"], "End");
        assert_eq!(details["errorCode"], "Client.UnauthorizedOperation");
        let stats = &details["insightContext"]["statistics"];
        assert_eq!(stats["insightDuration"], 3);
        assert_eq!(stats["baseline"]["average"], 0.3);
        assert_eq!(stats["baselineDuration"], 10080);
        let start_json: serde_json::Value = serde_json::from_str(&start.to_json()).unwrap();
        assert!(start_json["insightDetails"]["insightContext"]["statistics"]
            .get("insightDuration")
            .is_none());
    }

    #[test]
    fn ids_are_stable_and_distinct_per_series() {
        let a = shared_event_id("t", InsightType::ApiCallRate, &key(), 5);
        assert_eq!(a, shared_event_id("t", InsightType::ApiCallRate, &key(), 5));
        assert_ne!(a, shared_event_id("t", InsightType::ApiErrorRate, &key(), 5));
        assert_ne!(a, shared_event_id("other", InsightType::ApiCallRate, &key(), 5));
    }
}
