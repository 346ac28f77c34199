//! `/access`: for admins, who can use trailsight (users and API tokens) and what was changed
//! by whom (the audit log). Users and tokens are created with the command line, which shows a
//! new secret once; here they can be removed or revoked at once.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::access::{get_access_overview, RemoveUser, RevokeToken};
use crate::components::Frame;
use crate::model::AccessOverview;

#[component]
pub fn AccessPage() -> impl IntoView {
    let revoke = ServerAction::<RevokeToken>::new();
    let remove = ServerAction::<RemoveUser>::new();
    let overview = Resource::new(move || (revoke.version().get(), remove.version().get()), |_| get_access_overview());
    let error = move || {
        [revoke.value().get().and_then(Result::err), remove.value().get().and_then(Result::err)]
            .into_iter()
            .flatten()
            .next()
            .map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })
    };
    view! {
        <Frame>
            <Title text="Access"/>
            <h1>"Access"</h1>
            {error}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(o) => view! { <Overview o revoke remove/> }.into_any(),
                        Err(e) => view! { <p class="error" data-testid="access-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Frame>
    }
}

#[component]
fn Overview(o: AccessOverview, revoke: ServerAction<RevokeToken>, remove: ServerAction<RemoveUser>) -> impl IntoView {
    view! {
        <h2>"Users"</h2>
        <p class="hint">"Add users with " <code>"trailsight users add NAME --role admin|viewer --password-stdin"</code></p>
        <div class="table-wrap"><table data-testid="users">
            <thead><tr><th>"User"</th><th>"Role"</th><th>"Created"</th><th></th></tr></thead>
            <tbody>
                {o.users.into_iter().map(|u| {
                    let name = u.name.clone();
                    view! {
                        <tr>
                            <td>{u.name}</td><td>{u.role}</td><td>{u.created}</td>
                            <td><ActionForm action=remove attr:class="inline-form">
                                <input type="hidden" name="name" value=name/>
                                <button type="submit" class="danger">"Remove"</button>
                            </ActionForm></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table></div>
        <h2>"API tokens"</h2>
        <p class="hint">"Create tokens with " <code>"trailsight tokens create NAME --role viewer|admin|push [--aws]"</code></p>
        <div class="table-wrap"><table data-testid="tokens">
            <thead><tr><th>"Token"</th><th>"Role"</th><th>"AWS key"</th><th>"Created"</th><th>"Last used"</th><th></th></tr></thead>
            <tbody>
                {o.tokens.into_iter().map(|t| {
                    let name = t.name.clone();
                    view! {
                        <tr>
                            <td>{t.name}</td><td>{t.role}</td><td>{t.aws_access_key_id.unwrap_or_default()}</td>
                            <td>{t.created}" by "{t.created_by}</td><td>{t.last_used.unwrap_or_else(|| "never".to_owned())}</td>
                            <td><ActionForm action=revoke attr:class="inline-form">
                                <input type="hidden" name="name" value=name/>
                                <button type="submit" class="danger">"Revoke"</button>
                            </ActionForm></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table></div>
        <h2>"Audit log"</h2>
        <div class="table-wrap"><table data-testid="audit-log">
            <thead><tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"On"</th><th>"Details"</th></tr></thead>
            <tbody>
                {o.audit.into_iter().map(|e| view! {
                    <tr><td class="nowrap">{crate::format::time_seconds(&e.at)}</td><td>{e.actor}</td><td>{e.action}</td><td>{e.target}</td><td>{e.detail}</td></tr>
                }).collect_view()}
            </tbody>
        </table></div>
    }
}
