//! `/settings`: trails (create, rename, delete with confirmation) and each trail's insight
//! selectors and sensitivity. Forms are server-function forms: they work without
//! JavaScript (a normal POST) and without a reload with it. Changes take effect on the next
//! detection pass and show on Home.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::access::who_am_i;
use crate::api::settings::{list_trails, CreateTrail, DeleteTrail, RenameTrail, SaveTrailSettings};
use crate::components::Frame;
use crate::model::TrailView;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let create = ServerAction::<CreateTrail>::new();
    let rename = ServerAction::<RenameTrail>::new();
    let delete = ServerAction::<DeleteTrail>::new();
    let save = ServerAction::<SaveTrailSettings>::new();
    // The list reloads after a change that worked; a refused one (a mistyped confirmation)
    // leaves the forms as they are, so the person can correct what they typed.
    let changes = RwSignal::new(0u32);
    let results: [Signal<Option<bool>>; 4] = [
        Signal::derive(move || create.value().get().map(|r| r.is_ok())),
        Signal::derive(move || rename.value().get().map(|r| r.is_ok())),
        Signal::derive(move || delete.value().get().map(|r| r.is_ok())),
        Signal::derive(move || save.value().get().map(|r| r.is_ok())),
    ];
    // One effect per action, so that only the action that just finished counts.
    for result in results {
        Effect::new(move || {
            if result.get() == Some(true) {
                changes.update(|n| *n += 1);
            }
        });
    }
    let trails = Resource::new(
        move || changes.get(),
        |_| async move {
            // Viewers see the settings; only admins get the controls (the server checks again).
            let can_change = who_am_i().await.ok().flatten().is_some_and(|u| u.can_change);
            list_trails().await.map(|list| (list, can_change))
        },
    );
    // The message of the form used last: an earlier form's error must not stay on screen.
    let last = RwSignal::new(0usize);
    let pending: [Signal<bool>; 4] = [
        Signal::derive(move || create.input().with(Option::is_some)),
        Signal::derive(move || rename.input().with(Option::is_some)),
        Signal::derive(move || delete.input().with(Option::is_some)),
        Signal::derive(move || save.input().with(Option::is_some)),
    ];
    for (i, dispatched) in pending.into_iter().enumerate() {
        Effect::new(move || {
            if dispatched.get() {
                last.set(i);
            }
        });
    }
    let error = move || {
        let errors = [create.value().get().and_then(Result::err), rename.value().get().and_then(Result::err),
            delete.value().get().and_then(Result::err), save.value().get().and_then(Result::err)];
        errors[last.get()]
            .clone()
            .map(|e| view! { <p class="error" role="alert" data-testid="settings-error">{e.to_string()}</p> })
    };
    // And what went right: a change with no visible answer reads as one that did nothing.
    let done = move || {
        let ok = [create.value().get(), rename.value().get(), delete.value().get(), save.value().get()]
            .map(|v| v.is_some_and(|r| r.is_ok()));
        let i = last.get();
        let message = ["Trail created.", "Trail renamed.", "Trail deleted.", "Settings saved."][i];
        ok[i].then(|| view! { <p class="saved" role="status" data-testid="settings-saved">{message}</p> })
    };
    view! {
        <Frame>
            <Title text="Settings"/>
            <h1>"Settings"</h1>
            {error}
            {done}
            <Transition fallback=|| view! { <p>"Loading trails…"</p> }>
                {move || Suspend::new(async move {
                    match trails.await {
                        Ok((list, can_change)) => {
                            let new_trail = can_change.then(|| view! {
                                <h2>"New trail"</h2>
                                <ActionForm action=create attr:class="inline-form">
                                    <input type="text" name="name" placeholder="trail name" aria-label="New trail name" required data-testid="new-trail-name"/>
                                    <button type="submit" data-testid="create-trail">"Create trail"</button>
                                </ActionForm>
                            });
                            let read_only = (!can_change).then(|| view! {
                                <p class="hint" data-testid="read-only">"You can read these settings; an admin changes them."</p>
                            });
                            let body = if list.is_empty() {
                                view! { <p class="empty">"No trails yet."</p> }.into_any()
                            } else {
                                // Keyed by name: after a delete, the next trail's form (an open
                                // confirmation, typed text) is not the deleted one's reused.
                                view! {
                                    <For each=move || list.clone() key=|t| t.name.clone() let:t>
                                        <TrailSettings t can_change save rename delete/>
                                    </For>
                                }.into_any()
                            };
                            view! {
                                {new_trail} <h2>"Trails"</h2> {read_only}
                                <p class="hint" data-testid="sensitivity-help">
                                    "Sensitivity is how unusual a minute must be to raise an insight: "
                                    <b>"low"</b>" needs 10 calls and odds under 1 in a billion (fewest insights), "
                                    <b>"medium"</b>" 5 calls and 1 in a million, "
                                    <b>"high"</b>" 3 calls and 1 in 100,000 (most). A stopped trail (Logging off) refuses new events."
                                </p>
                                {body} <super::notifications::NotificationSections/>
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
fn TrailSettings(
    t: TrailView,
    can_change: bool,
    save: ServerAction<SaveTrailSettings>,
    rename: ServerAction<RenameTrail>,
    delete: ServerAction<DeleteTrail>,
) -> impl IntoView {
    let name = t.name.clone();
    let (save_name, rename_name, delete_name) = (name.clone(), name.clone(), name.clone());
    let question = format!("Delete {name} with all its events and insights? This cannot be undone. Type the trail's name to confirm.");
    let confirm = format!("Delete {name}");
    if !can_change {
        let types: Vec<&str> = [(t.call_rate, "ApiCallRateInsight"), (t.error_rate, "ApiErrorRateInsight")]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect();
        let types = if types.is_empty() { "Insights off".to_owned() } else { types.join(", ") };
        return view! {
            <section class="trail-card" data-testid=format!("trail-{}", t.name)>
                <h3>{t.name.clone()}</h3>
                <p>{types}" · sensitivity "{t.sensitivity.clone()}{if t.drops { " · drops too" } else { "" }}" · "{if t.logging { "logging" } else { "stopped: refuses new events" }}</p>
                <p class="minor">"Keeps "{t.keeps.clone()}</p>
            </section>
        }
        .into_any();
    }
    view! {
        <section class="trail-card" data-testid=format!("trail-{}", t.name)>
            <h3>{t.name.clone()}</h3>
            <ActionForm action=save attr:class="inline-form">
                <input type="hidden" name="name" value=save_name/>
                <label><input type="checkbox" name="call_rate" value="on" checked=t.call_rate data-testid="call-rate"/>" ApiCallRateInsight"</label>
                <label><input type="checkbox" name="error_rate" value="on" checked=t.error_rate data-testid="error-rate"/>" ApiErrorRateInsight"</label>
                <label title="How unusual a minute must be to raise an insight. Low: at least 10 calls and p < 1e-9 (fewest insights); medium: 5 calls, p < 1e-6; high: 3 calls, p < 1e-5 (most). See docs/detection.md.">"Sensitivity "
                    <select name="sensitivity" data-testid="sensitivity">
                        {["low", "medium", "high"].into_iter().map(|s| view! { <option value=s selected=t.sensitivity == s>{s}</option> }).collect_view()}
                    </select>
                </label>
                <label title="Activity far below the usual level is an insight too (shown with a down arrow)">
                    <input type="checkbox" name="drops" value="on" checked=t.drops data-testid="drops"/>" Drops below baseline"
                </label>
                <label title="A stopped trail refuses pushes and ingest (StopLogging)">
                    <input type="checkbox" name="logging" value="on" checked=t.logging data-testid="logging"/>" Logging"
                </label>
                <button type="submit" data-testid="save-settings">"Save"</button>
            </ActionForm>
            <p class="minor" data-testid="keeps">"Keeps "{t.keeps.clone()}" (event selectors: aws cloudtrail put-event-selectors)"</p>
            <ActionForm action=rename attr:class="inline-form">
                <input type="hidden" name="name" value=rename_name/>
                <input type="text" name="new_name" placeholder="new name" aria-label="New name" required data-testid="rename-to"/>
                <button type="submit" data-testid="rename-trail">"Rename"</button>
            </ActionForm>
            <details class="danger">
                <summary data-testid="delete-open">"Delete this trail…"</summary>
                <ActionForm action=delete attr:class="inline-form">
                    <input type="hidden" name="name" value=delete_name/>
                    <p>{question}</p>
                    <input type="text" name="confirm" required autocomplete="off" aria-label="Type the trail's name to confirm" data-testid="delete-confirm-name"/>
                    <button type="submit" class="danger" data-testid="delete-confirm">{confirm}</button>
                </ActionForm>
            </details>
        </section>
    }
    .into_any()
}
