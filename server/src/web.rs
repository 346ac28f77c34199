//! The HTTP surface: Leptos pages (server-rendered, then hydrated), server functions, the
//! browser bundle under `/pkg`, the stylesheet, and a health check.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use app::api::AppState;
use app::{shell, App};
use axum::http::header;
use axum::routing::{get, post};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

/// The stylesheet is part of the binary: no file to lose next to it.
const STYLESHEET: &str = include_str!("../../style/main.css");

/// The AWS API's settings: the access keys it accepts and the account its ARNs name.
#[derive(Clone, Debug, Default)]
pub struct AwsApiConfig {
    pub credentials: Vec<crate::aws::Credentials>,
    pub account_id: String,
}

pub fn router(
    store: Arc<dyn engine::Store>,
    site_root: &Path,
    addr: SocketAddr,
    aws: AwsApiConfig,
) -> Router {
    let api = crate::aws::AwsApi {
        store: store.clone(),
        credentials: aws.credentials,
        account_id: aws.account_id,
    };
    let options = LeptosOptions::builder()
        .output_name("trailsight")
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let downloads = store.clone();
    let push = crate::push::router(store.clone(), crate::push::PushConfig::from_env(addr));
    let state = AppState { store };
    let routes = generate_route_list(App);
    Router::new()
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
        .route("/healthz", get(|| async { "ok" }))
        .route("/insights.csv", get({
            let store = downloads.clone();
            move |query| download(store.clone(), query, Download::Csv)
        }))
        .route("/insights.json", get(move |query| download(downloads.clone(), query, Download::Json)))
        // CloudTrail's API: AWS JSON 1.1 posts to the root path (pages are GETs there).
        .route("/", post(move |request| crate::aws::handle(api.clone(), request)))
        .route_service(crate::push::ROUTE, push)
        .nest_service("/pkg", ServeDir::new(site_root.join("pkg")))
        .fallback(leptos_axum::file_and_error_handler(shell))
        .layer(TraceLayer::new_for_http())
        .with_state(options)
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
    format: Download,
) -> axum::response::Response {
    use app::api::insights::server::{matching, to_csv, to_records_json};
    use axum::response::IntoResponse;

    let query = app::query::InsightsQuery::from_lookup(|key| params.get(key).cloned());
    let now = chrono::Utc::now().timestamp_millis();
    let insights = match matching(store.as_ref(), &query, now).await {
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
