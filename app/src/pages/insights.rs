//! `/insights`: every insight, newest first, as the CloudTrail console lists them.
//!
//! The filter box narrows the list as you type once the page is hydrated; without
//! JavaScript the same box submits `?q=`, which the server applies, so a filtered view is
//! also a shareable link.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::list_insights;
use crate::components::Frame;
use crate::format;
use crate::model::InsightRow;

/// Whether a row matches the filter text (event name, source, error code or ID).
fn matches(row: &InsightRow, filter: &str) -> bool {
    let filter = filter.trim().to_lowercase();
    filter.is_empty()
        || [Some(&row.event_name), Some(&row.event_source), row.error_code.as_ref(), Some(&row.id)]
            .into_iter()
            .flatten()
            .any(|field| field.to_lowercase().contains(&filter))
}

#[component]
pub fn InsightsPage() -> impl IntoView {
    let query = use_query_map();
    let filter = RwSignal::new(query.read_untracked().get("q").unwrap_or_default());
    let insights = Resource::new(|| (), |_| list_insights());
    view! {
        <Frame>
            <Title text="Insights"/>
            <h1>"Insights"</h1>
            <form method="get" action="/insights" class="filter">
                <input
                    type="search"
                    name="q"
                    placeholder="Filter by event name, event source, error code or ID"
                    aria-label="Filter insights"
                    data-testid="insight-filter"
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev))
                />
                <button type="submit">"Filter"</button>
            </form>
            <Suspense fallback=|| view! { <p>"Loading insights…"</p> }>
                {move || Suspend::new(async move {
                    match insights.await {
                        Ok(rows) => view! { <InsightsTable rows filter/> }.into_any(),
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </Frame>
    }
}

#[component]
fn InsightsTable(rows: Vec<InsightRow>, filter: RwSignal<String>) -> impl IntoView {
    if rows.is_empty() {
        return view! {
            <p class="empty">
                "No insights yet. Ingest CloudTrail logs with " <code>"trailsight ingest"</code>
                " and run " <code>"trailsight detect"</code> ", or load the demo with "
                <code>"trailsight demo"</code> "."
            </p>
        }
        .into_any();
    }
    let total = rows.len();
    let shown = {
        let rows = rows.clone();
        move || rows.iter().filter(|r| matches(r, &filter.get())).cloned().collect::<Vec<_>>()
    };
    let count = {
        let shown = shown.clone();
        move || format!("{} of {total} insights", shown().len())
    };
    view! {
        <p class="count" data-testid="insight-count">{count}</p>
        <table class="insights">
            <thead>
                <tr>
                    <th>"Event name"</th>
                    <th>"Insight type"</th>
                    <th>"Event source"</th>
                    <th>"Trail"</th>
                    <th>"Start time"</th>
                    <th>"Duration"</th>
                    <th class="num">"Baseline average"</th>
                    <th class="num">"Insight average"</th>
                    <th class="num">"Rate change"</th>
                </tr>
            </thead>
            <tbody>
                {move || shown().into_iter().map(|row| view! { <InsightRowView row/> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn InsightRowView(row: InsightRow) -> impl IntoView {
    let change = format::rate_change(row.baseline_average, row.insight_average);
    let direction = if row.insight_average >= row.baseline_average { "up" } else { "down" };
    let kind = match &row.error_code {
        Some(code) => format!("{} ({code})", row.insight_type),
        None => row.insight_type.clone(),
    };
    view! {
        <tr data-testid="insight-row">
            <td><a href=format!("/insights/{}", row.id)>{row.event_name.clone()}</a></td>
            <td>{kind}</td>
            <td>{row.event_source.clone()}</td>
            <td>{row.trail.clone()}</td>
            <td>{format::time(&row.start_time)}</td>
            <td>{format::duration(row.duration_minutes)}</td>
            <td class="num">{format::average(row.baseline_average)}</td>
            <td class="num">{format::average(row.insight_average)}</td>
            <td class=format!("num change {direction}")>{change}</td>
        </tr>
    }
}
