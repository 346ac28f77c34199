//! The HTTP surface: Leptos pages (server-rendered, then hydrated), server functions, the
//! browser bundle under `/pkg`, the stylesheet, the downloads, sign-in, the push endpoint,
//! CloudTrail's API, and a health check.
//!
//! Every route gets the same layers, composed once here (outermost first): tracing; the
//! `Host` and cross-site checks ([`crate::auth::origin`]); security headers; compression;
//! a request timeout; a bound on requests in flight; then who is asking
//! ([`crate::auth::guard`]). Bodies are limited per route: 1 MiB everywhere but the push
//! endpoint, which has its own (larger) limit.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use app::api::{AppState, SignInOptions};
use app::{shell, App};
use axum::http::{header, HeaderValue, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;

use crate::auth::origin::AllowedHosts;
use crate::auth::{Access, AccessSettings};

/// The stylesheet is part of the binary: no file to lose next to it.
const STYLESHEET: &str = include_str!("../../style/main.css");
const FAVICON: &str = include_str!("../../style/favicon.svg");

/// Largest request body outside the push endpoint: forms, server functions, AWS API calls.
const MAX_BODY: usize = 1 << 20;
/// A request that has not been answered by then gets 408 (pages take well under a second).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// A body that trickles in slower than this is cut off (slowloris).
const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Requests handled at once; more wait their turn rather than exhausting memory.
const MAX_IN_FLIGHT: usize = 256;

/// The AWS API's settings: the access keys it accepts, the account its ARNs name, and the
/// regions it answers for (a signature scoped to another region is refused).
#[derive(Clone, Debug)]
pub struct AwsApiConfig {
    pub credentials: Vec<crate::aws::Credentials>,
    pub account_id: String,
    pub regions: Vec<String>,
}

impl Default for AwsApiConfig {
    fn default() -> Self {
        AwsApiConfig { credentials: Vec::new(), account_id: "123456789012".into(), regions: vec!["us-east-1".into()] }
    }
}

/// Everything the router needs to know besides the store.
#[derive(Clone, Debug)]
pub struct WebSettings {
    pub addr: SocketAddr,
    pub aws: AwsApiConfig,
    pub access: AccessSettings,
    pub hosts: AllowedHosts,
    /// The push endpoint's body limit, in bytes (compressed size for gzip bodies).
    pub push_max_body_bytes: usize,
    pub sign_in: SignInOptions,
    /// Single sign-on, when `--oidc-issuer` is set (its button label is in `sign_in`).
    pub oidc: Option<Arc<crate::auth::oidc::Oidc>>,
    /// `--public-url`, for links in notifications.
    pub public_url: Option<url::Url>,
}

impl WebSettings {
    /// The defaults for a server on `addr` (open on loopback, sign-in required elsewhere).
    pub fn for_addr(addr: SocketAddr) -> WebSettings {
        WebSettings {
            addr,
            aws: AwsApiConfig::default(),
            access: AccessSettings::for_addr(addr),
            hosts: AllowedHosts::new(addr.ip().is_loopback(), None),
            push_max_body_bytes: 32 << 20,
            sign_in: SignInOptions::default(),
            oidc: None,
            public_url: None,
        }
    }
}

/// The app's routes, generated once per process. Generating them renders the app with
/// resource loading switched off through a process-wide flag (leptos_server's
/// `SuppressResourceLoad`): a page rendering meanwhile in another thread would find its
/// resources never load and hang until the request timeout (seen as a 408 on `/login` when
/// tests built routers in parallel; leptos issue #4773). Once generated, the list is reused,
/// so no router built later can stall a page.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::Mutex<Option<Vec<leptos_axum::AxumRouteListing>>> = std::sync::Mutex::new(None);
    ROUTES.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(|| generate_route_list(App)).clone()
}

