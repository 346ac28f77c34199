//! `POST /login` (the sign-in form, which works without JavaScript) and `POST /logout`.
//!
//! A wrong name or password sends the browser back to `/login` with one message for both
//! (so the form does not tell which names exist, and an unknown name costs the same argon2
//! work as a known one). Failed attempts are counted per user name and per client address
//! over a sliding window; past the limit the form answers 429 until the window has passed.
//! Password checks run on the blocking pool, at most [`CONCURRENT_CHECKS`] at a time, so a
//! flood of logins cannot starve page rendering.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use engine::access::{dummy_password_hash, verify_password, MAX_PASSWORD_CHARS};
use serde::Deserialize;
use tokio::sync::Semaphore;

use super::{peer_ip, session, Access};

/// Failed sign-ins allowed per user name, and per client address, within [`WINDOW`].
pub const MAX_FAILURES_PER_USER: usize = 5;
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
const CONCURRENT_CHECKS: usize = 4;

/// Recent failed sign-ins, by key (`user:NAME`, `ip:ADDRESS`). In memory: with several servers
/// each counts its own, which still bounds guessing to a few attempts per server per window.
pub struct FailedLogins {
    recent: Mutex<HashMap<String, VecDeque<Instant>>>,
    checks: Arc<Semaphore>,
}

impl Default for FailedLogins {
    fn default() -> Self {
        FailedLogins { recent: Mutex::new(HashMap::new()), checks: Arc::new(Semaphore::new(CONCURRENT_CHECKS)) }
    }
}

impl FailedLogins {
    /// How long until `key` may try again, if it has used up its `limit`.
    fn wait(&self, key: &str, limit: usize, now: Instant) -> Option<Duration> {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let times = recent.get_mut(key)?;
        while times.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            times.pop_front();
        }
        (times.len() >= limit).then(|| WINDOW - now.duration_since(times[0]))
    }

    fn note(&self, keys: &[&str], now: Instant) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded memory: forget keys whose failures have all aged out once the map grows.
        if recent.len() > 10_000 {
            recent.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
        for key in keys {
            recent.entry((*key).to_owned()).or_default().push_back(now);
        }
    }

    fn forget(&self, key: &str) {
        self.recent.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// Where to go after signing in: only a path on this server (never `//evil.example`).
pub fn local_path(next: &str) -> &str {
    let safe = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') && !next.chars().any(char::is_control);
    if safe { next } else { "/" }
}

/// Percent-encodes everything but unreserved characters (RFC 3986), for query values.
pub fn encode_component(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn back_to_form(error: &str, next: &str) -> Response {
    Redirect::to(&format!("/login?error={}&next={}", encode_component(error), encode_component(local_path(next)))).into_response()
}

pub async fn login(State(access): State<Arc<Access>>, request: Request) -> Response {
    let ip = peer_ip(&request).map(|ip| ip.to_string()).unwrap_or_else(|| "unknown".to_owned());
    let form = match <Form<LoginForm> as axum::extract::FromRequest<()>>::from_request(request, &()).await {
        Ok(Form::<LoginForm>(form)) => form,
        Err(rejection) => {
            return (StatusCode::BAD_REQUEST, format!("the sign-in form needs the fields username and password: {rejection}"))
                .into_response()
        }
    };
    let user_key = format!("user:{}", form.username);
    let ip_key = format!("ip:{ip}");
    let now = Instant::now();
    let wait = access
        .failures
        .wait(&user_key, MAX_FAILURES_PER_USER, now)
        .or_else(|| access.failures.wait(&ip_key, MAX_FAILURES_PER_ADDRESS, now));
    if let Some(wait) = wait {
        let minutes = wait.as_secs().div_ceil(60);
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, wait.as_secs().max(1).to_string())],
            format!("Too many failed sign-ins: try again in {minutes} minute(s)."),
        )
            .into_response();
    }
    let stored = match access.store.access().get_user(&form.username).await {
        Ok(found) => found,
        Err(e) => {
            tracing::error!("sign-in: reading the user: {e}");
            return (StatusCode::INTERNAL_SERVER_ERROR, "sign-in failed; the server log says why").into_response();
        }
    };
    let hash = stored.as_ref().map(|(_, hash)| hash.clone()).unwrap_or_else(|| dummy_password_hash().to_owned());
    let password = form.password.clone();
    let permit = access.failures.checks.clone().acquire_owned().await;
    let matches = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        password.chars().count() <= MAX_PASSWORD_CHARS && verify_password(&password, &hash)
    })
    .await
    .unwrap_or(false);
    let user = match stored {
        Some((user, _)) if matches => user,
        _ => {
            access.failures.note(&[&user_key, &ip_key], now);
            tracing::info!(user = form.username, ip, "failed sign-in");
            return back_to_form("Wrong user name or password.", &form.next);
        }
    };
    access.failures.forget(&user_key);
    match session::start(access.store.as_ref(), &user.name, user.role, access.settings.secure_cookies).await {
        Ok(cookie) => {
            tracing::info!(user = user.name, role = %user.role, ip, "signed in");
            ([(header::SET_COOKIE, cookie)], Redirect::to(local_path(&form.next))).into_response()
        }
        Err(e) => {
            tracing::error!("sign-in: storing the session: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "sign-in failed; the server log says why").into_response()
        }
    }
}

pub async fn logout(State(access): State<Arc<Access>>, headers: HeaderMap) -> Response {
    let cookie = session::end(access.store.as_ref(), &headers, access.settings.secure_cookies).await;
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path("/insights?trail=a"), "/insights?trail=a");
        for evil in ["//evil.example/x", "https://evil.example", "/\\evil.example", "", "javascript:alert(1)"] {
            assert_eq!(local_path(evil), "/", "{evil}");
        }
    }

    #[test]
    fn failures_are_limited_within_the_window_then_forgotten() {
        let failures = FailedLogins::default();
        let start = Instant::now();
        for i in 0..MAX_FAILURES_PER_USER {
            assert_eq!(failures.wait("user:a", MAX_FAILURES_PER_USER, start), None, "attempt {i}");
            failures.note(&["user:a"], start);
        }
        assert!(failures.wait("user:a", MAX_FAILURES_PER_USER, start).is_some());
        assert_eq!(failures.wait("user:b", MAX_FAILURES_PER_USER, start), None, "per user");
        assert_eq!(failures.wait("user:a", MAX_FAILURES_PER_USER, start + WINDOW), None, "the window passes");
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode_component("/a b?x=1&y"), "%2Fa%20b%3Fx%3D1%26y");
    }
}
