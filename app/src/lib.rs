//! What a person sees: trailsight's pages, components and server functions.
//!
//! # Layout
//!
//! - [`model`]: the wire types server functions return (serde, no database types).
//! - [`api`]: server functions, grouped by what they serve; their bodies run only on the
//!   server (`ssr`), where [`api::AppState`] gives them the store.
//! - [`pages`]: one component per route (`InsightsPage`, `InsightPage`, `NotFoundPage`).
//! - [`components`]: pieces shared by pages (the page frame, the JSON viewer).
//! - [`format`]: how numbers, rates and durations are written for people.
//! - [`query`]: each view's state as it lives in the URL.
//! - `graph` (server only): the insight graph, an SVG drawn with plotters.
//!
//! Every page renders completely on the server (`SsrMode::Async`), so it reads without
//! JavaScript; hydration then adds the interactions (live filtering, copy buttons).
//! Every view's state lives in the URL, so a copied link opens the same view.
// The hydrated pages nest deeply enough in tachys' view types to need a higher limit.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod format;
#[cfg(feature = "ssr")]
pub mod graph;
pub mod model;
pub mod pages;
pub mod query;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use pages::{AccessPage, EventPage, EventsPage, HomePage, InsightPage, InsightsPage, LoginPage, NotFoundPage, SettingsPage};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="stylesheet" href="/style.css"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Lets this page's own scripts run and nothing else: the hydration script and Leptos' inline
/// resource scripts carry a fresh nonce per response (leptos_axum provides it), the bundle
/// loads from this server, and WebAssembly may compile. No inline script without the nonce, no
/// other origin, no framing.
fn set_content_security_policy() {
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) {
        let policy = format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
             img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'"
        );
        if let Ok(value) = http::HeaderValue::from_str(&policy) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

/// The routes. Pages render fully on the server before anything is sent.
/// The `tz` cookie's zone (UTC without one).
fn current_zone() -> format::Zone {
    #[cfg(feature = "ssr")]
    let header = use_context::<http::request::Parts>()
        .and_then(|parts| parts.headers.get(http::header::COOKIE).and_then(|v| v.to_str().ok()).map(str::to_owned));
    #[cfg(not(feature = "ssr"))]
    let header = {
        use leptos::wasm_bindgen::JsCast;
        document().dyn_into::<web_sys::HtmlDocument>().ok().and_then(|d| d.cookie().ok())
    };
    header.map(|h| format::Zone::from_cookie_header(&h)).unwrap_or_default()
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // The zone times are shown in, from the `tz` cookie: read from the request on the server
    // and from the document in the browser, so both write the same text.
    provide_context(current_zone());
    // Effects run only in the browser, once hydrated: the mark tells people's tools and the
    // browser tests that the page is now interactive.
    Effect::new(|| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Title formatter=|page: String| if page.is_empty() { "trailsight".to_owned() } else { format!("{page} · trailsight") }/>
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                <Route path=path!("/insights") view=InsightsPage ssr=SsrMode::Async/>
                <Route path=path!("/insights/:id") view=InsightPage ssr=SsrMode::Async/>
                <Route path=path!("/events") view=EventsPage ssr=SsrMode::Async/>
                <Route path=path!("/events/:id") view=EventPage ssr=SsrMode::Async/>
                <Route path=path!("/settings") view=SettingsPage ssr=SsrMode::Async/>
                <Route path=path!("/access") view=AccessPage ssr=SsrMode::Async/>
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}