pub fn router(store: Arc<dyn engine::Store>, site_root: &Path, settings: WebSettings) -> Router {
    let api = crate::aws::AwsApi {
        store: store.clone(),
        credentials: settings.aws.credentials,
        account_id: settings.aws.account_id,
        regions: settings.aws.regions,
    };
    // With the content-hashed bundle (scripts/lib.sh writes pkg/hash.txt), pages name
    // trailsight.<hash>.js/.wasm. Leptos joins the path to the binary's folder, so it must be
    // absolute.
    let hash_file = std::path::absolute(site_root.join("pkg").join("hash.txt")).ok().filter(|p| p.exists());
    let options = LeptosOptions::builder()
        .output_name("trailsight")
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(settings.addr)
        .hash_files(hash_file.is_some())
        .hash_file(hash_file.map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|| "hash.txt".to_owned()).into())
        .build();
    let downloads = store.clone();
    let push = crate::push::router(store.clone(), crate::push::PushConfig { max_body_bytes: settings.push_max_body_bytes });
    let access = Access::new(store.clone(), settings.access);
    let public_url = settings.public_url.clone();
    let send_sample = app::api::SampleSender(Arc::new(move |destination| {
        let public_url = public_url.clone();
        Box::pin(async move { crate::notify::send_sample(&destination, public_url.as_ref()).await })
    }));
    let state = AppState { store, sign_in: settings.sign_in, send_sample: Some(send_sample) };
    let routes = route_list();
    let pages = Router::new()
        .leptos_routes_with_context(
            &options,
            routes,
            move || provide_context(state.clone()),
            {
                let options = options.clone();
                move || shell(options.clone())
            },
        )
        .route(
            "/style.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLESHEET) }),
        )
        .route("/favicon.svg", get(|| async { ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], FAVICON) }))
        // Browsers ask for /favicon.ico whatever the page says.
        .route("/favicon.ico", get(|| async { axum::response::Redirect::permanent("/favicon.svg") }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/insights.csv", get({
            let store = downloads.clone();
            move |query, headers| download(store.clone(), query, headers, Download::Csv)
        }))
        .route("/insights.json", get({
            let store = downloads.clone();
            move |query, headers| download(store.clone(), query, headers, Download::Json)
        }))
        .route("/insights/{id}/graph.svg", get(move |path, query, headers| graph_svg(downloads.clone(), path, query, headers)))
        .route("/prefs/time-zone", get(set_time_zone))
        // CloudTrail's API: AWS JSON 1.1 posts to the root path (pages are GETs there).
        .route("/", post(move |request| crate::aws::handle(api.clone(), request)))
        .nest_service("/pkg", ServeDir::new(site_root.join("pkg")))
        .layer(axum::middleware::map_response(cache_bundle))
        .route("/login", post(crate::auth::login::login).with_state(access.clone()))
        .route("/logout", post(crate::auth::login::logout).with_state(access.clone()));
    let pages = match settings.oidc {
        Some(oidc) => pages.merge(crate::auth::oidc::routes(oidc, access.clone())),
        None => pages,
    }
    .layer(RequestBodyLimitLayer::new(MAX_BODY));
    let guarded = pages
        .route_service(crate::push::ROUTE, push)
        .fallback(leptos_axum::file_and_error_handler(shell))
        .layer(axum::middleware::from_fn_with_state(access, crate::auth::guard))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(MAX_IN_FLIGHT))
        .layer(RequestBodyTimeoutLayer::new(BODY_TIMEOUT))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(axum::middleware::from_fn(trim_trailing_slash))
        .layer(CompressionLayer::new());
    with_security_headers(guarded)
        .layer(axum::middleware::from_fn_with_state(Arc::new(settings.hosts), crate::auth::origin::check))
        .layer(TraceLayer::new_for_http())
        .with_state(options)
}

/// `/events/` is `/events`: a page address with a trailing slash (typed, or from a link
/// tool) is redirected to the address without it, query kept, instead of matching no route.
async fn trim_trailing_slash(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = request.uri().path();
    let is_read = matches!(*request.method(), axum::http::Method::GET | axum::http::Method::HEAD);
    // Never a redirect off this site: `//host/` and `/\host/` read as other hosts in a Location.
    let local = !path.starts_with("//") && !path.contains('\\');
    if is_read && local && path.len() > 1 && path.ends_with('/') && !path.starts_with("/pkg/") {
        let trimmed = path.trim_end_matches('/');
        let target = match request.uri().query() {
            Some(query) => format!("{}?{query}", if trimmed.is_empty() { "/" } else { trimmed }),
            None => if trimmed.is_empty() { "/".to_owned() } else { trimmed.to_owned() },
        };
        // A path like `//evil.example/` must stay on this site: start it with one slash.
        let target = format!("/{}", target.trim_start_matches('/'));
        return axum::response::Redirect::permanent(&target).into_response();
    }
    next.run(request).await
}

