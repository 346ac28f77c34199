//! `trailsight users ...` and `trailsight tokens ...`: who may sign in, and the API tokens
//! scripts, forwarders and the AWS CLI use. Every change is written to the audit log with the
//! actor `cli` (whoever can run this command can open the database anyway).

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use engine::access::{check_name, check_password, digest, hash_password, new_secret, random_chars, Role};
use engine::store::access::{ApiToken, AuditEntry};

use super::DbArgs;

#[derive(Args)]
pub struct UsersArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(subcommand)]
    command: UsersCommand,
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Add a user who signs in with a password.
    Add {
        name: String,
        #[arg(long, value_parser = people_role)]
        role: Role,
        /// Read the password from the first line of standard input (so it stays out of the
        /// shell history and the process list).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List the users and their roles.
    List,
    /// Remove a user; their sessions end at once.
    Remove { name: String },
    /// Set a new password (read from standard input); the user's sessions end at once.
    Passwd {
        name: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Args)]
pub struct TokensArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(subcommand)]
    command: TokensCommand,
}

#[derive(Subcommand)]
enum TokensCommand {
    /// Create a token and print it once (the last line of the output); only its digest is kept.
    Create {
        name: String,
        #[arg(long, value_parser = any_role)]
        role: Role,
        /// Make an AWS access key pair for the AWS API (`aws --endpoint-url`) instead of a
        /// bearer token; printed as AWS_ACCESS_KEY_ID=... and AWS_SECRET_ACCESS_KEY=... lines.
        #[arg(long)]
        aws: bool,
    },
    /// List the tokens (never their secrets).
    List,
    /// Revoke a token at once.
    Revoke { name: String },
}

fn people_role(text: &str) -> Result<Role, String> {
    match Role::parse(text) {
        Some(role) if role.can_read() => Ok(role),
        _ => Err(format!("{text:?} is not a role for people: use admin or viewer")),
    }
}

fn any_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("{text:?} is not a role: use viewer, admin or push"))
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    check_password(&password).map_err(|why| anyhow::anyhow!("{why}"))?;
    Ok(password)
}

pub(super) async fn audit(store: &dyn engine::Store, action: &str, target: &str, detail: String) -> anyhow::Result<()> {
    let entry = AuditEntry {
        id: 0,
        at_ms: chrono::Utc::now().timestamp_millis(),
        actor: "cli".to_owned(),
        action: action.to_owned(),
        target: target.to_owned(),
        detail,
    };
    store.access().record_audit(&entry).await.context("writing the audit log")
}

pub async fn users(args: UsersArgs) -> anyhow::Result<ExitCode> {
    let store = args.db.open().await?;
    let access = store.access();
    match args.command {
        UsersCommand::Add { name, role, .. } => {
            check_name("user", &name).map_err(|why| anyhow::anyhow!("{why}"))?;
            let password = read_password()?;
            let hash = tokio::task::spawn_blocking(move || hash_password(&password)).await?;
            match access.add_user(&name, role, &hash, chrono::Utc::now().timestamp_millis()).await {
                Err(engine::StoreError::UserExists(_)) => {
                    bail!("a user named {name:?} already exists: change the password with `trailsight users passwd {name} --password-stdin`")
                }
                other => other?,
            }
            audit(store.as_ref(), "user.add", &name, format!("role {role}")).await?;
            println!("added {name} ({role})");
        }
        UsersCommand::List => {
            for user in access.list_users().await? {
                println!("{}\t{}\t{}", user.name, user.role, engine::time::format_millis(user.created_ms));
            }
        }
        UsersCommand::Remove { name } => {
            access.remove_user(&name).await.map_err(|e| no_such(e, "user", &name))?;
            audit(store.as_ref(), "user.remove", &name, String::new()).await?;
            println!("removed {name}; their sessions have ended");
        }
        UsersCommand::Passwd { name, .. } => {
            let password = read_password()?;
            let hash = tokio::task::spawn_blocking(move || hash_password(&password)).await?;
            access.set_password(&name, &hash).await.map_err(|e| no_such(e, "user", &name))?;
            audit(store.as_ref(), "user.passwd", &name, String::new()).await?;
            println!("changed the password of {name}; their sessions have ended");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn no_such(e: engine::StoreError, kind: &str, name: &str) -> anyhow::Error {
    match e {
        engine::StoreError::NoSuchUser(_) | engine::StoreError::NoSuchToken(_) => {
            anyhow::anyhow!("there is no {kind} named {name:?} (`trailsight {kind}s list` shows them)")
        }
        other => other.into(),
    }
}

pub async fn tokens(args: TokensArgs) -> anyhow::Result<ExitCode> {
    let store = args.db.open().await?;
    let access = store.access();
    match args.command {
        TokensCommand::Create { name, role, aws } => {
            check_name("token", &name).map_err(|why| anyhow::anyhow!("{why}"))?;
            // AWS's own shapes: a 20-character upper-case key ID, a 40-character secret.
            let aws_pair = aws.then(|| {
                (
                    format!("TSAK{}", random_chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
                    random_chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40),
                )
            });
            let secret = new_secret();
            let token = ApiToken {
                name: name.clone(),
                role,
                aws_access_key_id: aws_pair.as_ref().map(|(id, _)| id.clone()),
                created_ms: chrono::Utc::now().timestamp_millis(),
                created_by: "cli".to_owned(),
                last_used_ms: None,
            };
            match access.create_token(&token, &digest(&secret), aws_pair.as_ref().map(|(_, s)| s.as_str())).await {
                Err(engine::StoreError::TokenExists(_)) => {
                    bail!("a token named {name:?} already exists: revoke it first, or choose another name")
                }
                other => other?,
            }
            audit(store.as_ref(), "token.create", &name, format!("role {role}{}", if aws { ", AWS key pair" } else { "" })).await?;
            eprintln!("created the {role} token {name}; it is shown once, keep it now:");
            match aws_pair {
                Some((id, secret)) => println!("AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}"),
                None => println!("{secret}"),
            }
        }
        TokensCommand::List => {
            for t in access.list_tokens().await? {
                let used = t.last_used_ms.map(engine::time::format_millis).unwrap_or_else(|| "never used".to_owned());
                let key = t.aws_access_key_id.unwrap_or_else(|| "-".to_owned());
                println!("{}\t{}\t{}\t{}\t{}", t.name, t.role, key, engine::time::format_millis(t.created_ms), used);
            }
        }
        TokensCommand::Revoke { name } => {
            access.revoke_token(&name).await.map_err(|e| no_such(e, "token", &name))?;
            audit(store.as_ref(), "token.revoke", &name, String::new()).await?;
            println!("revoked {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
