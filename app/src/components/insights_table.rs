//! The insights table, with the console's columns: used by Home, the list and the insight
//! page's "other insights".

use leptos::prelude::*;

use crate::format;
use crate::model::InsightRow;

#[component]
pub fn InsightsTable(rows: Vec<InsightRow>, #[prop(optional)] compact: bool) -> impl IntoView {
    // On a phone the columns marked `minor` give way (style/main.css), and the table scrolls
    // inside its own box rather than the page sideways.
    view! {
        <div class="table-scroll">
        <table class="insights">
            <thead>
                <tr>
                    <th>"Event name"</th>
                    <th>"Insight type"</th>
                    <th class="minor">"Event source"</th>
                    {(!compact).then(|| view! { <th class="minor">"Trail"</th> })}
                    <th>"Start time"</th>
                    <th class="minor">"Duration"</th>
                    <th class="num minor">"Baseline (per minute)"</th>
                    <th class="num minor">"Insight (per minute)"</th>
                    <th class="num">"Rate change"</th>
                    <th>"State"</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|row| view! { <InsightRowView row compact/> }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}

/// An insight's triage state, and the rule that suppressed it if one did.
#[component]
pub fn StateBadge(state: String, suppressed_by: Option<String>) -> impl IntoView {
    let title = suppressed_by.as_ref().map(|rule| format!("suppressed by the rule {rule}"));
    view! {
        <span class=format!("state state-{state}") title=title data-testid="insight-state">
            {state.clone()}
            {suppressed_by.map(|rule| view! { " (" {rule} ")" })}
        </span>
    }
}

#[component]
fn InsightRowView(row: InsightRow, compact: bool) -> impl IntoView {
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
            <td class="minor">{row.event_source.clone()}</td>
            {(!compact).then(|| view! { <td class="minor">{row.trail.clone()}</td> })}
            <td class="nowrap">{format::time(&row.start_time)}</td>
            <td class="minor">{format::duration(row.duration_minutes)}</td>
            <td class="num minor">{format::average(row.baseline_average)}</td>
            <td class="num minor">{format::average(row.insight_average)}</td>
            <td class=format!("num change {direction}")>{change}</td>
            <td><StateBadge state=row.state.clone() suppressed_by=row.suppressed_by.clone()/></td>
        </tr>
    }
}
