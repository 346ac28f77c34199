//! `/insights/<sharedEventID>`: one insight, its statistics and its raw Start/End records.
//!
//! The record tab is part of the URL (`?tab=end`), so it works without JavaScript and a
//! copied link opens the same tab. The URL is stable forever: IDs never change.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::get_insight;
use crate::components::{Frame, JsonBlock};
use crate::format;
use crate::model::InsightDetail;
use crate::pages::{set_not_found_status, NotFound};

#[component]
pub fn InsightPage() -> impl IntoView {
    let params = use_params_map();
    let insight = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_insight,
    );
    view! {
        <Frame>
            <Suspense fallback=|| view! { <p>"Loading insight…"</p> }>
                {move || Suspend::new(async move {
                    match insight.await {
                        Ok(Some(detail)) => view! { <InsightView detail/> }.into_any(),
                        Ok(None) => {
                            set_not_found_status();
                            view! { <Title text="Not found"/> <NotFound what="insight"/> }.into_any()
                        }
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </Frame>
    }
}

#[component]
fn InsightView(detail: InsightDetail) -> impl IntoView {
    let query = use_query_map();
    let row = detail.row.clone();
    let title = format!("{} {}", row.event_name, row.insight_type);
    let base = format!("/insights/{}", row.id);
    let show_end = move || query.read().get("tab").as_deref() == Some("end");
    let records = move || {
        if show_end() {
            match detail.end_record.clone() {
                Some(json) => view! { <JsonBlock json test_id="end-record"/> }.into_any(),
                None => view! {
                    <p class="empty" data-testid="end-record">
                        "The insight is still going on: its End record is written when the rate returns to its baseline."
                    </p>
                }
                .into_any(),
            }
        } else {
            view! { <JsonBlock json=detail.start_record.clone() test_id="start-record"/> }.into_any()
        }
    };
    view! {
        <Title text=title.clone()/>
        <p class="crumbs"><a href="/insights">"Insights"</a> " / " {row.event_name.clone()}</p>
        <h1>{title}</h1>
        <dl class="facts" data-testid="insight-facts">
            <dt>"Insight type"</dt><dd>{row.insight_type.clone()}</dd>
            <dt>"Event source"</dt><dd>{row.event_source.clone()}</dd>
            <dt>"Event name"</dt><dd>{row.event_name.clone()}</dd>
            {row.error_code.clone().map(|code| view! { <dt>"Error code"</dt><dd>{code}</dd> })}
            <dt>"Trail"</dt><dd>{row.trail.clone()}</dd>
            <dt>"Account / region"</dt><dd>{format!("{} / {}", row.account, row.region)}</dd>
            <dt>"Start time"</dt><dd>{format::time(&row.start_time)}</dd>
            <dt>"End time"</dt><dd>{row.end_time.as_deref().map(format::time).unwrap_or_else(|| "ongoing".into())}</dd>
            <dt>"Duration"</dt><dd>{format::duration(row.duration_minutes)}</dd>
            <dt>"Baseline average"</dt><dd>{format::average(row.baseline_average)} " per minute"</dd>
            <dt>"Insight average"</dt><dd>{format::average(row.insight_average)} " per minute"</dd>
            <dt>"Rate change"</dt><dd>{format::rate_change(row.baseline_average, row.insight_average)}</dd>
            <dt>"Shared event ID"</dt><dd><code>{row.id.clone()}</code></dd>
            <dt>"Start event ID"</dt><dd><code>{detail.start_event_id.clone()}</code></dd>
            <dt>"End event ID"</dt><dd><code>{detail.end_event_id.clone().unwrap_or_else(|| "–".into())}</code></dd>
        </dl>
        <h2>"Records"</h2>
        <nav class="tabs" aria-label="Records">
            <a href=base.clone() class:active=move || !show_end() data-testid="tab-start">"Start"</a>
            <a href=format!("{base}?tab=end") class:active=show_end data-testid="tab-end">"End"</a>
        </nav>
        {records}
    }
}
