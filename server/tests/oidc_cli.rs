//! `trailsight serve --oidc-*` refuses to start, saying why, when single sign-on could not
//! work: the provider cannot be reached (the error names it), the secret is missing, or no
//! group would give anyone a role. (Signing in through a real provider is tested in the
//! browser: end2end/tests/oidc.spec.ts.)

use std::process::{Command, Output, Stdio};

fn serve(args: &[&str], secret: Option<&str>) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_trailsight"));
    command
        .arg("serve")
        .args(["--addr", "127.0.0.1:0", "--auth", "required", "--detect-every", "0"])
        .args(args)
        .env("TRAILSIGHT_DB", format!("sqlite://{}", dir.path().join("t.db").display()))
        .env_remove("TRAILSIGHT_OIDC_CLIENT_SECRET")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(secret) = secret {
        command.env("TRAILSIGHT_OIDC_CLIENT_SECRET", secret);
    }
    command.output().unwrap()
}

/// An address nothing listens on.
fn unreachable_issuer() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}")
}

#[test]
fn an_unreachable_provider_stops_serve_with_its_address() {
    let issuer = unreachable_issuer();
    let out = serve(
        &["--public-url", "http://127.0.0.1:3000", "--oidc-issuer", &issuer, "--oidc-client-id", "ts", "--oidc-admin-values", "admins"],
        Some("secret"),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(&format!("cannot use the OpenID provider {issuer} (--oidc-issuer)")), "{stderr}");
}

#[test]
fn missing_secret_public_url_or_groups_are_named() {
    let issuer = unreachable_issuer();
    let base = ["--oidc-issuer", issuer.as_str(), "--oidc-client-id", "ts"];
    let cases: [(Vec<&str>, Option<&str>, &str); 3] = [
        ([&base[..], &["--public-url", "http://127.0.0.1:3000", "--oidc-admin-values", "a"]].concat(), None, "TRAILSIGHT_OIDC_CLIENT_SECRET"),
        ([&base[..], &["--oidc-admin-values", "a"]].concat(), Some("s"), "--public-url"),
        ([&base[..], &["--public-url", "http://127.0.0.1:3000"]].concat(), Some("s"), "--oidc-admin-values"),
    ];
    for (args, secret, named) in cases {
        let out = serve(&args, secret);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains(named), "{args:?}: {stderr}");
    }
}
