//! `openidconnect`'s async HTTP client on `ureq`, the blocking client engine already builds
//! for S3: each call (discovery, keys, code exchange, user info) runs on the blocking pool.
//! Redirects are not followed (the crate's requirement: a redirect must not carry the
//! client's credentials elsewhere), non-2xx answers are handed to the crate to read, and
//! answers are bounded in size and time.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

/// Bounds on the provider's answers (a discovery document, keys, a token response).
const MAX_RESPONSE_BYTES: u64 = 1 << 20;
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

/// The failure of one call to the provider.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(transparent)]
    Request(#[from] ureq::Error),
    #[error("the request to the OpenID provider was cancelled")]
    Cancelled,
}

#[derive(Clone)]
pub(super) struct Http(ureq::Agent);

impl Http {
    pub(super) fn new() -> Http {
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
