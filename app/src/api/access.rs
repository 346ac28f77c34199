//! Server functions about who uses trailsight: the current user, and for admins the users,
//! API tokens and audit log (the `/access` page). Users and tokens are created with the
//! command line (`trailsight users add`, `trailsight tokens create`), which can show a new
//! secret once without it passing through a page.

use leptos::prelude::*;

use super::{AppError, SignInOptions};
use crate::model::{AccessOverview, CurrentUser};

/// Who is asking; `None` when nobody is signed in.
#[server]
pub async fn who_am_i() -> Result<Option<CurrentUser>, AppError> {
    Ok(crate::api::server::principal().map(|p| CurrentUser {
        name: p.name,
        role: p.role.as_str().to_owned(),
        can_change: p.role.can_change(),
        signed_in: p.via != engine::access::Via::Open,
    }))
}

/// How one can sign in (for the sign-in page, which anyone may see).
#[server]
pub async fn get_sign_in_options() -> Result<SignInOptions, AppError> {
    use_context::<crate::api::AppState>().map(|s| s.sign_in).ok_or(AppError::Internal)
}

/// Users, tokens and the latest 200 changes: admins only.
#[server]
pub async fn get_access_overview() -> Result<AccessOverview, AppError> {
    use engine::time::format_millis;

    use crate::api::server::{admin, internal};
    use crate::model::{AuditRow, TokenRow, UserRow};
    let (state, _) = admin()?;
    let access = state.store.access();
    let users = access.list_users().await.map_err(internal)?;
    let tokens = access.list_tokens().await.map_err(internal)?;
    let audit = access.list_audit(200).await.map_err(internal)?;
    Ok(AccessOverview {
        users: users
            .into_iter()
            .map(|u| UserRow { name: u.name, role: u.role.as_str().to_owned(), created: format_millis(u.created_ms) })
            .collect(),
        tokens: tokens
            .into_iter()
            .map(|t| TokenRow {
                name: t.name,
                role: t.role.as_str().to_owned(),
                aws_access_key_id: t.aws_access_key_id,
                created: format_millis(t.created_ms),
                created_by: t.created_by,
                last_used: t.last_used_ms.map(format_millis),
            })
            .collect(),
        audit: audit
            .into_iter()
            .map(|e| AuditRow { at: format_millis(e.at_ms), actor: e.actor, action: e.action, target: e.target, detail: e.detail })
            .collect(),
    })
}

/// Revokes an API token at once: admins only, audited.
#[server]
pub async fn revoke_token(name: String) -> Result<(), AppError> {
    use crate::api::server::{admin, audit, internal};
    let (state, who) = admin()?;
    match state.store.access().revoke_token(&name).await {
        Ok(()) => {}
        Err(engine::StoreError::NoSuchToken(_)) => return Err(AppError::invalid(format!("There is no token named {name:?}."))),
        Err(e) => return Err(internal(e)),
    }
    audit(&state, &who, "token.revoke", &name, String::new()).await;
    Ok(())
}

/// Removes a user and ends their sessions: admins only, audited; nobody removes themselves
/// (so an install cannot lose its last admin by a slip).
#[server]
pub async fn remove_user(name: String) -> Result<(), AppError> {
    use crate::api::server::{admin, audit, internal};
    let (state, who) = admin()?;
    if who.name == name {
        return Err(AppError::invalid("You cannot remove yourself: ask another admin, or use `trailsight users remove`."));
    }
    match state.store.access().remove_user(&name).await {
        Ok(()) => {}
        Err(engine::StoreError::NoSuchUser(_)) => return Err(AppError::invalid(format!("There is no user named {name:?}."))),
        Err(e) => return Err(internal(e)),
    }
    audit(&state, &who, "user.remove", &name, String::new()).await;
    Ok(())
}
