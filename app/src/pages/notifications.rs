//! The settings page's notification sections: destinations (admins: add, test, remove; what
//! was sent, what failed and why) and suppression rules (everyone reads them; admins change
//! their reason and last day, or remove them).

use leptos::prelude::*;

use crate::api::notify::{get_notification_settings, AddDestination, RemoveDestination, RemoveRule, TestDestination, UpdateRule};
use crate::model::{DestinationView, NotificationSettings, RuleView};

#[component]
pub fn NotificationSections() -> impl IntoView {
    let add = ServerAction::<AddDestination>::new();
    let remove = ServerAction::<RemoveDestination>::new();
    let test = ServerAction::<TestDestination>::new();
    let update_rule = ServerAction::<UpdateRule>::new();
    let remove_rule = ServerAction::<RemoveRule>::new();
    let settings = Resource::new(
        move || (add.version().get(), remove.version().get(), test.version().get(), update_rule.version().get(), remove_rule.version().get()),
        |_| get_notification_settings(),
    );
    let message = move || {
        let errors = [add.value().get().and_then(Result::err), remove.value().get().and_then(Result::err),
            update_rule.value().get().and_then(Result::err), remove_rule.value().get().and_then(Result::err)];
        if let Some(e) = errors.into_iter().flatten().next() {
            return Some(view! { <p class="error" role="alert" data-testid="notify-error">{e.to_string()}</p> }.into_any());
        }
        match test.value().get() {
            Some(Ok(done)) => Some(view! { <p class="ok" role="status" data-testid="notify-test-result">{done}</p> }.into_any()),
            Some(Err(e)) => Some(view! { <p class="error" role="alert" data-testid="notify-test-result">{e.to_string()}</p> }.into_any()),
            None => None,
        }
    };
    view! {
        {message}
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(s) => view! { <Sections s add remove test update_rule remove_rule/> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Sections(
    s: NotificationSettings,
    add: ServerAction<AddDestination>,
    remove: ServerAction<RemoveDestination>,
    test: ServerAction<TestDestination>,
    update_rule: ServerAction<UpdateRule>,
    remove_rule: ServerAction<RemoveRule>,
) -> impl IntoView {
    let destinations = s.can_change.then(|| {
        let list = if s.destinations.is_empty() {
            view! { <p class="empty">"No destinations: insights show here only. Add one below, or with " <code>"trailsight destinations add"</code> "."</p> }.into_any()
        } else {
            s.destinations.clone().into_iter().map(|d| view! { <DestinationCard d remove test/> }).collect_view().into_any()
        };
        let trails = s.trails.clone();
        view! {
            <h2 id="destinations">"Notifications"</h2>
            <p class="hint">"Every new insight event (Start and End) that began within the last 24 hours is sent to each destination of its trail; a backfill of old logs notifies nobody."</p>
            {list}
            <details class="add-destination">
                <summary data-testid="destination-open">"Add a destination…"</summary>
                <ActionForm action=add attr:class="stacked-form">
                    <label>"Name " <input type="text" name="name" required data-testid="destination-name"/></label>
                    <label>"Kind "
                        <select name="kind" data-testid="destination-kind">
                            <option value="webhook">"webhook (the EventBridge event, POSTed)"</option>
                            <option value="slack">"slack (incoming webhook)"</option>
                            <option value="email">"email"</option>
                            <option value="s3">"s3 (insight files)"</option>
                            <option value="directory">"directory (insight files)"</option>
                        </select>
                    </label>
                    <label>"Trail "
                        <select name="trail" data-testid="destination-trail">
                            <option value="">"every trail"</option>
                            {trails.into_iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>"URL (webhook, slack) " <input type="url" name="url" data-testid="destination-url"/></label>
                    <label>"Signing secret (webhook, optional) " <input type="password" name="secret" autocomplete="off" data-testid="destination-secret"/></label>
                    <label>"To (email; commas between addresses) " <input type="text" name="to"/></label>
                    <label>"SMTP server (email) " <input type="text" name="smtp" placeholder="smtp://127.0.0.1:25"/></label>
                    <label>"From (email) " <input type="text" name="from" placeholder="trailsight@localhost"/></label>
                    <label>"Bucket[/prefix] (s3) " <input type="text" name="bucket"/></label>
                    <label>"Endpoint URL (s3, optional) " <input type="text" name="endpoint_url"/></label>
                    <label>"Directory on the server (directory) " <input type="text" name="path"/></label>
                    <label>"Send insights that started at most this many hours before they were stored " <input type="number" name="max_age_hours" min="1" max="8760" value="24" data-testid="destination-max-age"/></label>
                    <label>"Group an API's repeats within this many minutes of its last insight (0: send every one) " <input type="number" name="group_minutes" min="0" max="1440" value="30"/></label>
                    <button type="submit" data-testid="destination-add">"Add destination"</button>
                </ActionForm>
            </details>
        }
    });
    let rules = if s.rules.is_empty() {
        view! { <p class="empty">"No rules. Mark an insight expected on its page to create one."</p> }.into_any()
    } else {
        let can_change = s.can_change;
        s.rules.into_iter().map(|r| view! { <RuleCard r can_change update_rule remove_rule/> }).collect_view().into_any()
    };
    view! {
        {destinations}
        <h2 id="rules">"Suppression rules"</h2>
        <p class="hint">"A matching insight is still detected and stored, marked expected and suppressed, hidden from the list by default and not notified."</p>
        {rules}
    }
}

#[component]
fn DestinationCard(d: DestinationView, remove: ServerAction<RemoveDestination>, test: ServerAction<TestDestination>) -> impl IntoView {
    let counts = format!("sent {} · pending {} · failed {} · grouped {}", d.sent, d.pending, d.failed, d.grouped);
    let (test_name, remove_name) = (d.name.clone(), d.name.clone());
    view! {
        <section class="trail-card" data-testid=format!("destination-{}", d.name)>
            <h3>{d.name.clone()}</h3>
            <p class="wrap">{d.description.clone()}</p>
            <p data-testid="destination-counts">{counts}</p>
            {d.last_error.clone().map(|e| view! { <p class="error wrap" data-testid="destination-last-error">"Last error: " {e}</p> })}
            <div class="triage-actions">
                <ActionForm action=test attr:class="inline-form">
                    <input type="hidden" name="name" value=test_name/>
                    <button type="submit" data-testid="destination-test">"Send a test"</button>
                </ActionForm>
                <ActionForm action=remove attr:class="inline-form">
                    <input type="hidden" name="name" value=remove_name/>
                    <button type="submit" class="danger" data-testid="destination-remove">"Remove"</button>
                </ActionForm>
            </div>
        </section>
    }
}

#[component]
fn RuleCard(r: RuleView, can_change: bool, update_rule: ServerAction<UpdateRule>, remove_rule: ServerAction<RemoveRule>) -> impl IntoView {
    let (name, reason, until, remove_name) = (r.name.clone(), r.reason.clone(), r.until.clone(), r.name.clone());
    let controls = can_change.then(move || view! {
        <ActionForm action=update_rule attr:class="inline-form">
            <input type="hidden" name="name" value=name/>
            <input type="text" name="reason" value=reason aria-label="Reason"/>
            <input type="date" name="until" value=until aria-label="Last day"/>
            <button type="submit" data-testid="rule-save">"Save"</button>
        </ActionForm>
        <ActionForm action=remove_rule attr:class="inline-form">
            <input type="hidden" name="name" value=remove_name/>
            <button type="submit" class="danger" data-testid="rule-remove">"Remove"</button>
        </ActionForm>
    });
    view! {
        <section class="trail-card" data-testid=format!("rule-{}", r.name)>
            <h3>{r.name.clone()}</h3>
            <p class="wrap">{r.description.clone()}</p>
            <p class="hint">{if r.reason.is_empty() { String::new() } else { format!("Why: {}", r.reason) }} " · by " {r.created_by.clone()}</p>
            {controls}
        </section>
    }
}
