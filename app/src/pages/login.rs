//! `/login`: the sign-in form. A plain HTML form posting to `POST /login` (handled by the
//! server, not a server function), so it works without JavaScript; the server sends the
//! browser back here with `?error=` on a wrong password and on to `?next=` on success.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::access::get_sign_in_options;

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || query.read().get("error");
    let next = move || query.read().get("next").unwrap_or_else(|| "/".to_owned());
    let options = Resource::new(|| (), |_| get_sign_in_options());
    view! {
        <Title text="Sign in"/>
        <main class="login">
            <h1>"trailsight"</h1>
            <form method="post" action="/login" class="login-form" data-testid="login-form">
                {move || error().map(|e| view! { <p class="error" role="alert" data-testid="login-error">{e}</p> })}
                <input type="hidden" name="next" value=next/>
                <label>"User name" <input type="text" name="username" autocomplete="username" required autofocus data-testid="login-username"/></label>
                <label>"Password" <input type="password" name="password" autocomplete="current-password" required data-testid="login-password"/></label>
                <button type="submit" data-testid="login-submit">"Sign in"</button>
            </form>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    options.await.ok().and_then(|o| o.oidc_label).map(|label| {
                        let href = crate::query::url("/auth/oidc/start", &[("next", next())]);
                        // rel="external": a server route, not a page of the app, so the
                        // hydrated router must let the browser follow it.
                        view! { <p><a class="button" href=href rel="external" data-testid="login-oidc">{label}</a></p> }
                    })
                })}
            </Suspense>
        </main>
    }
}
