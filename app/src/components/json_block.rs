//! A block of pretty-printed JSON, as the console shows raw records, with a copy button.

use leptos::prelude::*;

use super::CopyButton;

#[component]
pub fn JsonBlock(
    /// The JSON text, already pretty-printed.
    json: String,
    /// For tests and anchors.
    #[prop(into)]
    test_id: String,
) -> impl IntoView {
    let copy_id = format!("{test_id}-copy");
    view! {
        <div class="json-block">
            <CopyButton text=json.clone() label="Copy JSON" test_id=copy_id/>
            <pre class="json" data-testid=test_id><code>{json}</code></pre>
        </div>
    }
}
