//! One component per route.

mod insight;
mod insights;
mod not_found;

pub use insight::InsightPage;
pub use insights::InsightsPage;
pub use not_found::{set_not_found_status, NotFound, NotFoundPage};
