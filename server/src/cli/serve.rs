//! `trailsight serve`: the dashboard, and detection every minute in the background.
//! Several servers can share one database (see `background` for how they share detection).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use engine::access::Role;
use engine::store::access::SessionLimits;

use super::DbArgs;
use crate::auth::origin::AllowedHosts;
use crate::auth::oidc::{Oidc, OidcSettings};
use crate::auth::roles::RoleMapping;
use crate::auth::{AuthMode, ProxyAuth};
use crate::background::{retain_every, BackgroundDetection, DetectionSchedule};

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Address to listen on.
    #[arg(long, env = "TRAILSIGHT_ADDR", default_value = "127.0.0.1:3000")]
    addr: SocketAddr,
    /// Directory holding the browser bundle (`pkg/trailsight.js`, `pkg/trailsight.wasm`),
    /// built by scripts/build.sh. Without it pages still render, without interactivity.
    #[arg(long, env = "TRAILSIGHT_SITE_ROOT", default_value = "target/site")]
    site_root: PathBuf,
    /// Access key ID that the AWS-compatible API (aws CLI, SDKs) accepts, with its secret.
    #[arg(long, env = "TRAILSIGHT_AWS_ACCESS_KEY_ID", requires = "aws_secret_access_key")]
    aws_access_key_id: Option<String>,
    /// Secret access key for `--aws-access-key-id`.
    #[arg(long, env = "TRAILSIGHT_AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    aws_secret_access_key: Option<String>,
    /// Regions the AWS-compatible API answers for (comma-separated): a request signed for
    /// another region is refused, as AWS's regional endpoints do. Name those your records and
    /// your aws CLI profiles use.
    #[arg(long, env = "TRAILSIGHT_AWS_REGIONS", value_delimiter = ',', default_value = "us-east-1")]
    aws_region: Vec<String>,
    /// Account ID shown in trail ARNs returned by the AWS-compatible API.
    #[arg(long, env = "TRAILSIGHT_AWS_ACCOUNT_ID", default_value = "123456789012")]
    aws_account_id: String,
    /// Seconds between background detection passes; 0 turns background detection off.
    #[arg(long, env = "TRAILSIGHT_DETECT_EVERY", default_value_t = 60)]
    detect_every: u64,
    /// Seconds a server's hold on a trail's detection lasts without renewal: when a server
    /// sharing the database dies, another takes over its trails within this time.
    #[arg(long, env = "TRAILSIGHT_LEASE_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(3..))]
    lease_seconds: u64,
    /// When sign-in is needed: `auto` leaves a server on a loopback address open (a one-person
    /// install) and requires it on any other address; `required` requires it everywhere.
    #[arg(long, env = "TRAILSIGHT_AUTH", value_enum, default_value = "auto")]
    auth: AuthMode,
    /// The address people use to reach the server, e.g. `https://trailsight.example.com`:
    /// requests naming another host are refused (DNS rebinding), and `https://` makes session
    /// cookies `Secure` (set it so behind a TLS-terminating proxy).
    #[arg(long, env = "TRAILSIGHT_PUBLIC_URL")]
    public_url: Option<url::Url>,
    /// Hours a session lasts without use.
    #[arg(long, env = "TRAILSIGHT_SESSION_IDLE_HOURS", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=720))]
    session_idle_hours: u32,
    /// Days a session lasts at most, however busy.
    #[arg(long, env = "TRAILSIGHT_SESSION_MAX_DAYS", default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=90))]
    session_max_days: u32,
    /// Trust a reverse proxy's sign-in (oauth2-proxy and the like): the header naming the
    /// user, e.g. `X-Forwarded-Email`. Needs --auth-proxy-allow.
    #[arg(long, env = "TRAILSIGHT_AUTH_PROXY_HEADER", requires = "auth_proxy_allow")]
    auth_proxy_header: Option<axum::http::HeaderName>,
    /// The proxy's addresses (comma-separated); the header from any other address is refused.
    #[arg(long, env = "TRAILSIGHT_AUTH_PROXY_ALLOW", value_delimiter = ',')]
    auth_proxy_allow: Vec<std::net::IpAddr>,
    /// The role of users the proxy signs in (when --auth-proxy-role-header is not set).
    #[arg(long, env = "TRAILSIGHT_AUTH_PROXY_ROLE", default_value = "viewer", value_parser = parse_reader_role)]
    auth_proxy_role: Role,
    /// The proxy's header carrying the user's groups (comma-separated), e.g.
    /// `X-Forwarded-Groups`: the role then comes from --oidc-admin-values and
    /// --oidc-viewer-values, and users in none of those groups are refused (403).
    #[arg(long, env = "TRAILSIGHT_AUTH_PROXY_ROLE_HEADER", requires = "auth_proxy_header")]
    auth_proxy_role_header: Option<axum::http::HeaderName>,
    /// Single sign-on: the OpenID provider's issuer URL, e.g. `https://login.example.com/realms/aws`.
    /// Its discovery document is read at start-up. Needs --oidc-client-id and --public-url
    /// (the provider must accept `<public-url>/auth/oidc/callback` as a redirect URI).
    #[arg(long, env = "TRAILSIGHT_OIDC_ISSUER", requires_all = ["oidc_client_id", "public_url"])]
    oidc_issuer: Option<String>,
    /// The client ID trailsight has at the OpenID provider.
    #[arg(long, env = "TRAILSIGHT_OIDC_CLIENT_ID", requires = "oidc_issuer")]
    oidc_client_id: Option<String>,
    /// The client's secret (prefer the environment variable: arguments show in `ps`).
    #[arg(long, env = "TRAILSIGHT_OIDC_CLIENT_SECRET", hide_env_values = true)]
    oidc_client_secret: Option<String>,
    /// Scopes to ask for besides `openid` (comma-separated); drop `groups` for providers
    /// that have no such scope.
    #[arg(long, env = "TRAILSIGHT_OIDC_SCOPES", value_delimiter = ',', default_value = "email,profile,groups")]
    oidc_scopes: Vec<String>,
    /// The ID token claim listing the user's groups (a string or an array of strings).
    #[arg(long, env = "TRAILSIGHT_OIDC_ROLE_CLAIM", default_value = "groups")]
    oidc_role_claim: String,
    /// Groups (values of the role claim, or of --auth-proxy-role-header) whose members are
    /// admins (comma-separated).
    #[arg(long, env = "TRAILSIGHT_OIDC_ADMIN_VALUES", value_delimiter = ',')]
    oidc_admin_values: Vec<String>,
    /// Groups whose members are viewers (comma-separated). Someone in no admin or viewer
    /// group is refused sign-in.
    #[arg(long, env = "TRAILSIGHT_OIDC_VIEWER_VALUES", value_delimiter = ',')]
    oidc_viewer_values: Vec<String>,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, env = "TRAILSIGHT_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "TRAILSIGHT_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Connections open at once; more are closed at once.
    #[arg(long, env = "TRAILSIGHT_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
    /// Seconds before the first retry of a notification that failed; each further retry waits
    /// about twice as long (with jitter), up to an hour.
    #[arg(long, env = "TRAILSIGHT_NOTIFY_RETRY_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    notify_retry_seconds: u64,
    /// Seconds a server's claim on a notification it is sending lasts (see
    /// `notify::NotifySettings::claim`); for tests of crash recovery.
    #[arg(long, env = "TRAILSIGHT_NOTIFY_CLAIM_SECONDS", default_value_t = 300, hide = true)]
    notify_claim_seconds: u64,
    /// Days of events (and of ended insights) to keep, counted back from the newest stored
    /// event (so replayed old logs stay); older ones are deleted at start-up and every hour.
    /// 0 keeps everything.
    #[arg(long, env = "TRAILSIGHT_RETENTION_DAYS", default_value_t = 90)]
    retention_days: u32,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let roles = RoleMapping { admin: args.oidc_admin_values.clone(), viewer: args.oidc_viewer_values.clone() };
    if args.auth_proxy_role_header.is_some() && roles.is_empty() {
        anyhow::bail!("--auth-proxy-role-header needs --oidc-admin-values or --oidc-viewer-values: no group would give a role");
    }
    let oidc = single_sign_on(&args, roles.clone()).await?;
    let store = args.db.open().await?;
    let bundle = args.site_root.join("pkg").join("trailsight.wasm");
    if !bundle.exists() {
        tracing::warn!(
            "no browser bundle at {}: pages render without interactivity (build it with scripts/build.sh)",
            bundle.display()
        );
    }
    let detection = (args.detect_every > 0).then(|| {
        let schedule = DetectionSchedule {
            period: Duration::from_secs(args.detect_every),
            lease_term: Duration::from_secs(args.lease_seconds),
        };
        let detection = BackgroundDetection::new(store.clone(), schedule);
        tokio::spawn(detection.clone().run());
        detection
    });
    // Every server sends notifications; each delivery is claimed by one of them.
    let notify_settings = crate::notify::NotifySettings {
        first_retry: Duration::from_secs(args.notify_retry_seconds),
        claim: Duration::from_secs(args.notify_claim_seconds.max(1)),
        public_url: args.public_url.clone(),
        ..Default::default()
    };
    tokio::spawn(crate::notify::Notifier::new(store.clone(), notify_settings).run());
    if args.retention_days > 0 {
        tokio::spawn(retain_every(store.clone(), args.retention_days, Duration::from_secs(3600)));
    }
    let credentials: Vec<crate::aws::Credentials> = args
        .aws_access_key_id
        .zip(args.aws_secret_access_key)
        .map(|(access_key_id, secret_access_key)| crate::aws::Credentials { access_key_id, secret_access_key })
        .into_iter()
        .collect();
    if credentials.is_empty() {
        tracing::info!("AWS-compatible API off: set TRAILSIGHT_AWS_ACCESS_KEY_ID and TRAILSIGHT_AWS_SECRET_ACCESS_KEY to use the aws CLI against this server");
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(crate::listen::tls_acceptor(cert, key)?),
        _ => None,
    };
    let mut settings = crate::web::WebSettings::for_addr(args.addr);
    settings.aws = crate::web::AwsApiConfig { credentials, account_id: args.aws_account_id, regions: args.aws_region };
    settings.push_max_body_bytes = crate::push::PushConfig::from_env().max_body_bytes;
    let access = &mut settings.access;
    access.mode = args.auth;
    access.limits = SessionLimits {
        idle_ms: i64::from(args.session_idle_hours) * 3_600_000,
        max_ms: i64::from(args.session_max_days) * 86_400_000,
    };
    access.secure_cookies = tls.is_some() || args.public_url.as_ref().is_some_and(|u| u.scheme() == "https");
    access.push_token = std::env::var("TRAILSIGHT_PUSH_TOKEN").ok().filter(|t| !t.is_empty());
    access.proxy = args.auth_proxy_header.map(|user_header| ProxyAuth {
        user_header,
        allowed: args.auth_proxy_allow.clone(),
        role: args.auth_proxy_role,
        role_header: args.auth_proxy_role_header.clone(),
        roles: roles.clone(),
    });
    if let Some(oidc) = oidc {
        settings.sign_in.oidc_label = Some(oidc.button_label());
        settings.oidc = Some(std::sync::Arc::new(oidc));
    }
    settings.public_url = args.public_url.clone();
    let public_host = args.public_url.as_ref().and_then(|u| u.host_str().map(str::to_owned));
    settings.hosts = AllowedHosts::new(args.addr.ip().is_loopback(), public_host.as_deref());
    check_sign_in_possible(store.as_ref(), &settings).await?;
    tokio::spawn(crate::auth::session::purge_every(store.clone(), settings.access.limits, Duration::from_secs(3600)));
    let app = crate::web::router(store, &args.site_root, settings);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {} (is another server running there?)", args.addr))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("trailsight is serving the dashboard at {scheme}://{}/insights", args.addr);
    crate::listen::serve(listener, app, tls, args.max_connections, shutdown_signal()).await;
    if let Some(detection) = detection {
        detection.release_all().await;
    }
    Ok(ExitCode::SUCCESS)
}

