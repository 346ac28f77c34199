//! A block of pretty-printed JSON, as the console shows raw records.

use leptos::prelude::*;

#[component]
pub fn JsonBlock(
    /// The JSON text, already pretty-printed.
    json: String,
    /// For tests and anchors.
    #[prop(into)]
    test_id: String,
) -> impl IntoView {
    view! { <pre class="json" data-testid=test_id><code>{json}</code></pre> }
}
