//! The insight page's triage panel: the state (with who set it), comments, "mark expected"
//! with a suppression rule (admins), and where the insight's events were sent (admins).
//! Plain forms: they work without JavaScript and without a reload with it.

use leptos::prelude::*;

use crate::api::triage::{get_triage, AddComment, MarkExpected, SetTriageState};
use crate::components::StateBadge;
use crate::format;
use crate::model::TriageView;

#[component]
pub fn TriagePanel(id: String, event_name: String) -> impl IntoView {
    let set_state = ServerAction::<SetTriageState>::new();
    let comment = ServerAction::<AddComment>::new();
    let expected = ServerAction::<MarkExpected>::new();
    let triage = Resource::new(
        {
            let id = id.clone();
            move || (id.clone(), set_state.version().get(), comment.version().get(), expected.version().get())
        },
        |(id, ..)| get_triage(id),
    );
    let error = move || {
        [set_state.value().get(), comment.value().get(), expected.value().get()]
            .into_iter()
            .flatten()
            .find_map(Result::err)
            .map(|e| view! { <p class="error" role="alert" data-testid="triage-error">{e.to_string()}</p> })
    };
    view! {
        <section class="triage" data-testid="triage">
            <h2>"Triage"</h2>
            {error}
            <Transition fallback=|| ()>
                {move || {
                    let (id, event_name) = (id.clone(), event_name.clone());
                    Suspend::new(async move {
                        match triage.await {
                            Ok(Some(t)) => view! { <TriageBody t id event_name set_state comment expected/> }.into_any(),
                            Ok(None) => ().into_any(),
                            Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn TriageBody(
    t: TriageView,
    id: String,
    event_name: String,
    set_state: ServerAction<SetTriageState>,
    comment: ServerAction<AddComment>,
    expected: ServerAction<MarkExpected>,
) -> impl IntoView {
    let who = match (&t.set_by, &t.set_at) {
        (Some(by), Some(at)) => format!(" · set by {by}, {}", format::time(at)),
        _ => String::new(),
    };
    let states: Vec<&'static str> =
        if t.can_suppress { vec!["new", "acknowledged", "resolved", "expected"] } else { vec!["new", "acknowledged", "resolved"] };
    let current = t.state.clone();
    let state_buttons = states
        .into_iter()
        .filter(|s| *s != current)
        .map(|s| {
            let id = id.clone();
            view! {
                <ActionForm action=set_state attr:class="inline-form">
                    <input type="hidden" name="id" value=id/>
                    <input type="hidden" name="state" value=s/>
                    <button type="submit" data-testid=format!("triage-{s}")>{label(s)}</button>
                </ActionForm>
            }
        })
        .collect_view();
    let rule_id = id.clone();
    let rule_form = t.can_suppress.then(move || {
        let identity = t.top_identity.clone();
        view! {
            <details class="expected-form">
                <summary data-testid="expected-open">"Mark expected and silence future ones…"</summary>
                <ActionForm action=expected attr:class="stacked-form">
                    <input type="hidden" name="id" value=rule_id/>
                    <p class="hint">"Future insights of this type on this API, in this account and region, are still detected and stored, but marked expected, hidden by default and not notified."</p>
                    <label>"Rule name " <input type="text" name="rule" required value=format!("expected-{event_name}") data-testid="rule-name"/></label>
                    <label>"Reason " <input type="text" name="reason" placeholder="e.g. nightly autoscaling" data-testid="rule-reason"/></label>
                    <label>"Until (last day, optional) " <input type="date" name="until" data-testid="rule-until"/></label>
                    {identity.map(|i| view! {
                        <label class="check"><input type="checkbox" name="identity" value="1" data-testid="rule-identity"/>" Only when " <code>{i}</code> " leads"</label>
                    })}
                    <button type="submit" data-testid="rule-create">"Mark expected and create the rule"</button>
                </ActionForm>
            </details>
        }
    });
    let deliveries = (!t.deliveries.is_empty()).then(|| view! {
        <h3>"Notifications"</h3>
        <table class="deliveries" data-testid="deliveries">
            <thead><tr><th>"Destination"</th><th>"Event"</th><th>"Status"</th><th>"Attempts"</th><th>"Last error"</th></tr></thead>
            <tbody>
                {t.deliveries.iter().map(|d| view! {
                    <tr data-testid="delivery">
                        <td>{d.destination.clone()}</td>
                        <td>{d.event.clone()}</td>
                        <td class=format!("delivery-{}", d.status)>{d.status.clone()}</td>
                        <td class="num">{d.attempts}</td>
                        <td class="wrap">{d.last_error.clone().unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    });
    view! {
        <p>"State: " <StateBadge state=t.state.clone() suppressed_by=t.suppressed_by.clone()/> {who}</p>
        <div class="triage-actions">{state_buttons}</div>
        {rule_form}
        <h3>"Comments"</h3>
        {if t.comments.is_empty() {
            view! { <p class="empty">"No comments yet."</p> }.into_any()
        } else {
            view! {
                <ol class="comments" data-testid="comments">
                    {t.comments.iter().map(|c| view! {
                        <li><span class="meta">{c.author.clone()} " · " {format::time(&c.at)}</span><p class="wrap">{c.body.clone()}</p></li>
                    }).collect_view()}
                </ol>
            }.into_any()
        }}
        <ActionForm action=comment attr:class="stacked-form">
            <input type="hidden" name="id" value=id.clone()/>
            <textarea name="body" rows="3" required maxlength="4000" aria-label="Comment" data-testid="comment-body"></textarea>
            <button type="submit" data-testid="comment-add">"Add comment"</button>
        </ActionForm>
        {deliveries}
    }
}

fn label(state: &str) -> &'static str {
    match state {
        "new" => "Reopen",
        "acknowledged" => "Acknowledge",
        "resolved" => "Resolve",
        _ => "Mark expected",
    }
}
