//! The page frame: the header with navigation and who is signed in, and the page's content
//! below it.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::api::access::who_am_i;
use crate::model::CurrentUser;

#[component]
pub fn Frame(children: Children) -> impl IntoView {
    let location = use_location();
    let current = move |prefix: &'static str| {
        let path = location.pathname.get();
        if prefix == "/" { path == "/" } else { path.starts_with(prefix) }
    };
    let user = Resource::new(|| (), |_| who_am_i());
    view! {
        <header class="topbar">
            <a class="brand" href="/">"trailsight"</a>
            <nav>
                <a href="/" class:current=move || current("/")>"Home"</a>
                <a href="/insights" class:current=move || current("/insights")>"Insights"</a>
                <a href="/events" class:current=move || current("/events")>"Event history"</a>
                <a href="/settings" class:current=move || current("/settings")>"Settings"</a>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        user.await.ok().flatten().filter(|u| u.can_change).map(|_| view! {
                            <a href="/access" class:current=move || current("/access")>"Access"</a>
                        })
                    })}
                </Suspense>
            </nav>
            <TimeZonePicker/>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move { user.await.ok().flatten().map(|u| view! { <UserBox u/> }) })}
            </Suspense>
        </header>
        <main class="content">{children()}</main>
    }
}

/// Who is signed in, with a sign-out button (a form: it works without JavaScript).
#[component]
fn UserBox(u: CurrentUser) -> impl IntoView {
    if !u.signed_in {
        return view! { <span class="user" data-testid="user" title="This server is open on loopback: no sign-in">"local admin"</span> }.into_any();
    }
    view! {
        <form class="user" method="post" action="/logout" data-testid="user">
            <span data-testid="user-name">{u.name}</span>" "<span class="role">{u.role}</span>
            <button type="submit" data-testid="sign-out">"Sign out"</button>
        </form>
    }
    .into_any()
}

/// The zone times are shown in. Without JavaScript, "Set" asks the server to remember it
/// (`/prefs/time-zone` sets the `tz` cookie and comes back); with it, choosing is enough.
#[component]
fn TimeZonePicker() -> impl IntoView {
    let location = use_location();
    let zone = crate::format::zone();
    let back = move || {
        let search = location.search.get();
        if search.is_empty() { location.pathname.get() } else { format!("{}?{search}", location.pathname.get()) }
    };
    let choose = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        if let Some(chosen) = crate::format::Zone::parse(&value) {
            use leptos::wasm_bindgen::JsCast;
            if let Ok(doc) = document().dyn_into::<web_sys::HtmlDocument>() {
                let _ = doc.set_cookie(&format!("tz={}; Path=/; Max-Age=31536000; SameSite=Lax", chosen.offset_minutes));
            }
            let _ = window().location().reload();
        }
    };
    view! {
        <form class="tz" method="get" action="/prefs/time-zone" data-testid="time-zone">
            <input type="hidden" name="back" value=back/>
            <select name="offset" aria-label="Show times in" title="Show times in" on:change=choose data-testid="time-zone-select">
                {crate::format::Zone::choices().into_iter().map(|z| view! {
                    <option value=z.offset_minutes.to_string() selected=z == zone>{z.label()}</option>
                }).collect_view()}
            </select>
            // Hidden once the page is hydrated (style/main.css): choosing is enough then.
            <button type="submit" data-testid="time-zone-set">"Set"</button>
        </form>
    }
}
