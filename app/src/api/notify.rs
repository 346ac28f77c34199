//! Server functions for the notification settings: destinations (admins only: they reach
//! other systems and hold secrets, which are never sent back to a browser) and suppression
//! rules (everyone may read them; admins change them). Every change goes to the audit log.

use leptos::prelude::*;

use super::AppError;
use crate::model::NotificationSettings;

#[server]
pub async fn get_notification_settings() -> Result<NotificationSettings, AppError> {
    use crate::api::server::{internal, principal, state};
    use crate::model::{DestinationView, RuleView};
    let app = state()?;
    let notify = app.store.notify();
    let can_change = principal().is_some_and(|p| p.role.can_change());
    let mut destinations = Vec::new();
    if can_change {
        for d in notify.list_destinations().await.map_err(internal)? {
            let counts = notify.delivery_counts(&d.name).await.map_err(internal)?;
            destinations.push(DestinationView {
                kind: d.target.kind().to_owned(),
                description: d.describe(),
                name: d.name,
                sent: counts.sent,
                pending: counts.pending,
                failed: counts.failed,
                grouped: counts.grouped,
                last_error: counts.last_error,
            });
        }
    }
    let rules = notify
        .list_suppressions()
        .await
        .map_err(internal)?
        .into_iter()
        .map(|r| RuleView {
            description: r.describe(),
            until: r.until_ms.map(|ms| engine::time::format_millis(ms - 86_400_000)[..10].to_owned()).unwrap_or_default(),
            name: r.name,
            reason: r.reason,
            created_by: r.created_by,
        })
        .collect();
    let trails = app.store.list_trails().await.map_err(internal)?.into_iter().map(|t| t.name).collect();
    Ok(NotificationSettings { can_change, destinations, rules, trails })
}

/// Adds a destination (the same checks as `trailsight destinations add`).
#[server]
#[allow(clippy::too_many_arguments)]
pub async fn add_destination(
    name: String,
    kind: String,
    trail: String,
    url: String,
    secret: String,
    to: String,
    smtp: String,
    from: String,
    bucket: String,
    endpoint_url: String,
    path: String,
    max_age_hours: String,
    group_minutes: String,
) -> Result<(), AppError> {
    use engine::notify::{Destination, TargetSpec};

    use crate::api::server::{admin, audit, internal, now_ms};
    let (app, who) = admin()?;
    let name = name.trim().to_owned();
    engine::access::check_name("destination", &name).map_err(AppError::invalid)?;
    let trail = Some(trail.trim().to_owned()).filter(|t| !t.is_empty());
    if let Some(t) = &trail {
        if app.store.get_trail(t).await.map_err(internal)?.is_none() {
            return Err(AppError::invalid(format!("There is no trail named {t:?}.")));
        }
    }
    let some = |text: String| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    let spec = TargetSpec {
        kind,
        url: some(url),
        secret: some(secret),
        to: vec![to],
        smtp: some(smtp),
        from: some(from),
        bucket: some(bucket),
        endpoint_url: some(endpoint_url),
        path: some(path),
    };
    // The form's names are the command line's options without their dashes.
    let target = spec.check().map_err(|why| AppError::invalid(why.replace("--", "")))?;
    if let engine::notify::Target::Directory { path } = &target {
        if !std::path::Path::new(path).is_absolute() {
            return Err(AppError::invalid("path must be absolute (a directory on the server)."));
        }
    }
    let number = |text: &str, field: &str, default: i64, max: i64| -> Result<i64, AppError> {
        match text.trim() {
            "" => Ok(default),
            t => t.parse::<i64>().ok().filter(|n| (0..=max).contains(n)).ok_or_else(|| AppError::invalid(format!("{field} must be a whole number from 0 to {max}."))),
        }
    };
    let max_age_hours = number(&max_age_hours, "Maximum age (hours)", Destination::DEFAULT_MAX_AGE_MS / 3_600_000, 8760)?.max(1);
    let group_minutes = number(&group_minutes, "Group repeats within (minutes)", Destination::DEFAULT_GROUP_MINUTES, 1440)?;
    let destination = Destination {
        name: name.clone(),
        trail,
        target,
        max_age_ms: max_age_hours * 3_600_000,
        group_minutes,
        max_attempts: Destination::DEFAULT_MAX_ATTEMPTS,
        created_ms: now_ms(),
        created_by: who.name.clone(),
    };
    match app.store.notify().add_destination(&destination).await {
        Err(engine::StoreError::DestinationExists(_)) => {
            return Err(AppError::invalid(format!("A destination named {name:?} already exists: choose another name.")))
        }
        other => other.map_err(internal)?,
    }
    audit(&app, &who, "destination.add", &name, destination.describe()).await;
    Ok(())
}

#[server]
pub async fn remove_destination(name: String) -> Result<(), AppError> {
    use crate::api::server::{admin, audit, internal};
    let (app, who) = admin()?;
    match app.store.notify().remove_destination(&name).await {
        Err(engine::StoreError::NoSuchDestination(_)) => return Err(AppError::invalid(format!("There is no destination named {name:?}."))),
        other => other.map_err(internal)?,
    }
    audit(&app, &who, "destination.remove", &name, String::new()).await;
    Ok(())
}

/// Sends a sample insight event now; returns what happened, in words.
#[server]
pub async fn test_destination(name: String) -> Result<String, AppError> {
    use crate::api::server::{admin, internal};
    let (app, _) = admin()?;
    let destination = app
        .store
        .notify()
        .get_destination(&name)
        .await
        .map_err(internal)?
        .ok_or_else(|| AppError::invalid(format!("There is no destination named {name:?}.")))?;
    let sender = app.send_sample.clone().ok_or(AppError::Internal)?;
    match (sender.0)(destination).await {
        Ok(()) => Ok(format!("Sent a sample insight event to {name}.")),
        Err(why) => Err(AppError::invalid(format!("Sending to {name} failed: {why}"))),
    }
}

/// Changes a rule's reason and last day (`YYYY-MM-DD`, empty for none). Admins only.
#[server]
pub async fn update_rule(name: String, reason: String, until: String) -> Result<(), AppError> {
    use crate::api::server::{admin, audit, internal};
    let (app, who) = admin()?;
    let notify = app.store.notify();
    let rules = notify.list_suppressions().await.map_err(internal)?;
    let mut rule = rules.into_iter().find(|r| r.name == name).ok_or_else(|| AppError::invalid(format!("There is no rule named {name:?}.")))?;
    rule.reason = reason.trim().chars().take(500).collect();
    rule.until_ms = crate::api::triage::parse_until(&until)?;
    match notify.update_suppression(&rule).await {
        Err(engine::StoreError::NoSuchSuppression(_)) => return Err(AppError::invalid(format!("There is no rule named {name:?}."))),
        other => other.map_err(internal)?,
    }
    audit(&app, &who, "suppression.update", &name, rule.describe()).await;
    Ok(())
}

#[server]
pub async fn remove_rule(name: String) -> Result<(), AppError> {
    use crate::api::server::{admin, audit, internal};
    let (app, who) = admin()?;
    match app.store.notify().remove_suppression(&name).await {
        Err(engine::StoreError::NoSuchSuppression(_)) => return Err(AppError::invalid(format!("There is no rule named {name:?}."))),
        other => other.map_err(internal)?,
    }
    audit(&app, &who, "suppression.remove", &name, String::new()).await;
    Ok(())
}
