//! `trailsight users`, `trailsight tokens` and `serve`'s refusal to start where nobody could
//! sign in, run as a user runs them: the real binary, a real SQLite file.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn trailsight(db: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trailsight"))
        .args(args)
        .env("TRAILSIGHT_DB", format!("sqlite://{}", db.display()))
        .env("RUST_LOG", "warn")
        .env_remove("TRAILSIGHT_AUTH")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn users_are_added_listed_changed_and_removed_with_passwords_never_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    let added = trailsight(&db, &["users", "add", "alice", "--role", "admin", "--password-stdin"], "correct horse battery\n");
    assert!(added.status.success(), "{}", err(&added));
    let short = trailsight(&db, &["users", "add", "bob", "--role", "viewer", "--password-stdin"], "hunter2\n");
    assert!(!short.status.success());
    assert!(err(&short).contains("at least 10"), "{}", err(&short));
    let twice = trailsight(&db, &["users", "add", "alice", "--role", "viewer", "--password-stdin"], "another password\n");
    assert!(err(&twice).contains("already exists") && err(&twice).contains("users passwd"), "{}", err(&twice));
    let push_user = trailsight(&db, &["users", "add", "fwd", "--role", "push", "--password-stdin"], "another password\n");
    assert!(err(&push_user).contains("not a role for people"), "{}", err(&push_user));

    let list = trailsight(&db, &["users", "list"], "");
    assert!(out(&list).starts_with("alice\tadmin\t"), "{}", out(&list));

    // The stored hash verifies the password typed on stdin, and only it.
    let store = engine::open_store(&format!("sqlite://{}", db.display())).await.unwrap();
    let (_, hash) = store.access().get_user("alice").await.unwrap().unwrap();
    assert!(engine::access::verify_password("correct horse battery", &hash));
    let changed = trailsight(&db, &["users", "passwd", "alice", "--password-stdin"], "a brand new password\n");
    assert!(changed.status.success(), "{}", err(&changed));
    let (_, hash) = store.access().get_user("alice").await.unwrap().unwrap();
    assert!(engine::access::verify_password("a brand new password", &hash));

    let missing = trailsight(&db, &["users", "remove", "nobody"], "");
    assert!(err(&missing).contains("no user named \"nobody\""), "{}", err(&missing));
    assert!(trailsight(&db, &["users", "remove", "alice"], "").status.success());
    assert!(out(&trailsight(&db, &["users", "list"], "")).is_empty());
    let actions: Vec<String> = store.access().list_audit(10).await.unwrap().into_iter().map(|e| format!("{} {} {}", e.actor, e.action, e.target)).collect();
    assert_eq!(actions, ["cli user.remove alice", "cli user.passwd alice", "cli user.add alice"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_is_printed_once_on_the_last_line_and_stored_only_as_a_digest() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let created = trailsight(&db, &["tokens", "create", "forwarder", "--role", "push"], "");
    assert!(created.status.success(), "{}", err(&created));
    let token = out(&created).lines().last().unwrap().to_owned();
    assert_eq!(token.len(), 43, "256 bits in unpadded base64url: {token}");
    // Read the files before this process opens the database: closing any descriptor of a
    // file drops every POSIX lock the process holds on it, SQLite's included, which would
    // let another process delete the WAL under this one's open connections.
    let files = [std::fs::read(&db).unwrap(), std::fs::read(db.with_extension("db-wal")).unwrap_or_default()].concat();
    assert!(!files.windows(token.len()).any(|w| w == token.as_bytes()), "the secret itself is not in the database");
    let store = engine::open_store(&format!("sqlite://{}", db.display())).await.unwrap();
    let found = store.access().token_by_secret(&engine::access::digest(&token), 0).await.unwrap().unwrap();
    assert_eq!((found.name.as_str(), found.role), ("forwarder", engine::access::Role::Push));

    let aws = trailsight(&db, &["tokens", "create", "scripts", "--role", "viewer", "--aws"], "");
    let text = out(&aws);
    let key = text.lines().find_map(|l| l.strip_prefix("AWS_ACCESS_KEY_ID=")).unwrap();
    let secret = text.lines().find_map(|l| l.strip_prefix("AWS_SECRET_ACCESS_KEY=")).unwrap();
    assert!(key.len() == 20 && key.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()), "{key}");
    assert_eq!(secret.len(), 40);
    let list = out(&trailsight(&db, &["tokens", "list"], ""));
    assert!(list.contains("forwarder\tpush\t-\t") && list.contains(&format!("scripts\tviewer\t{key}\t")), "{list}");
    assert!(!list.contains(&token) && !list.contains(secret), "secrets are never listed");
    // Revoked from the command line while this process (a running server, say) has the
    // database open: the revocation is visible here at once.
    assert!(trailsight(&db, &["tokens", "revoke", "forwarder"], "").status.success());
    assert!(store.access().token_by_secret(&engine::access::digest(&token), 0).await.unwrap().is_none());
}

#[test]
fn serve_refuses_to_start_off_loopback_with_no_way_to_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let refused = trailsight(&db, &["serve", "--addr", "0.0.0.0:0", "--detect-every", "0"], "");
    assert_eq!(refused.status.code(), Some(2));
    assert!(err(&refused).contains("trailsight users add NAME --role admin --password-stdin"), "{}", err(&refused));
    let local = trailsight(&db, &["serve", "--addr", "127.0.0.1:0", "--auth", "required", "--detect-every", "0"], "");
    assert_eq!(local.status.code(), Some(2), "--auth required on loopback needs a user too");
}
