//! `/`: what a person wants first: the latest insights, how many there were lately, which
//! APIs and identities appear most in insights, and each trail's state. Refreshes itself.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::home::get_home_summary;
use crate::components::{Frame, InsightsTable};
use crate::format;
use crate::model::HomeSummary;
use crate::pages::insights::refresh_periodically;

#[component]
pub fn HomePage() -> impl IntoView {
    let summary = Resource::new(|| (), |_| get_home_summary());
    refresh_periodically(move || summary.refetch());
    view! {
        <Frame>
            <Title text=""/>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match summary.await {
                        Ok(s) => view! { <Home s/> }.into_any(),
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Frame>
    }
}

#[component]
fn Home(s: HomeSummary) -> impl IntoView {
    let top = |list: Vec<(String, u64)>, id: &'static str| {
        view! {
            <ol class="top" data-testid=id>
                {list.into_iter().map(|(name, n)| view! { <li><span class="wrap">{name}</span> <span class="n">{n}</span></li> }).collect_view()}
            </ol>
        }
    };
    view! {
        <h1>"Overview"</h1>
        <div class="cards">
            <a class="card" href="/insights?state=new" data-testid="count-new"><span class="big">{s.new}</span>" new, not yet triaged"</a>
            <div class="card" data-testid="count-24h"><span class="big">{s.last_24h}</span>" insights in the last 24 hours"</div>
            <div class="card" data-testid="count-7d"><span class="big">{s.last_7d}</span>" in the last 7 days"</div>
            <div class="card" data-testid="count-total"><span class="big">{s.total}</span>" stored in all"</div>
        </div>
        <h2>"Latest insights"</h2>
        {if s.latest.is_empty() {
            view! { <p class="empty">"No insights yet: ingest logs with " <code>"trailsight ingest"</code> " or load the demo with " <code>"trailsight demo"</code> "."</p> }.into_any()
        } else {
            view! { <div data-testid="latest"><InsightsTable rows=s.latest/></div> <p><a href="/insights">"All insights →"</a></p> }.into_any()
        }}
        <div class="columns">
            <section><h2>"APIs most in insights"</h2>{top(s.top_apis, "top-apis")}</section>
            <section><h2>"Identities most in insights"</h2>{top(s.top_identities, "top-identities")}</section>
        </div>
        <h2>"Trails"</h2>
        <table class="insights" data-testid="home-trails">
            <thead><tr><th>"Trail"</th><th>"Last event"</th><th>"Insight types on"</th><th>"Sensitivity"</th></tr></thead>
            <tbody>
                {s.trails.into_iter().map(|t| {
                    let mut on = Vec::new();
                    if t.call_rate { on.push("ApiCallRateInsight"); }
                    if t.error_rate { on.push("ApiErrorRateInsight"); }
                    let on = if on.is_empty() { "none (Insights off)".to_owned() } else { on.join(", ") };
                    view! {
                        <tr data-testid="home-trail">
                            <td>{t.name.clone()}</td>
                            <td>{t.last_event_time.as_deref().map(format::time).unwrap_or_else(|| "no events yet".into())}</td>
                            <td>{on}</td>
                            <td>{t.sensitivity.clone()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <p><a href="/settings">"Change trail settings →"</a></p>
    }
}
