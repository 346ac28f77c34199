//! The pending sign-in: what the browser carries between `/auth/oidc/start` and the
//! callback (state, nonce, PKCE verifier, the page to return to), in a short-lived cookie
//! sealed with an HMAC. Nothing is kept on the server, so any server of the deployment can
//! finish a sign-in another one started; the key is derived from the client secret, so no
//! one without it can forge a cookie. The cookie is `HttpOnly`, `SameSite=Lax` (it must come
//! back on the provider's top-level redirect), limited to `/auth/oidc`, and `Secure` over TLS.

use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

const COOKIE: &str = "trailsight_oidc";
/// How long a person may take at the provider before the sign-in must start again.
pub(super) const PENDING_FOR: Duration = Duration::from_secs(10 * 60);

type HmacSha256 = Hmac<Sha256>;

/// What the browser carries between start and callback.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Pending {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    pub next: String,
    pub expires_ms: i64,
}

/// The sealing key, derived from the client secret (one secret to configure, shared by
/// every server of the deployment).
pub(super) fn cookie_key(client_secret: &str) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(client_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(b"trailsight oidc pending sign-in cookie v1");
    mac.finalize().into_bytes().into()
}

/// The `Set-Cookie` header handing `pending` to the browser.
pub(super) fn set_cookie(key: &[u8; 32], pending: &Pending, secure: bool) -> HeaderValue {
    let cookie = format!(
        "{COOKIE}={}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age={}{}",
        seal(key, pending),
        PENDING_FOR.as_secs(),
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&cookie).expect("base64url is a valid header")
}

/// The request's pending sign-in, if its cookie is there, unchanged and not expired.
pub(super) fn read(key: &[u8; 32], headers: &HeaderMap, now_ms: i64) -> Option<Pending> {
    let value = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())?;
    unseal(key, &value).filter(|p| p.expires_ms > now_ms)
}

/// The `Set-Cookie` header that removes the cookie once the sign-in is done.
pub(super) fn clear_cookie(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{COOKIE}=; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=0{secure}"))
        .expect("a fixed cookie is a valid header")
}

/// `base64url(json).base64url(hmac)`.
pub(super) fn seal(key: &[u8; 32], pending: &Pending) -> String {
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(pending).expect("plain strings serialise"));
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(body.as_bytes());
    format!("{body}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// The sealed value, if its HMAC is right (compared in constant time).
pub(super) fn unseal(key: &[u8; 32], cookie: &str) -> Option<Pending> {
    let (body, tag) = cookie.split_once('.')?;
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(body.as_bytes());
    mac.verify_slice(&URL_SAFE_NO_PAD.decode(tag).ok()?).ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()
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
    fn the_cookie_is_read_back_until_it_expires() {
        let key = cookie_key("secret");
        let set = set_cookie(&key, &pending(), true);
        let set = set.to_str().unwrap();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.ends_with("; Secure"), "{set}");
        let mut headers = HeaderMap::new();
        let pair = set.split(';').next().unwrap();
        headers.insert(header::COOKIE, HeaderValue::from_str(&format!("a=1; {pair}")).unwrap());
        assert_eq!(read(&key, &headers, 0), Some(pending()));
        assert_eq!(read(&key, &headers, 1), None, "expired");
    }
}
