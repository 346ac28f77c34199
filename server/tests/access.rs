//! Who may do what, through the real router (no socket) into a real SQLite file: every route
//! unauthenticated off loopback, as a viewer and as an admin; sessions from the real login
//! form; tokens; cross-site writes; unknown Host names; the security headers.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use engine::access::{digest, hash_password, new_secret, Role};
use engine::store::access::ApiToken;
use http_body_util::BodyExt;
use leptos::server_fn::ServerFn;
use server::web::WebSettings;
use tower::ServiceExt;

/// Every page route of the app, with a trail and IDs that exist or not (either way the
/// request must be refused before anything is looked up).
const PAGES: [&str; 11] = [
    "/", "/insights", "/insights/some-id", "/events", "/events/some-id", "/settings", "/access", "/insights.csv", "/insights.json",
    "/insights/some-id/graph.svg", "/prefs/time-zone?offset=60",
];

/// Every server function, with a body that would be valid for it.
fn server_functions() -> Vec<(&'static str, &'static str)> {
    use app::api::{access, events, home, insights, notify, settings, triage};
    vec![
        (access::WhoAmI::PATH, ""),
        (access::GetSignInOptions::PATH, ""),
        (access::GetAccessOverview::PATH, ""),
        (access::RevokeToken::PATH, "name=ci"),
        (access::RemoveUser::PATH, "name=bob"),
        (events::ListEvents::PATH, ""),
        (events::GetEvent::PATH, "id=x"),
        (home::GetHomeSummary::PATH, ""),
        (insights::ListInsights::PATH, ""),
        (insights::GetInsight::PATH, "id=x"),
        (insights::GetInsightExtras::PATH, "id=x"),
        (insights::GetInsightGraph::PATH, "id=x&span=1d"),
        (insights::InsightEvents::PATH, "id=x"),
        (settings::ListTrails::PATH, ""),
        (settings::CreateTrail::PATH, "name=new"),
        (settings::RenameTrail::PATH, "name=prod&new_name=renamed"),
        (settings::DeleteTrail::PATH, "name=prod&confirm=prod"),
        (settings::SaveTrailSettings::PATH, "name=prod&sensitivity=high"),
        (triage::GetTriage::PATH, "id=x"),
        (triage::SetTriageState::PATH, "id=x&state=acknowledged"),
        (triage::AddComment::PATH, "id=x&body=hi"),
        (triage::MarkExpected::PATH, "id=x&rule=r&reason=&until="),
        (notify::GetNotificationSettings::PATH, ""),
        (notify::AddDestination::PATH, ADD_DIRECTORY),
        (notify::RemoveDestination::PATH, "name=d"),
        (notify::TestDestination::PATH, "name=d"),
        (notify::UpdateRule::PATH, "name=r&reason=&until="),
        (notify::RemoveRule::PATH, "name=r"),
    ]
}

/// The settings form adding a directory destination `d`.
const ADD_DIRECTORY: &str = "name=d&kind=directory&trail=&url=&secret=&to=&smtp=&from=&bucket=&endpoint_url=&path=%2Ftmp%2Fts-d&max_age_hours=&group_minutes=";

struct Server {
    router: axum::Router,
    store: Arc<dyn engine::Store>,
    _dir: tempfile::TempDir,
}

