//! `trailsight`: self-hosted CloudTrail Insights.
//!
//! # Layout
//!
//! - [`cli`]: one module per subcommand (`serve`, `ingest`, `detect`, `insights`, `demo`),
//!   each a `clap` struct with a documented field per option and a `run` function.
//! - [`auth`]: who is asking: sessions, tokens, sign-in, cross-site and Host checks.
//! - [`listen`]: accepting connections (HTTP or TLS) with timeouts and a connection limit.
//! - [`web`]: the axum router: the Leptos pages, the browser bundle, the stylesheet.
//! - [`aws`]: CloudTrail's own API (AWS JSON 1.1, SigV4) on `POST /`.
//! - [`push`]: `POST /api/v1/trails/{trail}/events`, records pushed over HTTP.
//! - [`background`]: work the server does by itself (detection each minute).
//! - [`notify`]: sending insight events to webhooks, Slack, e-mail, S3 and directories.
//!
//! The binary (`main.rs`) only parses arguments, sets up logging and maps errors to exit
//! codes; everything else is here so that tests can drive it.

pub mod auth;
pub mod aws;
pub mod background;
pub mod cli;
pub mod listen;
pub mod notify;
pub mod push;
pub mod web;
