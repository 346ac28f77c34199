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

/// The headers a signature must cover. Without `x-amz-target` a captured GetTrail could
/// be replayed as DeleteTrail (same body, same signature); without `x-amz-date` the
/// signature would not bind the time the expiry is checked against; `host` is AWS's rule.
const REQUIRED_SIGNED_HEADERS: [(&str, &str); 3] = [("host", "Host"), ("x-amz-date", "X-Amz-Date"), ("x-amz-target", "X-Amz-Target")];

/// SigV4 step 1, the canonical request: the method, the URI-encoded path, the sorted
/// canonical query, each signed header as `name:value` (runs of spaces folded), the signed
/// header names, and the payload's SHA-256 in hex. Used by [`verify`], and checked against
/// AWS's published test suite below.
pub fn canonical_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    signed_headers: &[&str],
    payload_hash: &str,
) -> String {
    let mut canonical_headers = String::new();
    for name in signed_headers {
        let value = header(headers, name).unwrap_or_default();
        let folded = value.split_whitespace().collect::<Vec<_>>().join(" ");
        canonical_headers.push_str(&format!("{name}:{folded}\n"));
    }
    format!(
        "{method}\n{}\n{}\n{canonical_headers}\n{}\n{payload_hash}",
        uri_encode(path, true),
        canonical_query(query),
        signed_headers.join(";"),
    )
}

/// SigV4 step 2: what is signed.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical_request.as_bytes())))
}

