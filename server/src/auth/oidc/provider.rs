//! The OpenID provider as trailsight uses it: discovered at start-up and again when its
//! keys change, the code exchanged for an ID token whose signature, issuer, audience, expiry
//! and nonce are checked (by the `openidconnect` crate), and the person's name and groups
//! read from it, or from the user info when the ID token leaves the groups out.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClaimsVerificationError, Client, ClientId, ClientSecret, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeVerifier,
    RedirectUrl, StandardErrorResponse, StandardTokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};

use super::http::Http;
use super::pending::cookie_key;
use crate::auth::roles::{claim_groups, RoleMapping};

/// The provider is read again for new keys at most this often.
const REDISCOVER_AFTER: Duration = Duration::from_secs(60);

/// What `serve`'s `--oidc-*` flags configure. (Its `Debug` leaves the secret out.)
#[derive(Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// The ID token claim holding the person's groups.
    pub role_claim: String,
    pub roles: RoleMapping,
    /// `--public-url` + [`super::CALLBACK`]: where the provider sends the browser back.
    pub redirect_url: url::Url,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .field("role_claim", &self.role_claim)
            .field("roles", &self.roles)
            .field("redirect_url", &self.redirect_url.as_str())
            .finish_non_exhaustive()
    }
}

/// The ID token's claims beyond the standard ones: kept whole, since the role claim's name
/// is configured.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub(super) struct OtherClaims(serde_json::Map<String, serde_json::Value>);
impl AdditionalClaims for OtherClaims {}

type TokenFields =
    IdTokenFields<OtherClaims, EmptyExtraTokenFields, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;
type TokenResponse = StandardTokenResponse<TokenFields, CoreTokenType>;
/// A client made from discovery: authorization and token endpoints known, user info maybe.
pub(super) type OidcClient = Client<
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
    pub(super) settings: OidcSettings,
    /// Replaced when the provider is discovered again (new signing keys).
    client: RwLock<Arc<OidcClient>>,
    /// When the provider was last discovered again (start-up's discovery does not count).
    rediscovered_at: Mutex<Option<Instant>>,
    pub(super) http: Http,
    pub(super) cookie_key: [u8; 32],
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

    pub(super) fn client(&self) -> Arc<OidcClient> {
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

/// Exchanges the code and checks the ID token; returns the person's name (e-mail, else the
/// subject) and the groups of the role claim (from the user info when the ID token has not
/// got it).
pub(super) async fn verified_identity(oidc: &Oidc, code: String, verifier: String, nonce: String) -> anyhow::Result<(String, Vec<String>)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_stays_out_of_debug_output() {
        let settings = OidcSettings {
            issuer: "http://idp".into(),
            client_id: "ts".into(),
            client_secret: "hunter2".into(),
            scopes: vec![],
            role_claim: "groups".into(),
            roles: RoleMapping::default(),
            redirect_url: "http://ts/auth/oidc/callback".parse().unwrap(),
        };
        let shown = format!("{settings:?}");
        assert!(shown.contains("http://idp") && !shown.contains("hunter2"), "{shown}");
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
