//! CloudTrail's API through the real router with signed requests (no socket, no aws CLI):
//! what a client that forges, edits or stretches its requests gets back. The aws CLI and
//! boto3 themselves are driven by `server/tests/aws_api/`.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use base64::Engine;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use server::aws::sigv4;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

const KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

async fn open(url: &str) -> Arc<dyn engine::Store> {
    engine::open_store(url).await.unwrap()
}

fn router(store: Arc<dyn engine::Store>, dir: &std::path::Path) -> axum::Router {
    let aws = server::web::AwsApiConfig {
        credentials: vec![server::aws::Credentials { access_key_id: KEY_ID.into(), secret_access_key: SECRET.into() }],
        account_id: "123456789012".into(),
        regions: vec!["us-east-1".into()],
    };
    let mut settings = server::web::WebSettings::for_addr("127.0.0.1:0".parse().unwrap());
    settings.aws = aws;
    server::web::router(store, dir, settings)
}

/// Sends `operation` with `input`, signed as an SDK signs it now; returns the status and body.
async fn call(router: &axum::Router, operation: &str, input: &Value) -> (u16, Value) {
    let body = input.to_string();
    let amz_date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let headers = vec![
        ("host".to_owned(), "127.0.0.1:3000".to_owned()),
        ("x-amz-date".to_owned(), amz_date.clone()),
        ("x-amz-target".to_owned(), format!("CloudTrail_20131101.{operation}")),
    ];
    let signed_names = ["host", "x-amz-date", "x-amz-target"];
    let payload_hash: String = Sha256::digest(body.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let canonical = sigv4::canonical_request("POST", "/", "", &headers, &signed_names, &payload_hash);
    let scope = format!("{}/us-east-1/cloudtrail/aws4_request", &amz_date[..8]);
    let to_sign = sigv4::string_to_sign(&amz_date, &scope, &canonical);
    let signature = sigv4::signature(SECRET, &amz_date[..8], "us-east-1", "cloudtrail", &to_sign);
    let mut request = Request::post("/").header("content-type", "application/x-amz-json-1.1");
    for (k, v) in &headers {
        request = request.header(k, v);
    }
    let request = request
        .header(
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential={KEY_ID}/{scope}, SignedHeaders=host;x-amz-date;x-amz-target, Signature={signature}"),
        )
        .body(Body::from(body))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Ten one-minute points (zeros: nothing is stored), two a page.
fn metric_request(next_token: Option<&str>) -> Value {
    let mut input = json!({
        "EventSource": "ec2.amazonaws.com", "EventName": "RunInstances", "InsightType": "ApiCallRateInsight",
        "Period": 60, "MaxResults": 2, "StartTime": 1_773_100_000, "EndTime": 1_773_100_000 + 9 * 60 + 30,
        "DataType": "FillWithZeros",
    });
    if let Some(t) = next_token {
        input["NextToken"] = json!(t);
    }
    input
}

#[tokio::test(flavor = "multi_thread")]
async fn next_tokens_cannot_be_forged_or_edited_and_work_on_every_server() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("a.db").display());
    let server_a = router(open(&url).await, dir.path());
    let server_b = router(open(&url).await, dir.path()); // another server, same database

    let (status, first) = call(&server_a, "ListInsightsMetricData", &metric_request(None)).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["Timestamps"].as_array().unwrap().len(), 2);
    let token = first["NextToken"].as_str().unwrap().to_owned();

    // The next page, from the other server: it shares the signing key through the database.
    let (status, second) = call(&server_b, "ListInsightsMetricData", &metric_request(Some(&token))).await;
    assert_eq!(status, 200, "{second}");
    // Minutes start at 1_773_099_960 (1_773_100_000 rounded down to a minute): the third.
    assert_eq!(second["Timestamps"][0].as_f64(), Some(1_773_100_080.0));

    // The position edited (offset 2 -> 0, far past), the signature kept: refused.
    let b64 = base64::engine::general_purpose::STANDARD;
    let (text, tag) = token.split_once('.').unwrap();
    let text = String::from_utf8(b64.decode(text).unwrap()).unwrap();
    let mut edited: Value = serde_json::from_str(&text).unwrap();
    edited["p"] = json!(0);
    let forged = format!("{}.{tag}", b64.encode(edited.to_string()));
    for bad in [forged.as_str(), "e30=", "not a token", &token[1..]] {
        let (status, error) = call(&server_a, "ListInsightsMetricData", &metric_request(Some(bad))).await;
        assert_eq!((status, error["__type"].as_str()), (400, Some("InvalidNextTokenException")), "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn extreme_metric_requests_answer_400_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = router(open(&format!("sqlite://{}", dir.path().join("m.db").display())).await, dir.path());
    let base = json!({ "EventSource": "ec2.amazonaws.com", "EventName": "RunInstances", "InsightType": "ApiCallRateInsight", "DataType": "FillWithZeros" });
    let with = |extra: Value| {
        let mut input = base.clone();
        input.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        input
    };
    let now = chrono::Utc::now().timestamp();
    let started = std::time::Instant::now();
    for (extra, says) in [
        (json!({ "StartTime": 0 }), "StartTime must be between 2013-01-01 and 9999-12-31"),
        (json!({ "StartTime": 0, "EndTime": 253_402_300_799i64, "Period": 60 }), "StartTime must be between"),
        (json!({ "EndTime": 1e300 }), "EndTime must be between"),
        (json!({ "StartTime": -1e300 }), "StartTime must be between"),
        // 2013-01-01 to now at one point a minute: over 6 million points.
        (json!({ "StartTime": 1_356_998_400, "EndTime": now, "Period": 60 }), "longer than 15 days"),
        (json!({ "StartTime": now - 64 * 86_400, "EndTime": now, "Period": 300 }), "longer than 63 days"),
        (json!({ "StartTime": now - 91 * 86_400, "EndTime": now, "Period": 3600 }), "longer than 90 days"),
        (json!({ "Period": 61 }), "Period 61 is not valid"),
        (json!({ "Period": 60.5 }), "Period 60.5 is not valid"),
        (json!({ "Period": "60" }), "is not valid: use 60, 300 or 3600"),
        (json!({ "MaxResults": 1e9 }), "MaxResults must be between 1 and 21600"),
    ] {
        let (status, error) = call(&server, "ListInsightsMetricData", &with(extra.clone())).await;
        let shown: String = error.to_string().chars().take(300).collect();
        assert_eq!((status, error["__type"].as_str()), (400, Some("InvalidParameterException")), "{extra}: {shown}");
        assert!(error["Message"].as_str().unwrap().contains(says), "{extra}: {shown}");
    }
    // The widest ranges allowed are answered whole: 15 days of minutes is 21,600 points (and
    // one more for the partial minute at the start; EndTime is exclusive), 90 days of hours
    // 2,160 (+1).
    let (status, minutes) = call(&server, "ListInsightsMetricData", &with(json!({ "StartTime": now - 15 * 86_400, "EndTime": now, "Period": 60 }))).await;
    assert_eq!(status, 200);
    let n = minutes["Timestamps"].as_array().unwrap().len();
    assert!((21_600..=21_601).contains(&n), "{n} points");
    let (status, far) = call(&server, "ListInsightsMetricData", &with(json!({ "EndTime": 253_402_300_799i64 }))).await;
    assert_eq!(status, 200, "year 9999 with the default span");
    assert!((2_160..=2_161).contains(&far["Timestamps"].as_array().unwrap().len()));
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_with_a_percent_before_a_multibyte_character_is_a_400() {
    let dir = tempfile::tempdir().unwrap();
    let server = router(open(&format!("sqlite://{}", dir.path().join("q.db").display())).await, dir.path());
    // The raw bytes a client can put on the wire: `%`, `x`, then é's two UTF-8 bytes.
    let uri = axum::http::Uri::from_maybe_shared(bytes_of("/?a=%x\u{e9}")).expect("hyper accepts such a target");
    // Well-formed in every way but the signature, so the query is canonicalised.
    let amz_date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let request = Request::post(uri)
        .header("host", "127.0.0.1:3000")
        .header("authorization", format!("AWS4-HMAC-SHA256 Credential={KEY_ID}/{}/us-east-1/cloudtrail/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00", &amz_date[..8]))
        .header("x-amz-date", &amz_date)
        .header("x-amz-target", "CloudTrail_20131101.GetTrail")
        .body(Body::from("{}"))
        .unwrap();
    let response = server.oneshot(request).await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let error: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(error["__type"], "InvalidSignatureException", "{error}");
}

fn bytes_of(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}
