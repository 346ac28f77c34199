//! HTTP push: `POST /api/v1/trails/{trail}/events` stores CloudTrail records sent by a
//! forwarder (a Lambda on the log bucket, Fluent Bit, curl).
//!
//! The body is any shape `ingest` reads (`{"Records":[...]}`, a bare array, one record per
//! line, a single record), plain or gzip (`Content-Encoding: gzip`, or simply gzip bytes).
//! The reply is the ingest summary as JSON: 200 when everything was stored, 422 when some
//! records were rejected (the others are stored; each rejection names its record index).
//! Re-sending a body is harmless: eventIDs are stored once per trail.
//!
//! Safety: bodies over the limit are refused with 413 before they are read whole, and so is
//! a gzip body that inflates past 16 times the limit. Who may push is decided before the
//! handler runs ([`crate::auth::guard`]): a token of role `push` or `admin` (or
//! `TRAILSIGHT_PUSH_TOKEN`), an admin's session, or the open loopback mode.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::Extension;
use engine::access::Principal;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use engine::ingest::source::{decompress_if_gzip, ReadError};

/// The route, relative to the server root.
pub const ROUTE: &str = "/api/v1/trails/{trail}/events";

/// The push endpoint's limits.
#[derive(Debug, Clone)]
pub struct PushConfig {
    /// The largest request body accepted, in bytes (compressed size for gzip bodies).
    pub max_body_bytes: usize,
}

impl PushConfig {
    /// From `TRAILSIGHT_PUSH_MAX_MB` (default 32).
    pub fn from_env() -> PushConfig {
        let max_mb: usize = std::env::var("TRAILSIGHT_PUSH_MAX_MB").ok().and_then(|m| m.parse().ok()).unwrap_or(32);
        PushConfig { max_body_bytes: max_mb << 20 }
    }
}

#[derive(Clone)]
struct PushState {
    store: Arc<dyn engine::Store>,
    config: Arc<PushConfig>,
}

/// The push route with its own state, to mount on the main router.
pub fn router(store: Arc<dyn engine::Store>, config: PushConfig) -> Router {
    let limit = config.max_body_bytes;
    Router::new()
        .route(ROUTE, post(push_events))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(PushState { store, config: Arc::new(config) })
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": message.into() }))).into_response()
}

/// The guard has resolved who is asking; only push and admin roles may store events.
fn authorize(principal: Option<&Principal>) -> Result<(), Response> {
    match principal {
        Some(p) if p.role.can_push() => Ok(()),
        Some(p) => Err(error(
            StatusCode::FORBIDDEN,
            format!("{} has the role {}: pushing events needs a token of role push or admin", p.name, p.role),
        )),
        None => Err(error(StatusCode::UNAUTHORIZED, "send Authorization: Bearer <token> (trailsight tokens create NAME --role push)")),
    }
}

async fn push_events(
    State(state): State<PushState>,
    // A map, not `Path<String>`: mounted with `route_service`, the route's parameter is
    // captured by both the outer and this router, and arrives twice.
    Path(params): Path<std::collections::HashMap<String, String>>,
    principal: Option<Extension<Principal>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let trail = params.get("trail").cloned().unwrap_or_default();
    if let Err(refused) = authorize(principal.as_ref().map(|p| &p.0)) {
        return refused;
    }
    if trail.is_empty() || trail.len() > 128 || trail.chars().any(char::is_control) {
        return error(StatusCode::BAD_REQUEST, "the trail name must be 1 to 128 printable characters");
    }
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("identity");
    if !matches!(encoding, "identity" | "gzip" | "x-gzip") {
        return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("Content-Encoding {encoding:?} is not supported: send plain JSON or gzip"));
    }
    if encoding != "identity" && !body.starts_with(&[0x1f, 0x8b]) {
        return error(StatusCode::BAD_REQUEST, "Content-Encoding says gzip but the body is not gzip data");
    }
    let max_inflated = state.config.max_body_bytes as u64 * 16;
    let plain = match decompress_if_gzip(body.to_vec(), max_inflated) {
        Ok(plain) => plain,
        Err(e @ ReadError::TooLarge { .. }) => return error(StatusCode::PAYLOAD_TOO_LARGE, format!("request body: {e}")),
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("request body: {e}")),
    };
    // Like `ingest --trail`, pushing to a new trail creates it with both insight types on.
    let stored = match state.store.ensure_trail(&trail).await {
        Ok(()) => engine::ingest::ingest_bytes(state.store.as_ref(), &trail, "request body", plain).await,
        Err(e) => Err(e),
    };
    match stored {
        Ok(summary) => {
            let status = if summary.rejections.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
            (status, Json(summary)).into_response()
        }
        Err(e) => {
            tracing::error!(trail, "storing pushed events failed: {e}");
            error(StatusCode::INTERNAL_SERVER_ERROR, "the events could not be stored; the server log says why")
        }
    }
}
