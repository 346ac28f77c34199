//! Notifications and triage, the domain side: where insight events go ([`Destination`]),
//! what the outbox holds ([`Delivery`]), the triage states people set, and the suppression
//! rules that mark expected activity. Nothing here sends anything (the server does, see
//! `server::notify`); the storage lives in [`crate::store::notify`].
//!
//! What gets queued (decided in the transaction that stores an insight event, see
//! `store::save_insight`):
//! - a Start, for each destination of its trail (or of all trails) that existed before it was
//!   stored, when the insight started at most the destination's `max_age_ms` ago: a backfill
//!   or replay of old history notifies nobody;
//! - an End, wherever its Start was queued;
//! - nothing for an insight a [`SuppressionRule`] matches;
//! - a Start of an API whose previous insight ended less than `group_minutes` before it is
//!   queued as [`DeliveryStatus::Grouped`] (shown, never sent), and so is its End: an API
//!   that flaps tells people once, at its first Start, and the insight list shows the rest.

use serde::{Deserialize, Serialize};

use crate::store::{InsightType, StoredInsight};

/// Where a destination sends, with the settings of its kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Target {
    /// One POST per insight event, the body EventBridge's event; signed when `secret` is set.
    Webhook { url: String, secret: Option<String> },
    /// A Slack incoming webhook (the URL is the secret).
    Slack { url: String },
    /// E-mail through an SMTP server (`smtp://host:port`, `smtps://user:pass@host`).
    Email { to: Vec<String>, smtp: String, from: String },
    /// Insight files as CloudTrail writes them, in a bucket (optionally under a prefix).
    S3 { bucket: String, prefix: String, endpoint_url: Option<String> },
    /// Insight files as CloudTrail writes them, under a local directory.
    Directory { path: String },
}

impl Target {
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Webhook { .. } => "webhook",
            Target::Slack { .. } => "slack",
            Target::Email { .. } => "email",
            Target::S3 { .. } => "s3",
            Target::Directory { .. } => "directory",
        }
    }

    /// What the destination reaches, without its secrets (for lists and logs): only the host
    /// of a webhook or Slack URL (their paths often are the secret: Slack, Discord and
    /// Mattermost put the token there), the SMTP server without its password.
    pub fn describe(&self) -> String {
        match self {
            Target::Webhook { url, secret } => {
                format!("{}{}", redact_url(url, true), if secret.is_some() { " (signed)" } else { "" })
            }
            Target::Slack { url } => redact_url(url, true),
            Target::Email { to, smtp, .. } => format!("{} via {}", to.join(", "), redact_url(smtp, false)),
            Target::S3 { bucket, prefix, endpoint_url } => {
                let at = endpoint_url.as_deref().map(|e| format!(" at {}", redact_url(e, false))).unwrap_or_default();
                format!("s3://{bucket}/{prefix}{at}")
            }
            Target::Directory { path } => path.clone(),
        }
    }
}

/// `scheme://host[:port]/path`, without user, password and query; only `scheme://host/…`
/// when `host_only` (a Slack webhook URL's path is its secret).
pub fn redact_url(text: &str, host_only: bool) -> String {
    match url::Url::parse(text) {
        Ok(url) => {
            let host = url.host_str().unwrap_or("");
            let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
            if host_only {
                format!("{}://{host}{port}/…", url.scheme())
            } else {
                format!("{}://{host}{port}{}", url.scheme(), url.path())
            }
        }
        Err(_) => "(an unreadable URL)".to_owned(),
    }
}

/// What a destination is given on the command line or the settings form, before checking.
#[derive(Debug, Clone, Default)]
pub struct TargetSpec {
    pub kind: String,
    pub url: Option<String>,
    pub secret: Option<String>,
    pub to: Vec<String>,
    pub smtp: Option<String>,
    pub from: Option<String>,
    /// `BUCKET` or `BUCKET/PREFIX`.
    pub bucket: Option<String>,
    pub endpoint_url: Option<String>,
    pub path: Option<String>,
}

/// An http(s) URL with a host, or why not (naming `field`).
fn http_url(field: &str, text: Option<&str>) -> Result<String, String> {
    let text = text.map(str::trim).filter(|t| !t.is_empty()).ok_or_else(|| format!("{field} is needed for this kind"))?;
    let url = url::Url::parse(text).map_err(|e| format!("{field} {:?} is not a URL: {e}", redact_url(text, true)))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{field} must be an http:// or https:// URL with a host"));
    }
    // The parsed form: what the HTTP client will accept (no stray tabs or backslashes).
    Ok(url.as_str().to_owned())
}

