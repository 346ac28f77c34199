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
//! the core spec's letter do when an access token is issued too), mapped by [`RoleMapping`]; someone in none of the mapped groups is refused, with a page
//! that says why. The session is then created exactly as the password form creates one
//! ([`super::session::start`]), and the sign-in is written to the audit log.
//!
//! HTTP to the provider goes through `ureq` on the blocking pool (three calls: discovery, its
//! keys, the code exchange), never following redirects, as the crate asks of a client.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreResponseType,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AsyncHttpClient, AuthenticationFlow, AuthorizationCode, ClaimsVerificationError, Client, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest,
    HttpResponse, IdTokenFields, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    StandardErrorResponse, StandardTokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::login::local_path;
use super::roles::{claim_groups, RoleMapping};
use super::{session, Access};

pub const START: &str = "/auth/oidc/start";
pub const CALLBACK: &str = "/auth/oidc/callback";
const COOKIE: &str = "trailsight_oidc";
/// How long a person may take at the provider before the sign-in must start again.
const PENDING_FOR: Duration = Duration::from_secs(10 * 60);
/// Bounds on the provider's answers (a discovery document, keys, a token response).
const MAX_RESPONSE_BYTES: u64 = 1 << 20;
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);
/// The provider is read again for new keys at most this often.
const REDISCOVER_AFTER: Duration = Duration::from_secs(60);

/// What `serve`'s `--oidc-*` flags configure.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// The ID token claim holding the person's groups.
    pub role_claim: String,
    pub roles: RoleMapping,
    /// `--public-url` + [`CALLBACK`]: where the provider sends the browser back.
    pub redirect_url: url::Url,
}

/// The ID token's claims beyond the standard ones: kept whole, since the role claim's name
/// is configured.
#[derive(Debug, Clone, Deserialize, Serialize)]
struct OtherClaims(serde_json::Map<String, serde_json::Value>);
impl AdditionalClaims for OtherClaims {}

type TokenFields =
    IdTokenFields<OtherClaims, EmptyExtraTokenFields, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;
type TokenResponse = StandardTokenResponse<TokenFields, CoreTokenType>;
/// A client made from discovery: authorization and token endpoints known, user info maybe.
type OidcClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A discovered provider and how its answers become trailsight roles.
pub struct Oidc {
    settings: OidcSettings,
    /// Replaced when the provider is discovered again (new signing keys).
    client: RwLock<Arc<OidcClient>>,
    /// When the provider was last discovered again (start-up's discovery does not count).
    rediscovered_at: Mutex<Option<Instant>>,
    http: Http,
    cookie_key: [u8; 32],
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc").field("issuer", &self.settings.issuer).finish_non_exhaustive()
    }
}

impl Oidc {
    /// Reads the provider's discovery document and keys; fails naming the issuer when it
    /// cannot be reached or does not describe itself as that issuer.
    pub async fn discover(settings: OidcSettings) -> anyhow::Result<Oidc> {
        let http = Http::new();
        let client = discover_client(&settings, &http).await?;
        Ok(Oidc {
            cookie_key: cookie_key(&settings.client_secret),
            settings,
            client: RwLock::new(Arc::new(client)),
            rediscovered_at: Mutex::new(None),
            http,
        })
    }

    /// The sign-in page's button: "Sign in with <the issuer's host>".
    pub fn button_label(&self) -> String {
        let issuer = &self.settings.issuer;
        let host = url::Url::parse(issuer).ok().and_then(|u| u.host_str().map(str::to_owned));
        format!("Sign in with {}", host.as_deref().unwrap_or(issuer))
    }

