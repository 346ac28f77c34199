//! The page frame: the header with navigation, and the page's content below it.

use leptos::prelude::*;

#[component]
pub fn Frame(children: Children) -> impl IntoView {
    view! {
        <header class="topbar">
            <a class="brand" href="/">"trailsight"</a>
            <nav>
                <a href="/insights">"Insights"</a>
            </nav>
        </header>
        <main class="content">{children()}</main>
    }
}
