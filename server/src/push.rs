//! HTTP push: `POST /api/v1/trails/{trail}/events` stores CloudTrail records sent by a
//! forwarder (a Lambda on the log bucket, Fluent Bit, curl).
//!
//! The body is any shape `ingest` reads (`{"Records":[...]}`, a bare array, one record per
//! line, a single record), plain or gzip (`Content-Encoding: gzip`, or simply gzip bytes),
//! sent as `Content-Type: application/json` (or `application/x-ndjson`, any `+json`), or
//! gzip bytes as `application/gzip` or `application/octet-stream`; form types get 415. The
//! trail name follows the settings page's rule ([`engine::names::check_trail_name`]).
//! The reply is the ingest summary as JSON: 200 when everything was stored, 422 when some
//! records were rejected (the others are stored; each rejection names its record index).
//! Re-sending a body is harmless: eventIDs are stored once per trail. A trail that is not
//! logging (StopLogging, or made through the AWS API and not started yet) answers 409 with
//! what to do; the trail's event selectors decide which records are kept (the summary's
//! `not_selected` counts the rest).
//!
//! Safety: bodies over the limit are refused with 413 before they are read whole, and so is
//! a gzip body that inflates past 16 times the limit; a body is inflated once (gzip inside
//! gzip is a 400), and decompressing and parsing run on blocking threads, two bodies at a
//! time. Who may push is decided before the handler runs ([`crate::auth::guard`]): a token of
//! role `push` or `admin` (or `TRAILSIGHT_PUSH_TOKEN`), an admin's session, or the open
//! loopback mode.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::Extension;
use engine::access::Principal;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use engine::ingest::source::ReadError;

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
    /// Permits to decompress and parse a body: CPU work done on blocking threads, at most
    /// [`PARSING_AT_ONCE`] bodies at a time; more pushes wait for a permit.
    parsing: Arc<tokio::sync::Semaphore>,
}

/// How many pushed bodies are decompressed and parsed at once. Each may hold up to 16 times
/// the body limit in memory, and parsing is CPU-bound: two keep memory bounded and leave
/// the async runtime's threads to the dashboard.
const PARSING_AT_ONCE: usize = 2;

/// The push route with its own state, to mount on the main router.
pub fn router(store: Arc<dyn engine::Store>, config: PushConfig) -> Router {
    let limit = config.max_body_bytes;
    Router::new()
        .route(ROUTE, post(push_events))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(PushState {
            store,
            config: Arc::new(config),
            parsing: Arc::new(tokio::sync::Semaphore::new(PARSING_AT_ONCE)),
        })
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

/// A JSON type, or gzip bytes labelled as such: never a type an HTML form can send
/// (`application/x-www-form-urlencoded`, `multipart/form-data`, `text/plain`) or that a
/// cross-site `fetch` can send without a CORS preflight, so another site cannot make a
/// signed-in browser push events. (A missing Content-Type counts as such a type too: a
/// `fetch` of an untyped Blob sends none.)
fn check_content_type(headers: &HeaderMap, body: &[u8]) -> Result<(), Response> {
    let given = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = given.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let json = matches!(essence.as_str(), "application/json" | "application/x-ndjson" | "application/jsonl" | "application/json-seq")
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    let binary = matches!(essence.as_str(), "application/gzip" | "application/x-gzip" | "application/octet-stream");
    if json {
        Ok(())
    } else if binary && body.starts_with(&[0x1f, 0x8b]) {
        Ok(())
    } else if binary {
        Err(error(StatusCode::BAD_REQUEST, format!("Content-Type {essence} is accepted only for gzip data, and the body is not gzip: send JSON as application/json")))
    } else {
        let shown = if essence.is_empty() { "no Content-Type".to_owned() } else { format!("Content-Type {essence}") };
        Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("{shown} is not accepted: send Content-Type: application/json (or application/x-ndjson), or application/gzip for gzip data"),
        ))
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
    if let Err(e) = engine::names::check_trail_name(&trail) {
        return error(StatusCode::BAD_REQUEST, format!("trail: {e}"));
    }
    if let Err(refused) = check_content_type(&headers, &body) {
        return refused;
    }
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("identity");
    if !matches!(encoding, "identity" | "gzip" | "x-gzip") {
        return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("Content-Encoding {encoding:?} is not supported: send plain JSON or gzip"));
    }
    if encoding != "identity" && !body.starts_with(&[0x1f, 0x8b]) {
        return error(StatusCode::BAD_REQUEST, "Content-Encoding says gzip but the body is not gzip data");
    }
    // One limit for the one decompression: a body still gzip after it is refused, never
    // inflated again.
    let max_inflated = state.config.max_body_bytes as u64 * 16;
    let parsed = {
        let Ok(_permit) = state.parsing.clone().acquire_owned().await else {
            return error(StatusCode::SERVICE_UNAVAILABLE, "the server is shutting down; push again later");
        };
        match tokio::task::spawn_blocking(move || engine::ingest::parse_bytes(body.to_vec(), max_inflated)).await {
            Ok(parsed) => parsed,
            Err(e) => {
                tracing::error!(trail, "parsing a pushed body failed: {e}");
                return error(StatusCode::INTERNAL_SERVER_ERROR, "the body could not be parsed; the server log says why");
            }
        }
    };
    let parsed = match parsed {
        Err(ReadError::TooLarge { limit_mb, after }) => {
            // Not ingest's message: its advice (--max-file-mb) is a CLI flag; push has its own limit.
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body: larger than {limit_mb} MiB{after}; send smaller batches, or raise TRAILSIGHT_PUSH_MAX_MB on the server"),
            );
        }
        Err(e @ (ReadError::Gzip(_) | ReadError::NestedGzip | ReadError::Io(_))) => {
            return error(StatusCode::BAD_REQUEST, format!("request body: {e}"))
        }
        // Not a CloudTrail document: a rejection in the summary (422), as ingest reports it.
        other => other,
    };
    // Like `ingest --trail`, pushing to a new trail creates it with both insight types on;
    // a stopped trail (StopLogging) refuses the push, and its event selectors decide what
    // is kept.
    let stored = match engine::ingest::open_trail(state.store.as_ref(), &trail, false).await {
        Ok(selectors) => engine::ingest::ingest_parsed(state.store.as_ref(), &trail, &selectors, "request body", parsed).await,
        Err(e) => Err(e),
    };
    match stored {
        Ok(summary) => {
            let status = if summary.rejections.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
            (status, Json(summary)).into_response()
        }
        Err(e @ engine::StoreError::TrailStopped(_)) => error(StatusCode::CONFLICT, e.to_string()),
        Err(e) => {
            tracing::error!(trail, "storing pushed events failed: {e}");
            error(StatusCode::INTERNAL_SERVER_ERROR, "the events could not be stored; the server log says why")
        }
    }
}