    fn client(&self) -> Arc<OidcClient> {
        self.client.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Discovers the provider again (for keys published since), unless that was done less
    /// than [`REDISCOVER_AFTER`] ago (a provider that is down is not asked on every
    /// sign-in); returns whether there is a new client to try.
    async fn rediscover(&self) -> bool {
        {
            let mut at = self.rediscovered_at.lock().unwrap_or_else(|e| e.into_inner());
            if at.is_some_and(|at| at.elapsed() < REDISCOVER_AFTER) {
                return false;
            }
            *at = Some(Instant::now());
        }
        match discover_client(&self.settings, &self.http).await {
            Ok(client) => {
                *self.client.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(client);
                tracing::info!(issuer = self.settings.issuer, "the OpenID provider's keys were read again");
                true
            }
            Err(e) => {
                tracing::error!("{e:#}");
                false
            }
        }
    }
}

async fn discover_client(settings: &OidcSettings, http: &Http) -> anyhow::Result<OidcClient> {
    let issuer = IssuerUrl::new(settings.issuer.clone()).with_context(|| format!("--oidc-issuer {:?} is not a URL", settings.issuer))?;
    let metadata = CoreProviderMetadata::discover_async(issuer, http).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot use the OpenID provider {} (--oidc-issuer): reading {}/.well-known/openid-configuration and its keys failed: {}",
            settings.issuer,
            settings.issuer.trim_end_matches('/'),
            error_chain(&e)
        )
    })?;
    Ok(OidcClient::from_provider_metadata(
        metadata,
        ClientId::new(settings.client_id.clone()),
        Some(ClientSecret::new(settings.client_secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::from_url(settings.redirect_url.clone())))
}

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

/// What the browser carries between start and callback (sealed, see [`seal`]).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
    expires_ms: i64,
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
    let cookie = format!(
        "{COOKIE}={}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age={}{}",
        seal(&s.oidc.cookie_key, &pending),
        PENDING_FOR.as_secs(),
        if s.access.settings.secure_cookies { "; Secure" } else { "" }
    );
    let mut response = Redirect::to(url.as_str()).into_response();
    response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("base64url is a valid header"));
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
    let Some(pending) = pending_cookie(&headers).and_then(|c| unseal(&s.oidc.cookie_key, &c)).filter(|p| p.expires_ms > now_ms) else {
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
    let (name, groups) = match verified_identity(&s.oidc, code, pending.verifier, pending.nonce).await {
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
    response.headers_mut().append(header::SET_COOKIE, clear_pending_cookie(s.access.settings.secure_cookies));
    response
}

/// Exchanges the code and checks the ID token; returns the person's name (e-mail, else the
/// subject) and the groups of the role claim (from the user info when the ID token has not
/// got it).
async fn verified_identity(oidc: &Oidc, code: String, verifier: String, nonce: String) -> anyhow::Result<(String, Vec<String>)> {
    let client = oidc.client();
    let token = client
        .exchange_code(AuthorizationCode::new(code))?
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&oidc.http)
        .await
        .map_err(|e| anyhow::anyhow!("exchanging the code: {}", error_chain(&e)))?;
    let id_token = openidconnect::TokenResponse::id_token(&token).context("the token response has no ID token")?;
    let nonce = Nonce::new(nonce);
    let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
        // Most likely signed with a key published after discovery (the provider has rotated
        // its keys, under a new key ID or, with some providers, the same one). The token came
        // straight from the provider's token endpoint, so checking it again is safe.
        Err(ClaimsVerificationError::SignatureVerification(_)) if oidc.rediscover().await => {
            id_token.claims(&oidc.client().id_token_verifier(), &nonce)
        }
        checked => checked,
    }
    .map_err(|e| anyhow::anyhow!("the ID token is not valid: {}", error_chain(&e)))?;
    let role_claim = &oidc.settings.role_claim;
    let mut email = verified_email(claims.email(), claims.email_verified());
    let mut groups = groups_in(&claims.additional_claims().0, role_claim);
    if groups.is_none() {
        // Not in the ID token: ask the user info endpoint (for this subject only), if any.
        if let Ok(request) = client.user_info(token.access_token().clone(), Some(claims.subject().clone())) {
            let info: UserInfoClaims<OtherClaims, CoreGenderClaim> = request
                .request_async(&oidc.http)
                .await
                .map_err(|e| anyhow::anyhow!("reading the user info for {role_claim:?}: {}", error_chain(&e)))?;
            groups = groups_in(&info.additional_claims().0, role_claim);
            email = email.or_else(|| verified_email(info.email(), info.email_verified()));
        }
    }
    let name = email.unwrap_or_else(|| claims.subject().as_str().to_owned());
    Ok((name, groups.unwrap_or_default()))
}

/// The e-mail address, unless the provider says it is unverified: the person's name in
/// trailsight (else the subject).
fn verified_email(email: Option<&openidconnect::EndUserEmail>, verified: Option<bool>) -> Option<String> {
    email.filter(|_| verified != Some(false)).map(|e| e.as_str().to_owned())
}

