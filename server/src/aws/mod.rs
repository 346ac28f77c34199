//! CloudTrail's own API (AWS JSON 1.1 on `POST /`), so the aws CLI and the SDKs work against
//! trailsight with `--endpoint-url`.
//!
//! - [`sigv4`]: signature verification against the access keys the server is given.
//! - [`error`]: errors as `{"__type","Message"}` with the model's HTTP status codes.
//! - [`trails`]: CreateTrail, UpdateTrail, DescribeTrails, ListTrails, GetTrail, DeleteTrail,
//!   GetTrailStatus, StartLogging, StopLogging, PutEventSelectors, GetEventSelectors,
//!   PutInsightSelectors, GetInsightSelectors, AddTags, RemoveTags, ListTags, and
//!   ListPublicKeys (always empty: trailsight signs no digest files).
//!
//! Every answer, success or error, carries a fresh `x-amzn-RequestId`, as AWS's do (SDKs put
//! it in `ResponseMetadata.RequestId`, and scripts log it).
//! - [`lookup`]: LookupEvents, for management events and insight events; ListInsightsData.
//! - [`metrics`]: ListInsightsMetricData, the data behind an insight's graph.
//!
//! Settings made here are the same stored settings the dashboard edits.

pub mod error;
pub mod keys;
pub mod lookup;
pub mod metrics;
pub mod sigv4;
pub mod trails;

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub use error::AwsError;
pub use sigv4::Credentials;

/// What the API needs: the store, the keys it accepts, the account its ARNs name, and the
/// regions it serves.
#[derive(Clone)]
pub struct AwsApi {
    pub store: Arc<dyn engine::Store>,
    pub credentials: Vec<Credentials>,
    pub account_id: String,
    pub regions: Vec<String>,
}

/// Per-request facts operations need.
pub struct Context {
    pub region: String,
    pub account_id: String,
    pub now_ms: i64,
}

impl Context {
    pub fn trail_arn(&self, name: &str) -> String {
        format!("arn:aws:cloudtrail:{}:{}:trail/{name}", self.region, self.account_id)
    }
}

const MAX_BODY: usize = 1 << 20;
const TARGET_PREFIXES: [&str; 2] =
    ["CloudTrail_20131101.", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."];

/// The `POST /` handler.
pub async fn handle(api: AwsApi, request: Request<Body>) -> Response {
    let mut response = match serve(&api, request).await {
        Ok(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/x-amz-json-1.1")],
            body.to_string(),
        )
            .into_response(),
        Err(e) => {
            tracing::debug!(kind = e.kind, "AWS API error: {}", e.message);
            e.into_response()
        }
    };
    if let Ok(id) = header::HeaderValue::from_str(&request_id()) {
        response.headers_mut().insert(header::HeaderName::from_static("x-amzn-requestid"), id);
    }
    response
}

/// A random request ID in AWS's shape (a UUID, version 4).
fn request_id() -> String {
    let mut b = [0u8; 16];
    // Without randomness the ID is still unique enough to read in a log: the clock's.
    if getrandom::fill(&mut b).is_err() {
        b[..16].copy_from_slice(&chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default().to_le_bytes().repeat(2));
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

async fn serve(api: &AwsApi, request: Request<Body>) -> Result<Value, AwsError> {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| AwsError::serialization("The request body is larger than 1 MiB."))?;
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let signed = sigv4::SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers,
        body: &body,
    };
    let key_id = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(keys::access_key_id);
    let (credentials, who) = keys::signer(api, key_id).await?;
    let region = sigv4::verify(&signed, std::slice::from_ref(&credentials), now_ms / 1000)?;
    // The region is echoed into ARNs and HomeRegion: only one this server serves.
    if !api.regions.iter().any(|r| *r == region) {
        return Err(AwsError::invalid_signature(&format!(
            "Credential should be scoped to a valid region, not '{region}': this server serves {} (start it with --aws-region to serve others).",
            api.regions.join(", ")
        )));
    }
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("");
    let operation = TARGET_PREFIXES
        .iter()
        .find_map(|prefix| target.strip_prefix(prefix))
        .ok_or_else(|| AwsError::new("UnknownOperationException", 400, format!("Unknown operation {target:?}.")))?;
    let input: Value = if body.is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(&body).map_err(|e| AwsError::serialization(format!("The request body is not valid JSON: {e}")))?
    };
    keys::authorize(operation, &who)?;
    let ctx = Context { region, account_id: api.account_id.clone(), now_ms };
    let store = api.store.as_ref();
    let answer = match operation {
        "CreateTrail" => trails::create_trail(store, &ctx, &input).await,
        "DescribeTrails" => trails::describe_trails(store, &ctx, &input).await,
        "ListTrails" => trails::list_trails(store, &ctx, &input).await,
        "AddTags" => trails::add_tags(store, &ctx, &input).await,
        "RemoveTags" => trails::remove_tags(store, &ctx, &input).await,
        "ListTags" => trails::list_tags(store, &ctx, &input).await,
        "GetTrail" => trails::get_trail(store, &ctx, &input).await,
        "UpdateTrail" => trails::update_trail(store, &ctx, &input).await,
        "PutEventSelectors" => trails::put_event_selectors(store, &ctx, &input).await,
        "GetEventSelectors" => trails::get_event_selectors(store, &ctx, &input).await,
        "ListPublicKeys" => trails::list_public_keys(&input).await,
        "DeleteTrail" => trails::delete_trail(store, &ctx, &input).await,
        "GetTrailStatus" => trails::get_trail_status(store, &ctx, &input).await,
        "StartLogging" => trails::set_logging(store, &ctx, &input, true).await,
        "StopLogging" => trails::set_logging(store, &ctx, &input, false).await,
        "PutInsightSelectors" => trails::put_insight_selectors(store, &ctx, &input).await,
        "GetInsightSelectors" => trails::get_insight_selectors(store, &ctx, &input).await,
        "LookupEvents" => lookup::lookup_events(store, &ctx, &input).await,
        "ListInsightsData" => lookup::list_insights_data(store, &ctx, &input).await,
        "ListInsightsMetricData" => metrics::list_insights_metric_data(store, &ctx, &input).await,
        other => Err(AwsError::new(
            "UnsupportedOperationException",
            400,
            format!("trailsight does not support the CloudTrail operation {other}."),
        )),
    }?;
    keys::audit(api, &who, operation, &input, now_ms).await;
    Ok(answer)
}

