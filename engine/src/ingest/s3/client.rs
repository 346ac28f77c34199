//! The S3 client: where the bucket is, who we are, and the two calls ingest needs (list and
//! get). `rusty-s3` signs each request (SigV4, presigned URLs) and `ureq` sends it; both are
//! blocking and small, which suits the reader threads that fetch objects in parallel.
//! Credentials come from the usual AWS environment variables or the shared credentials file.

use std::io::Read;
use std::time::Duration;

use rusty_s3::actions::{ListObjectsV2, ListObjectsV2Response};

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

use super::S3Error;

/// How long a signed request stays valid: far longer than any one request takes.
const SIGNED_FOR: Duration = Duration::from_secs(15 * 60);

/// Where the bucket is and how to sign for it.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// An S3-compatible endpoint (path-style addressing), or `None` for AWS itself.
    pub endpoint: Option<String>,
    pub region: String,
    /// `None` sends unsigned requests (public buckets).
    pub credentials: Option<Credentials>,
}

impl S3Config {
    /// From the environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`, else the profile `AWS_PROFILE` (or `default`) of the shared
    /// credentials file; `AWS_REGION` or `AWS_DEFAULT_REGION` (default `us-east-1`).
    pub fn from_env(endpoint: Option<String>) -> S3Config {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let credentials = match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(key), Some(secret)) => Some(match var("AWS_SESSION_TOKEN") {
                Some(token) => Credentials::new_with_token(key, secret, token),
                None => Credentials::new(key, secret),
            }),
            _ => profile_credentials(),
        };
        let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")).unwrap_or_else(|| "us-east-1".into());
        S3Config { endpoint, region, credentials }
    }
}

/// The `[profile]` section of `~/.aws/credentials` (or `AWS_SHARED_CREDENTIALS_FILE`).
fn profile_credentials() -> Option<Credentials> {
    let path = std::env::var("AWS_SHARED_CREDENTIALS_FILE")
        .ok()
        .or_else(|| std::env::var("HOME").ok().map(|home| format!("{home}/.aws/credentials")))?;
    let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
    parse_profile(&std::fs::read_to_string(path).ok()?, &profile)
}

/// The keys of `[profile]` in a shared credentials file's text: both keys are needed, a
/// session token is optional; other profiles, comments and unknown keys are ignored.
fn parse_profile(text: &str, profile: &str) -> Option<Credentials> {
    let (mut in_profile, mut key, mut secret, mut token) = (false, None, None, None);
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_profile = name.trim() == profile;
        } else if let (true, Some((name, value))) = (in_profile, line.split_once('=')) {
            let value = Some(value.trim().to_owned());
            match name.trim() {
                "aws_access_key_id" => key = value,
                "aws_secret_access_key" => secret = value,
                "aws_session_token" => token = value,
                _ => {}
            }
        }
    }
    Some(match token {
        Some(token) => Credentials::new_with_token(key?, secret?, token),
        None => Credentials::new(key?, secret?),
    })
}

/// One bucket, ready for requests.
pub struct S3Client {
    bucket: Bucket,
    credentials: Option<Credentials>,
    agent: ureq::Agent,
}

