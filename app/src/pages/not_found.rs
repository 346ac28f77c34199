//! The page for unknown URLs and unknown IDs, served with status 404.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::Frame;

/// Marks the response being rendered as 404 (on the server; nothing to do in the browser).
pub fn set_not_found_status() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
}

#[component]
pub fn NotFoundPage() -> impl IntoView {
    set_not_found_status();
    view! {
        <Frame>
            <Title text="Not found"/>
            <NotFound what="page"/>
        </Frame>
    }
}

/// The body of a 404: says what was not found and where to go instead.
#[component]
pub fn NotFound(#[prop(into)] what: String) -> impl IntoView {
    view! {
        <section class="not-found">
            <h1>"Not found"</h1>
            <p>{format!("There is no such {what}.")}</p>
            <p><a href="/insights">"See all insights"</a></p>
        </section>
    }
}
