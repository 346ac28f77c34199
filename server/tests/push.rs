//! `POST /api/v1/trails/{trail}/events` through the real router (no socket), into a real
//! SQLite file: every body shape, gzip, rejections, the size limit and the token rules.

use std::io::Write;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use engine::store::EventQuery;
use http_body_util::BodyExt;
use server::web::WebSettings;
use tower::ServiceExt;

const A: &str = r#"{"eventID":"a","eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser"}"#;
const B: &str = r#"{"eventID":"b","eventTime":"2024-01-01T00:00:30Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser"}"#;

async fn store() -> (Arc<dyn engine::Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("p.db").display());
    (engine::open_store(&url).await.unwrap(), dir)
}

/// The whole server's router, as `serve` builds it, with a 64 KiB push limit: open on
/// loopback, or sign-in required (as off loopback), with `TRAILSIGHT_PUSH_TOKEN` set or not.
fn router(store: &Arc<dyn engine::Store>, dir: &tempfile::TempDir, token: Option<&str>, loopback: bool) -> axum::Router {
    let addr = if loopback { "127.0.0.1:0" } else { "0.0.0.0:0" };
    let mut settings = WebSettings::for_addr(addr.parse().unwrap());
    settings.push_max_body_bytes = 64 << 10;
    settings.access.push_token = token.map(str::to_owned);
    server::web::router(store.clone(), dir.path(), settings)
}

async fn post(router: &axum::Router, trail: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (StatusCode, serde_json::Value) {
    let mut request = Request::post(format!("/api/v1/trails/{trail}/events"));
    if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-type")) {
        request = request.header("content-type", "application/json");
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = router.clone().oneshot(request.body(Body::from(body)).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&bytes).into())))
}

