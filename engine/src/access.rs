//! Who may do what: the roles, the principal a request acts as, and the secrets that prove
//! it (random session and token values, argon2id password hashes).
//!
//! The web server resolves every request to a [`Principal`] (from a session cookie, a bearer
//! token, an AWS access key, a trusted proxy's header, or the open loopback mode) and the
//! pages and server functions ask it [`Role::can_read`] / [`Role::can_change`]. Nothing here
//! knows HTTP; the storage lives in [`crate::store::access`].

use serde::{Deserialize, Serialize};

/// What a user or token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Every page, the downloads, the read-only APIs.
    Viewer,
    /// Everything a viewer may, and every change: trails, insight settings, users, tokens.
    Admin,
    /// Only `POST /api/v1/trails/<trail>/events`: for log forwarders.
    Push,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Admin, Role::Push];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Admin => "admin",
            Role::Push => "push",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Pages, downloads and read APIs.
    pub fn can_read(self) -> bool {
        matches!(self, Role::Viewer | Role::Admin)
    }

    /// Any change of stored settings, users or tokens.
    pub fn can_change(self) -> bool {
        self == Role::Admin
    }

    /// Storing events through the push endpoint.
    pub fn can_push(self) -> bool {
        matches!(self, Role::Push | Role::Admin)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a principal proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// Nobody signed in: the server runs open on loopback for a one-person install.
    Open,
    /// A session cookie from `/login` or single sign-on.
    Session,
    /// `Authorization: Bearer <token>`.
    Token,
    /// A SigV4-signed AWS API call.
    AwsKey,
    /// A trusted reverse proxy's identity header.
    Proxy,
}

/// Who a request acts as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The user, token or key name; `local` in open mode.
    pub name: String,
    pub role: Role,
    pub via: Via,
}

impl Principal {
    /// The principal of every request when the server runs open on loopback.
    pub fn open() -> Principal {
        Principal { name: "local".to_owned(), role: Role::Admin, via: Via::Open }
    }
}

/// A random secret of 32 bytes (256 bits), URL-safe base64: session cookies, API tokens.
pub fn new_secret() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `len` random characters from `alphabet` (for AWS-style access key IDs and secrets).
pub fn random_chars(alphabet: &[u8], len: usize) -> String {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    // 256 is a multiple of neither alphabet's length: reject the top of the range so every
    // character is equally likely.
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(len);
    let mut pool = bytes.into_iter();
    while out.len() < len {
        let b = match pool.next() {
            Some(b) => b as usize,
            None => {
                let mut one = [0u8; 1];
                getrandom::fill(&mut one).expect("the operating system's random source failed");
                one[0] as usize
            }
        };
        if b < limit {
            out.push(alphabet[b % alphabet.len()] as char);
        }
    }
    out
}

/// How stored sessions and tokens are looked up: the SHA-256 of the secret, in hex. A
/// database leak then gives no usable cookie or token; the secrets are random, so a fast
/// hash is enough (a password needs [`hash_password`]).
pub fn digest(secret: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The argon2id hash of a password, as a PHC string (salt and parameters included), with
/// the crate's default parameters (OWASP's recommended minimum: 19 MiB, 2 passes).
pub fn hash_password(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system's random source failed");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters accepts any password")
        .to_string()
}

/// Whether `password` matches a hash made by [`hash_password`]. A malformed hash matches
/// nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A password hash of nothing anyone can type, to spend the same time on unknown user names
/// as on known ones (so the login's timing does not tell which names exist).
pub fn dummy_password_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&new_secret()))
}

/// The shortest password accepted (NIST SP 800-63B's minimum for chosen passwords is 8).
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest: hashing cost grows with length, and a login form is untrusted input.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Checks a new password; the error says what to do.
pub fn check_password(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!("the password is {chars} characters long: use at least {MIN_PASSWORD_CHARS}"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!("the password is {chars} characters long: use at most {MAX_PASSWORD_CHARS}"));
    }
    Ok(())
}

/// Checks a user or token name: 1 to 64 letters, digits and `.`, `_`, `-`, `@` (so e-mail
/// addresses from single sign-on fit).
pub fn check_name(kind: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-@+".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a valid {kind} name: use 1 to 128 letters, digits, periods, underscores, dashes, @ or +"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery");
        assert!(hash.starts_with("$argon2id$"), "argon2id in PHC form: {hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("correct horse battery", "not a hash"));
        assert_ne!(hash, hash_password("correct horse battery"), "a fresh salt each time");
    }

    #[test]
    fn secrets_are_random_and_long() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "32 bytes in unpadded base64");
        assert_eq!(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "FIPS 180-2's SHA-256 example");
    }

    #[test]
    fn random_chars_come_from_the_alphabet() {
        let s = random_chars(b"AB", 64);
        assert_eq!(s.len(), 64);
        assert!(s.chars().all(|c| c == 'A' || c == 'B'));
        assert!(s.contains('A') && s.contains('B'), "both letters appear in 64 draws (fails with p = 2^-63)");
    }

    #[test]
    fn roles_allow_what_they_say() {
        assert!(Role::Admin.can_change() && Role::Admin.can_read() && Role::Admin.can_push());
        assert!(Role::Viewer.can_read() && !Role::Viewer.can_change() && !Role::Viewer.can_push());
        assert!(Role::Push.can_push() && !Role::Push.can_read() && !Role::Push.can_change());
        assert_eq!(Role::parse("viewer"), Some(Role::Viewer));
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn names_and_passwords_are_checked() {
        assert!(check_name("user", "alice@example.com").is_ok());
        assert!(check_name("user", "").is_err());
        assert!(check_name("user", "a b").is_err());
        assert!(check_password("short").unwrap_err().contains("at least 10"));
        assert!(check_password("long enough!").is_ok());
    }
}
