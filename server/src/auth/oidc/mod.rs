//! Single sign-on with OpenID Connect: `GET /auth/oidc/start` sends the browser to the
//! provider, `GET /auth/oidc/callback` brings it back, signed in.
//!
//! The authorization code flow with PKCE (S256), `state` and `nonce`, as the `openidconnect`
//! crate implements it: it checks the ID token's signature against the provider's published
//! keys, its issuer, audience, expiry and nonce. The provider is discovered once at start-up
//! (`serve` refuses to start, naming the issuer, when it cannot be reached), and again when
//! an ID token is signed with a key it did not publish then (providers rotate their keys),
//! at most once a minute.
//!
//! Between start and callback nothing is kept on the server: the state, nonce, PKCE verifier
//! and the page to return to travel in a short-lived `HttpOnly` cookie sealed with an HMAC
//! (keyed from the client secret, so several servers configured alike accept each other's
//! cookies and no one without the secret can forge one). The callback needs the cookie and
//! a matching `state`, so a code cannot be replayed into another person's browser.
//!
//! The role comes from one claim of the ID token (`--oidc-role-claim`, `groups` by default),
//! or of the provider's user info when the ID token leaves it out (as providers that follow
//! the core spec's letter do when an access token is issued too), mapped by
//! [`crate::auth::roles::RoleMapping`]; someone in none of the mapped groups is refused,
//! with a page that says why. The session is then created exactly as the password form
//! creates one ([`super::session::start`]), and the sign-in is written to the audit log.
//!
//! Layout: [`provider`] (discovery, the code exchange, the ID token's checks, name and
//! groups), [`pending`] (the sealed cookie between start and callback), [`http`] (the HTTP
//! client the crate uses, on `ureq`); this file holds the two routes.

mod http;
mod pending;
mod provider;

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use openidconnect::core::CoreResponseType;
use openidconnect::{AuthenticationFlow, CsrfToken, Nonce, PkceCodeChallenge, Scope};
use serde::Deserialize;

pub use http::HttpError;
use pending::{Pending, PENDING_FOR};
pub use provider::{Oidc, OidcSettings};

use super::login::local_path;
use super::{session, Access};

pub const START: &str = "/auth/oidc/start";
pub const CALLBACK: &str = "/auth/oidc/callback";

/// `/auth/oidc/start` and `/auth/oidc/callback`, for any router state.
pub fn routes<S: Clone + Send + Sync + 'static>(oidc: Arc<Oidc>, access: Arc<Access>) -> Router<S> {
    let state = SignOn { oidc, access };
    Router::new()
        .route(START, get(start).with_state(state.clone()))
        .route(CALLBACK, get(callback).with_state(state))
}

#[derive(Clone)]
struct SignOn {
    oidc: Arc<Oidc>,
    access: Arc<Access>,
}

#[derive(Deserialize)]
struct StartQuery {
    next: Option<String>,
}

async fn start(State(s): State<SignOn>, Query(query): Query<StartQuery>) -> Response {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let client = s.oidc.client();
    let mut request = client.authorize_url(
        AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for scope in &s.oidc.settings.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
    let pending = Pending {
        state: state.into_secret(),
        nonce: nonce.secret().clone(),
        verifier: verifier.into_secret(),
        next: local_path(query.next.as_deref().unwrap_or("/")).to_owned(),
        expires_ms: chrono::Utc::now().timestamp_millis() + PENDING_FOR.as_millis() as i64,
    };
    let cookie = pending::set_cookie(&s.oidc.cookie_key, &pending, s.access.settings.secure_cookies);
    let mut response = Redirect::to(url.as_str()).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(State(s): State<SignOn>, Query(query): Query<CallbackQuery>, headers: HeaderMap) -> Response {
    let now_ms = chrono::Utc::now().timestamp_millis();
    let Some(pending) = pending::read(&s.oidc.cookie_key, &headers, now_ms) else {
        return problem(StatusCode::BAD_REQUEST, "This sign-in has expired or was started in another browser. Please sign in again.");
    };
    if let Some(error) = query.error {
        let why = query.error_description.unwrap_or_default();
        tracing::info!(error, why, "the OpenID provider did not sign someone in");
        return problem(StatusCode::FORBIDDEN, &format!("The identity provider did not sign you in ({error}). {why}"));
    }
    let (Some(code), Some(state)) = (query.code, query.state) else {
        return problem(StatusCode::BAD_REQUEST, "The identity provider's answer had no code. Please sign in again.");
    };
    if !super::same_secret(state.as_bytes(), pending.state.as_bytes()) {
        return problem(StatusCode::BAD_REQUEST, "This sign-in does not match the one this browser started. Please sign in again.");
    }
    let (name, groups) = match provider::verified_identity(&s.oidc, code, pending.verifier, pending.nonce).await {
        Ok(identity) => identity,
        Err(e) => {
            tracing::error!("single sign-on with {} failed: {e}", s.oidc.settings.issuer);
            return problem(StatusCode::BAD_GATEWAY, "Signing in with the identity provider failed; the server log says why.");
        }
    };
    let Some(role) = s.oidc.settings.roles.role_of(groups.iter().map(String::as_str)) else {
        tracing::warn!(user = name, ?groups, claim = s.oidc.settings.role_claim, "single sign-on refused: no group maps to a role");
        return problem(
            StatusCode::FORBIDDEN,
            &format!(
                "You are signed in at the identity provider as {name}, but you are not in a group that may use trailsight. \
                 Ask an administrator to add you to one."
            ),
        );
    };
    let store = s.access.store.as_ref();
    let cookie = match session::start(store, &name, role, s.access.settings.secure_cookies).await {
        Ok(cookie) => cookie,
        Err(e) => {
            tracing::error!("single sign-on: storing the session: {e}");
            return problem(StatusCode::INTERNAL_SERVER_ERROR, "Signing in failed; the server log says why.");
        }
    };
    let entry = engine::store::access::AuditEntry {
        id: 0,
        at_ms: now_ms,
        actor: name.clone(),
        action: "user.sign_in".to_owned(),
        target: name.clone(),
        detail: format!("single sign-on with {} as {role}", s.oidc.settings.issuer),
    };
    if let Err(e) = store.access().record_audit(&entry).await {
        tracing::error!("single sign-on: writing the audit log: {e}");
    }
    tracing::info!(user = name, %role, issuer = s.oidc.settings.issuer, "signed in with single sign-on");
    let mut response = Redirect::to(local_path(&pending.next)).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response.headers_mut().append(header::SET_COOKIE, pending::clear_cookie(s.access.settings.secure_cookies));
    response
}

/// A small page for a sign-in that cannot go on, with the way back to `/login`.
fn problem(status: StatusCode, message: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in refused</title>\
         <link rel=\"stylesheet\" href=\"/style.css\"></head><body><main class=\"login\"><h1>trailsight</h1>\
         <p class=\"error\" role=\"alert\" data-testid=\"sso-error\">{}</p><p><a href=\"/login\">Back to sign-in</a></p>\
         </main></body></html>",
        escape_html(message)
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], page).into_response()
}

fn escape_html(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_pages_escape_what_the_provider_said() {
        assert_eq!(escape_html("<script>\"x\"&'"), "&lt;script&gt;&quot;x&quot;&amp;&#39;");
    }
}