async fn stored_ids(store: &dyn engine::Store, trail: &str) -> Vec<String> {
    let query = EventQuery { trail: Some(trail.into()), limit: 100, ..Default::default() };
    let mut ids: Vec<String> = store.list_events(&query).await.unwrap().into_iter().map(|e| e.record.event_id).collect();
    ids.sort();
    ids
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_shape_plain_or_gzip_is_stored_once() {
    let (store, dir) = store().await;
    let router = router(&store, &dir, None, true);
    let (status, summary) = post(&router, "prod", &[], format!("{A}\n{B}\n").into_bytes()).await;
    assert_eq!((status, summary["records_stored"].as_u64()), (StatusCode::OK, Some(2)));

    let envelope = gzip(format!(r#"{{"Records":[{A},{B}]}}"#).as_bytes());
    let (status, summary) = post(&router, "prod", &[("content-encoding", "gzip")], envelope).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((summary["records_stored"].as_u64(), summary["duplicates_skipped"].as_u64()), (Some(0), Some(2)));
    assert_eq!(stored_ids(store.as_ref(), "prod").await, ["a", "b"]);
    assert!(store.get_trail("prod").await.unwrap().is_some(), "pushing creates the trail");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_bodies_say_what_is_wrong() {
    let (store, dir) = store().await;
    let router = router(&store, &dir, None, true);
    let (status, summary) = post(&router, "t", &[], format!(r#"[{A},42]"#).into_bytes()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a rejected record is reported");
    assert_eq!(summary["records_stored"], 1, "the valid record is still stored");
    assert_eq!(summary["rejections"][0]["record"], 1);
    assert!(summary["rejections"][0]["reason"].as_str().unwrap().contains("not a JSON object"));

    let (status, summary) = post(&router, "t", &[], b"{\"Records\":[".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(summary["rejections"][0]["reason"].as_str().unwrap().contains("truncated"), "{summary}");

    let (status, body) = post(&router, "t", &[("content-encoding", "gzip")], A.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("not gzip"));

    let (status, _) = post(&router, "t", &[], vec![b' '; 65 << 10]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "bodies over the limit are refused");
    let bomb = gzip(&vec![b' '; 2 << 20]); // inflates 32 times past the 64 KiB limit
    let (status, body) = post(&router, "t", &[], bomb).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["error"].as_str().unwrap().contains("TRAILSIGHT_PUSH_MAX_MB"), "the advice fits push: {body}");

    // Gzip of gzip: the outer layer inflates to a few KiB, within every limit; a second
    // inflation would give 4 MiB. Inflated once, then refused with the reason.
    let nested = gzip(&gzip(&vec![b' '; 4 << 20]));
    assert!(nested.len() < 64 << 10);
    let (status, body) = post(&router, "t", &[("content-encoding", "gzip")], nested).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().contains("gzip inside gzip"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn only_json_or_gzip_content_types_are_accepted() {
    let (store, dir) = store().await;
    let router = router(&store, &dir, None, true);
    // What an HTML form (or a cross-site fetch without a preflight) can send: 415, nothing stored.
    for form_type in ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain", "TEXT/PLAIN;charset=utf-8", ""] {
        let (status, body) = post(&router, "t", &[("content-type", form_type)], A.as_bytes().to_vec()).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{form_type:?}: {body}");
        assert!(body["error"].as_str().unwrap().contains("send Content-Type: application/json"), "{body}");
    }
    assert!(stored_ids(store.as_ref(), "t").await.is_empty());
    // JSON types, with parameters and in any case; gzip as gzip or as bytes.
    let (status, _) = post(&router, "t", &[("content-type", "Application/JSON; charset=utf-8")], A.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(&router, "t", &[("content-type", "application/x-ndjson")], format!("{A}\n{B}").into_bytes()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(&router, "t", &[("content-type", "application/gzip")], gzip(A.as_bytes())).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(&router, "t", &[("content-type", "application/octet-stream")], gzip(B.as_bytes())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored_ids(store.as_ref(), "t").await, ["a", "b"]);
    // Bytes that claim to be gzip but are not.
    let (status, body) = post(&router, "t", &[("content-type", "application/octet-stream")], A.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().contains("not gzip"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn trail_names_follow_the_settings_page_rule() {
    let (store, dir) = store().await;
    let router = router(&store, &dir, None, true);
    // A space, a slash (encoded), markup, 129 characters: the settings page refuses them all.
    let long = "x".repeat(129);
    for bad in ["a%20b", "a%2Fb", "%3Cscript%3E", "caf%C3%A9", long.as_str()] {
        let (status, body) = post(&router, bad, &[], A.as_bytes().to_vec()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["error"].as_str().unwrap().contains("1 to 128 letters, digits, periods, underscores or dashes"), "{body}");
    }
    assert!(store.list_trails().await.unwrap().is_empty(), "no trail was created");
    let (status, _) = post(&router, "prod-2.eu_west", &[], A.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_is_required_off_loopback_and_whenever_configured() {
    let (store, dir) = store().await;
    let off_loopback = router(&store, &dir, None, false);
    let (status, body) = post(&off_loopback, "t", &[], A.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.as_str().unwrap().contains("Authorization: Bearer"), "{body}");

    let guarded = router(&store, &dir, Some("s3cret"), false);
    for headers in [vec![], vec![("authorization", "Bearer wrong!")]] {
        let (status, _) = post(&guarded, "t", &headers, A.as_bytes().to_vec()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert!(stored_ids(store.as_ref(), "t").await.is_empty(), "nothing refused was stored");
    let (status, _) = post(&guarded, "t", &[("authorization", "Bearer s3cret")], A.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored_ids(store.as_ref(), "t").await, ["a"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_router_serves_the_push_route() {
    let (store, dir) = store().await;
    let router = server::web::router(store.clone(), dir.path(), server::web::WebSettings::for_addr("127.0.0.1:0".parse().unwrap()));
    let (status, summary) = post(&router, "web", &[], A.as_bytes().to_vec()).await;
    assert_eq!((status, summary["records_stored"].as_u64()), (StatusCode::OK, Some(1)));
}
