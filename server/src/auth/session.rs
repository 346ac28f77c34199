//! The session cookie. Its value is a random 256-bit secret; the database keeps only its
//! SHA-256 ([`engine::access::digest`]), so a copy of the database signs no one in.
//!
//! The cookie is `HttpOnly` (no script reads it), `SameSite=Lax` (not sent on cross-site
//! posts), `Path=/`, and over TLS `Secure` with the `__Host-` prefix (the browser then
//! refuses it from plain HTTP or another subdomain). It carries no `Max-Age`: the server ends
//! sessions (idle and absolute limits, sign-out, password change), and the browser drops the
//! cookie when it closes.

use axum::http::{header, HeaderMap, HeaderValue};
use engine::access::{digest, new_secret, Role};

const PLAIN_NAME: &str = "trailsight_session";
const SECURE_NAME: &str = "__Host-trailsight_session";

/// The session cookie's value, under either name.
pub fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == PLAIN_NAME || *name == SECURE_NAME)
        .map(|(_, value)| value.to_owned())
}

/// Stores a new session for `user` and returns the `Set-Cookie` header that hands it over.
pub async fn start(
    store: &dyn engine::Store,
    user: &str,
    role: Role,
    secure: bool,
) -> engine::store::Result<HeaderValue> {
    let secret = new_secret();
    let now_ms = chrono::Utc::now().timestamp_millis();
    store.access().create_session(&digest(&secret), user, role, now_ms).await?;
    Ok(set_cookie(&secret, secure))
}

/// Ends the request's session, if any, and returns the header that clears the cookie.
pub async fn end(store: &dyn engine::Store, headers: &HeaderMap, secure: bool) -> HeaderValue {
    if let Some(secret) = cookie_value(headers) {
        if let Err(e) = store.access().end_session(&digest(&secret)).await {
            tracing::error!("ending a session: {e}");
        }
    }
    let name = if secure { SECURE_NAME } else { PLAIN_NAME };
    let attributes = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{attributes}"))
        .expect("a fixed cookie is a valid header")
}

/// Deletes expired sessions every `every` (sessions also expire on use; this keeps the table
/// from growing with abandoned ones).
pub async fn purge_every(store: std::sync::Arc<dyn engine::Store>, limits: engine::store::access::SessionLimits, every: std::time::Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match store.access().purge_sessions(chrono::Utc::now().timestamp_millis(), limits).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "expired sessions removed"),
            Err(e) => tracing::error!("removing expired sessions failed: {e}"),
        }
    }
}

fn set_cookie(secret: &str, secure: bool) -> HeaderValue {
    let cookie = if secure {
        format!("{SECURE_NAME}={secret}; Path=/; HttpOnly; SameSite=Lax; Secure")
    } else {
        format!("{PLAIN_NAME}={secret}; Path=/; HttpOnly; SameSite=Lax")
    };
    HeaderValue::from_str(&cookie).expect("base64url secrets are valid in a header")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_found_among_others_and_has_the_safe_attributes() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; trailsight_session=abc; b=2"));
        assert_eq!(cookie_value(&headers).as_deref(), Some("abc"));
        let plain = set_cookie("abc", false);
        assert_eq!(plain.to_str().unwrap(), "trailsight_session=abc; Path=/; HttpOnly; SameSite=Lax");
        let secure = set_cookie("abc", true);
        assert!(secure.to_str().unwrap().starts_with("__Host-trailsight_session=abc;"));
        assert!(secure.to_str().unwrap().ends_with("; Secure"));
    }
}
