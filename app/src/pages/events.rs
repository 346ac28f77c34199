//! `/events`: the event history (every stored event, newest first, filtered by one lookup
//! attribute and a time range) and `/events/<eventID>`: one event's JSON.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::events::{get_event, list_events, ATTRIBUTES};
use crate::components::{Frame, JsonBlock};
use crate::format;
use crate::model::EventRow;
use crate::pages::{set_not_found_status, NotFound};
use crate::query::{url, PageTrail};

/// A list of events under column headers; each row expands to a preview of its JSON (a
/// `<details>`: no script needed) and links to the event's page, which has all of it.
/// `more` says whether older events exist beyond this page.
#[component]
pub fn EventList(
    rows: Vec<EventRow>,
    #[prop(optional)] more: bool,
    /// The insight the list belongs to: each event's page links back to it.
    #[prop(optional, into)]
    insight: Option<String>,
) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="empty" data-testid="event-count">"No events."</p> }.into_any();
    }
    let count = if more {
        format!("{} events shown, newest first; more are older", rows.len())
    } else {
        format!("{} events, newest first", rows.len())
    };
    view! {
        <p class="count" data-testid="event-count">{count}</p>
        <div class="event-list">
            <div class="event-head" aria-hidden="true">
                <span>{format!("Time ({})", crate::format::zone().label())}</span><span>"Event name"</span><span>"Event source"</span><span>"User name"</span>
                <span class="minor">"Source IP"</span><span class="minor">"Access key"</span><span>"Error code"</span>
            </div>
            {rows.into_iter().map(|e| {
                let href = url(&format!("/events/{}", e.event_id), &[("insight", insight.clone().unwrap_or_default())]);
                let full = href.clone();
                view! {
                    <details class="event" data-testid="event-row">
                        <summary>
                            <span class="time">{format::time_seconds(&e.event_time)}</span>
                            <a href=href class="name">{e.event_name.clone()}</a>
                            <span class="source">{e.event_source.clone()}</span>
                            <span class="user">{e.user.clone()}</span>
                            <span class="ip minor">{e.source_ip.clone().unwrap_or_default()}</span>
                            <span class="key minor">{e.access_key_id.clone().unwrap_or_default()}</span>
                            <span class:error-code=e.error_code.is_some() class:no-error=e.error_code.is_none()>
                                {format::error_code(e.error_code.as_deref())}
                            </span>
                        </summary>
                        <pre class="json"><code>{e.json.clone()}</code></pre>
                        {e.truncated.then(|| view! {
                            <p class="minor-note"><a href=full>"The record is longer: open the event for all of it →"</a></p>
                        })}
                    </details>
                }
            }).collect_view()}
        </div>
    }
    .into_any()
}

