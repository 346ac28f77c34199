//! Server functions for triage: an insight's state (new, acknowledged, resolved, expected),
//! comments, and marking it expected with a suppression rule.
//!
//! Who may do what: triage is the daily work of whoever watches the list, so viewers may
//! acknowledge, resolve, reopen and comment; marking an insight **expected** creates or
//! relies on a rule that silences future notifications, which is an admin's decision (as are
//! destinations). Every change is written to the audit log. Triage is trailsight's own data,
//! beside the AWS record: the records, the AWS API and the downloads never carry it.

use leptos::prelude::*;

use super::AppError;
use crate::model::TriageView;

/// Longest comment kept.
pub const MAX_COMMENT_CHARS: usize = 4000;

#[server]
pub async fn get_triage(id: String) -> Result<Option<TriageView>, AppError> {
    use engine::time::format_millis;

    use crate::api::server::{internal, principal, state};
    use crate::model::{CommentView, DeliveryView};
    let state = state()?;
    let store = state.store.as_ref();
    let Some(insight) = store.get_insight(&id).await.map_err(internal)? else { return Ok(None) };
    let admin = principal().is_some_and(|p| p.role.can_change());
    let comments = store.notify().comments(&id).await.map_err(internal)?;
    let deliveries = if admin { store.notify().list_deliveries(None, Some(&id), 50).await.map_err(internal)? } else { Vec::new() };
    Ok(Some(TriageView {
        state: insight.triage.state.as_str().to_owned(),
        set_by: insight.triage.by.clone(),
        set_at: insight.triage.at_ms.map(format_millis),
        suppressed_by: insight.triage.suppressed_by.clone(),
        comments: comments.into_iter().map(|c| CommentView { author: c.author, at: format_millis(c.at_ms), body: c.body }).collect(),
        deliveries: deliveries
            .into_iter()
            .map(|d| DeliveryView {
                event: serde_json::from_str::<engine::insight::InsightEvent>(&d.record)
                    .map(|e| e.insight_details.state)
                    .unwrap_or_default(),
                destination: d.destination,
                event_id: d.event_id,
                status: d.status.as_str().to_owned(),
                attempts: d.attempts,
                last_error: d.last_error,
                queued: format_millis(d.queued_ms),
                done: d.done_ms.map(format_millis),
            })
            .collect(),
        can_suppress: admin,
        top_identity: engine::notify::top_identity(&insight.start_record),
    }))
}

/// Sets the state to new, acknowledged or resolved (anyone who reads the dashboard), or
/// expected (admins: see [`mark_expected`] to also silence future ones).
#[server]
pub async fn set_triage_state(id: String, state: String) -> Result<(), AppError> {
    use engine::notify::TriageState;

    use crate::api::server::{admin, audit, internal, now_ms, principal, state as read_state};
    let wanted = TriageState::parse(&state)
        .ok_or_else(|| AppError::invalid(format!("{state:?} is not a state: use new, acknowledged, resolved or expected.")))?;
    let (app, who) = if wanted == TriageState::Expected {
        admin()?
    } else {
        (read_state()?, principal().ok_or(AppError::SignInRequired)?)
    };
    match app.store.notify().set_triage(&id, wanted, &who.name, now_ms()).await {
        Err(engine::StoreError::NoSuchInsight(_)) => return Err(AppError::invalid(format!("There is no insight {id:?}."))),
        other => other.map_err(internal)?,
    }
    audit(&app, &who, "insight.triage", &id, format!("state {wanted}")).await;
    Ok(())
}

#[server]
pub async fn add_comment(id: String, body: String) -> Result<(), AppError> {
    use crate::api::server::{audit, internal, now_ms, principal, state};
    let app = state()?;
    let who = principal().ok_or(AppError::SignInRequired)?;
    let body = body.trim();
    if body.is_empty() {
        return Err(AppError::invalid("Write something to comment."));
    }
    if body.chars().count() > MAX_COMMENT_CHARS {
        return Err(AppError::invalid(format!("A comment holds at most {MAX_COMMENT_CHARS} characters.")));
    }
    match app.store.notify().add_comment(&id, &who.name, now_ms(), body).await {
        Err(engine::StoreError::NoSuchInsight(_)) => return Err(AppError::invalid(format!("There is no insight {id:?}."))),
        other => other.map_err(internal)?,
    }
    audit(&app, &who, "insight.comment", &id, String::new()).await;
    Ok(())
}

/// Marks the insight expected and creates the rule `rule` that marks future insights of the
/// same type and API in the same account and region (and, with `identity`, by the same
/// identity) expected too, until the end of the day `until` (`YYYY-MM-DD`, UTC; empty:
/// no end). Admins only.
#[server]
pub async fn mark_expected(
    id: String,
    rule: String,
    reason: String,
    until: String,
    identity: Option<String>,
) -> Result<(), AppError> {
    use engine::notify::{SuppressionRule, TriageState};

    use crate::api::server::{admin, audit, internal, now_ms};
    let (app, who) = admin()?;
    let store = app.store.as_ref();
    let insight = store.get_insight(&id).await.map_err(internal)?.ok_or_else(|| AppError::invalid(format!("There is no insight {id:?}.")))?;
    let rule_name = rule.trim().to_owned();
    engine::access::check_name("rule", &rule_name).map_err(AppError::invalid)?;
    let identity = match identity.filter(|i| !i.is_empty()) {
        Some(_) => Some(engine::notify::top_identity(&insight.start_record).ok_or_else(|| {
            AppError::invalid("This insight names no identity: leave \"only this identity\" unticked.")
        })?),
        None => None,
    };
    let rule = SuppressionRule {
        name: rule_name.clone(),
        insight_type: Some(insight.insight_type),
        event_source: insight.key.event_source.clone(),
        event_name: insight.key.event_name.clone(),
        account: Some(insight.key.account.clone()),
        region: Some(insight.key.region.clone()),
        identity,
        until_ms: parse_until(&until)?,
        reason: reason.trim().chars().take(500).collect(),
        created_by: who.name.clone(),
        created_ms: now_ms(),
    };
    match store.notify().add_suppression(&rule).await {
        Err(engine::StoreError::SuppressionExists(name)) => {
            return Err(AppError::invalid(format!("A rule named {name:?} already exists: choose another name.")))
        }
        other => other.map_err(internal)?,
    }
    store.notify().set_triage(&id, TriageState::Expected, &who.name, now_ms()).await.map_err(internal)?;
    audit(&app, &who, "suppression.add", &rule_name, rule.describe()).await;
    audit(&app, &who, "insight.triage", &id, format!("state expected (rule {rule_name})")).await;
    Ok(())
}

/// `YYYY-MM-DD` → the instant after that day ends (UTC); empty → no end. A day that does
/// not exist (2026-02-31) or has already ended is refused: the rule would do nothing.
#[cfg(feature = "ssr")]
pub fn parse_until(text: &str) -> Result<Option<i64>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let not_a_date = || AppError::invalid(format!("{text:?} is not a date such as 2026-12-31."));
    let start = crate::query::parse_time_ms(&format!("{text}T00:00:00Z")).ok_or_else(not_a_date)?;
    // The parser rolls 31 February over into March: a round trip tells.
    if !engine::time::format_millis(start).starts_with(text) {
        return Err(not_a_date());
    }
    let until = start + 86_400_000;
    if until <= crate::api::server::now_ms() {
        return Err(AppError::invalid(format!("{text} has already ended: give a later last day, or none.")));
    }
    Ok(Some(until))
}