impl S3Client {
    pub fn new(config: &S3Config, bucket: &str) -> Result<S3Client, S3Error> {
        let (endpoint, style) = match &config.endpoint {
            Some(url) => (url.clone(), UrlStyle::Path),
            None => (format!("https://s3.{}.amazonaws.com", config.region), UrlStyle::VirtualHost),
        };
        let bad_endpoint = |reason: String| S3Error::Endpoint { endpoint: endpoint.clone(), reason };
        let url = endpoint.parse().map_err(|e: url::ParseError| bad_endpoint(e.to_string()))?;
        let bucket = Bucket::new(url, style, bucket.to_owned(), config.region.clone())
            .map_err(|e| bad_endpoint(e.to_string()))?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(300)))
            .build()
            .into();
        Ok(S3Client { bucket, credentials: config.credentials.clone(), agent })
    }

    /// `s3://bucket/key`, for messages.
    pub fn describe(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket.name())
    }

    /// The "folders" directly under `prefix` (delimiter `/`), every page.
    pub fn list_folders(&self, prefix: &str) -> Result<Vec<String>, S3Error> {
        let mut folders = Vec::new();
        self.list(prefix, Some("/"), None, |page| folders.extend(page.common_prefixes.into_iter().map(|p| p.prefix)))?;
        Ok(folders)
    }

    /// Every key under `prefix` after `start_after`, in key order, every page.
    pub fn list_keys(&self, prefix: &str, start_after: &str) -> Result<Vec<String>, S3Error> {
        let mut keys = Vec::new();
        self.list(prefix, None, Some(start_after), |page| keys.extend(page.contents.into_iter().map(|c| c.key)))?;
        Ok(keys)
    }

    fn list(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        start_after: Option<&str>,
        mut on_page: impl FnMut(ListObjectsV2Response),
    ) -> Result<(), S3Error> {
        let mut token: Option<String> = None;
        loop {
            let mut action = ListObjectsV2::new(&self.bucket, self.credentials.as_ref());
            action.with_prefix(prefix);
            delimiter.map(|d| action.with_delimiter(d));
            start_after.filter(|s| !s.is_empty()).map(|s| action.with_start_after(s));
            token.as_deref().map(|t| action.with_continuation_token(t));
            let what = format!("listing {}", self.describe(prefix));
            let body = self.send(action.sign(SIGNED_FOR), &what, 64 << 20)?;
            let page = ListObjectsV2::parse_response(&body)
                .map_err(|e| S3Error::Response { what: what.clone(), reason: e.to_string() })?;
            token = page.next_continuation_token.clone();
            on_page(page);
            if token.is_none() {
                return Ok(());
            }
        }
    }

    /// The object's bytes, refused (naming the limit) when larger than `max_bytes`.
    pub fn get(&self, key: &str, max_bytes: u64) -> Result<Vec<u8>, S3Error> {
        let url = self.bucket.get_object(self.credentials.as_ref(), key).sign(SIGNED_FOR);
        self.send(url, &format!("reading {}", self.describe(key)), max_bytes)
    }

    /// Stores `body` under `key` (a PutObject), replacing any object there.
    pub fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), S3Error> {
        let url = self.bucket.put_object(self.credentials.as_ref(), key).sign(SIGNED_FOR);
        let what = format!("writing {}", self.describe(key));
        let transport = |e: &dyn std::fmt::Display| S3Error::Transport { what: what.clone(), reason: e.to_string() };
        let mut response = self.agent.put(url.as_str()).header("content-type", content_type).send(&body[..]).map_err(|e| transport(&e))?;
        let status = response.status().as_u16();
        if status == 200 {
            return Ok(());
        }
        let mut text = String::new();
        let _ = response.body_mut().as_reader().take(64 << 10).read_to_string(&mut text);
        Err(S3Error::status(&what, status, &text))
    }

    /// Sends a signed GET; any answer but 200 becomes an error carrying S3's code and message.
    fn send(&self, url: url::Url, what: &str, max_bytes: u64) -> Result<Vec<u8>, S3Error> {
        let transport = |e: &dyn std::fmt::Display| S3Error::Transport { what: what.to_owned(), reason: e.to_string() };
        let mut response = self.agent.get(url.as_str()).call().map_err(|e| transport(&e))?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        response.body_mut().as_reader().take(max_bytes + 1).read_to_end(&mut body).map_err(|e| transport(&e))?;
        if status != 200 {
            return Err(S3Error::status(what, status, &String::from_utf8_lossy(&body)));
        }
        if body.len() as u64 > max_bytes {
            return Err(S3Error::TooLarge { what: what.to_owned(), limit_mb: max_bytes >> 20 });
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_profile;

    const FILE: &str = "# keys\n[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key=secret/default\n\n\
        [ audit ]\naws_access_key_id=ASIAAUDIT\n  aws_secret_access_key = s2  \naws_session_token = tok\nregion = eu-west-1\n\
        [broken]\naws_access_key_id = AKIAONLY\n";

    #[test]
    fn a_profiles_keys_are_read_and_others_ignored() {
        let default = parse_profile(FILE, "default").unwrap();
        assert_eq!((default.key(), default.secret(), default.token()), ("AKIADEFAULT", "secret/default", None));
        let audit = parse_profile(FILE, "audit").unwrap();
        assert_eq!((audit.key(), audit.secret(), audit.token()), ("ASIAAUDIT", "s2", Some("tok")));
        assert!(parse_profile(FILE, "broken").is_none(), "a profile without its secret gives no credentials");
        assert!(parse_profile(FILE, "missing").is_none());
    }
}
