//! Property tests of what the network sends: hostile query strings, headers and bodies to the
//! AWS API and to every page get an answer (never a 5xx, never a panic) in bounded time.
//!
//! 64 cases per property by default (a few seconds); for a longer run:
//! `PROPTEST_CASES=20000 cargo test -p server --test fuzz_http`.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tower::ServiceExt;

const END_MS: i64 = 1_773_165_600_000; // 2026-03-10T18:00:00Z

fn runner() -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64);
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

/// A router over a small demo history, as `serve` builds it on loopback, with an AWS key.
fn setup() -> (tokio::runtime::Runtime, axum::Router, tempfile::TempDir) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let router = rt.block_on(async {
        let store = engine::open_store(&format!("sqlite://{}", dir.path().join("f.db").display())).await.unwrap();
        engine::demo::load(store.as_ref(), "demo", &engine::demo::DemoPlan::ending_at(3, END_MS)).await.unwrap();
        engine::detect::detect_trails(store.as_ref(), None, END_MS).await.unwrap();
        let mut settings = server::web::WebSettings::for_addr("127.0.0.1:0".parse().unwrap());
        settings.aws.credentials = vec![server::aws::Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        }];
        settings.aws.account_id = "123456789012".into();
        server::web::router(store, dir.path(), settings)
    });
    (rt, router, dir)
}

/// Sends the request; returns its status, failing the case on a 5xx or a slow answer.
fn answer(rt: &tokio::runtime::Runtime, router: &axum::Router, request: Request<Body>) -> Result<u16, TestCaseError> {
    let what = format!("{} {}", request.method(), request.uri());
    let started = Instant::now();
    let status = rt.block_on(router.clone().oneshot(request)).unwrap().status().as_u16();
    prop_assert!(status < 500, "{what} answered {status}");
    prop_assert!(started.elapsed() < Duration::from_secs(5), "{what} took {:?}", started.elapsed());
    Ok(status)
}

/// Query strings as attackers write them: valid pairs, broken escapes, raw non-ASCII bytes
/// escaped, huge and negative numbers.
fn query() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("page".to_owned()), Just("from".to_owned()), Just("to".to_owned()), Just("before".to_owned()),
        Just("q".to_owned()), Just("attr".to_owned()), Just("type".to_owned()), Just("trail".to_owned()),
        Just("range".to_owned()), Just("span".to_owned()), Just("tab".to_owned()), "[a-z%]{0,6}",
    ];
    let value = prop_oneof![
        Just("4294967295".to_owned()), Just("-1".to_owned()), Just("18446744073709551616".to_owned()),
        Just("9223372036854775807_9223372036854775807".to_owned()), Just("%xé".to_owned()), Just("%".to_owned()),
        "[0-9TZ:_.+-]{0,30}", "\\PC{0,20}",
    ];
    prop::collection::vec((key, value), 0..5).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={}", v.replace(' ', "+").replace('#', "%23").replace('\u{0}', "")))
            .collect::<Vec<_>>()
            .join("&")
    })
}

#[test]
fn every_page_answers_any_query_string_without_a_server_error() {
    let (rt, router, _dir) = setup();
    let pages: Vec<&'static str> = vec!["/", "/insights", "/insights/x", "/events", "/events/x", "/settings", "/insights.csv", "/insights.json"];
    runner()
        .run(&(prop::sample::select(pages), query()), |(page, query)| {
            let Ok(request) = Request::get(format!("{page}?{query}")).body(Body::empty()) else { return Ok(()) };
            let status = answer(&rt, &router, request)?;
            prop_assert!(matches!(status, 200 | 400 | 404), "{page}?{query}: {status}");
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_aws_api_answers_hostile_requests_with_a_4xx() {
    let (rt, router, _dir) = setup();
    let authorization = prop_oneof![
        "\\PC{0,80}",
        ("[A-Z0-9]{0,20}", "[0-9]{0,8}", "[a-z0-9-]{0,12}", "[a-z;-]{0,40}", "[0-9a-f]{0,64}").prop_map(|(key, date, region, signed, sig)| {
            format!("AWS4-HMAC-SHA256 Credential={key}/{date}/{region}/cloudtrail/aws4_request, SignedHeaders={signed}, Signature={sig}")
        }),
        Just("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/cloudtrail/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b".to_owned()),
    ];
    let target = prop_oneof![
        Just("CloudTrail_20131101.LookupEvents".to_owned()),
        Just("CloudTrail_20131101.ListInsightsMetricData".to_owned()),
        "\\PC{0,40}",
    ];
    let body = prop_oneof![Just("{}".to_owned()), "\\PC{0,200}", Just("{\"NextToken\":\"AAAA\",\"StartTime\":-1e300}".to_owned())];
    let date = prop_oneof![Just("20150830T123600Z".to_owned()), "[0-9TZ]{0,20}"];
    runner()
        .run(&(query(), authorization, target, body, date), |(query, authorization, target, body, date)| {
            let request = Request::post(format!("/?{query}"))
                .header("host", "cloudtrail.us-east-1.amazonaws.com")
                .header("content-type", "application/x-amz-json-1.1");
            let request = [("authorization", authorization), ("x-amz-target", target), ("x-amz-date", date)]
                .into_iter()
                .fold(request, |r, (name, value)| match axum::http::HeaderValue::from_str(&value) {
                    Ok(v) => r.header(name, v),
                    Err(_) => r,
                });
            let Ok(request) = request.body(Body::from(body)) else { return Ok(()) };
            let status = answer(&rt, &router, request)?;
            prop_assert!((400..500).contains(&status), "{status}");
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_push_endpoint_answers_any_trail_name_and_body_without_a_server_error() {
    let (rt, router, _dir) = setup();
    let trail = prop_oneof!["[a-zA-Z0-9._-]{1,20}", "\\PC{0,40}", Just("a".repeat(300))];
    let body = prop_oneof!["\\PC{0,300}", Just("{\"Records\":[{\"eventTime\":\"0001-01-01T00:00:00Z\",\"eventSource\":\"x\",\"eventName\":\"y\"}]}".to_owned())];
    runner()
        .run(&(trail, body), |(trail, body)| {
            let path: String = trail.bytes().map(|b| if b.is_ascii_alphanumeric() || b"._-".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
            let Ok(request) = Request::post(format!("/api/v1/trails/{path}/events"))
                .header("content-type", "application/json")
                .body(Body::from(body))
            else {
                return Ok(());
            };
            answer(&rt, &router, request)?;
            Ok(())
        })
        .unwrap();
}