impl TargetSpec {
    /// The checked target, or what is wrong with it (naming the option to fix).
    pub fn check(self) -> Result<Target, String> {
        let field = |value: Option<String>, name: &str| {
            value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).ok_or_else(|| format!("{name} is needed for this kind"))
        };
        match self.kind.as_str() {
            "webhook" => Ok(Target::Webhook {
                url: http_url("--url", self.url.as_deref())?,
                secret: self.secret.filter(|s| !s.is_empty()),
            }),
            "slack" => Ok(Target::Slack { url: http_url("--url (the Slack incoming-webhook URL)", self.url.as_deref())? }),
            "email" => {
                let to: Vec<String> = self.to.iter().flat_map(|t| t.split(',')).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect();
                if to.is_empty() {
                    return Err("--to is needed: the address(es) to write to".into());
                }
                if let Some(bad) = to.iter().find(|t| !looks_like_address(t)) {
                    return Err(format!("--to {bad:?} is not an e-mail address"));
                }
                let smtp = self.smtp.filter(|s| !s.trim().is_empty()).unwrap_or_else(|| "smtp://127.0.0.1:25".to_owned());
                match url::Url::parse(&smtp) {
                    Ok(u) if matches!(u.scheme(), "smtp" | "smtps") && u.host_str().is_some() => {
                        // A password must never cross the network in the clear.
                        let encrypted = u.scheme() == "smtps" || u.query_pairs().any(|(k, v)| k == "tls" && v == "required");
                        if (!u.username().is_empty() || u.password().is_some()) && !encrypted {
                            return Err("--smtp with a user and password needs TLS: use smtps://user:password@host or smtp://user:password@host:587?tls=required".into());
                        }
                    }
                    _ => return Err("--smtp must be a URL such as smtp://mail.example.com:587?tls=required or smtps://user:password@mail.example.com".into()),
                }
                let from = self.from.filter(|f| !f.trim().is_empty()).unwrap_or_else(|| "trailsight@localhost".to_owned());
                if !looks_like_address(&from) {
                    return Err(format!("--from {from:?} is not an e-mail address"));
                }
                Ok(Target::Email { to, smtp, from })
            }
            "s3" => {
                let location = field(self.bucket, "--bucket")?;
                let location = location.strip_prefix("s3://").unwrap_or(&location);
                let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
                let valid = (3..=63).contains(&bucket.len())
                    && bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
                if !valid {
                    return Err(format!("--bucket {bucket:?} is not an S3 bucket name (3 to 63 lower-case letters, digits, dots, dashes)"));
                }
                let endpoint_url = match self.endpoint_url.filter(|e| !e.trim().is_empty()) {
                    Some(e) => Some(http_url("--endpoint-url", Some(&e))?),
                    None => None,
                };
                Ok(Target::S3 { bucket: bucket.to_owned(), prefix: prefix.trim_matches('/').to_owned(), endpoint_url })
            }
            "directory" => Ok(Target::Directory { path: field(self.path, "--path")? }),
            other => Err(format!("{other:?} is not a kind of destination: use webhook, slack, email, s3 or directory")),
        }
    }
}

fn looks_like_address(text: &str) -> bool {
    let mut parts = text.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(user), Some(host), None)
        if !user.is_empty() && !host.is_empty() && !text.chars().any(|c| c.is_whitespace() || c.is_control() || "<>,;".contains(c)))
}

/// A sample call-rate insight on ec2 `event_name` in account 123456789012, us-east-1,
/// starting at `start_ms`, ended after `ended_after` minutes if given, led by `identity`:
/// what `destinations test` sends, and what tests store.
pub fn sample_insight(trail: &str, event_name: &str, start_ms: i64, ended_after: Option<i64>, identity: &str) -> StoredInsight {
    use crate::insight::{Attribution, InsightEvent, InsightFacts, State, ValueAverage};
    use crate::store::SeriesKey;
    let key = SeriesKey {
        account: "123456789012".into(),
        region: "us-east-1".into(),
        event_source: "ec2.amazonaws.com".into(),
        event_name: event_name.into(),
        error_code: None,
    };
    let start = crate::time::minute_of_millis(start_ms);
    let value = |value: &str, average| ValueAverage { value: value.into(), average };
    let attributions = vec![
        Attribution { attribute: "userIdentityArn".into(), insight: vec![value(identity, 40.0)], baseline: vec![value(identity, 0.5)] },
        Attribution {
            attribute: "userAgent".into(),
            insight: vec![value("trailsight destinations test", 40.0)],
            baseline: vec![value("trailsight destinations test", 0.5)],
        },
    ];
    let facts = |state, event_minute| InsightFacts {
        trail,
        kind: InsightType::ApiCallRate,
        key: &key,
        start,
        state,
        event_minute,
        baseline_average: 0.5,
        insight_average: 40.0,
        baseline_duration: 10_080,
        attributions: attributions.clone(),
    };
    let start_record = InsightEvent::new(facts(State::Start, start));
    let end_record = ended_after.map(|m| InsightEvent::new(facts(State::End, start + m)).to_json());
    StoredInsight {
        shared_event_id: start_record.shared_event_id.clone(),
        trail: trail.to_owned(),
        insight_type: InsightType::ApiCallRate,
        key: key.clone(),
        start_minute: start,
        end_minute: ended_after.map(|m| start + m),
        baseline_average: 0.5,
        insight_average: 40.0,
        start_record: start_record.to_json(),
        end_record,
        triage: Triage::default(),
    }
}

