//! One component per route.

mod access;
mod events;
mod home;
mod insight;
pub mod insights;
mod login;
mod not_found;
mod notifications;
mod settings;
mod triage;

pub use access::AccessPage;
pub use events::{EventList, EventPage, EventsPage};
pub use home::HomePage;
pub use insight::InsightPage;
pub use insights::InsightsPage;
pub use login::LoginPage;
pub use not_found::{set_not_found_status, NotFound, NotFoundPage};
pub use settings::SettingsPage;
