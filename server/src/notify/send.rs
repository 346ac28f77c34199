//! Sending one delivery to one destination: HTTP for webhooks and Slack (ureq, on the
//! blocking pool), SMTP for e-mail (lettre), S3 (the ingest client's signer) and a directory.
//!
//! Each failure says whether a retry can help: network errors, 429 and 5xx can; a 4xx, a
//! redirect or a refused address cannot (the admin must fix the destination), so those fail
//! at once instead of after hours of retries.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use engine::insight::InsightEvent;
use engine::notify::{Destination, Target};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::message;

/// Longest an HTTP or SMTP exchange may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of an error response is kept for the admin to read.
const ERROR_BODY_CHARS: usize = 300;

/// Why a delivery failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq)]
pub struct SendError {
    pub message: String,
    pub retry: bool,
    /// The receiver's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
}

impl SendError {
    fn retry(message: String) -> SendError {
        SendError { message, retry: true, retry_after: None }
    }

    fn fatal(message: String) -> SendError {
        SendError { message, retry: false, retry_after: None }
    }
}

/// What a delivery needs besides its destination: the record and where links point.
pub struct Context<'a> {
    pub record: &'a str,
    pub trail: &'a str,
    pub public_url: Option<&'a url::Url>,
}

/// Sends the record to the destination once.
pub async fn send(destination: &Destination, cx: &Context<'_>) -> Result<(), SendError> {
    let event: InsightEvent = serde_json::from_str(cx.record)
        .map_err(|e| SendError::fatal(format!("the stored insight record cannot be read: {e}")))?;
    match &destination.target {
        Target::Webhook { url, secret } => {
            let body = message::eventbridge_event(&event, cx.record);
            let mut headers = vec![("X-Trailsight-Event-Id".to_owned(), event.event_id.clone())];
            if let Some(secret) = secret {
                headers.push(("X-Trailsight-Signature".to_owned(), format!("sha256={}", signature(secret, body.as_bytes()))));
            }
            post(url.clone(), body.into_bytes(), headers).await
        }
        Target::Slack { url } => {
            let summary = message::summary(&event, cx.trail, cx.public_url);
            let body = message::slack_message(&summary).to_string();
            post(url.clone(), body.into_bytes(), Vec::new()).await
        }
        Target::Email { to, smtp, from } => email(to, smtp, from, &message::summary(&event, cx.trail, cx.public_url)).await,
        Target::S3 { bucket, prefix, endpoint_url } => {
            let key = format!("{}{}", prefix_with_slash(prefix), message::insight_file_key(&event));
            let body = message::insight_file(cx.record);
            let (bucket, endpoint) = (bucket.clone(), endpoint_url.clone());
            blocking(move || {
                let config = engine::ingest::s3::S3Config::from_env(endpoint);
                let client = engine::ingest::s3::S3Client::new(&config, &bucket).map_err(|e| SendError::fatal(e.to_string()))?;
                client.put(&key, body, "application/json").map_err(|e| {
                    let retry = e.is_transient();
                    SendError { message: e.to_string(), retry, retry_after: None }
                })
            })
            .await
        }
        Target::Directory { path } => {
            let key = message::insight_file_key(&event);
            let (root, body) = (path.clone(), message::insight_file(cx.record));
            blocking(move || write_file(Path::new(&root), &key, &body)).await
        }
    }
}

/// `prefix/` (or nothing), so keys read `prefix/AWSLogs/...` as CloudTrail writes them.
fn prefix_with_slash(prefix: &str) -> String {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() { String::new() } else { format!("{prefix}/") }
}

/// Hex HMAC-SHA256 of the body with the destination's secret (`X-Trailsight-Signature`).
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, SendError> + Send + 'static) -> Result<T, SendError> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| Err(SendError::retry(format!("the sending task failed: {e}"))))
}

