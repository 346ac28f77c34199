//! Two checks on every request, before anything else runs:
//!
//! - **Cross-site writes are refused** (403): a browser names the page that sent a request in
//!   `Sec-Fetch-Site` and `Origin`; a POST (or any other state-changing method) from another
//!   site is refused, so no page elsewhere can use a signed-in person's cookie, or the open
//!   loopback mode, to change anything. Scripts (curl, the aws CLI) send neither header and
//!   authenticate with tokens or signatures.
//! - **Unknown `Host` names are refused** (421): a DNS-rebinding page on `evil.example`
//!   resolving to 127.0.0.1 reaches the server with `Host: evil.example`. Loopback names are
//!   always accepted, plus the host of `--public-url`; a server on a non-loopback address
//!   without `--public-url` accepts any name (sign-in protects it there; the start-up log
//!   suggests setting it).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The host names this server answers to.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    /// Lower-case host names without ports; empty with `any` set means every name.
    names: Vec<String>,
    any: bool,
}

impl AllowedHosts {
    /// Loopback names, and `public_host` (from `--public-url`) when given. Without one, a
    /// server on a non-loopback address accepts any name.
    pub fn new(loopback: bool, public_host: Option<&str>) -> AllowedHosts {
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "[::1]"].map(str::to_owned).into();
        if let Some(host) = public_host {
            names.push(host.to_ascii_lowercase());
        }
        AllowedHosts { names, any: !loopback && public_host.is_none() }
    }

    /// Whether every host name is accepted (no `--public-url` off loopback).
    pub fn accepts_any(&self) -> bool {
        self.any
    }

    fn allows(&self, host_header: &str) -> bool {
        self.any || self.names.iter().any(|n| *n == host_name(host_header))
    }
}

/// `Host` without its port, lower-case (`[::1]:3000` → `[::1]`, `Example.com:80` → `example.com`).
fn host_name(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or_default().to_owned();
    }
    host.rsplit_once(':').map(|(name, _)| name.to_owned()).unwrap_or(host)
}

/// Whether the method can change something.
fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Why a write looks cross-site, if it does.
pub fn cross_site(request: &Request) -> Option<String> {
    if !is_write(request.method()) {
        return None;
    }
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if !matches!(site, "same-origin" | "none") {
            return Some(format!("Sec-Fetch-Site is {site:?}"));
        }
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())?;
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let origin_authority = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    if origin == "null" || !origin_authority.eq_ignore_ascii_case(host) {
        return Some(format!("Origin {origin} is not this server ({host})"));
    }
    None
}

pub async fn check(State(hosts): State<Arc<AllowedHosts>>, request: Request, next: Next) -> Response {
    let host = request.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    // A request without Host (HTTP/1.0, or a test driving the router) is no rebinding attack:
    // browsers always send it. The health check answers load balancers by IP.
    if !host.is_empty() && request.uri().path() != "/healthz" && !hosts.allows(&host) {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            format!("this server does not answer to the name {host:?}: start it with --public-url naming the address people use"),
        )
            .into_response();
    }
    if let Some(why) = cross_site(&request) {
        tracing::warn!(path = request.uri().path(), "refused a cross-site write: {why}");
        return (StatusCode::FORBIDDEN, format!("cross-site request refused: {why}")).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_compared_without_ports() {
        let loopback = AllowedHosts::new(true, Some("trailsight.example.com"));
        for ok in ["127.0.0.1:3000", "localhost", "[::1]:80", "Trailsight.Example.com:443"] {
            assert!(loopback.allows(ok), "{ok}");
        }
        assert!(!loopback.allows("evil.example:3000"));
        assert!(AllowedHosts::new(false, None).allows("anything"));
        assert!(!AllowedHosts::new(false, Some("ts.example")).allows("10.1.2.3:3000"));
    }

    fn post(headers: &[(&str, &str)]) -> Request {
        let mut r = Request::post("/api/delete_trail");
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.body(axum::body::Body::empty()).unwrap()
    }

    #[test]
    fn only_same_site_or_header_less_writes_pass() {
        assert!(cross_site(&post(&[])).is_none(), "curl sends neither header");
        assert!(cross_site(&post(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000"), ("sec-fetch-site", "same-origin")])).is_none());
        assert!(cross_site(&post(&[("host", "127.0.0.1:3000"), ("origin", "http://evil.example")])).is_some());
        assert!(cross_site(&post(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "cross-site")])).is_some());
        assert!(cross_site(&post(&[("host", "127.0.0.1:3000"), ("origin", "null")])).is_some());
        assert!(cross_site(&post(&[("host", "a:1"), ("sec-fetch-site", "same-site"), ("origin", "http://b.a:1")])).is_some(), "a sibling subdomain is another origin");
    }
}