/// A server as `serve --addr ADDR` builds it, with users alice (admin) and bob (viewer),
/// both with the password "correct horse battery", and a trail `prod`.
async fn server(addr: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = engine::open_store(&format!("sqlite://{}", dir.path().join("a.db").display())).await.unwrap();
    let hash = hash_password("correct horse battery");
    store.access().add_user("alice", Role::Admin, &hash, 0).await.unwrap();
    store.access().add_user("bob", Role::Viewer, &hash, 0).await.unwrap();
    store.create_trail(&engine::store::NewTrail::for_ingest("prod")).await.unwrap();
    let router = server::web::router(store.clone(), dir.path(), WebSettings::for_addr(addr.parse().unwrap()));
    Server { router, store, _dir: dir }
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(router: &axum::Router, request: Request<Body>) -> Reply {
    let response = router.clone().oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

fn get(uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut r = Request::get(uri).header(header::ACCEPT, "text/html");
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.body(Body::empty()).unwrap()
}

fn post(uri: &str, body: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut r = Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.body(Body::from(body.to_owned())).unwrap()
}

/// Signs in through the real form and returns the `Cookie` header value.
async fn sign_in(router: &axum::Router, user: &str) -> String {
    let reply = send(router, post("/login", &format!("username={user}&password=correct+horse+battery&next=/settings"), &[])).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.headers[header::LOCATION], "/settings", "back to the page asked for");
    let cookie = reply.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn off_loopback_nothing_is_readable_or_changeable_without_signing_in() {
    let s = server("0.0.0.0:3000").await;
    for page in PAGES {
        let reply = send(&s.router, get(page, &[])).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{page} sends people to sign in");
        let location = reply.headers[header::LOCATION].to_str().unwrap();
        assert!(location.starts_with("/login?next=%2F"), "{page}: {location}");
        let script = send(&s.router, Request::get(page).body(Body::empty()).unwrap()).await;
        assert_eq!(script.status, StatusCode::UNAUTHORIZED, "{page} without Accept: text/html");
    }
    for (path, body) in server_functions() {
        let reply = send(&s.router, post(path, body, &[])).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let push = send(&s.router, Request::post("/api/v1/trails/prod/events").header("content-type", "application/json").body(Body::from("[]")).unwrap()).await;
    assert_eq!(push.status, StatusCode::UNAUTHORIZED);
    assert!(s.store.get_trail("prod").await.unwrap().is_some(), "nothing was deleted");
    assert!(s.store.list_trails().await.unwrap().len() == 1, "nothing was created");
    // What anyone may fetch.
    for public in ["/healthz", "/login", "/style.css", "/favicon.svg"] {
        assert_eq!(send(&s.router, get(public, &[])).await.status, StatusCode::OK, "{public}");
    }
    // The icon browsers ask for by name leads to the public one, and to nothing else.
    let icon = send(&s.router, get("/favicon.ico", &[])).await;
    assert_eq!((icon.status, icon.headers[header::LOCATION].to_str().unwrap()), (StatusCode::PERMANENT_REDIRECT, "/favicon.svg"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_reads_everything_and_changes_nothing() {
    let s = server("0.0.0.0:3000").await;
    let cookie = sign_in(&s.router, "bob").await;
    for page in PAGES.into_iter().filter(|p| *p != "/access") {
        let reply = send(&s.router, get(page, &[("cookie", &cookie)])).await;
        // The time zone preference answers by going back to the page it was set from.
        let expected = if page.starts_with("/prefs/") { StatusCode::SEE_OTHER } else { StatusCode::OK };
        assert!(reply.status == expected || reply.status == StatusCode::NOT_FOUND, "{page}: {}", reply.status);
    }
    let settings = send(&s.router, get("/settings", &[("cookie", &cookie)])).await.body;
    assert!(settings.contains("data-testid=\"read-only\"") && !settings.contains("data-testid=\"create-trail\""));
    let access = send(&s.router, get("/access", &[("cookie", &cookie)])).await;
    assert_eq!(access.status, StatusCode::FORBIDDEN, "the access page is for admins");
    let writes = [
        app::api::access::RevokeToken::PATH,
        app::api::access::RemoveUser::PATH,
        app::api::access::GetAccessOverview::PATH,
        app::api::settings::CreateTrail::PATH,
        app::api::settings::RenameTrail::PATH,
        app::api::settings::DeleteTrail::PATH,
        app::api::settings::SaveTrailSettings::PATH,
        app::api::triage::MarkExpected::PATH,
        app::api::notify::AddDestination::PATH,
        app::api::notify::RemoveDestination::PATH,
        app::api::notify::TestDestination::PATH,
        app::api::notify::UpdateRule::PATH,
        app::api::notify::RemoveRule::PATH,
    ];
    for (path, body) in server_functions().into_iter().filter(|(p, _)| writes.contains(p)) {
        let reply = send(&s.router, post(path, body, &[("cookie", &cookie)])).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}: {}", reply.body);
        assert!(reply.body.contains("only admins") || reply.body.contains("admin"), "{}", reply.body);
    }
    for (path, body) in server_functions().into_iter().filter(|(p, _)| !writes.contains(p)) {
        let reply = send(&s.router, post(path, body, &[("cookie", &cookie)])).await;
        assert_ne!(reply.status, StatusCode::FORBIDDEN, "{path} reads");
        assert_ne!(reply.status, StatusCode::UNAUTHORIZED, "{path} reads");
    }
    assert!(s.store.get_trail("prod").await.unwrap().is_some());
    assert!(s.store.access().list_audit(10).await.unwrap().is_empty(), "nothing changed, nothing logged");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_changes_settings_and_each_change_is_audited() {
    let s = server("0.0.0.0:3000").await;
    let cookie = sign_in(&s.router, "alice").await;
    let same_site = [("cookie", cookie.as_str()), ("host", "ts.example:3000"), ("origin", "http://ts.example:3000"), ("sec-fetch-site", "same-origin")];
    let create = send(&s.router, post(app::api::settings::CreateTrail::PATH, "name=staging", &same_site)).await;
    assert_eq!(create.status, StatusCode::OK, "{}", create.body);
    let wrong_confirm = send(&s.router, post(app::api::settings::DeleteTrail::PATH, "name=staging&confirm=stagin", &same_site)).await;
    assert_eq!(wrong_confirm.status, StatusCode::BAD_REQUEST);
    assert!(wrong_confirm.body.contains("type its name exactly"), "{}", wrong_confirm.body);
    assert!(s.store.get_trail("staging").await.unwrap().is_some(), "a mistyped confirmation deletes nothing");
    let delete = send(&s.router, post(app::api::settings::DeleteTrail::PATH, "name=staging&confirm=staging", &same_site)).await;
    assert_eq!(delete.status, StatusCode::OK, "{}", delete.body);
    assert!(s.store.get_trail("staging").await.unwrap().is_none());

    let log = s.store.access().list_audit(10).await.unwrap();
    let seen: Vec<(&str, &str, &str)> = log.iter().map(|e| (e.actor.as_str(), e.action.as_str(), e.target.as_str())).collect();
    assert_eq!(seen, [("alice", "trail.delete", "staging"), ("alice", "trail.create", "staging")]);
    let page = send(&s.router, get("/access", &[("cookie", &cookie)])).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("trail.delete") && page.body.contains("data-testid=\"audit-log\""), "admins see the audit log");

    // Signing out ends the session on the server, not only in the browser.
    let out = send(&s.router, post("/logout", "", &[("cookie", &cookie)])).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.headers[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(send(&s.router, get("/settings", &[("cookie", &cookie)])).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread")]
async fn cross_site_writes_are_refused_even_with_an_admin_session() {
    let s = server("0.0.0.0:3000").await;
    let cookie = sign_in(&s.router, "alice").await;
    let path = app::api::settings::DeleteTrail::PATH;
    for attack in [
        vec![("cookie", cookie.as_str()), ("host", "ts.example:3000"), ("origin", "http://evil.example")],
        vec![("cookie", cookie.as_str()), ("host", "ts.example:3000"), ("sec-fetch-site", "cross-site")],
        vec![("cookie", cookie.as_str()), ("host", "ts.example:3000"), ("origin", "null")],
    ] {
        let reply = send(&s.router, post(path, "name=prod&confirm=prod", &attack)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{attack:?}");
    }
    // Every server function, the triage and notification ones included: an admin's browser
    // visiting another site cannot be made to call any of them.
    let evil = [("cookie", cookie.as_str()), ("host", "ts.example:3000"), ("origin", "http://evil.example")];
    for (function, body) in server_functions() {
        let reply = send(&s.router, post(function, body, &evil)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{function}: {}", reply.body);
    }
    assert!(s.store.notify().list_destinations().await.unwrap().is_empty(), "no destination was added");
    assert!(s.store.access().list_audit(10).await.unwrap().is_empty(), "nothing changed, nothing logged");
    // The open loopback mode too: a page elsewhere cannot use it.
    let local = server("127.0.0.1:3000").await;
    let reply = send(&local.router, post(path, "name=prod&confirm=prod", &[("host", "127.0.0.1:3000"), ("origin", "http://evil.example")])).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(s.store.get_trail("prod").await.unwrap().is_some() && local.store.get_trail("prod").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn dns_rebinding_names_are_refused_on_loopback() {
    let s = server("127.0.0.1:3000").await;
    let rebound = send(&s.router, get("/insights", &[("host", "evil.example:3000")])).await;
    assert_eq!(rebound.status, StatusCode::MISDIRECTED_REQUEST);
    assert!(rebound.body.contains("--public-url"));
    assert_eq!(send(&s.router, get("/insights", &[("host", "localhost:3000")])).await.status, StatusCode::OK);
    assert_eq!(send(&s.router, get("/insights", &[("host", "127.0.0.1:3000")])).await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_passwords_are_refused_then_rate_limited() {
    let s = server("0.0.0.0:3000").await;
    for attempt in 0..server::auth::login::MAX_FAILURES_PER_USER {
        let reply = send(&s.router, post("/login", "username=alice&password=wrong+password&next=/", &[])).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "attempt {attempt}");
        assert!(reply.headers[header::LOCATION].to_str().unwrap().starts_with("/login?error="));
        assert!(reply.headers.get(header::SET_COOKIE).is_none());
    }
    let limited = send(&s.router, post("/login", "username=alice&password=correct+horse+battery", &[])).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    assert!(limited.headers.contains_key(header::RETRY_AFTER));
    // An unknown name answers exactly as a wrong password does.
    let unknown = send(&s.router, post("/login", "username=mallory&password=whatever+it+is", &[])).await;
    assert_eq!(unknown.status, StatusCode::SEE_OTHER);
    // The login page says what went wrong.
    let page = send(&s.router, get("/login?error=Wrong+user+name+or+password.&next=/", &[])).await;
    assert!(page.body.contains("Wrong user name or password."));
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_act_with_their_role_and_push_tokens_only_push() {
    let s = server("0.0.0.0:3000").await;
    let mut secrets = Vec::new();
    for (name, role) in [("reader", Role::Viewer), ("forwarder", Role::Push)] {
        let secret = new_secret();
        let token = ApiToken { name: name.into(), role, aws_access_key_id: None, created_ms: 0, created_by: "test".into(), last_used_ms: None };
        s.store.access().create_token(&token, &digest(&secret), None).await.unwrap();
        secrets.push(format!("Bearer {secret}"));
    }
    let (reader, forwarder) = (&secrets[0], &secrets[1]);
    let csv = send(&s.router, Request::get("/insights.csv").header("authorization", reader).body(Body::empty()).unwrap()).await;
    assert_eq!(csv.status, StatusCode::OK, "a viewer token downloads");
    let write = send(&s.router, post(app::api::settings::CreateTrail::PATH, "name=x", &[("authorization", reader)])).await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);
    let page = send(&s.router, get("/insights", &[("authorization", forwarder)])).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "a push token reads nothing");
    let push = Request::post("/api/v1/trails/prod/events")
        .header("authorization", forwarder)
        .header("content-type", "application/json")
        .body(Body::from(r#"{"eventID":"a","eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser"}"#))
        .unwrap();
    assert_eq!(send(&s.router, push).await.status, StatusCode::OK);
    let bogus = send(&s.router, get("/insights", &[("authorization", "Bearer not-a-token")])).await;
    assert_eq!(bogus.status, StatusCode::UNAUTHORIZED);
    s.store.access().revoke_token("reader").await.unwrap();
    let revoked = send(&s.router, Request::get("/insights.csv").header("authorization", reader).body(Body::empty()).unwrap()).await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED, "revocation is immediate");
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_carry_a_nonce_policy_and_the_safety_headers() {
    let s = server("127.0.0.1:3000").await;
    let reply = send(&s.router, get("/insights", &[])).await;
    let csp = reply.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce in script-src");
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{csp}");
    assert!(reply.body.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the nonce");
    let scripts = reply.body.matches("<script").count();
    let with_nonce = reply.body.matches(&format!("nonce=\"{nonce}\"")).count();
    assert!(with_nonce >= scripts, "every script tag carries the nonce ({with_nonce} of {scripts})");
    assert_eq!(reply.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(reply.headers[header::REFERRER_POLICY], "same-origin");
    let again = send(&s.router, get("/insights", &[])).await;
    assert_ne!(again.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap(), csp, "a fresh nonce per response");
    let css = send(&s.router, get("/style.css", &[])).await;
    assert!(css.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().starts_with("default-src 'none'"));
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_over_the_limit_are_refused() {
    let s = server("127.0.0.1:3000").await;
    let big = "name=".to_owned() + &"x".repeat(2 << 20);
    let length = big.len().to_string();
    let reply = send(&s.router, post(app::api::settings::CreateTrail::PATH, &big, &[("content-length", &length)])).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "server functions too, not only the push endpoint");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trusted_proxys_header_signs_people_in_and_nobody_elses_does() {
    use axum::extract::ConnectInfo;
    use server::auth::ProxyAuth;
    let dir = tempfile::tempdir().unwrap();
    let store = engine::open_store(&format!("sqlite://{}", dir.path().join("p.db").display())).await.unwrap();
    let mut settings = WebSettings::for_addr("0.0.0.0:3000".parse().unwrap());
    settings.access.proxy = Some(ProxyAuth {
        user_header: header::HeaderName::from_static("x-forwarded-email"),
        allowed: vec!["10.0.0.5".parse().unwrap()],
        role: Role::Viewer,
        role_header: None,
        roles: Default::default(),
    });
    let router = server::web::router(store, dir.path(), settings);
    let from = |peer: &str, email: Option<&str>| {
        let mut r = Request::get("/insights").header(header::ACCEPT, "text/html");
        if let Some(email) = email {
            r = r.header("x-forwarded-email", email);
        }
        let mut r = r.body(Body::empty()).unwrap();
        r.extensions_mut().insert(ConnectInfo::<std::net::SocketAddr>(format!("{peer}:40000").parse().unwrap()));
        r
    };
    let through_proxy = send(&router, from("10.0.0.5", Some("carol@example.com"))).await;
    assert_eq!(through_proxy.status, StatusCode::OK);
    assert!(through_proxy.body.contains("carol@example.com"), "the page names the proxy's user");
    let forged = send(&router, from("10.0.0.99", Some("carol@example.com"))).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "the header from anyone but the proxy is refused");
    assert!(forged.body.contains("10.0.0.99"));
    let no_header = send(&router, from("10.0.0.5", None)).await;
    assert_eq!(no_header.status, StatusCode::SEE_OTHER, "without the header, sign in as usual");
    let write = {
        let mut r = post(app::api::settings::CreateTrail::PATH, "name=x", &[("x-forwarded-email", "carol@example.com")]);
        r.extensions_mut().insert(ConnectInfo::<std::net::SocketAddr>("10.0.0.5:40000".parse().unwrap()));
        send(&router, r).await
    };
    assert_eq!(write.status, StatusCode::FORBIDDEN, "the proxy's users have the configured role (viewer)");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_revokes_tokens_and_removes_users_but_not_themselves() {
    let s = server("0.0.0.0:3000").await;
    let secret = new_secret();
    let token = ApiToken { name: "ci".into(), role: Role::Viewer, aws_access_key_id: None, created_ms: 0, created_by: "test".into(), last_used_ms: None };
    s.store.access().create_token(&token, &digest(&secret), None).await.unwrap();
    let bob = sign_in(&s.router, "bob").await;
    let cookie = sign_in(&s.router, "alice").await;
    let as_alice = [("cookie", cookie.as_str())];

    let revoke = send(&s.router, post(app::api::access::RevokeToken::PATH, "name=ci", &as_alice)).await;
    assert_eq!(revoke.status, StatusCode::OK, "{}", revoke.body);
    let csv = send(&s.router, Request::get("/insights.csv").header("authorization", format!("Bearer {secret}")).body(Body::empty()).unwrap()).await;
    assert_eq!(csv.status, StatusCode::UNAUTHORIZED, "the revoked token no longer works");
    let again = send(&s.router, post(app::api::access::RevokeToken::PATH, "name=ci", &as_alice)).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);

    let herself = send(&s.router, post(app::api::access::RemoveUser::PATH, "name=alice", &as_alice)).await;
    assert_eq!(herself.status, StatusCode::BAD_REQUEST, "an admin cannot remove themselves");
    assert!(herself.body.contains("cannot remove yourself"), "{}", herself.body);
    let remove = send(&s.router, post(app::api::access::RemoveUser::PATH, "name=bob", &as_alice)).await;
    assert_eq!(remove.status, StatusCode::OK, "{}", remove.body);
    assert_eq!(send(&s.router, get("/insights", &[("cookie", &bob)])).await.status, StatusCode::SEE_OTHER, "bob's session ended with him");

    let log: Vec<String> = s.store.access().list_audit(10).await.unwrap().into_iter().map(|e| format!("{} {} {}", e.actor, e.action, e.target)).collect();
    assert_eq!(log, ["alice user.remove bob", "alice token.revoke ci"]);
}

/// Building a router renders the app once with resource loading switched off process-wide
/// (leptos_server's `SuppressResourceLoad`); a page rendering meanwhile used to wait for its
/// resources forever and answer 408 after a minute (seen in CI on `/login`). Routers are now
/// built from one route list per process, so pages render whatever else is being built.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_render_while_other_routers_are_being_built() {
    let s = server("127.0.0.1:3000").await;
    let building = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let builders: Vec<_> = (0..2)
        .map(|_| {
            let (building, store) = (building.clone(), s.store.clone());
            std::thread::spawn(move || {
                while building.load(std::sync::atomic::Ordering::Relaxed) {
                    let dir = tempfile::tempdir().unwrap();
                    drop(server::web::router(store.clone(), dir.path(), WebSettings::for_addr("127.0.0.1:3000".parse().unwrap())));
                }
            })
        })
        .collect();
    for _ in 0..30 {
        let reply = tokio::time::timeout(std::time::Duration::from_secs(20), send(&s.router, get("/login", &[]))).await;
        let reply = reply.expect("/login did not render within 20 s while routers were being built");
        assert_eq!(reply.status, StatusCode::OK);
    }
    building.store(false, std::sync::atomic::Ordering::Relaxed);
    for b in builders {
        b.join().unwrap();
    }
}

/// Triage is everyone's work; silencing future insights and reaching other systems is an
/// admin's: a viewer acknowledges and comments, may not mark expected, and never sees a
/// destination; every change is in the audit log under who made it.
#[tokio::test(flavor = "multi_thread")]
async fn viewers_triage_and_admins_decide_what_is_expected_and_who_is_told() {
    use app::api::{notify, triage};
    let s = server("0.0.0.0:3000").await;
    let now = chrono::Utc::now().timestamp_millis();
    let insight = engine::notify::sample_insight("prod", "RunInstances", now - 60_000, None, "arn:aws:iam::123456789012:user/a");
    s.store.save_insight(&insight, now).await.unwrap();
    let id = insight.shared_event_id.clone();
    let viewer = sign_in(&s.router, "bob").await;
    let admin = sign_in(&s.router, "alice").await;
    let as_ = |cookie: &str| vec![("cookie".to_owned(), cookie.to_owned()), ("host".into(), "ts.example:3000".into()), ("origin".into(), "http://ts.example:3000".into())];
    let call = |path: &'static str, body: String, who: Vec<(String, String)>| {
        let router = s.router.clone();
        async move {
            let headers: Vec<(&str, &str)> = who.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            send(&router, post(path, &body, &headers)).await
        }
    };
    let ack = call(triage::SetTriageState::PATH, format!("id={id}&state=acknowledged"), as_(&viewer)).await;
    assert_eq!(ack.status, StatusCode::OK, "{}", ack.body);
    let comment = call(triage::AddComment::PATH, format!("id={id}&body=mine%2C+checking"), as_(&viewer)).await;
    assert_eq!(comment.status, StatusCode::OK, "{}", comment.body);
    let expected = call(triage::SetTriageState::PATH, format!("id={id}&state=expected"), as_(&viewer)).await;
    assert_eq!(expected.status, StatusCode::FORBIDDEN, "{}", expected.body);
    let long = call(triage::AddComment::PATH, format!("id={id}&body={}", "x".repeat(4001)), as_(&viewer)).await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST);
    assert!(long.body.contains("at most 4000"), "{}", long.body);

    let added = call(notify::AddDestination::PATH, ADD_DIRECTORY.replace("%2Ftmp%2Fts-d", "relative"), as_(&admin)).await;
    assert_eq!(added.status, StatusCode::BAD_REQUEST, "a directory must be absolute: {}", added.body);
    let added = call(notify::AddDestination::PATH, ADD_DIRECTORY.replace("kind=directory", "kind=webhook").replace("url=&", "url=http%3A%2F%2Fhooks.example%2Fx%3Ftoken%3Dsecret&"), as_(&admin)).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let rule = call(triage::MarkExpected::PATH, format!("id={id}&rule=scaling&reason=autoscaler&until=2099-01-31&identity=1"), as_(&admin)).await;
    assert_eq!(rule.status, StatusCode::OK, "{}", rule.body);
    let rules = s.store.notify().list_suppressions().await.unwrap();
    assert_eq!(rules[0].describe(), "ApiCallRateInsight on ec2.amazonaws.com RunInstances in account 123456789012 in region us-east-1 by arn:aws:iam::123456789012:user/a is expected until 2099-02-01T00:00:00Z");

    // The viewer reads the rules, never the destinations (their URLs may hold secrets).
    let seen_by_viewer = call(notify::GetNotificationSettings::PATH, String::new(), as_(&viewer)).await;
    assert!(seen_by_viewer.body.contains("scaling") && !seen_by_viewer.body.contains("hooks.example"), "{}", seen_by_viewer.body);
    let seen_by_admin = call(notify::GetNotificationSettings::PATH, String::new(), as_(&admin)).await;
    assert!(seen_by_admin.body.contains("http://hooks.example/…") && !seen_by_admin.body.contains("token"), "{}", seen_by_admin.body);

    let stored = s.store.get_insight(&id).await.unwrap().unwrap();
    assert_eq!((stored.triage.state, stored.triage.by.as_deref()), (engine::notify::TriageState::Expected, Some("alice")));
    let log = s.store.access().list_audit(10).await.unwrap();
    let seen: Vec<(&str, &str)> = log.iter().rev().map(|e| (e.actor.as_str(), e.action.as_str())).collect();
    assert_eq!(seen, [("bob", "insight.triage"), ("bob", "insight.comment"), ("alice", "destination.add"), ("alice", "suppression.add"), ("alice", "insight.triage")]);
}