/// The groups of the role claim, `None` when the claim is absent.
fn groups_in(claims: &serde_json::Map<String, serde_json::Value>, role_claim: &str) -> Option<Vec<String>> {
    claims.get(role_claim).map(|v| claim_groups(v).into_iter().map(str::to_owned).collect())
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

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

// --- the pending sign-in cookie ----------------------------------------------------------

type HmacSha256 = Hmac<Sha256>;

/// The sealing key, derived from the client secret (one secret to configure, shared by
/// every server of the deployment).
fn cookie_key(client_secret: &str) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(client_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(b"trailsight oidc pending sign-in cookie v1");
    mac.finalize().into_bytes().into()
}

/// `base64url(json).base64url(hmac)`.
fn seal(key: &[u8; 32], pending: &Pending) -> String {
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(pending).expect("plain strings serialise"));
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(body.as_bytes());
    format!("{body}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// The sealed value, if its HMAC is right (compared in constant time).
fn unseal(key: &[u8; 32], cookie: &str) -> Option<Pending> {
    let (body, tag) = cookie.split_once('.')?;
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(body.as_bytes());
    mac.verify_slice(&URL_SAFE_NO_PAD.decode(tag).ok()?).ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()
}

fn pending_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn clear_pending_cookie(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{COOKIE}=; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=0{secure}"))
        .expect("a fixed cookie is a valid header")
}

// --- HTTP to the provider ----------------------------------------------------------------

/// The failure of one call to the provider.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(transparent)]
    Request(#[from] ureq::Error),
    #[error("the request to the OpenID provider was cancelled")]
    Cancelled,
}

/// `openidconnect`'s async HTTP client on `ureq`: each call runs on the blocking pool.
/// Redirects are not followed (the crate's requirement: a redirect must not carry the
/// client's credentials elsewhere), and non-2xx answers are handed to the crate to read.
#[derive(Clone)]
struct Http(ureq::Agent);

impl Http {
    fn new() -> Http {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(HTTP_TIMEOUT))
            .user_agent(concat!("trailsight/", env!("CARGO_PKG_VERSION")))
            .build();
        Http(config.into())
    }
}

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        let agent = self.0.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let (parts, mut body) = agent.run(request)?.into_parts();
                let bytes = body.with_config().limit(MAX_RESPONSE_BYTES).read_to_vec()?;
                Ok(HttpResponse::from_parts(parts, bytes))
            })
            .await
            .map_err(|_| HttpError::Cancelled)?
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> Pending {
        Pending { state: "s".into(), nonce: "n".into(), verifier: "v".into(), next: "/settings".into(), expires_ms: 1 }
    }

    #[test]
    fn a_sealed_cookie_opens_only_unchanged_and_with_the_same_key() {
        let key = cookie_key("secret");
        let sealed = seal(&key, &pending());
        assert_eq!(unseal(&key, &sealed), Some(pending()));
        assert_eq!(unseal(&cookie_key("other secret"), &sealed), None);
        let (body, tag) = sealed.split_once('.').unwrap();
        let mut forged = pending();
        forged.next = "/access".into();
        let forged_body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(unseal(&key, &format!("{forged_body}.{tag}")), None);
        assert_eq!(unseal(&key, body), None);
        assert_eq!(unseal(&key, "garbage"), None);
    }

    #[test]
    fn problem_pages_escape_what_the_provider_said() {
        assert_eq!(escape_html("<script>\"x\"&'"), "&lt;script&gt;&quot;x&quot;&amp;&#39;");
    }

    #[tokio::test]
    async fn an_unreachable_provider_is_named_in_the_error() {
        // A port nothing listens on: bind one, then close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let issuer = format!("http://127.0.0.1:{port}");
        let settings = OidcSettings {
            issuer: issuer.clone(),
            client_id: "trailsight".into(),
            client_secret: "s".into(),
            scopes: vec![],
            role_claim: "groups".into(),
            roles: RoleMapping::default(),
            redirect_url: "http://127.0.0.1:3000/auth/oidc/callback".parse().unwrap(),
        };
        let error = Oidc::discover(settings).await.unwrap_err().to_string();
        assert!(error.contains(&issuer) && error.contains("--oidc-issuer"), "{error}");
    }
}
