//! The wasm entry point: takes over the server-rendered page so it becomes interactive.
//! Built by `scripts/build-site.sh` for `wasm32-unknown-unknown`; nothing else lives here.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
