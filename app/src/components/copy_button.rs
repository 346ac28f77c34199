//! A button that copies text to the clipboard (once the page is hydrated; without
//! JavaScript the text it copies is on the page to select).

use leptos::prelude::*;

#[component]
pub fn CopyButton(
    /// What to copy.
    #[prop(into)]
    text: Signal<String>,
    #[prop(into)] label: String,
    #[prop(into, optional)] test_id: String,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        let text = text.get_untracked();
        let _ = window().navigator().clipboard().write_text(&text);
        copied.set(true);
        // "Copied" is news for a moment, not a state: the button reads as before after 2 s.
        set_timeout(move || copied.set(false), std::time::Duration::from_secs(2));
    };
    view! {
        <button type="button" class="copy" on:click=copy data-testid=test_id>
            {move || if copied.get() { "Copied".to_owned() } else { label.clone() }}
        </button>
    }
}
