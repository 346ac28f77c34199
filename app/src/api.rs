//! Server functions: what pages ask of the server.
//!
//! Their bodies run only on the server, where [`AppState`] (provided by the server binary)
//! gives them the store. Errors cross the wire as [`AppError`]: internal failures are
//! logged on the server and shown to the browser only as "internal error".

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::model::{InsightDetail, InsightRow};

/// Errors a page can meet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AppError {
    /// Something failed on the server; the details are in the server's log.
    Internal,
    /// The request itself failed (network, encoding).
    Transport(String),
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Internal => f.write_str("internal error (see the server log)"),
            AppError::Transport(e) => write!(f, "request failed: {e}"),
        }
    }
}

impl std::error::Error for AppError {}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
pub use server::AppState;

#[cfg(feature = "ssr")]
mod server {
    use std::sync::Arc;

    use engine::store::StoredInsight;
    use engine::time::format_minute;

    use super::*;

    /// What server functions need, provided as context by the server binary.
    #[derive(Clone)]
    pub struct AppState {
        pub store: Arc<dyn engine::Store>,
    }

    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState was not provided to the server functions");
            AppError::Internal
        })
    }

    /// Logs an internal error and hides it from the browser.
    pub fn internal(e: impl std::fmt::Display) -> AppError {
        tracing::error!("{e}");
        AppError::Internal
    }

    pub fn row(i: &StoredInsight) -> InsightRow {
        InsightRow {
            id: i.shared_event_id.clone(),
            trail: i.trail.clone(),
            insight_type: i.insight_type.as_str().to_owned(),
            event_source: i.key.event_source.clone(),
            event_name: i.key.event_name.clone(),
            error_code: i.key.error_code.clone(),
            account: i.key.account.clone(),
            region: i.key.region.clone(),
            start_time: format_minute(i.start_minute),
            end_time: i.end_minute.map(format_minute),
            duration_minutes: i.end_minute.map(|end| end - i.start_minute),
            baseline_average: i.baseline_average,
            insight_average: i.insight_average,
        }
    }

    /// A stored record, pretty-printed, and its eventID.
    pub fn pretty(record: &str) -> (String, String) {
        let value: serde_json::Value = serde_json::from_str(record).unwrap_or_default();
        let id = value["eventID"].as_str().unwrap_or_default().to_owned();
        (serde_json::to_string_pretty(&value).unwrap_or_else(|_| record.to_owned()), id)
    }
}

/// All insights, newest first.
#[server]
pub async fn list_insights() -> Result<Vec<InsightRow>, AppError> {
    let state = server::state()?;
    let insights = state
        .store
        .list_insights(&engine::store::InsightFilter::default())
        .await
        .map_err(server::internal)?;
    Ok(insights.iter().map(server::row).collect())
}

/// One insight by its sharedEventID; `None` when there is no such insight.
#[server]
pub async fn get_insight(id: String) -> Result<Option<InsightDetail>, AppError> {
    let state = server::state()?;
    let Some(i) = state.store.get_insight(&id).await.map_err(server::internal)? else {
        return Ok(None);
    };
    let (start_record, start_event_id) = server::pretty(&i.start_record);
    let end = i.end_record.as_deref().map(server::pretty);
    Ok(Some(InsightDetail {
        row: server::row(&i),
        start_event_id,
        end_event_id: end.as_ref().map(|(_, id)| id.clone()),
        start_record,
        end_record: end.map(|(json, _)| json),
    }))
}
