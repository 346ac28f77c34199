//! `/insights/<sharedEventID>`: one insight as the console shows it: the graph, the facts,
//! the Attributions / CloudTrail Events / Records tabs, and the other insights of the same
//! API and type.
//!
//! The tab, the graph span, the event filter and the events page are in the URL (`?tab=`,
//! `&span=`, `&only=1`, `&before=`), so every view works without JavaScript and a copied
//! link opens the same view. The URL is stable forever: IDs never change.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::insights::{get_insight, get_insight_extras, get_insight_graph, insight_events, SPANS};
use crate::components::{CopyButton, Frame, InsightsTable, JsonBlock};
use crate::format;
use crate::model::{AttributionView, EventsPage, InsightDetail, InsightExtras, InsightRow};
use crate::pages::{set_not_found_status, EventList, NotFound};
use crate::query::{url, PageTrail};

/// The view's state from the URL.
#[derive(Clone, PartialEq)]
struct View {
    id: String,
    tab: String,
    span: String,
    only: bool,
    before: String,
    /// The event pages before this one (see [`PageTrail`]).
    back: String,
}

impl View {
    fn href(&self, change: impl FnOnce(&mut View)) -> String {
        let mut next = self.clone();
        change(&mut next);
        url(
            &format!("/insights/{}", next.id),
            &[
                ("tab", if next.tab == "attributions" { String::new() } else { next.tab.clone() }),
                ("span", next.span.clone()),
                ("only", if next.only { "1".into() } else { String::new() }),
                ("before", next.before.clone()),
                ("back", next.back.clone()),
            ],
        )
    }
}

