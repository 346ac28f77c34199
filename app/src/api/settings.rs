//! Server functions for the settings page: trails and their insight settings. These are the
//! same stored settings the AWS API's PutInsightSelectors edits; detection reads them on its
//! next pass. Reading is for viewers and admins; every change is for admins only (checked
//! here, on the server) and is written to the audit log.

use leptos::prelude::*;

use super::AppError;
use crate::model::TrailView;

#[server]
pub async fn list_trails() -> Result<Vec<TrailView>, AppError> {
    use crate::api::server::{internal, state, trail_view};
    let trails = state()?.store.list_trails().await.map_err(internal)?;
    Ok(trails.iter().map(trail_view).collect())
}

/// Turns store errors a person can fix into messages; logs the rest.
#[cfg(feature = "ssr")]
fn explain(e: engine::StoreError) -> AppError {
    match e {
        engine::StoreError::TrailExists(name) => AppError::invalid(format!("A trail named {name:?} already exists: choose another name.")),
        engine::StoreError::NoSuchTrail(name) => AppError::invalid(format!("There is no trail named {name:?} (was it renamed or deleted?).")),
        other => crate::api::server::internal(other),
    }
}

/// The engine's rule, the same as push's and `ingest --trail`'s, and AWS's minimum of 3
/// characters for trails made here (so that the name works in AWS's API too).
#[cfg(feature = "ssr")]
fn checked_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    engine::names::check_trail_name(name).map_err(|e| AppError::invalid(e.to_string()))?;
    if name.chars().count() < 3 {
        return Err(AppError::invalid(format!("Trail name {name:?} is too short: AWS's trail names have at least 3 characters.")));
    }
    Ok(name.to_owned())
}

#[server]
pub async fn create_trail(name: String) -> Result<(), AppError> {
    use crate::api::server::{admin, audit};
    let (state, who) = admin()?;
    let name = checked_name(&name)?;
    state.store.create_trail(&engine::store::NewTrail::for_ingest(&name)).await.map_err(explain)?;
    audit(&state, &who, "trail.create", &name, String::new()).await;
    Ok(())
}

#[server]
pub async fn rename_trail(name: String, new_name: String) -> Result<(), AppError> {
    use crate::api::server::{admin, audit};
    let (state, who) = admin()?;
    let new_name = checked_name(&new_name)?;
    state.store.rename_trail(&name, &new_name).await.map_err(explain)?;
    audit(&state, &who, "trail.rename", &name, format!("renamed to {new_name}")).await;
    Ok(())
}

/// Deletes a trail with everything stored under it. `confirm` must repeat the trail's name,
/// so that no stray click or replayed request deletes a trail by accident.
#[server]
pub async fn delete_trail(name: String, confirm: String) -> Result<(), AppError> {
    use crate::api::server::{admin, audit};
    let (state, who) = admin()?;
    if confirm.trim() != name {
        return Err(AppError::invalid(format!(
            "To delete {name:?}, type its name exactly in the confirmation box (you typed {:?}).",
            confirm.trim()
        )));
    }
    state.store.delete_trail(&name).await.map_err(explain)?;
    audit(&state, &who, "trail.delete", &name, "with all its events and insights".to_owned()).await;
    Ok(())
}

/// Saves a trail's insight selectors, sensitivity, drops and whether it logs (takes events).
/// Checkboxes send a value only when checked, hence the options.
#[server]
pub async fn save_trail_settings(
    name: String,
    call_rate: Option<String>,
    error_rate: Option<String>,
    sensitivity: String,
    logging: Option<String>,
    drops: Option<String>,
) -> Result<(), AppError> {
    use engine::detect::Sensitivity;
    use engine::store::InsightType;

    use crate::api::server::{admin, audit};
    let (state, who) = admin()?;
    let store = state.store.clone();
    let mut types = Vec::new();
    if call_rate.is_some() {
        types.push(InsightType::ApiCallRate);
    }
    if error_rate.is_some() {
        types.push(InsightType::ApiErrorRate);
    }
    let sensitivity = Sensitivity::parse(&sensitivity)
        .ok_or_else(|| AppError::invalid(format!("{sensitivity:?} is not a sensitivity: use low, medium or high.")))?;
    store.set_insight_types(&name, &types).await.map_err(explain)?;
    store.set_sensitivity(&name, sensitivity).await.map_err(explain)?;
    let now_ms = crate::api::server::now_ms();
    store.set_logging(&name, logging.is_some(), now_ms).await.map_err(explain)?;
    store.set_drops(&name, drops.is_some()).await.map_err(explain)?;
    let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    let detail = format!(
        "insight types [{}], sensitivity {}, logging {}, drops {}",
        names.join(", "),
        sensitivity.as_str(),
        if logging.is_some() { "on" } else { "off" },
        if drops.is_some() { "on" } else { "off" }
    );
    audit(&state, &who, "trail.settings", &name, detail).await;
    Ok(())
}