/// The Start record [`sample_insight`] makes for now: what `destinations test` sends.
pub fn sample_record(trail: &str, now_ms: i64) -> String {
    sample_insight(trail, "RunInstances", now_ms, None, "arn:aws:iam::123456789012:user/trailsight-test").start_record
}

/// A configured destination.
#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    pub name: String,
    /// `None`: every trail.
    pub trail: Option<String>,
    pub target: Target,
    /// Only insights that started at most this long before they were stored are sent.
    pub max_age_ms: i64,
    /// A Start this soon after the previous insight of the same API ended is grouped with it
    /// (0: never).
    pub group_minutes: i64,
    /// Attempts before a delivery is marked failed.
    pub max_attempts: i64,
    pub created_ms: i64,
    pub created_by: String,
}

impl Destination {
    /// `kind target (trail T)`, without secrets, as lists and the audit log show it.
    pub fn describe(&self) -> String {
        let trail = self.trail.as_deref().map(|t| format!("trail {t}")).unwrap_or_else(|| "every trail".to_owned());
        format!("{} {} ({trail})", self.target.kind(), self.target.describe())
    }

    pub const DEFAULT_MAX_AGE_MS: i64 = 24 * 3_600_000;
    pub const DEFAULT_GROUP_MINUTES: i64 = 30;
    pub const DEFAULT_MAX_ATTEMPTS: i64 = 8;
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// The destination accepted it (2xx, or the file is written).
    Sent,
    /// Every attempt failed; `last_error` says why.
    Failed,
    /// A repeat of a recent insight of the same API: shown, not sent.
    Grouped,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 4] =
        [DeliveryStatus::Pending, DeliveryStatus::Sent, DeliveryStatus::Failed, DeliveryStatus::Grouped];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Grouped => "grouped",
        }
    }

    pub fn parse(text: &str) -> Option<DeliveryStatus> {
        DeliveryStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One insight event for one destination: a row of the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub destination: String,
    /// The insight event's eventID: the idempotency key receivers may deduplicate on.
    pub event_id: String,
    pub shared_event_id: String,
    pub trail: String,
    /// The insight event, exactly as stored (AWS's JSON).
    pub record: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_ms: i64,
    pub last_error: Option<String>,
    pub queued_ms: i64,
    pub done_ms: Option<i64>,
}

/// Where a person has put an insight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TriageState {
    #[default]
    New,
    Acknowledged,
    Resolved,
    Expected,
}

impl TriageState {
    pub const ALL: [TriageState; 4] =
        [TriageState::New, TriageState::Acknowledged, TriageState::Resolved, TriageState::Expected];

    pub fn as_str(self) -> &'static str {
        match self {
            TriageState::New => "new",
            TriageState::Acknowledged => "acknowledged",
            TriageState::Resolved => "resolved",
            TriageState::Expected => "expected",
        }
    }

    pub fn parse(text: &str) -> Option<TriageState> {
        TriageState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for TriageState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The triage beside a stored insight.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Triage {
    pub state: TriageState,
    pub by: Option<String>,
    pub at_ms: Option<i64>,
    /// The suppression rule that matched the insight when it was stored.
    pub suppressed_by: Option<String>,
}

/// A comment on an insight.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: i64,
    pub author: String,
    pub at_ms: i64,
    pub body: String,
}

/// "`insight_type` on `event_source` `event_name` [in `account`] [in `region`] [by
/// `identity`] is expected [until `until_ms`]". `None` fields match anything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuppressionRule {
    pub name: String,
    pub insight_type: Option<InsightType>,
    pub event_source: String,
    pub event_name: String,
    pub account: Option<String>,
    pub region: Option<String>,
    /// The insight's top identity (its first `userIdentityArn` attribution).
    pub identity: Option<String>,
    /// Insights starting at or after this instant are no longer matched.
    pub until_ms: Option<i64>,
    pub reason: String,
    pub created_by: String,
    pub created_ms: i64,
}

