//! The page frame: the header with navigation, and the page's content below it.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

#[component]
pub fn Frame(children: Children) -> impl IntoView {
    let location = use_location();
    let current = move |prefix: &'static str| {
        let path = location.pathname.get();
        if prefix == "/" { path == "/" } else { path.starts_with(prefix) }
    };
    view! {
        <header class="topbar">
            <a class="brand" href="/">"trailsight"</a>
            <nav>
                <a href="/" class:current=move || current("/")>"Home"</a>
                <a href="/insights" class:current=move || current("/insights")>"Insights"</a>
                <a href="/events" class:current=move || current("/events")>"Event history"</a>
                <a href="/settings" class:current=move || current("/settings")>"Settings"</a>
            </nav>
        </header>
        <main class="content">{children()}</main>
    }
}
