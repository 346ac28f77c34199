//! One component per route.

mod events;
mod home;
mod insight;
pub mod insights;
mod not_found;
mod settings;

pub use events::{EventList, EventPage, EventsPage};
pub use home::HomePage;
pub use insight::InsightPage;
pub use insights::InsightsPage;
pub use not_found::{set_not_found_status, NotFound, NotFoundPage};
pub use settings::SettingsPage;