/// The OpenID provider of `--oidc-issuer`, discovered (start-up fails, naming the issuer,
/// when it cannot be reached).
async fn single_sign_on(args: &ServeArgs, roles: RoleMapping) -> anyhow::Result<Option<Oidc>> {
    let (Some(issuer), Some(client_id), Some(public_url)) = (&args.oidc_issuer, &args.oidc_client_id, &args.public_url) else {
        return Ok(None);
    };
    let client_secret = args
        .oidc_client_secret
        .clone()
        .context("--oidc-issuer needs the client's secret: set TRAILSIGHT_OIDC_CLIENT_SECRET (or --oidc-client-secret)")?;
    if roles.is_empty() {
        anyhow::bail!("--oidc-issuer needs --oidc-admin-values or --oidc-viewer-values: without them no one could sign in");
    }
    let redirect_url = public_url.join(crate::auth::oidc::CALLBACK).context("--public-url cannot hold a path")?;
    let settings = OidcSettings {
        issuer: issuer.clone(),
        client_id: client_id.clone(),
        client_secret,
        scopes: args.oidc_scopes.iter().filter(|s| !s.is_empty() && *s != "openid").cloned().collect(),
        role_claim: args.oidc_role_claim.clone(),
        roles,
        redirect_url,
    };
    let oidc = Oidc::discover(settings).await?;
    tracing::info!(issuer, redirect_uri = %public_url.join(crate::auth::oidc::CALLBACK)?, "single sign-on on");
    Ok(Some(oidc))
}

