//! Server functions for the event history (`/events`) and one event's page.

use leptos::prelude::*;

use super::AppError;
use crate::model::{EventRow, EventsPage};

/// The lookup attributes the event history filters on, as CloudTrail names them.
pub const ATTRIBUTES: [&str; 8] =
    ["EventId", "EventName", "EventSource", "Username", "ResourceName", "ResourceType", "AccessKeyId", "ReadOnly"];

/// Stored events, newest first, filtered by one lookup attribute and a time range.
#[server]
pub async fn list_events(attr: String, value: String, from: String, to: String, before: String) -> Result<EventsPage, AppError> {
    use engine::store::{EventQuery, LookupAttribute};

    use crate::api::server::{decode_cursor, events_page, state};
    let state = state()?;
    let lookup = match (LookupAttribute::parse(&attr), value.trim()) {
        (Some(a), v) if !v.is_empty() => Some((a, v.to_owned())),
        (None, v) if !v.is_empty() && !attr.is_empty() => {
            return Err(AppError::invalid(format!("{attr:?} is not a lookup attribute: use one of {}.", ATTRIBUTES.join(", "))))
        }
        _ => None,
    };
    let zone = crate::api::server::request_zone();
    let (from_ms, to_ms) = (crate::query::parse_time_ms_in(&from, zone), crate::query::parse_time_ms_in(&to, zone));
    if let (Some(f), Some(t)) = (from_ms, to_ms) {
        if f > t {
            return Err(AppError::invalid(format!("From ({from}) is later than To ({to}): swap them to see events between the two.")));
        }
    }
    let query = EventQuery {
        lookup,
        from_ms,
        to_ms,
        before: decode_cursor(&before),
        ..Default::default()
    };
    events_page(state.store.as_ref(), query, 50).await
}

/// One event by its eventID (the first trail holding it); `None` when unknown.
#[server]
pub async fn get_event(id: String) -> Result<Option<EventRow>, AppError> {
    use crate::api::server::{full_event_row, internal, state};
    let state = state()?;
    let found = state.store.get_event(&id).await.map_err(internal)?;
    Ok(found.first().map(full_event_row))
}
