//! Who is asking: every request is resolved to an [`engine::access::Principal`] before it
//! reaches a page, a download, a server function or the push endpoint.
//!
//! - [`guard`] is the axum middleware: it finds the principal (a bearer token, a session
//!   cookie, a trusted proxy's header, or the open loopback mode), refuses requests that
//!   have none (pages redirect to `/login`, the rest answer 401), keeps push-only tokens to
//!   the push endpoint, and puts the principal in the request's extensions, where server
//!   functions read it (`app::api::server::principal`) and check the role themselves.
//! - [`session`]: the session cookie and creating sessions (password login and single sign-on
//!   both end there).
//! - [`login`]: `POST /login` and `POST /logout`, with failed-login rate limiting.
//! - [`oidc`]: single sign-on with an OpenID provider (`/auth/oidc/start`, `/auth/oidc/callback`).
//! - [`roles`]: roles from an identity provider's groups (single sign-on and the proxy's header).
//! - [`origin`]: refusing cross-site writes and unknown `Host` names (DNS rebinding).
//!
//! The AWS API on `POST /` is outside the guard: SigV4 is its authentication.

pub mod login;
pub mod oidc;
pub mod origin;
pub mod roles;
pub mod session;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use engine::access::{digest, Principal, Role, Via};
use engine::store::access::SessionLimits;

/// When a request needs someone signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    /// Open on a loopback address (a one-person install), sign-in required on any other.
    Auto,
    /// Sign-in required everywhere, loopback included.
    Required,
}

/// A reverse proxy that has already signed people in (oauth2-proxy, a corporate gateway) and
/// names them in a header. Only requests from its addresses are trusted with that header.
#[derive(Debug, Clone)]
pub struct ProxyAuth {
    /// The header carrying the user's name or e-mail, e.g. `X-Forwarded-Email`.
    pub user_header: header::HeaderName,
    /// The proxy's addresses; the header from anyone else is refused.
    pub allowed: Vec<IpAddr>,
    /// The role of users the proxy names, when it does not send their groups.
    pub role: Role,
    /// The header carrying the user's groups (comma-separated), e.g. `X-Forwarded-Groups`;
    /// when set, the role comes from the groups through `roles`, and someone in none of its
    /// groups is refused.
    pub role_header: Option<header::HeaderName>,
    pub roles: roles::RoleMapping,
}

impl ProxyAuth {
    /// The role of the user the proxy named in `headers`, if they have one.
    fn role_in(&self, headers: &HeaderMap) -> Option<Role> {
        let Some(role_header) = &self.role_header else { return Some(self.role) };
        let groups = headers.get_all(role_header).iter().filter_map(|v| v.to_str().ok()).flat_map(roles::header_groups);
        self.roles.role_of(groups)
    }
}

/// How the server decides who is asking.
#[derive(Debug, Clone)]
pub struct AccessSettings {
    pub mode: AuthMode,
    /// Whether the server listens only on loopback addresses.
    pub loopback: bool,
    /// Sessions' idle and absolute lifetimes.
    pub limits: SessionLimits,
    /// Whether the server is reached over TLS (directly or behind a TLS proxy, as
    /// `--public-url https://...` says): session cookies are then `Secure`.
    pub secure_cookies: bool,
    /// `TRAILSIGHT_PUSH_TOKEN`: a push-only token configured in the environment, kept
    /// working beside the tokens made with `trailsight tokens create`.
    pub push_token: Option<String>,
    pub proxy: Option<ProxyAuth>,
}

impl AccessSettings {
    /// The defaults for a server on `addr`: open if it is loopback, 12-hour idle and 7-day
    /// absolute session lifetimes.
    pub fn for_addr(addr: SocketAddr) -> AccessSettings {
        AccessSettings {
            mode: AuthMode::Auto,
            loopback: addr.ip().is_loopback(),
            limits: SessionLimits { idle_ms: 12 * 3_600_000, max_ms: 7 * 24 * 3_600_000 },
            secure_cookies: false,
            push_token: None,
            proxy: None,
        }
    }

    /// Whether a request with no credentials acts as the local admin.
    pub fn open(&self) -> bool {
        self.mode == AuthMode::Auto && self.loopback
    }
}

/// What the guard and the login routes share.
pub struct Access {
    pub store: Arc<dyn engine::Store>,
    pub settings: AccessSettings,
    pub failures: login::FailedLogins,
}

impl Access {
    pub fn new(store: Arc<dyn engine::Store>, settings: AccessSettings) -> Arc<Access> {
        Arc::new(Access { store, settings, failures: login::FailedLogins::default() })
    }
}

/// Paths anyone may fetch: the health check, the sign-in page and its form, static assets.
fn is_public(method: &Method, path: &str) -> bool {
    matches!(path, "/healthz" | "/login" | "/style.css" | "/favicon.ico" | "/favicon.svg")
        || path.starts_with("/pkg/")
        || path.starts_with("/auth/")
        || (method == Method::POST && path == "/logout")
}