/// SigV4 steps 3 and 4: the signing key derived from the secret and the scope, and the
/// signature in hex.
pub fn signature(secret: &str, date: &str, region: &str, service: &str, string_to_sign: &str) -> String {
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    for part in [region, service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    hex(&hmac(&key, string_to_sign.as_bytes()))
}

/// A region name as AWS spells them (`us-east-1`, `us-gov-west-1`): lowercase letters,
/// digits and dashes. Any such region is accepted; it names the region in ARNs.
fn well_formed_region(region: &str) -> bool {
    (1..=32).contains(&region.len())
        && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
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
    if !well_formed_region(auth.region) {
        return Err(AwsError::invalid_signature(&format!(
            "Credential should be scoped to a valid region, not '{}': use a region name such as us-east-1.",
            auth.region
        )));
    }
    if !auth.scope.ends_with("/aws4_request") || auth.scope.split('/').count() != 4 {
        return Err(AwsError::invalid_signature("Credential should be scoped with a valid terminator: 'aws4_request'."));
    }
    for (name, display) in REQUIRED_SIGNED_HEADERS {
        if !auth.signed_headers.iter().any(|h| h.eq_ignore_ascii_case(name)) {
            return Err(AwsError::invalid_signature(&format!(
                "'{display}' must be a 'SignedHeader' in the AWS Authorization: sign the request's {name} header."
            )));
        }
    }
    let amz_date = header(&request.headers, "x-amz-date").unwrap_or_default();
    let request_time = chrono::NaiveDateTime::parse_from_str(amz_date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| AwsError::new("IncompleteSignatureException", 400, "The request must contain a valid X-Amz-Date header."))?
        .and_utc()
        .timestamp();
    // The key is derived from the scope's date, the string to sign holds the header's: AWS
    // requires them to be the same day.
    if amz_date.get(..8) != Some(auth.date) {
        return Err(AwsError::invalid_signature(&format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            auth.date,
            amz_date.get(..8).unwrap_or(amz_date)
        )));
    }
    if (now_seconds - request_time).abs() > MAX_SKEW_SECONDS {
        return Err(AwsError::invalid_signature(&format!(
            "Signature expired: {amz_date} is now earlier or later than the server time by more than 15 minutes."
        )));
    }

    let canonical = canonical_request(
        request.method,
        request.path,
        request.query,
        &request.headers,
        &auth.signed_headers,
        &hex(&Sha256::digest(request.body)),
    );
    let to_sign = string_to_sign(amz_date, auth.scope, &canonical);
    let expected = signature(&credentials.secret_access_key, auth.date, auth.region, auth.service, &to_sign);
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
        sign_with(body, secret, date, &date[..8], "us-east-1", "cloudtrail", &["host", "x-amz-date", "x-amz-target"])
    }

    /// The signing steps written out independently of the module's functions, with the
    /// scope and the signed header list as parameters so tests can get them wrong.
    fn sign_with(
        body: &[u8],
        secret: &str,
        date: &str,
        scope_date: &str,
        region: &str,
        service: &str,
        signed_names: &[&str],
    ) -> Vec<(String, String)> {
        let headers = vec![
            ("host".to_owned(), "127.0.0.1:3000".to_owned()),
            ("x-amz-date".to_owned(), date.to_owned()),
            ("x-amz-target".to_owned(), "CloudTrail_20131101.LookupEvents".to_owned()),
        ];
        let canonical_headers: String = headers
            .iter()
            .filter(|(k, _)| signed_names.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}:{v}\n"))
            .collect();
        let signed_list = signed_names.join(";");
        let canonical = format!("POST\n/\n\n{canonical_headers}\n{signed_list}\n{}", hex(&Sha256::digest(body)));
        let scope = format!("{scope_date}/{region}/{service}/aws4_request");
        let to_sign = format!("AWS4-HMAC-SHA256\n{date}\n{scope}\n{}", hex(&Sha256::digest(canonical.as_bytes())));
        let mut key = hmac(format!("AWS4{secret}").as_bytes(), scope_date.as_bytes());
        for part in [region, service, "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        let signature = hex(&hmac(&key, to_sign.as_bytes()));
        let mut all = headers;
        all.push((
            "Authorization".to_owned(),
            format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{scope}, SignedHeaders={signed_list}, Signature={signature}"),
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
    fn the_target_the_time_and_the_host_must_be_signed() {
        // A GetTrail signed without x-amz-target has the same signature as a DeleteTrail of
        // the same body: it must be refused, naming the header to sign.
        let date = "20150830T123600Z";
        for (signed_names, missing) in [
            (&["host", "x-amz-date"][..], "X-Amz-Target"),
            (&["host", "x-amz-target"][..], "X-Amz-Date"),
            (&["x-amz-date", "x-amz-target"][..], "Host"),
        ] {
            let headers = sign_with(b"{}", SECRET, date, &date[..8], "us-east-1", "cloudtrail", signed_names);
            let e = check(headers, b"{}", NOW).unwrap_err();
            assert_eq!(e.kind, "InvalidSignatureException");
            assert!(e.message.contains(&format!("'{missing}' must be a 'SignedHeader'")), "{}", e.message);
        }
    }

    #[test]
    fn the_scope_must_be_the_request_day_cloudtrail_and_a_region() {
        let date = "20150830T123600Z";
        let all = ["host", "x-amz-date", "x-amz-target"];
        // Signed correctly, but with the key of the day before.
        let e = check(sign_with(b"{}", SECRET, date, "20150829", "us-east-1", "cloudtrail", &all), b"{}", NOW).unwrap_err();
        assert_eq!(e.kind, "InvalidSignatureException");
        assert!(e.message.contains("'20150829' != '20150830'"), "{}", e.message);
        let e = check(sign_with(b"{}", SECRET, date, "20150830", "us-east-1", "s3", &all), b"{}", NOW).unwrap_err();
        assert!(e.message.contains("'cloudtrail', not 's3'"), "{}", e.message);
        let e = check(sign_with(b"{}", SECRET, date, "20150830", "US EAST", "cloudtrail", &all), b"{}", NOW).unwrap_err();
        assert!(e.message.contains("valid region"), "{}", e.message);
        // Any well-formed region is accepted and returned for the ARNs.
        let ok = check(sign_with(b"{}", SECRET, date, "20150830", "ap-southeast-7", "cloudtrail", &all), b"{}", NOW);
        assert_eq!(ok, Ok("ap-southeast-7".into()));
        // 15 minutes either way is the limit (AWS's); 15 minutes and one second is expired.
        let signed_at = NOW;
        assert!(check(signed(b"{}", SECRET, date), b"{}", signed_at + 15 * 60).is_ok());
        assert!(check(signed(b"{}", SECRET, date), b"{}", signed_at - 15 * 60).is_ok());
        let e = check(signed(b"{}", SECRET, date), b"{}", signed_at + 15 * 60 + 1).unwrap_err();
        assert_eq!(e.kind, "InvalidSignatureException");
        assert!(e.message.starts_with("Signature expired"), "{}", e.message);
    }

    /// AWS's Signature Version 4 test suite: request, canonical request, string to sign and
    /// signature for AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830T123600Z,
    /// us-east-1, service "service". Copied from awslabs/aws-c-auth
    /// tests/aws-signing-test-suite/v4/<name>/{request,header-canonical-request,
    /// header-string-to-sign,header-signature}.txt (Apache License 2.0; originally the AWS
    /// General Reference's "Signature Version 4 Test Suite").
    struct Vector {
        name: &'static str,
        method: &'static str,
        query: &'static str,
        headers: &'static [(&'static str, &'static str)],
        body: &'static str,
        signed_headers: &'static [&'static str],
        canonical_request: &'static str,
        string_to_sign: &'static str,
        signature: &'static str,
    }

    const VECTORS: [Vector; 5] = [
        Vector {
            name: "get-vanilla",
            method: "GET",
            query: "",
            headers: &[("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
            body: "",
            signed_headers: &["host", "x-amz-date"],
            canonical_request: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            string_to_sign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        },
        Vector {
            name: "post-vanilla",
            method: "POST",
            query: "",
            headers: &[("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
            body: "",
            signed_headers: &["host", "x-amz-date"],
            canonical_request: "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            string_to_sign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
            signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        },
        Vector {
            name: "get-vanilla-query-order-key-case",
            method: "GET",
            query: "Param2=value2&Param1=value1",
            headers: &[("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
            body: "",
            signed_headers: &["host", "x-amz-date"],
            canonical_request: "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            string_to_sign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
            signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        },
        Vector {
            name: "get-vanilla-utf8-query",
            method: "GET",
            query: "\u{1234}=bar",
            headers: &[("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
            body: "",
            signed_headers: &["host", "x-amz-date"],
            canonical_request: "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            string_to_sign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\neb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
            signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
        },
        Vector {
            name: "post-x-www-form-urlencoded",
            method: "POST",
            query: "",
            headers: &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Host", "example.amazonaws.com"),
                ("Content-Length", "13"),
                ("X-Amz-Date", "20150830T123600Z"),
                ("x-amz-content-sha256", "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"),
            ],
            body: "Param1=value1",
            signed_headers: &["content-length", "content-type", "host", "x-amz-content-sha256", "x-amz-date"],
            canonical_request: "POST\n/\n\ncontent-length:13\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\nx-amz-date:20150830T123600Z\n\ncontent-length;content-type;host;x-amz-content-sha256;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
            string_to_sign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nb1edd1d03544c25390e32085d55b57acc9a3961bb59415ff86c45c3d89d16cfb",
            signature: "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
        },
    ];

    #[test]
    fn the_canonicalisation_verify_uses_reproduces_aws_test_suite() {
        for v in VECTORS {
            let headers: Vec<(String, String)> = v.headers.iter().map(|(k, val)| ((*k).to_owned(), (*val).to_owned())).collect();
            let payload_hash = hex(&Sha256::digest(v.body.as_bytes()));
            let canonical = canonical_request(v.method, "/", v.query, &headers, v.signed_headers, &payload_hash);
            assert_eq!(canonical, v.canonical_request, "{}: canonical request", v.name);
            let to_sign = string_to_sign("20150830T123600Z", "20150830/us-east-1/service/aws4_request", &canonical);
            assert_eq!(to_sign, v.string_to_sign, "{}: string to sign", v.name);
            assert_eq!(signature(SECRET, "20150830", "us-east-1", "service", &to_sign), v.signature, "{}: signature", v.name);
        }
    }

    #[test]
    fn query_strings_are_canonicalised() {
        assert_eq!(canonical_query("b=2&a=x%20y"), "a=x%20y&b=2");
    }
}
