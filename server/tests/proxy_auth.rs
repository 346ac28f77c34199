//! The trusted reverse-proxy mode (`--auth-proxy-header`, `--auth-proxy-allow`,
//! `--auth-proxy-role-header`) through the real router: the identity header is believed only
//! from the proxy's address (the peer address the listener records), the role comes from the
//! groups header through the admin/viewer values, and someone in none of them is refused.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use engine::access::Role;
use http_body_util::BodyExt;
use leptos::server_fn::ServerFn;
use server::auth::roles::RoleMapping;
use server::auth::ProxyAuth;
use server::web::WebSettings;
use tower::ServiceExt;

const PROXY: &str = "10.0.0.5";

struct Server {
    router: axum::Router,
    store: Arc<dyn engine::Store>,
    _dir: tempfile::TempDir,
}

/// A server off loopback (sign-in required) trusting the proxy at 10.0.0.5; with
/// `role_header`, roles come from `X-Forwarded-Groups`.
async fn server(role_header: bool) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = engine::open_store(&format!("sqlite://{}", dir.path().join("a.db").display())).await.unwrap();
    store.create_trail(&engine::store::NewTrail::for_ingest("prod")).await.unwrap();
    let mut settings = WebSettings::for_addr("0.0.0.0:3000".parse().unwrap());
    settings.access.proxy = Some(ProxyAuth {
        user_header: header::HeaderName::from_static("x-forwarded-email"),
        allowed: vec![PROXY.parse().unwrap(), "127.0.0.1".parse().unwrap()],
        role: Role::Viewer,
        role_header: role_header.then(|| header::HeaderName::from_static("x-forwarded-groups")),
        roles: RoleMapping { admin: vec!["trailsight-admins".into()], viewer: vec!["trailsight-viewers".into()] },
    });
    let router = server::web::router(store.clone(), dir.path(), settings);
    Server { router, store, _dir: dir }
}

struct Reply {
    status: StatusCode,
    body: String,
}

/// Sends `request` as if it came from `peer` over a real connection.
async fn send_from(router: &axum::Router, peer: &str, mut request: Request<Body>) -> Reply {
    let peer = SocketAddr::new(peer.parse().unwrap(), 50000);
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply { status, body: String::from_utf8_lossy(&body).into_owned() }
}

fn page(uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut r = Request::get(uri).header(header::ACCEPT, "text/html");
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.body(Body::empty()).unwrap()
}

fn create_trail(name: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut r = Request::post(app::api::settings::CreateTrail::PATH)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("host", "ts.example:3000")
        .header("origin", "http://ts.example:3000")
        .header("sec-fetch-site", "same-origin");
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.body(Body::from(format!("name={name}"))).unwrap()
}

const ALICE: (&str, &str) = ("x-forwarded-email", "alice@example.test");
const BOB: (&str, &str) = ("x-forwarded-email", "bob@example.test");

#[tokio::test(flavor = "multi_thread")]
async fn the_proxy_names_people_and_their_groups_give_their_role() {
    let s = server(true).await;
    let admin = send_from(&s.router, PROXY, page("/settings", &[ALICE, ("x-forwarded-groups", "staff, trailsight-admins")])).await;
    assert_eq!(admin.status, StatusCode::OK, "{}", admin.body);
    assert!(admin.body.contains("alice@example.test") && admin.body.contains(">admin<"), "{}", admin.body);
    let made = send_from(&s.router, PROXY, create_trail("by-alice", &[ALICE, ("x-forwarded-groups", "trailsight-admins")])).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert!(s.store.get_trail("by-alice").await.unwrap().is_some());
    let log = s.store.access().list_audit(10).await.unwrap();
    assert_eq!(log[0].actor, "alice@example.test", "changes are audited under the proxy's name");

    let viewer = send_from(&s.router, PROXY, page("/settings", &[BOB, ("x-forwarded-groups", "trailsight-viewers")])).await;
    assert_eq!(viewer.status, StatusCode::OK, "{}", viewer.body);
    assert!(viewer.body.contains("bob@example.test") && viewer.body.contains(">viewer<"), "{}", viewer.body);
    let refused = send_from(&s.router, PROXY, create_trail("by-bob", &[BOB, ("x-forwarded-groups", "trailsight-viewers")])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(s.store.get_trail("by-bob").await.unwrap().is_none(), "a viewer changes nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_header_from_any_other_address_is_refused_never_trusted() {
    let s = server(true).await;
    let groups = ("x-forwarded-groups", "trailsight-admins");
    for peer in ["10.0.0.6", "192.168.1.20", "::1"] {
        let forged = send_from(&s.router, peer, page("/settings", &[ALICE, groups])).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "from {peer}");
        assert!(forged.body.contains("not the trusted proxy"), "{}", forged.body);
        let write = send_from(&s.router, peer, create_trail("forged", &[ALICE, groups])).await;
        assert_eq!(write.status, StatusCode::FORBIDDEN, "from {peer}");
    }
    assert!(s.store.get_trail("forged").await.unwrap().is_none());
    // Without the header the same address is simply not signed in.
    let plain = send_from(&s.router, "10.0.0.6", page("/settings", &[])).await;
    assert_eq!(plain.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread")]
async fn someone_in_no_mapped_group_is_refused() {
    let s = server(true).await;
    for groups in [vec![("x-forwarded-groups", "staff,TRAILSIGHT-ADMINS")], vec![]] {
        let mut headers = vec![("x-forwarded-email", "carol@example.test")];
        headers.extend(groups);
        let reply = send_from(&s.router, PROXY, page("/settings", &headers)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert!(reply.body.contains("carol@example.test is not in a group"), "{}", reply.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_groups_header_everyone_the_proxy_names_gets_the_configured_role() {
    let s = server(false).await;
    let reply = send_from(&s.router, "127.0.0.1", page("/settings", &[BOB, ("x-forwarded-groups", "trailsight-admins")])).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains(">viewer<"), "the groups header is ignored when not configured: {}", reply.body);
}