/// Content-hashed bundle files never change under their name: browsers may keep them a year.
/// Anything else under `/pkg` (the unhashed names, hash.txt) is checked again on each use.
async fn cache_bundle(uri: axum::http::Uri, mut response: axum::response::Response) -> axum::response::Response {
    let Some(file) = uri.path().strip_prefix("/pkg/") else { return response };
    let hashed = file
        .strip_prefix("trailsight.")
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(hash, ext)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) && matches!(ext, "js" | "wasm"));
    let policy = if hashed { "public, max-age=31536000, immutable" } else { "no-cache" };
    if response.status().is_success() {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

/// Headers on every response. Pages replace the Content-Security-Policy with one that lets
/// their own hydration script run (by nonce; see `app::shell`); everything else gets a policy
/// that runs nothing.
fn with_security_headers(router: Router<LeptosOptions>) -> Router<LeptosOptions> {
    const NOTHING_RUNS: &str =
        "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
    router
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(NOTHING_RUNS)))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        // Links out of the dashboard must not carry its URLs, whose filters hold ARNs.
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
}

/// Remembers the zone times are shown in (`?offset=` minutes east of UTC; anything else is
/// UTC) in the `tz` cookie and returns to `?back=`, a path on this site. The header's picker
/// submits here when JavaScript is off.
async fn set_time_zone(
    axum::extract::Query(params): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let zone = params.get("offset").and_then(|o| app::format::Zone::parse(o)).unwrap_or_default();
    // Only a path here: never `//elsewhere` or `https://elsewhere`.
    let back = params
        .get("back")
        .filter(|b| b.starts_with('/') && !b.starts_with("//") && b.bytes().all(|c| (0x21..0x7f).contains(&c) && c != b'\\'))
        .cloned()
        .unwrap_or_else(|| "/".to_owned());
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, back),
            (header::SET_COOKIE, format!("tz={}; Path=/; Max-Age=31536000; SameSite=Lax", zone.offset_minutes)),
        ],
    )
        .into_response()
}

/// An insight's graph as an SVG file (`?span=` as on its page), for reports and tickets.
async fn graph_svg(
    store: Arc<dyn engine::Store>,
    axum::extract::Path(id): axum::extract::Path<String>,
    axum::extract::Query(params): axum::extract::Query<std::collections::HashMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;

    let span = params.get("span").cloned().unwrap_or_default();
    let now = chrono::Utc::now().timestamp_millis();
    let cookies = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let zone = app::format::Zone::from_cookie_header(cookies);
    match app::api::insights::server::graph_input(store.as_ref(), &id, &span, now, zone).await {
        Ok(Some((span, input))) => {
            // The file name is made of characters an ID and a span cannot break out of.
            let safe: String = id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(64).collect();
            (
                [
                    (header::CONTENT_TYPE, "image/svg+xml".to_owned()),
                    (header::CONTENT_DISPOSITION, format!("attachment; filename=\"insight-{safe}-{span}.svg\"")),
                ],
                // Plotters writes the SVG namespace: the file stands alone as it is.
                format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}", app::graph::render(&input)),
            )
                .into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, format!("no insight with the ID {id:?}")).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

#[derive(Clone, Copy)]
enum Download {
    Csv,
    Json,
}

/// The insights list, filtered exactly as the page with the same query string is, as CSV or
/// as the AWS records (`{"Records":[...]}`).
async fn download(
    store: Arc<dyn engine::Store>,
    axum::extract::Query(params): axum::extract::Query<std::collections::HashMap<String, String>>,
    headers: axum::http::HeaderMap,
    format: Download,
) -> axum::response::Response {
    use app::api::insights::server::{matching, to_csv, to_records_json};
    use axum::response::IntoResponse;

    let query = app::query::InsightsQuery::from_lookup(|key| params.get(key).cloned());
    let now = chrono::Utc::now().timestamp_millis();
    // Dates typed in the page's filter are in the zone the person chose, as on the page.
    let zone = app::format::Zone::from_cookie_header(headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_default());
    let insights = match matching(store.as_ref(), &query, now, zone).await {
        Ok(insights) => insights,
        Err(e) => return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let (content_type, name, body) = match format {
        Download::Csv => ("text/csv; charset=utf-8", "insights.csv", to_csv(&insights)),
        Download::Json => ("application/json", "insights.json", to_records_json(&insights)),
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response()
}