/// POSTs JSON; 2xx is success. Redirects are not followed: a destination reaches only the
/// address an admin configured.
async fn post(url: String, body: Vec<u8>, headers: Vec<(String, String)>) -> Result<(), SendError> {
    blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(SEND_TIMEOUT))
            .user_agent(concat!("trailsight/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let mut request = agent.post(&url).header("content-type", "application/json");
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        let mut response = request.send(&body[..]).map_err(|e| {
            let to = redact(&url);
            match e {
                // The network: worth trying again.
                ureq::Error::Io(_) | ureq::Error::Timeout(_) | ureq::Error::HostNotFound | ureq::Error::ConnectionFailed
                | ureq::Error::Protocol(_) | ureq::Error::BodyStalled => SendError::retry(format!("POST {to}: {e}")),
                // The configuration (a URL the client refuses, TLS that cannot work): fixing it
                // is an admin's job. Named by kind only: some of these print the whole URL.
                ureq::Error::BadUri(_) | ureq::Error::Http(_) => SendError::fatal(format!("POST {to}: the URL is not usable")),
                other => SendError::fatal(format!("POST {to}: {}", error_kind(&other))),
            }
        })?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let mut text = String::new();
        let _ = response.body_mut().as_reader().take(4096).read_to_string(&mut text);
        let text: String = text.chars().take(ERROR_BODY_CHARS).collect();
        let message = format!("POST {} answered {status}: {}", redact(&url), text.trim());
        let retry = status == 429 || status >= 500;
        Err(SendError { message, retry, retry_after })
    })
    .await
}

/// What went wrong, without the error's own text (which may hold the URL).
fn error_kind(e: &ureq::Error) -> String {
    let debug = format!("{e:?}");
    debug.split(['(', ' ', '{']).next().unwrap_or("error").to_owned()
}

/// The URL as error messages show it (never a Slack webhook's secret path or a password).
fn redact(url: &str) -> String {
    engine::notify::redact_url(url, true)
}

async fn email(to: &[String], smtp: &str, from: &str, summary: &message::Summary) -> Result<(), SendError> {
    use lettre::message::{Mailbox, MultiPart};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let mailbox = |text: &str| text.parse::<Mailbox>().map_err(|e| SendError::fatal(format!("the address {text:?} is not valid: {e}")));
    let mut builder = Message::builder().from(mailbox(from)?).subject(&summary.title);
    for address in to {
        builder = builder.to(mailbox(address)?);
    }
    let mail = builder
        .multipart(MultiPart::alternative_plain_html(message::email_text(summary), message::email_html(summary)))
        .map_err(|e| SendError::fatal(format!("the message cannot be built: {e}")))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp)
        .map_err(|e| SendError::fatal(format!("the SMTP URL is not valid: {e}")))?
        .timeout(Some(SEND_TIMEOUT))
        .build();
    let server = engine::notify::redact_url(smtp, false);
    transport.send(mail).await.map(|_| ()).map_err(|e| {
        let message = format!("sending through {server}: {e}");
        if e.is_permanent() { SendError::fatal(message) } else { SendError::retry(message) }
    })
}

/// Writes `root/key` whole or not at all: into a temporary file beside it, then renamed.
fn write_file(root: &Path, key: &str, body: &[u8]) -> Result<(), SendError> {
    let path = root.join(key);
    let folder = path.parent().expect("the key has folders");
    let failed = |what: &str, e: std::io::Error| SendError::retry(format!("{what} {}: {e}", folder.display()));
    std::fs::create_dir_all(folder).map_err(|e| failed("cannot create", e))?;
    // Per process: two servers re-sending the same delivery must not write one temporary file.
    let temporary = folder.join(format!(".{}.{}.partial", path.file_name().unwrap_or_default().to_string_lossy(), std::process::id()));
    std::fs::write(&temporary, body).map_err(|e| failed("cannot write into", e))?;
    std::fs::rename(&temporary, &path).map_err(|e| failed("cannot write into", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hex_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
