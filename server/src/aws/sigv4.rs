//! Verifying AWS Signature Version 4 on incoming requests, as CloudTrail does.
//!
//! The client (aws CLI, boto3, any SDK) signs a canonical form of the request with a key
//! derived from its secret; we rebuild the same canonical form from what we received (only
//! the headers the client says it signed) and compare. Crates such as `aws-sigv4` sign
//! outgoing requests but do not verify incoming ones, so the few steps are written here on
//! RustCrypto's `hmac` and `sha2`.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::error::AwsError;

/// The access key the server accepts, and its secret.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// What verification needs from the request.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    /// Header names in any case, values as received.
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

/// How far a request's timestamp may be from ours, as AWS allows.
const MAX_SKEW_SECONDS: i64 = 15 * 60;

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any size");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=.../..., SignedHeaders=..., Signature=...`.
struct Authorization<'a> {
    access_key_id: &'a str,
    scope: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256")?.trim();
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (key, v) = part.trim().split_once('=')?;
        match key {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let (access_key_id, scope) = credential?.split_once('/')?;
    let mut scope_parts = scope.split('/');
    let (date, region, service) = (scope_parts.next()?, scope_parts.next()?, scope_parts.next()?);
    Some(Authorization {
        access_key_id,
        scope,
        date,
        region,
        service,
        signed_headers: signed?.split(';').collect(),
        signature: signature?,
    })
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Percent-encodes as SigV4 requires (RFC 3986 unreserved characters stay).
fn uri_encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (uri_encode(&percent_decode(k), false), uri_encode(&percent_decode(v), false))
        })
        .collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        // Works on bytes: the two characters after a `%` may be the start of a multi-byte
        // UTF-8 character (`%xé`), which a `&str` slice would split and panic on.
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex_digit(bytes[i + 1]), hex_digit(bytes[i + 2])) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Checks the request's signature and returns the region it was signed for; `now_seconds` is
/// the server's clock (an argument, so tests can fix it).
pub fn verify(
    request: &SignedRequest<'_>,
    allowed: &[Credentials],
    now_seconds: i64,
) -> Result<String, AwsError> {
    let Some(auth_header) = header(&request.headers, "authorization") else {
        return Err(AwsError::missing_authentication());
    };
    let auth = parse_authorization(auth_header).ok_or_else(|| {
        AwsError::new("IncompleteSignatureException", 400, "Authorization header requires AWS4-HMAC-SHA256 Credential, SignedHeaders and Signature.")
    })?;
    let Some(credentials) = allowed.iter().find(|c| c.access_key_id == auth.access_key_id) else {
        return Err(AwsError::new("UnrecognizedClientException", 400, "The security token included in the request is invalid."));
    };
    if auth.service != "cloudtrail" {
        return Err(AwsError::invalid_signature(&format!("Credential should be scoped to correct service: 'cloudtrail', not '{}'.", auth.service)));
    }
    let amz_date = header(&request.headers, "x-amz-date").unwrap_or_default();
    let request_time = chrono::NaiveDateTime::parse_from_str(amz_date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| AwsError::new("IncompleteSignatureException", 400, "The request must contain a valid X-Amz-Date header."))?
        .and_utc()
        .timestamp();
    if (now_seconds - request_time).abs() > MAX_SKEW_SECONDS {
        return Err(AwsError::invalid_signature(&format!(
            "Signature expired: {amz_date} is now earlier or later than the server time by more than 15 minutes."
        )));
    }

    let mut canonical_headers = String::new();
    for name in &auth.signed_headers {
        let value = header(&request.headers, name).unwrap_or_default();
        let folded = value.split_whitespace().collect::<Vec<_>>().join(" ");
        canonical_headers.push_str(&format!("{name}:{folded}\n"));
    }
    let payload_hash = hex(&Sha256::digest(request.body));
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method,
        uri_encode(request.path, true),
        canonical_query(request.query),
        canonical_headers,
        auth.signed_headers.join(";"),
        payload_hash
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{}\n{}",
        auth.scope,
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{}", credentials.secret_access_key).as_bytes(), auth.date.as_bytes());
    for part in [auth.region, auth.service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let expected = hex(&hmac(&key, string_to_sign.as_bytes()));
    // Constant-time comparison: the signature is a secret-derived value.
    let matches = expected.len() == auth.signature.len()
        && expected.bytes().zip(auth.signature.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if matches {
        Ok(auth.region.to_owned())
    } else {
        Err(AwsError::invalid_signature(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signs a request the way SDKs do (with AWS's documented example key): it must verify,
    /// and any change to the body, the key, the key ID or the time must not. The real
    /// clients (aws CLI, boto3) are exercised end to end by `server/tests/aws_api/`.
    fn signed(body: &[u8], secret: &str, date: &str) -> Vec<(String, String)> {
        let headers = vec![
            ("host".to_owned(), "127.0.0.1:3000".to_owned()),
            ("x-amz-date".to_owned(), date.to_owned()),
            ("x-amz-target".to_owned(), "CloudTrail_20131101.LookupEvents".to_owned()),
        ];
        let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
        let canonical = format!(
            "POST\n/\n\n{canonical_headers}\nhost;x-amz-date;x-amz-target\n{}",
            hex(&Sha256::digest(body))
        );
        let scope = format!("{}/us-east-1/cloudtrail/aws4_request", &date[..8]);
        let to_sign = format!("AWS4-HMAC-SHA256\n{date}\n{scope}\n{}", hex(&Sha256::digest(canonical.as_bytes())));
        let mut key = hmac(format!("AWS4{secret}").as_bytes(), date[..8].as_bytes());
        for part in ["us-east-1", "cloudtrail", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        let signature = hex(&hmac(&key, to_sign.as_bytes()));
        let mut all = headers;
        all.push((
            "Authorization".to_owned(),
            format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{scope}, SignedHeaders=host;x-amz-date;x-amz-target, Signature={signature}"),
        ));
        all
    }

    fn check(headers: Vec<(String, String)>, body: &[u8], now: i64) -> Result<String, AwsError> {
        let creds = [Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        }];
        verify(&SignedRequest { method: "POST", path: "/", query: "", headers, body }, &creds, now)
    }

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const NOW: i64 = 1_440_938_160; // 2015-08-30T12:36:00Z

    #[test]
    fn a_correct_signature_verifies() {
        assert_eq!(check(signed(b"{}", SECRET, "20150830T123600Z"), b"{}", NOW), Ok("us-east-1".into()));
    }

    #[test]
    fn tampering_and_wrong_keys_are_refused_as_aws_refuses_them() {
        let tampered = check(signed(b"{}", SECRET, "20150830T123600Z"), b"{\"x\":1}", NOW);
        assert_eq!(tampered.unwrap_err().kind, "InvalidSignatureException");
        let wrong_secret = check(signed(b"{}", "nope", "20150830T123600Z"), b"{}", NOW);
        assert_eq!(wrong_secret.unwrap_err().kind, "InvalidSignatureException");
        let stale = check(signed(b"{}", SECRET, "20150830T123600Z"), b"{}", NOW + 3600);
        assert!(stale.unwrap_err().message.contains("Signature expired"));
        let unsigned = check(vec![("host".into(), "x".into())], b"{}", NOW);
        assert_eq!(unsigned.unwrap_err().kind, "MissingAuthenticationTokenException");
        let mut unknown = signed(b"{}", SECRET, "20150830T123600Z");
        let auth = unknown.last_mut().unwrap();
        auth.1 = auth.1.replace("AKIDEXAMPLE", "AKIDOTHER");
        assert_eq!(check(unknown, b"{}", NOW).unwrap_err().kind, "UnrecognizedClientException");
    }

    #[test]
    fn a_percent_before_a_multibyte_character_is_kept_as_text() {
        // `%xé`: the two bytes after `%` are `x` and the first byte of `é`; slicing the
        // string there panicked the server. Not a hex escape, so both stay and are encoded:
        // `%` is %25, `é` is UTF-8 C3 A9.
        assert_eq!(canonical_query("a=%xé"), "a=%25x%C3%A9");
        assert_eq!(canonical_query("a=é%"), "a=%C3%A9%25");
        assert_eq!(canonical_query("a=%é"), "a=%25%C3%A9");
        let headers = signed(b"{}", SECRET, "20150830T123600Z");
        let request = SignedRequest { method: "POST", path: "/", query: "a=%xé", headers, body: b"{}" };
        let creds = [Credentials { access_key_id: "AKIDEXAMPLE".into(), secret_access_key: SECRET.into() }];
        // Signed without the query, so the signature differs: a 400, not a panic.
        assert_eq!(verify(&request, &creds, NOW).unwrap_err().kind, "InvalidSignatureException");
    }

    #[test]
    fn query_strings_are_canonicalised() {
        assert_eq!(canonical_query("b=2&a=x%20y"), "a=x%20y&b=2");
    }
}
