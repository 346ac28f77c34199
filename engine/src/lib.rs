//! The trailsight engine: everything the product *knows*, with no web framework in sight.
//!
//! # Layout
//!
//! - [`record`]: one CloudTrail record, parsed from its raw JSON, and how it is classified
//!   (management or data, read or write) for the insight types.
//! - [`ingest`]: turning files, directories and streams into records, with a reason for
//!   everything rejected.
//! - [`store`]: the [`store::Store`] trait (what detection and the dashboard need from a
//!   database) and its SQLite implementation.
//! - [`detect`]: the anomaly detector (pure: counts and "now" in, anomalies out) and the
//!   driver that turns anomalies into stored insight events.
//! - [`insight`]: the insight event in AWS's exact JSON format.
//! - [`selectors`]: a trail's event selectors, which decide the events ingest keeps.
//! - [`names`]: the rule for trail names, shared by every way of making one.
//! - [`eval`]: the labelled evaluation of the detector against a naive reference.
//! - [`access`]: roles, the principal a request acts as, password hashes and secrets.
//! - [`demo`]: a deterministic generator of realistic demo history with a real attack burst.
//!
//! Time is always an argument: nothing here reads the clock except the CLI's defaults.

pub mod access;
pub mod demo;
pub mod detect;
pub mod eval;
pub mod ingest;
pub mod insight;
pub mod names;
pub mod notify;
pub mod record;
pub mod selectors;
pub mod store;
pub mod time;

pub use record::Record;
pub use store::{open_store, Store, StoreError};
