//! Server functions: what pages ask of the server, grouped by what they serve
//! ([`insights`], [`events`], [`home`], [`settings`]).
//!
//! Their bodies run only on the server, where [`AppState`] (provided by the server binary)
//! gives them the store. Errors cross the wire as [`AppError`]: internal failures are
//! logged on the server and shown to the browser only as "internal error"; mistakes a user
//! can fix come back as [`AppError::Invalid`] with what to do.

pub mod access;
pub mod events;
pub mod home;
pub mod insights;
pub mod notify;
pub mod settings;
pub mod triage;

// The prelude and the models are used by the server half only (`server` below).
#[cfg(feature = "ssr")]
use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::model::{EventRow, EventsPage, InsightRow, TrailView};

/// Errors a page can meet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AppError {
    /// Something failed on the server; the details are in the server's log.
    Internal,
    /// The request itself failed (network, encoding).
    Transport(String),
    /// The user asked for something that cannot be done; the message says why.
    Invalid(String),
    /// Nobody is signed in (status 401).
    SignInRequired,
    /// The person signed in may not do this (status 403); the message says who may.
    Forbidden(String),
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Internal => f.write_str("internal error (see the server log)"),
            AppError::Transport(e) => write!(f, "request failed: {e}"),
            AppError::Invalid(why) => f.write_str(why),
            AppError::SignInRequired => f.write_str("sign in first (/login)"),
            AppError::Forbidden(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for AppError {}

impl AppError {
    /// A mistake the user can fix: answered with status 400, not logged as a server failure.
    pub fn invalid(why: impl Into<String>) -> AppError {
        #[cfg(feature = "ssr")]
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::BAD_REQUEST);
        }
        AppError::Invalid(why.into())
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

/// How people can sign in, for the sign-in page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SignInOptions {
    /// The button's label when single sign-on is configured ("Sign in with ...").
    pub oidc_label: Option<String>,
}

#[cfg(feature = "ssr")]
pub use server::{AppState, SampleSender};

/// Helpers every server function shares (server only).
#[cfg(feature = "ssr")]
pub mod server {
    use std::sync::Arc;

    use engine::store::StoredInsight;
    use engine::time::format_minute;

    use super::*;

    /// What server functions need, provided as context by the server binary.
    #[derive(Clone)]
    pub struct AppState {
        pub store: Arc<dyn engine::Store>,
        pub sign_in: SignInOptions,
        /// Sends a sample insight event to a destination (the server's notifier; this crate
        /// knows no transports).
        pub send_sample: Option<SampleSender>,
    }

    pub type SampleFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>;

    /// See [`AppState::send_sample`].
    #[derive(Clone)]
    pub struct SampleSender(pub Arc<dyn Fn(engine::notify::Destination) -> SampleFuture + Send + Sync>);

    /// Who is asking: the server's guard put the principal in the request before any page or
    /// server function runs. `None` only when a request somehow bypassed it.
    pub fn principal() -> Option<engine::access::Principal> {
        use_context::<http::request::Parts>()?.extensions.get::<engine::access::Principal>().cloned()
    }