#[component]
pub fn EventsPage() -> impl IntoView {
    let query = use_query_map();
    let state = Memo::new(move |_| {
        let q = query.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        (get("attr"), get("value"), get("from"), get("to"), get("before"), get("back"))
    });
    let events = Resource::new(move || state.get(), |(a, v, f, t, b, _)| list_events(a, v, f, t, b));
    let (attr, value, from, to, _, _) = state.get_untracked();
    view! {
        <Frame>
            <Title text="Event history"/>
            <h1>"Event history"</h1>
            <form method="get" action="/events" class="filters">
                <select name="attr" aria-label="Lookup attribute" data-testid="event-attr">
                    {ATTRIBUTES.iter().map(|a| view! { <option value=*a selected=attr == *a>{*a}</option> }).collect_view()}
                </select>
                <input type="search" name="value" value=value placeholder="Value" aria-label="Value" data-testid="event-value"/>
                <label class="range">{format!("From ({}) ", crate::format::zone().label())} <input type="datetime-local" name="from" value=from/></label>
                <label class="range">{format!("To ({}) ", crate::format::zone().label())} <input type="datetime-local" name="to" value=to/></label>
                <button type="submit" data-testid="event-apply">"Apply"</button>
            </form>
            <Transition fallback=|| view! { <p>"Loading events…"</p> }>
                {move || Suspend::new(async move {
                    match events.await {
                        Ok(page) => {
                            let (attr, value, from, to, before, back) = state.get_untracked();
                            let trail = PageTrail::parse(&before, &back);
                            let href = |(before, back): (String, String)| {
                                url("/events", &[("attr", attr.clone()), ("value", value.clone()), ("from", from.clone()), ("to", to.clone()), ("before", before), ("back", back)])
                            };
                            let newest = (!trail.before.is_empty()).then(|| href((String::new(), String::new())));
                            let newer = trail.newer().filter(|(before, _)| !before.is_empty()).map(href);
                            let next = page.next.clone().map(|next| href(trail.older(&next)));
                            view! {
                                <EventList rows=page.rows more=next.is_some()/>
                                <p class="pager">
                                    {newest.map(|href| view! { <a href=href data-testid="events-first">"⇤ Newest"</a> })}
                                    {newer.map(|href| view! { <a href=href data-testid="events-newer">"← Newer"</a> })}
                                    {next.map(|href| view! { <a href=href data-testid="events-next">"Older →"</a> })}
                                </p>
                            }.into_any()
                        }
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Frame>
    }
}

#[component]
pub fn EventPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let event = Resource::new(move || params.read().get("id").unwrap_or_default(), get_event);
    // Opened from an insight's CloudTrail Events tab: the breadcrumb leads back to it.
    let from_insight = move || query.read().get("insight").filter(|id| !id.is_empty() && id.len() <= 128);
    view! {
        <Frame>
            <Suspense fallback=|| view! { <p>"Loading event…"</p> }>
                {move || Suspend::new(async move {
                    match event.await {
                        Ok(Some(e)) => view! {
                            <Title text=e.event_name.clone()/>
                            {match from_insight() {
                                Some(id) => view! {
                                    <p class="crumbs" data-testid="crumbs">
                                        <a href="/insights">"Insights"</a> " / "
                                        <a href=url(&format!("/insights/{id}"), &[("tab", "events".to_owned())])>"the insight"</a>
                                        " / " {e.event_id.clone()}
                                    </p>
                                }.into_any(),
                                None => view! {
                                    <p class="crumbs" data-testid="crumbs"><a href="/events">"Event history"</a> " / " {e.event_id.clone()}</p>
                                }.into_any(),
                            }}
                            <h1>{e.event_name.clone()}</h1>
                            <dl class="facts" data-testid="event-facts">
                                <dt>"Event time"</dt><dd>{format::time_seconds(&e.event_time)}</dd>
                                <dt>"Event source"</dt><dd>{e.event_source.clone()}</dd>
                                <dt>"User name"</dt><dd>{e.user.clone()}</dd>
                                <dt>"Source IP"</dt><dd>{e.source_ip.clone().unwrap_or_else(|| "–".into())}</dd>
                                <dt>"Access key"</dt><dd>{e.access_key_id.clone().unwrap_or_else(|| "–".into())}</dd>
                                <dt>"Read only"</dt><dd>{e.read_only.to_string()}</dd>
                                <dt>"Error code"</dt><dd>{format::error_code(e.error_code.as_deref())}</dd>
                                <dt>"Trail"</dt><dd>{e.trail.clone()}</dd>
                                <dt>"Resources"</dt><dd>{if e.resources.is_empty() { "–".to_owned() } else { e.resources.join(", ") }}</dd>
                            </dl>
                            <h2>"Event record"</h2>
                            <JsonBlock json=e.json.clone() test_id="event-json"/>
                        }.into_any(),
                        Ok(None) => {
                            set_not_found_status();
                            view! { <Title text="Not found"/> <NotFound what="event"/> }.into_any()
                        }
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </Frame>
    }
}
