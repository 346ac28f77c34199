//! The HTTP surface: Leptos pages (server-rendered, then hydrated), server functions, the
//! browser bundle under `/pkg`, the stylesheet, and a health check.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use app::api::AppState;
use app::{shell, App};
use axum::http::header;
use axum::routing::get;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

/// The stylesheet is part of the binary: no file to lose next to it.
const STYLESHEET: &str = include_str!("../../style/main.css");

pub fn router(store: Arc<dyn engine::Store>, site_root: &Path, addr: SocketAddr) -> Router {
    let options = LeptosOptions::builder()
        .output_name("trailsight")
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
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
        .route_service(crate::push::ROUTE, push)
        .nest_service("/pkg", ServeDir::new(site_root.join("pkg")))
        .fallback(leptos_axum::file_and_error_handler(shell))
        .layer(TraceLayer::new_for_http())
        .with_state(options)
}