/// Refuses to start where nobody could sign in, and says in the log who can.
async fn check_sign_in_possible(store: &dyn engine::Store, settings: &crate::web::WebSettings) -> anyhow::Result<()> {
    let access = &settings.access;
    if access.open() {
        tracing::warn!(
            "sign-in is off: this server listens only on loopback ({}), so everyone who can reach it is an admin; \
             start it with --auth required to sign in here too",
            settings.addr
        );
        return Ok(());
    }
    let users = store.access().list_users().await?.len();
    let readers = store.access().list_tokens().await?.iter().filter(|t| t.role.can_read()).count();
    let proxy = access.proxy.is_some();
    let oidc = settings.sign_in.oidc_label.is_some();
    if users == 0 && readers == 0 && !proxy && !oidc {
        anyhow::bail!(
            "sign-in is required on {} but there is no way to sign in: create an admin first with\n  \
             trailsight users add NAME --role admin --password-stdin\n\
             (or configure single sign-on, or --auth-proxy-header)",
            settings.addr
        );
    }
    tracing::info!(users, tokens = readers, proxy, oidc, "sign-in required");
    if settings.hosts.accepts_any() {
        tracing::warn!("no --public-url: requests naming any host are answered; set it to the address people use");
    }
    Ok(())
}

/// Roles a proxy may give: reading or changing (push-only makes no sense for people).
fn parse_reader_role(text: &str) -> Result<Role, String> {
    match Role::parse(text) {
        Some(role) if role.can_read() => Ok(role),
        _ => Err(format!("{text:?} is not a role for people: use viewer or admin")),
    }
}

pub(super) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}
