//! `/insights`: insights newest first, as the CloudTrail console lists them, with its
//! filters (one attribute, insight type, trail, time range), pagination and downloads.
//!
//! All state is in the URL. Without JavaScript the filters are a plain GET form; once
//! hydrated, typing or choosing updates the URL (and so the list) at once, and the list
//! refreshes itself every few seconds so new insights appear without a reload.

use std::time::Duration;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::api::insights::list_insights;
use crate::components::{Frame, InsightsTable};
use crate::model::InsightsPage as Page;
use crate::query::{InsightsQuery, RANGES};

/// How often a hydrated list asks for new insights.
pub const REFRESH: Duration = Duration::from_secs(5);

/// Calls `refetch` every [`REFRESH`] once hydrated (effects never run on the server).
pub fn refresh_periodically(refetch: impl Fn() + Clone + Send + Sync + 'static) {
    Effect::new(move |_| {
        let handle = set_interval_with_handle(refetch.clone(), REFRESH).ok();
        on_cleanup(move || {
            if let Some(handle) = handle {
                handle.clear();
            }
        });
    });
}

#[component]
pub fn InsightsPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| InsightsQuery::from_lookup(|key| params.read().get(key)));
    let insights = Resource::new(move || query.get(), list_insights);
    refresh_periodically(move || insights.refetch());
    view! {
        <Frame>
            <Title text="Insights"/>
            <h1>"Insights"</h1>
            <Filters query/>
            <Transition fallback=|| view! { <p>"Loading insights…"</p> }>
                {move || Suspend::new(async move {
                    match insights.await {
                        Ok(page) => view! { <Results page query=query.get_untracked()/> }.into_any(),
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Frame>
    }
}

/// The filter bar. Each control also works as part of a plain GET form.
#[component]
fn Filters(query: Memo<InsightsQuery>) -> impl IntoView {
    let navigate = use_navigate();
    let go = move |change: &dyn Fn(&mut InsightsQuery)| {
        let mut next = query.get_untracked();
        change(&mut next);
        next.page = 1;
        navigate(&next.to_url(), NavigateOptions { replace: true, scroll: false, ..Default::default() });
    };
    let go = StoredValue::new(go);
    let q = query.get_untracked();
    let option = |value: &'static str, label: &'static str, current: String| {
        view! { <option value=value selected=current == value>{label}</option> }
    };
    view! {
        <form method="get" action="/insights" class="filters" on:submit=|ev| ev.prevent_default()>
            <select name="attr" aria-label="Attribute" data-testid="filter-attr"
                on:change=move |ev| { let v = event_target_value(&ev); go.with_value(|go| go(&|q| q.attr = v.clone())) }>
                {option("", "Any attribute", q.attr.clone())}
                {option("name", "Event name", q.attr.clone())}
                {option("source", "Event source", q.attr.clone())}
                {option("id", "Event ID", q.attr.clone())}
            </select>
            <input type="search" name="q" value=q.q.clone() placeholder="Filter value"
                aria-label="Filter value" data-testid="insight-filter"
                on:input=move |ev| { let v = event_target_value(&ev); go.with_value(|go| go(&|q| q.q = v.clone())) }/>
            <select name="type" aria-label="Insight type" data-testid="filter-type"
                on:change=move |ev| { let v = event_target_value(&ev); go.with_value(|go| go(&|q| q.insight_type = v.clone())) }>
                {option("", "All insight types", q.insight_type.clone())}
                {option("ApiCallRateInsight", "ApiCallRateInsight", q.insight_type.clone())}
                {option("ApiErrorRateInsight", "ApiErrorRateInsight", q.insight_type.clone())}
            </select>
            <input type="text" name="trail" value=q.trail.clone() placeholder="Trail" aria-label="Trail"
                data-testid="filter-trail" list="trail-names"
                on:input=move |ev| { let v = event_target_value(&ev); go.with_value(|go| go(&|q| q.trail = v.clone())) }/>
            <select name="range" aria-label="Time range" data-testid="filter-range"
                on:change=move |ev| { let v = event_target_value(&ev); go.with_value(|go| go(&|q| q.range = v.clone())) }>
                <option value="" selected=q.range.is_empty()>"All time"</option>
                {RANGES.iter().map(|(key, label, _)| view! { <option value=*key selected=q.range == *key>{"Last "}{*label}</option> }).collect_view()}
                <option value="custom" selected=q.range == "custom">"Custom range"</option>
            </select>
            <select name="state" aria-label="Triage state" data-testid="filter-state"
                on:change=move |ev| { let v = event_target_value(&ev); go.with_value(|go| go(&|q| q.state = v.clone())) }>
                {option("", "Any state", q.state.clone())}
                {option("new", "New", q.state.clone())}
                {option("acknowledged", "Acknowledged", q.state.clone())}
                {option("resolved", "Resolved", q.state.clone())}
                {option("expected", "Expected", q.state.clone())}
            </select>
            <label class="check">
                <input type="checkbox" name="suppressed" value="1" checked=q.suppressed data-testid="filter-suppressed"
                    on:change=move |ev| { let on = event_target_checked(&ev); go.with_value(|go| go(&|q| q.suppressed = on)) }/>
                " Show suppressed"
            </label>
            <label class="range">{format!("From ({}) ", crate::format::zone().label())}
                <input type="datetime-local" name="from" value=q.from.clone() data-testid="filter-from"
                    on:change=move |ev| { let v = event_target_value(&ev); go.with_value(|go| go(&|q| { q.from = v.clone(); q.range = "custom".into(); })) }/>
            </label>
            <label class="range">{format!("To ({}) ", crate::format::zone().label())}
                <input type="datetime-local" name="to" value=q.to.clone() data-testid="filter-to"
                    on:change=move |ev| { let v = event_target_value(&ev); go.with_value(|go| go(&|q| { q.to = v.clone(); q.range = "custom".into(); })) }/>
            </label>
            <button type="submit">"Apply"</button>
        </form>
    }
}

#[component]
fn Results(page: Page, query: InsightsQuery) -> impl IntoView {
    let pages = page.total.div_ceil(page.page_size as u64).max(1) as u32;
    let first = (page.page - 1) * page.page_size + 1;
    let shown = page.rows.len() as u32;
    let summary = match page.total {
        0 => "No insights match.".to_owned(),
        1 => "1 insight".to_owned(),
        total if pages == 1 => format!("{total} insights"),
        total => format!("{}–{} of {total} insights", first, first + shown - 1),
    };
    let trails = page.trails.clone();
    view! {
        <datalist id="trail-names">{trails.into_iter().map(|t| view! { <option value=t/> }).collect_view()}</datalist>
        <div class="list-bar">
            <p class="count" data-testid="insight-count">{summary}</p>
            <span class="downloads">
                "Download: "
                <a href=query.download_url("csv") download="insights.csv" rel="external" data-testid="download-csv">"CSV"</a>
                " · "
                <a href=query.download_url("json") download="insights.json" rel="external" data-testid="download-json">"JSON"</a>
            </span>
        </div>
        {if page.rows.is_empty() && page.total == 0 && query == InsightsQuery::default() {
            view! {
                <p class="empty">
                    "No insights yet. Ingest CloudTrail logs with " <code>"trailsight ingest"</code>
                    " and run " <code>"trailsight detect"</code> ", or load the demo with "
                    <code>"trailsight demo"</code> "."
                </p>
            }.into_any()
        } else {
            view! { <InsightsTable rows=page.rows/> }.into_any()
        }}
        <nav class="pager" aria-label="Pages">
            {(page.page > 1).then(|| view! { <a href=query.with_page(page.page - 1).to_url() data-testid="page-prev">"← Newer"</a> })}
            {if page.page > pages {
                view! {
                    <span data-testid="page-of">{format!("Page {} is past the last page ({pages}). ", page.page)}</span>
                    <a href=query.with_page(1).to_url() data-testid="page-first">"First page"</a>
                }.into_any()
            } else {
                view! { <span data-testid="page-of">{format!("Page {} of {pages}", page.page)}</span> }.into_any()
            }}
            {(page.page < pages).then(|| view! { <a href=query.with_page(page.page + 1).to_url() data-testid="page-next">"Older →"</a> })}
        </nav>
    }
}