/// CloudTrail's API (AWS JSON 1.1 posts to `/`): authenticated by SigV4 in its handler.
fn is_aws_api(method: &Method, path: &str, headers: &HeaderMap) -> bool {
    method == Method::POST && path == "/" && headers.contains_key("x-amz-target")
}

/// Why a request was refused.
#[derive(Debug)]
pub enum Refusal {
    /// Credentials were sent but are not valid.
    BadCredentials(&'static str),
    /// A proxy identity header from an address that is not the trusted proxy.
    UntrustedProxy(IpAddr),
    /// The trusted proxy named someone whose groups give no role.
    NoRole(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::BadCredentials(why) => (StatusCode::UNAUTHORIZED, why).into_response(),
            Refusal::UntrustedProxy(ip) => (
                StatusCode::FORBIDDEN,
                format!("an identity header came from {ip}, which is not the trusted proxy (--auth-proxy-allow)"),
            )
                .into_response(),
            Refusal::NoRole(user) => (
                StatusCode::FORBIDDEN,
                format!("{user} is not in a group that may use trailsight (--oidc-admin-values, --oidc-viewer-values)"),
            )
                .into_response(),
        }
    }
}

/// The principal a request proves, if any.
pub async fn resolve(access: &Access, headers: &HeaderMap, peer: Option<IpAddr>) -> Result<Option<Principal>, Refusal> {
    let now_ms = chrono::Utc::now().timestamp_millis();
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let Some(token) = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim) else {
            return Err(Refusal::BadCredentials("the Authorization header must be `Bearer <token>`"));
        };
        if let Some(expected) = &access.settings.push_token {
            if same_secret(token.as_bytes(), expected.as_bytes()) {
                return Ok(Some(Principal { name: "TRAILSIGHT_PUSH_TOKEN".to_owned(), role: Role::Push, via: Via::Token }));
            }
        }
        let found = access.store.access().token_by_secret(&digest(token), now_ms).await.map_err(|e| {
            tracing::error!("looking up a token: {e}");
            Refusal::BadCredentials("the token could not be checked; the server log says why")
        })?;
        return match found {
            Some(t) => Ok(Some(Principal { name: t.name, role: t.role, via: Via::Token })),
            None => Err(Refusal::BadCredentials("unknown or revoked token: create one with `trailsight tokens create`")),
        };
    }
    if let Some(proxy) = &access.settings.proxy {
        if let Some(user) = headers.get(&proxy.user_header).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty()) {
            return match peer {
                Some(ip) if proxy.allowed.contains(&ip) => match proxy.role_in(headers) {
                    Some(role) => Ok(Some(Principal { name: user.to_owned(), role, via: Via::Proxy })),
                    None => Err(Refusal::NoRole(user.to_owned())),
                },
                Some(ip) => Err(Refusal::UntrustedProxy(ip)),
                None => Err(Refusal::BadCredentials("an identity header from an unknown address is not trusted")),
            };
        }
    }
    if let Some(id) = session::cookie_value(headers) {
        let found = access.store.access().session(&digest(&id), now_ms, access.settings.limits).await.map_err(|e| {
            tracing::error!("looking up a session: {e}");
            Refusal::BadCredentials("the session could not be checked; the server log says why")
        })?;
        if let Some(s) = found {
            return Ok(Some(Principal { name: s.user, role: s.role, via: Via::Session }));
        }
        // An expired or unknown cookie is simply no session: the person signs in again.
    }
    Ok(None)
}

/// Compares without stopping at the first difference, so timing does not reveal a secret.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len() && given.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// The peer address the listener recorded (absent when a test drives the router directly).
pub fn peer_ip(request: &Request) -> Option<IpAddr> {
    request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

/// The middleware: see the module documentation.
pub async fn guard(State(access): State<Arc<Access>>, mut request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    if is_public(&method, &path) || is_aws_api(&method, &path, request.headers()) {
        return next.run(request).await;
    }
    let principal = match resolve(&access, request.headers(), peer_ip(&request)).await {
        Ok(Some(p)) => p,
        Ok(None) if access.settings.open() => Principal::open(),
        Ok(None) => return sign_in_first(&method, &request),
        Err(refusal) => return refusal.into_response(),
    };
    let is_push = method == Method::POST && path.starts_with("/api/v1/trails/");
    if !principal.role.can_read() && !is_push {
        return (StatusCode::FORBIDDEN, "this token may only push events (role push)").into_response();
    }
    request.extensions_mut().insert(principal);
    next.run(request).await
}

/// No one is signed in: people reading pages are sent to the sign-in page (and back after);
/// scripts get a 401 that says what to send.
fn sign_in_first(method: &Method, request: &Request) -> Response {
    let wants_page = method == Method::GET
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
    if wants_page {
        let next = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
        return Redirect::to(&format!("/login?next={}", login::encode_component(next))).into_response();
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "sign in at /login, or send Authorization: Bearer <token> (trailsight tokens create)",
    )
        .into_response()
}