#[component]
pub fn InsightPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let view_state = Memo::new(move |_| {
        let q = query.read();
        View {
            id: params.read().get("id").unwrap_or_default(),
            tab: q.get("tab").filter(|t| ["events", "records"].contains(&t.as_str())).unwrap_or_else(|| "attributions".into()),
            span: q.get("span").unwrap_or_default(),
            only: q.get("only").as_deref() == Some("1"),
            before: q.get("before").unwrap_or_default(),
            back: q.get("back").unwrap_or_default(),
        }
    });
    let insight = Resource::new(move || view_state.get().id, get_insight);
    // The graph has its own resource, keyed by the span: changing the span swaps the graph
    // and keeps the page.
    let extras = Resource::new(move || view_state.get().id, get_insight_extras);
    view! {
        <Frame>
            <Suspense fallback=|| view! { <p>"Loading insight…"</p> }>
                {move || Suspend::new(async move {
                    match (insight.await, extras.await) {
                        (Ok(Some(detail)), Ok(Some(extras))) => view! { <InsightView detail extras view_state/> }.into_any(),
                        (Ok(None), _) | (_, Ok(None)) => {
                            set_not_found_status();
                            view! { <Title text="Not found"/> <NotFound what="insight"/> }.into_any()
                        }
                        (Err(e), _) | (_, Err(e)) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </Frame>
    }
}

#[component]
fn InsightView(detail: InsightDetail, extras: InsightExtras, view_state: Memo<View>) -> impl IntoView {
    let row = detail.row.clone();
    let title = format!("{} {}", row.event_name, row.insight_type);
    let link = format!("/insights/{}", row.id);
    let tab_link = move |tab: &'static str| {
        let v = view_state.get();
        v.href(|n| {
            n.tab = tab.into();
            n.before = String::new();
            n.back = String::new();
        })
    };
    let current_tab = move || view_state.get().tab;
    let tab_extras = extras.clone();
    let attribution_row = row.clone();
    view! {
        <Title text=title.clone()/>
        <p class="crumbs"><a href="/insights">"Insights"</a> " / " {row.event_name.clone()}</p>
        <div class="title-bar">
            <h1>{title}</h1>
            // The address as it is now, with tab, span and filters: the view, not just the insight.
            <CopyButton text=Signal::derive(move || {
                let location = window().location();
                location.href().unwrap_or_else(|_| format!("{}{link}", location.origin().unwrap_or_default()))
            }) label="Copy link" test_id="copy-link"/>
        </div>
        <GraphPanel view_state/>
        <Facts detail=detail.clone()/>
        <super::triage::TriagePanel id=row.id.clone() event_name=row.event_name.clone()/>
        <nav class="tabs" aria-label="Insight details">
            <a href=move || tab_link("attributions") class:active=move || current_tab() == "attributions" data-testid="tab-attributions">"Attributions"</a>
            <a href=move || tab_link("events") class:active=move || current_tab() == "events" data-testid="tab-events">"CloudTrail Events"</a>
            <a href=move || tab_link("records") class:active=move || current_tab() == "records" data-testid="tab-records">"Records"</a>
        </nav>
        {move || match current_tab().as_str() {
            "events" => view! { <EventsTab view_state/> }.into_any(),
            "records" => view! { <RecordsTab detail=detail.clone()/> }.into_any(),
            _ => view! { <AttributionsTab extras=tab_extras.clone() row=attribution_row.clone()/> }.into_any(),
        }}
        <h2>"Other insights of this API and type"</h2>
        {if extras.others.is_empty() {
            view! { <p class="empty" data-testid="other-insights">"None: this is the only one."</p> }.into_any()
        } else {
            view! { <div data-testid="other-insights"><InsightsTable rows=extras.others.clone() compact=true/></div> }.into_any()
        }}
    }
}

#[component]
fn Facts(detail: InsightDetail) -> impl IntoView {
    let row = detail.row;
    view! {
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
    }
}

/// The graph and its span presets. Its resource is keyed by the span, inside a Transition: a
/// new span replaces the graph when it is ready, the rest of the page stays.
#[component]
fn GraphPanel(view_state: Memo<View>) -> impl IntoView {
    let graph = Resource::new(move || { let v = view_state.get(); (v.id, v.span) }, |(id, span)| get_insight_graph(id, span));
    view! {
        <section class="graph-panel">
            <Transition fallback=|| view! { <p>"Drawing the graph…"</p> }>
                {move || Suspend::new(async move {
                    match graph.await {
                        Ok(Some(g)) => {
                            let v = view_state.get_untracked();
                            let download = crate::query::url(&format!("/insights/{}/graph.svg", v.id), &[("span", g.span.clone())]);
                            view! {
                                <nav class="spans" aria-label="Graph span">
                                    {SPANS.iter().map(|(key, _)| {
                                        let href = v.href(|n| n.span = (*key).into());
                                        view! { <a href=href class:active=g.span == *key data-testid=format!("span-{key}")>{*key}</a> }
                                    }).collect_view()}
                                    <a href=download class="download" download="" data-testid="graph-download">"Download SVG"</a>
                                </nav>
                                <div class="graph wide" data-testid="insight-graph" data-span=g.span.clone() inner_html=g.svg/>
                                <div class="graph narrow" data-testid="insight-graph-narrow" inner_html=g.svg_narrow/>
                            }.into_any()
                        }
                        Ok(None) => view! { <p class="empty">"No graph."</p> }.into_any(),
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The insight's top values beside the baseline's ("who normally does this"), as AWS's
/// attributions give them: each value's average per minute and its share of the whole, with
/// the rest of the calls as "Other".
#[component]
fn AttributionsTab(extras: InsightExtras, row: InsightRow) -> impl IntoView {
    let titles = |attribute: &str| match attribute {
        "userIdentityArn" => "User identities",
        "userAgent" => "User agents",
        "errorCode" => "Error codes",
        _ => "Values",
    };
    let unit = if row.insight_type == "ApiErrorRateInsight" { "errors per minute" } else { "calls per minute" };
    view! {
        <section class="attributions" data-testid="attributions">
            {extras.attributions.into_iter().map(|a: AttributionView| {
                view! {
                    <h3>{titles(&a.attribute)}</h3>
                    <div class="side-by-side" data-testid=format!("attribution-{}", a.attribute)>
                        <ShareTable caption="During the insight" values=readable(&a.attribute, a.insight) total=row.insight_average unit test_id="insight"/>
                        <ShareTable caption="Baseline: who normally does this" values=readable(&a.attribute, a.baseline) total=row.baseline_average unit test_id="baseline"/>
                    </div>
                }
            }).collect_view()}
        </section>
    }
}

/// CloudTrail writes "no error code" as the value `null` in errorCode attributions.
fn readable(attribute: &str, values: Vec<(String, f64)>) -> Vec<(String, f64)> {
    values
        .into_iter()
        .map(|(value, average)| if attribute == "errorCode" { (format::error_code(Some(&value)), average) } else { (value, average) })
        .collect()
}

#[component]
fn ShareTable(caption: &'static str, values: Vec<(String, f64)>, total: f64, unit: &'static str, test_id: &'static str) -> impl IntoView {
    let share = move |x: f64| if total > 0.0 { format!("{:.0}%", (x / total * 100.0).min(100.0)) } else { "–".into() };
    let listed: f64 = values.iter().map(|(_, v)| v).sum();
    // What the top values leave of the whole; rounding noise is not a row.
    let other = (total - listed > total * 0.005 && total > 0.0).then_some(total - listed);
    let empty = values.is_empty();
    view! {
        <table class="insights shares" data-testid=test_id>
            <caption>{caption}</caption>
            <thead><tr><th>"Value"</th><th class="num minor">{format!("Average ({unit})")}</th><th class="num">"Share"</th></tr></thead>
            <tbody>
                {values.into_iter().map(|(value, average)| view! {
                    <tr><td class="wrap">{value}</td><td class="num minor">{format::average(average)}</td><td class="num">{share(average)}</td></tr>
                }).collect_view()}
                {other.map(|rest| view! {
                    <tr class="other"><td>"Other"</td><td class="num minor">{format::average(rest)}</td><td class="num">{share(rest)}</td></tr>
                })}
                {empty.then(|| view! { <tr><td colspan="3" class="empty">"No values recorded."</td></tr> })}
            </tbody>
        </table>
    }
}

#[component]
fn EventsTab(view_state: Memo<View>) -> impl IntoView {
    let events = Resource::new(
        move || { let v = view_state.get(); (v.id, v.only, v.before) },
        |(id, only, before)| insight_events(id, only, before),
    );
    let v = view_state.get_untracked();
    let toggle = v.href(|n| { n.only = !n.only; n.before = String::new(); n.back = String::new(); });
    view! {
        <p class="tab-bar">
            "The API's events from a minute before the insight to a minute after it. "
            <a href=toggle data-testid="only-matching">{if v.only { "Show all events of this API" } else { "Show only events matching the insight" }}</a>
        </p>
        <Transition fallback=|| view! { <p>"Loading events…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(page) => {
                        let v = view_state.get_untracked();
                        let trail = PageTrail::parse(&v.before, &v.back);
                        let to = |(before, back): (String, String)| v.href(|n| { n.before = before; n.back = back; });
                        let next = page.next.clone().map(|next| to(trail.older(&next)));
                        let newer = trail.newer().map(to);
                        view! { <EventPageView page next newer insight=v.id.clone()/> }.into_any()
                    }
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn EventPageView(page: EventsPage, next: Option<String>, newer: Option<String>, insight: String) -> impl IntoView {
    view! {
        <EventList rows=page.rows more=next.is_some() insight/>
        <p class="pager">
            {newer.map(|href| view! { <a href=href data-testid="events-newer">"← Newer"</a> })}
            {next.map(|href| view! { <a href=href data-testid="events-next">"Older →"</a> })}
        </p>
    }
}

#[component]
fn RecordsTab(detail: InsightDetail) -> impl IntoView {
    view! {
        <h3>"Start"</h3>
        <JsonBlock json=detail.start_record.clone() test_id="start-record"/>
        <h3>"End"</h3>
        {match detail.end_record.clone() {
            Some(json) => view! { <JsonBlock json test_id="end-record"/> }.into_any(),
            None => view! {
                <p class="empty" data-testid="end-record">
                    "The insight is still going on: its End record is written when the rate returns to its baseline."
                </p>
            }.into_any(),
        }}
    }
}