impl SuppressionRule {
    /// Whether the rule marks this insight expected. `top_identity` is the insight's first
    /// `userIdentityArn` attribution, if any.
    pub fn matches(&self, insight: &StoredInsight, top_identity: Option<&str>) -> bool {
        let start_ms = insight.start_minute * 60_000;
        self.insight_type.is_none_or(|t| t == insight.insight_type)
            && self.event_source == insight.key.event_source
            && self.event_name == insight.key.event_name
            && self.account.as_ref().is_none_or(|a| *a == insight.key.account)
            && self.region.as_ref().is_none_or(|r| *r == insight.key.region)
            && self.identity.as_deref().is_none_or(|i| Some(i) == top_identity)
            && self.until_ms.is_none_or(|until| start_ms < until)
    }

    /// The rule in words, as the settings page and the audit log show it.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "{} on {} {}",
            self.insight_type.map(InsightType::as_str).unwrap_or("any insight"),
            self.event_source,
            self.event_name
        );
        if let Some(account) = &self.account {
            text += &format!(" in account {account}");
        }
        if let Some(region) = &self.region {
            text += &format!(" in region {region}");
        }
        if let Some(identity) = &self.identity {
            text += &format!(" by {identity}");
        }
        text += " is expected";
        if let Some(until) = self.until_ms {
            text += &format!(" until {}", crate::time::format_millis(until));
        }
        text
    }
}

/// The first `userIdentityArn` value among a record's insight attributions.
pub fn top_identity(record: &str) -> Option<String> {
    let event: crate::insight::InsightEvent = serde_json::from_str(record).ok()?;
    let attributions = event.insight_details.insight_context.attributions;
    let arn = attributions.into_iter().find(|a| a.attribute == "userIdentityArn")?;
    arn.insight.into_iter().next().map(|v| v.value)
}

/// The eventID of a stored insight record.
pub fn event_id_of(record: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Id {
        #[serde(rename = "eventID")]
        event_id: String,
    }
    serde_json::from_str::<Id>(record).ok().map(|r| r.event_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_checked_naming_the_option_to_fix() {
        let spec = |kind: &str| TargetSpec { kind: kind.into(), ..Default::default() };
        assert_eq!(spec("pager").check().unwrap_err(), "\"pager\" is not a kind of destination: use webhook, slack, email, s3 or directory");
        assert!(spec("webhook").check().unwrap_err().contains("--url"));
        let ftp = TargetSpec { url: Some("ftp://x.example/".into()), ..spec("webhook") };
        assert!(ftp.check().unwrap_err().contains("http:// or https://"));
        let mail = TargetSpec { to: vec!["ops@example.com, sec@example.com".into()], ..spec("email") };
        assert_eq!(
            mail.check().unwrap(),
            Target::Email {
                to: vec!["ops@example.com".into(), "sec@example.com".into()],
                smtp: "smtp://127.0.0.1:25".into(),
                from: "trailsight@localhost".into()
            }
        );
        let clear = TargetSpec { to: vec!["a@b.c".into()], smtp: Some("smtp://me:pw@mail.example.com:587".into()), ..spec("email") };
        assert!(clear.check().unwrap_err().contains("needs TLS"));
        let starttls = TargetSpec { to: vec!["a@b.c".into()], smtp: Some("smtp://me:pw@mail.example.com:587?tls=required".into()), ..spec("email") };
        assert!(starttls.check().is_ok());
        let bad_to = TargetSpec { to: vec!["not an address".into()], ..spec("email") };
        assert!(bad_to.check().unwrap_err().contains("not an e-mail address"));
        let s3 = TargetSpec { bucket: Some("s3://logs-bucket/insights/".into()), ..spec("s3") };
        assert_eq!(s3.check().unwrap(), Target::S3 { bucket: "logs-bucket".into(), prefix: "insights".into(), endpoint_url: None });
        let bad_bucket = TargetSpec { bucket: Some("Logs_Bucket".into()), ..spec("s3") };
        assert!(bad_bucket.check().unwrap_err().contains("not an S3 bucket name"));
    }

    #[test]
    fn descriptions_hide_secrets() {
        let slack = Target::Slack { url: "https://hooks.slack.com/services/T000/B000/XXXXSECRET".into() };
        assert_eq!(slack.describe(), "https://hooks.slack.com/…");
        let hook = Target::Webhook { url: "https://user:pw@example.com:8443/api/webhooks/1/TOKEN?token=abc".into(), secret: Some("s".into()) };
        assert_eq!(hook.describe(), "https://example.com:8443/… (signed)");
        let mail = Target::Email { to: vec!["a@b.c".into()], smtp: "smtps://me:pw@mail.example.com".into(), from: "t@b.c".into() };
        assert_eq!(mail.describe(), "a@b.c via smtps://mail.example.com");
    }
}