/// Reads an optional string member.
pub fn opt_str<'a>(input: &'a Value, name: &str) -> Result<Option<&'a str>, AwsError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(AwsError::serialization(format!("{name} must be a string."))),
    }
}

/// Reads a timestamp member (epoch seconds, as the JSON protocol sends them) in milliseconds.
pub fn opt_time_ms(input: &Value, name: &str) -> Result<Option<i64>, AwsError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64().map(|s| (s * 1000.0).round() as i64)),
        Some(Value::String(s)) => engine::time::parse_millis(s)
            .map(Some)
            .ok_or_else(|| AwsError::serialization(format!("{name} is not a timestamp: {s:?}"))),
        Some(_) => Err(AwsError::serialization(format!("{name} must be a timestamp."))),
    }
}

/// An epoch-seconds timestamp for responses.
pub fn epoch_seconds(ms: i64) -> Value {
    serde_json::json!(ms as f64 / 1000.0)
}

/// NextToken values are opaque to clients: base64 of a small JSON position, bound to the
/// request's parameters so a token is refused if the parameters change (as AWS does), and
/// signed with HMAC-SHA256 under a key shared by every server on the database, so a client
/// can neither forge a position (a far-past time, a huge offset) nor edit one. A token one
/// server issued is accepted by the others.
pub mod token {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    use super::AwsError;

    /// The name of the signing key in the store's server secrets.
    const KEY_NAME: &str = "aws-next-token-hmac-sha256";
    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

    /// The signing key: 32 random bytes, made by the first server that needs it and read by
    /// every server after that.
    pub struct Key(Vec<u8>);

    impl Key {
        pub async fn load(store: &dyn engine::Store) -> Result<Key, AwsError> {
            let mut candidate = [0u8; 32];
            getrandom::fill(&mut candidate).map_err(|e| {
                tracing::error!("no randomness for the NextToken key: {e}");
                AwsError::internal()
            })?;
            let stored = store.server_secret(KEY_NAME, &B64.encode(candidate)).await?;
            let key = B64.decode(stored.as_bytes()).map_err(|_| {
                tracing::error!("the stored NextToken key {KEY_NAME:?} is not base64");
                AwsError::internal()
            })?;
            Ok(Key(key))
        }

        /// A key given directly (tests).
        pub fn from_bytes(bytes: &[u8]) -> Key {
            Key(bytes.to_vec())
        }

        fn mac(&self) -> Hmac<Sha256> {
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any size")
        }
    }

    fn invalid() -> AwsError {
        AwsError::new(
            "InvalidNextTokenException",
            400,
            "A token that is not valid, or a token that was previously used in a request with different parameters.",
        )
    }

    /// `base64(json).base64(hmac(json))`.
    pub fn encode(key: &Key, position: &serde_json::Value, bound_to: &str) -> String {
        let text = serde_json::json!({ "p": position, "q": bound_to }).to_string();
        let mut mac = key.mac();
        mac.update(text.as_bytes());
        format!("{}.{}", B64.encode(&text), B64.encode(mac.finalize().into_bytes()))
    }

    pub fn decode(key: &Key, token: &str, bound_to: &str) -> Result<serde_json::Value, AwsError> {
        let (text, tag) = token.split_once('.').ok_or_else(invalid)?;
        let text = B64.decode(text).map_err(|_| invalid())?;
        let tag = B64.decode(tag).map_err(|_| invalid())?;
        let mut mac = key.mac();
        mac.update(&text);
        // verify_slice compares in constant time.
        mac.verify_slice(&tag).map_err(|_| invalid())?;
        let value: serde_json::Value = serde_json::from_slice(&text).map_err(|_| invalid())?;
        if value["q"] != bound_to {
            return Err(invalid());
        }
        Ok(value["p"].clone())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_token_verifies_only_unchanged_under_the_key_that_signed_it() {
            let key = Key::from_bytes(b"key one");
            let position = serde_json::json!({ "offset": 50 });
            let token = encode(&key, &position, "params");
            assert_eq!(decode(&key, &token, "params"), Ok(position.clone()));
            let refused = |t: &str, k: &Key, q: &str| decode(k, t, q).unwrap_err().kind;
            assert_eq!(refused(&token, &key, "other params"), "InvalidNextTokenException");
            assert_eq!(refused(&token, &Key::from_bytes(b"key two"), "params"), "InvalidNextTokenException");
            // An edited position, re-encoded without the key: its old tag no longer matches.
            let (_, tag) = token.split_once('.').unwrap();
            let forged_text = serde_json::json!({ "p": { "offset": 0 }, "q": "params" }).to_string();
            let forged = format!("{}.{tag}", B64.encode(forged_text));
            assert_eq!(refused(&forged, &key, "params"), "InvalidNextTokenException");
            // The unsigned form tokens had before.
            let unsigned = B64.encode(serde_json::json!({ "p": position, "q": "params" }).to_string());
            assert_eq!(refused(&unsigned, &key, "params"), "InvalidNextTokenException");
            assert_eq!(refused("not a token", &key, "params"), "InvalidNextTokenException");
        }
    }
}
