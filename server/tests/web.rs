//! The HTTP surface through the real router (no socket): pages render on the server with
//! the stored insights, unknown IDs are 404s, and the assets are served.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use engine::demo::{self, DemoPlan};
use engine::detect::detect_trails;
use http_body_util::BodyExt;
use tower::ServiceExt;

const END_MS: i64 = 1_773_165_600_000; // 2026-03-10T18:00:00Z

async fn demo_router() -> (axum::Router, Arc<dyn engine::Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = engine::open_store(&format!("sqlite://{}", dir.path().join("w.db").display()))
        .await
        .unwrap();
    demo::load(store.as_ref(), "demo", &DemoPlan::ending_at(7, END_MS)).await.unwrap();
    detect_trails(store.as_ref(), None, END_MS).await.unwrap();
    let router = server::web::router(store.clone(), dir.path(), server::web::WebSettings::for_addr("127.0.0.1:0".parse().unwrap()));
    (router, store, dir)
}

async fn get(router: &axum::Router, uri: &str) -> (StatusCode, String, String) {
    let response = router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_render_the_stored_insights_on_the_server() {
    let (router, store, _dir) = demo_router().await;
    let (status, _, html) = get(&router, "/insights").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(">5 insights<"), "the list is rendered, not loaded later");
    assert!(html.contains("GetPasswordData") && html.contains("Client.UnauthorizedOperation"));
    assert!(html.contains("/pkg/trailsight.") && html.contains(".wasm"), "the page hydrates from the bundle");

    let (_, _, filtered) = get(&router, "/insights?q=getpassword").await;
    assert!(filtered.contains(">1 insight<"), "filtered on the server");

    let insight = store.list_insights(&Default::default()).await.unwrap().remove(0);
    let (status, _, html) = get(&router, &format!("/insights/{}", insight.shared_event_id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&insight.shared_event_id));
    assert!(html.contains("<svg class=\"graph\"") && html.contains("class=\"band\""), "the graph and its band");
    assert!(html.contains("data-testid=\"attribution-userIdentityArn\""), "attributions by default");
    let (_, _, records) = get(&router, &format!("/insights/{}?tab=records", insight.shared_event_id)).await;
    assert!(records.contains("&quot;state&quot;: &quot;Start&quot;") || records.contains("\"state\": \"Start\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn long_lists_are_paginated_in_the_url() {
    let (router, store, _dir) = demo_router().await;
    let mut template = store.list_insights(&Default::default()).await.unwrap();
    let demo = template.len();
    let template = template.remove(0);
    for n in 0..30 {
        let mut extra = template.clone();
        extra.shared_event_id = format!("extra-{n:02}");
        extra.start_minute -= 100 + n;
        store.save_insight(&extra, 0).await.unwrap();
    }
    // 25 a page (the console's page size): the demo's insights and 30 more make two pages.
    let total = demo + 30;
    assert!((26..=50).contains(&total));
    let (_, _, first) = get(&router, "/insights").await;
    assert!(first.contains(&format!("1–25 of {total} insights")) && first.contains("Page 1 of 2"));
    assert_eq!(first.matches("data-testid=\"insight-row\"").count(), 25);
    let (_, _, second) = get(&router, "/insights?page=2").await;
    assert!(second.contains(&format!("26–{total} of {total} insights")) && second.contains("Page 2 of 2"));
    assert_eq!(second.matches("data-testid=\"insight-row\"").count(), total - 25);

    // A page past the end, even the largest u32 (whose offset overflowed and panicked in
    // debug builds), shows the last page.
    for page in ["3", "4294967295"] {
        let (status, _, last) = get(&router, &format!("/insights?page={page}")).await;
        assert_eq!(status, StatusCode::OK, "page={page}");
        assert!(last.contains(&format!("26–{total} of {total} insights")) && last.contains("Page 2 of 2"), "page={page}");
    }
    let (status, _, beyond_u32) = get(&router, "/insights?page=4294967296").await;
    assert_eq!(status, StatusCode::OK);
    assert!(beyond_u32.contains("Page 1 of 2"), "a page that is not a u32 is page 1");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_ids_and_paths_are_404_pages() {
    let (router, _store, _dir) = demo_router().await;
    let (status, _, html) = get(&router, "/insights/not-an-insight").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("There is no such insight."));
    let (status, _, _) = get(&router, "/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stylesheet_and_health_check_are_served() {
    let (router, _store, _dir) = demo_router().await;
    let (status, content_type, css) = get(&router, "/style.css").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/css"));
    assert!(css.contains("prefers-color-scheme: dark"));
    assert_eq!(get(&router, "/healthz").await.2, "ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hashed_bundle_is_named_by_pages_and_cached_for_a_year() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    // What scripts/lib.sh leaves: plain names, hashed copies, and hash.txt naming the hashes.
    for name in ["trailsight.js", "trailsight.wasm", "trailsight.0123456789abcdef.js", "trailsight.fedcba9876543210.wasm"] {
        std::fs::write(pkg.join(name), b"bundle").unwrap();
    }
    std::fs::write(pkg.join("hash.txt"), "js: 0123456789abcdef\nwasm: fedcba9876543210\n").unwrap();
    let store = engine::open_store(&format!("sqlite://{}", dir.path().join("h.db").display())).await.unwrap();
    let router = server::web::router(store, dir.path(), server::web::WebSettings::for_addr("127.0.0.1:0".parse().unwrap()));
    let (_, _, html) = get(&router, "/insights").await;
    assert!(html.contains("/pkg/trailsight.0123456789abcdef.js") && html.contains("/pkg/trailsight.fedcba9876543210.wasm"), "pages name the hashed files");
    let cache = |uri: &'static str| {
        let router = router.clone();
        async move {
            let response = router.oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{uri}");
            response.headers()["cache-control"].to_str().unwrap().to_owned()
        }
    };
    assert_eq!(cache("/pkg/trailsight.0123456789abcdef.js").await, "public, max-age=31536000, immutable");
    assert_eq!(cache("/pkg/trailsight.fedcba9876543210.wasm").await, "public, max-age=31536000, immutable");
    assert_eq!(cache("/pkg/trailsight.js").await, "no-cache", "an unhashed name may change under the same name");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_csv_download_neutralises_formulas_from_the_logs() {
    let (router, store, _dir) = demo_router().await;
    // An attacker controls eventName in their own API calls' records.
    let mut evil = store.list_insights(&Default::default()).await.unwrap().remove(0);
    evil.shared_event_id = "evil".into();
    evil.key.event_name = r#"=HYPERLINK("http://evil","x")"#.into();
    evil.key.error_code = Some("@SUM(1+1)".into());
    store.save_insight(&evil, 0).await.unwrap();

    let (status, content_type, csv) = get(&router, "/insights.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/csv"));
    let line = csv.lines().find(|l| l.starts_with("evil,")).expect("the row is there");
    // The cell starts with a quote (text to a spreadsheet), and the CSV quoting doubles the
    // inner quotes and wraps the cell because it holds commas and quotes (RFC 4180).
    assert!(line.contains(r#","'=HYPERLINK(""http://evil"",""x"")","#), "{line}");
    assert!(line.contains(",'@SUM(1+1),"), "{line}");
    assert!(!line.contains(",=") && !line.contains(",@"), "no cell starts a formula: {line}");
}

/// The Location and Set-Cookie a GET answers with.
async fn redirect(router: &axum::Router, uri: &str) -> (StatusCode, Option<String>, Option<String>) {
    let response = router.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    (response.status(), header("location"), header("set-cookie"))
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_stay_on_this_site() {
    let (router, _store, _dir) = demo_router().await;
    // A trailing slash is dropped, the query kept.
    assert_eq!(redirect(&router, "/insights/?range=7d").await.0, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(redirect(&router, "/insights/?range=7d").await.1.as_deref(), Some("/insights?range=7d"));
    // `//host/` is never answered with a redirect to `//host` (another site).
    let (_, location, _) = redirect(&router, "//evil.example/").await;
    assert!(location.as_deref().is_none_or(|l| !l.starts_with("//")), "{location:?}");

    // The time zone preference: stored in a cookie, then back to a path here, never elsewhere.
    let (status, location, cookie) = redirect(&router, "/prefs/time-zone?offset=60&back=/events%3Fattr%3DEventName").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/events?attr=EventName"));
    assert!(cookie.unwrap().starts_with("tz=60;"));
    for back in ["//evil.example/x", "https://evil.example/", "/%5Cevil.example", "/ok%0d%0aSet-Cookie:%20x=1"] {
        let (_, location, _) = redirect(&router, &format!("/prefs/time-zone?offset=60&back={back}")).await;
        assert_eq!(location.as_deref(), Some("/"), "{back}");
    }
    // An offset that is no zone is UTC.
    assert!(redirect(&router, "/prefs/time-zone?offset=9999").await.2.unwrap().starts_with("tz=0;"));
}