    fn set_status(status: http::StatusCode) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
    }

    fn app_state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState was not provided to the server functions");
            AppError::Internal
        })
    }

    /// The state, for reading: anyone who may read pages (viewers and admins).
    pub fn state() -> Result<AppState, AppError> {
        match principal() {
            Some(p) if p.role.can_read() => app_state(),
            Some(p) => {
                set_status(http::StatusCode::FORBIDDEN);
                Err(AppError::Forbidden(format!("{} (role {}) may not read the dashboard", p.name, p.role)))
            }
            None => {
                set_status(http::StatusCode::UNAUTHORIZED);
                Err(AppError::SignInRequired)
            }
        }
    }

    /// The state and the admin asking, for changes: admins only, checked here on the server
    /// whatever the page showed.
    pub fn admin() -> Result<(AppState, engine::access::Principal), AppError> {
        let state = state()?;
        let p = principal().ok_or(AppError::SignInRequired)?;
        if !p.role.can_change() {
            set_status(http::StatusCode::FORBIDDEN);
            return Err(AppError::Forbidden(format!(
                "{} is a {}: only admins change settings (ask an admin, or sign in as one)",
                p.name, p.role
            )));
        }
        Ok((state, p))
    }

    /// Writes a change to the audit log. The change is already made: a failure here is
    /// logged loudly rather than undoing it.
    pub async fn audit(state: &AppState, actor: &engine::access::Principal, action: &str, target: &str, detail: String) {
        let entry = engine::store::access::AuditEntry {
            id: 0,
            at_ms: now_ms(),
            actor: actor.name.clone(),
            action: action.to_owned(),
            target: target.to_owned(),
            detail,
        };
        if let Err(e) = state.store.access().record_audit(&entry).await {
            tracing::error!(action, target, "writing the audit log failed: {e}");
        }
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
            state: i.triage.state.as_str().to_owned(),
            suppressed_by: i.triage.suppressed_by.clone(),
        }
    }

    /// A stored record, pretty-printed, and its eventID.
    pub fn pretty(record: &str) -> (String, String) {
        let value: serde_json::Value = serde_json::from_str(record).unwrap_or_default();
        let id = value["eventID"].as_str().unwrap_or_default().to_owned();
        (serde_json::to_string_pretty(&value).unwrap_or_else(|_| record.to_owned()), id)
    }

    /// The zone the person asking shows times in (their `tz` cookie), for reading the times
    /// they typed and drawing graphs.
    pub fn request_zone() -> crate::format::Zone {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.headers.get(http::header::COOKIE).and_then(|v| v.to_str().ok()).map(crate::format::Zone::from_cookie_header))
            .unwrap_or_default()
    }

    pub fn now_ms() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default()
    }

    /// An event for a list: its JSON cut to a preview (see [`EventRow::PREVIEW_CHARS`]).
    pub fn event_row(e: &engine::store::StoredEvent) -> EventRow {
        let mut row = full_event_row(e);
        if let Some((cut, _)) = row.json.char_indices().nth(EventRow::PREVIEW_CHARS) {
            row.json.truncate(cut);
            row.truncated = true;
        }
        row
    }

    /// An event with its whole record, for its own page.
    pub fn full_event_row(e: &engine::store::StoredEvent) -> EventRow {
        let r = &e.record;
        EventRow {
            event_id: r.event_id.clone(),
            trail: e.trail.clone(),
            event_time: engine::time::format_millis(r.event_time_ms),
            event_name: r.event_name.clone(),
            event_source: r.event_source.clone(),
            user: r.user_name.clone().or_else(|| r.user_arn.clone()).unwrap_or_default(),
            error_code: r.error_code.clone(),
            read_only: !r.is_write,
            resources: r.resources.iter().map(|(_, name)| name.clone()).collect(),
            source_ip: r.source_ip.clone(),
            access_key_id: r.access_key_id.clone(),
            json: pretty(&r.raw).0,
            truncated: false,
        }
    }

    /// `?before=` positions: `<time ms>_<row>`.
    pub fn encode_cursor(c: engine::store::EventCursor) -> String {
        format!("{}_{}", c.time_ms, c.row)
    }

    pub fn decode_cursor(text: &str) -> Option<engine::store::EventCursor> {
        let (time, row) = text.split_once('_')?;
        Some(engine::store::EventCursor { time_ms: time.parse().ok()?, row: row.parse().ok()? })
    }

    /// Lists one page of events (one more is fetched to know whether a next page exists).
    pub async fn events_page(
        store: &dyn engine::Store,
        mut query: engine::store::EventQuery,
        page_size: u32,
    ) -> Result<EventsPage, AppError> {
        query.limit = page_size + 1;
        let mut found = store.list_events(&query).await.map_err(internal)?;
        let more = found.len() > page_size as usize;
        found.truncate(page_size as usize);
        Ok(EventsPage {
            next: if more { found.last().map(|e| encode_cursor(e.cursor)) } else { None },
            rows: found.iter().map(event_row).collect(),
        })
    }

    pub fn trail_view(t: &engine::store::Trail) -> TrailView {
        use engine::store::InsightType;
        TrailView {
            name: t.name.clone(),
            call_rate: t.insight_types.contains(&InsightType::ApiCallRate),
            error_rate: t.insight_types.contains(&InsightType::ApiErrorRate),
            sensitivity: t.sensitivity.as_str().to_owned(),
            last_event_time: t.last_event_ms.map(engine::time::format_millis),
            logging: t.logging,
            keeps: t.event_selectors.describe(),
            drops: t.drops,
        }
    }
}

