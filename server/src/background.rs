//! Work the server does by itself: detection over each trail as minutes close, so insights
//! appear while logs arrive.
//!
//! A pass over a trail replays its stored history, which costs time in proportion to it, so
//! a trail is only passed over again when something could have changed: its events (span
//! or newest event), its settings, or an insight still going on (whose End waits for quiet
//! minutes to close). Events backfilled *older* than the newest stored one change neither,
//! so every trail also gets a full pass every [`FULL_PASS_EVERY_MS`]; `trailsight detect`
//! picks them up at once. Detection is idempotent, so a pass that repeats work changes
//! nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use engine::detect::{detect_trail, DetectorConfig};
use engine::store::Trail;
use engine::time::Minute;

/// Longest a trail goes without a pass, whatever else happens.
pub const FULL_PASS_EVERY_MS: i64 = 15 * 60_000;

/// What a trail looked like at its last pass.
#[derive(Debug, Clone, PartialEq)]
pub struct TrailState {
    pub span: Option<(Minute, Minute)>,
    pub last_event_ms: Option<i64>,
    pub settings: String,
}

/// When and on what the last pass ran, and whether it left insights open.
#[derive(Debug, Clone)]
pub struct LastPass {
    pub state: TrailState,
    pub at_ms: i64,
    pub ongoing: bool,
}

/// Whether a trail needs a pass now.
pub fn needs_pass(last: Option<&LastPass>, state: &TrailState, now_ms: i64) -> bool {
    match last {
        None => true,
        Some(last) => last.ongoing || last.state != *state || now_ms - last.at_ms >= FULL_PASS_EVERY_MS,
    }
}

pub async fn detect_every(store: Arc<dyn engine::Store>, period: Duration) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut passes: HashMap<String, LastPass> = HashMap::new();
    loop {
        ticks.tick().await;
        let now = chrono::Utc::now().timestamp_millis();
        if let Err(e) = pass(store.as_ref(), &mut passes, now).await {
            tracing::error!("background detection failed: {e}");
        }
    }
}

async fn pass(
    store: &dyn engine::Store,
    passes: &mut HashMap<String, LastPass>,
    now: i64,
) -> Result<(), engine::StoreError> {
    let trails: Vec<Trail> = store.list_trails().await?;
    passes.retain(|name, _| trails.iter().any(|t| &t.name == name));
    for trail in &trails {
        let state = TrailState {
            span: store.event_span(&trail.name).await?,
            last_event_ms: trail.last_event_ms,
            settings: format!("{:?} {:?}", trail.insight_types, trail.sensitivity),
        };
        if !needs_pass(passes.get(&trail.name), &state, now) {
            continue;
        }
        let cfg = DetectorConfig::new(trail.sensitivity);
        let r = detect_trail(store, trail, now, &cfg).await?;
        if r.insights_changed > 0 {
            tracing::info!(trail = %r.trail, changed = r.insights_changed, "detection stored insights");
        }
        passes.insert(trail.name.clone(), LastPass { state, at_ms: now, ongoing: r.insights_ongoing > 0 });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(last_event_ms: i64) -> TrailState {
        TrailState { span: Some((0, last_event_ms / 60_000)), last_event_ms: Some(last_event_ms), settings: "x".into() }
    }

    #[test]
    fn a_quiet_trail_is_skipped_until_something_changes_or_the_full_pass_is_due() {
        let last = LastPass { state: state(1_000_000), at_ms: 5_000_000, ongoing: false };
        assert!(!needs_pass(Some(&last), &state(1_000_000), 5_060_000), "nothing changed");
        assert!(needs_pass(Some(&last), &state(1_060_000), 5_060_000), "a newer event arrived");
        let settings = TrailState { settings: "y".into(), ..state(1_000_000) };
        assert!(needs_pass(Some(&last), &settings, 5_060_000), "sensitivity or selectors changed");
        assert!(needs_pass(Some(&last), &state(1_000_000), 5_000_000 + FULL_PASS_EVERY_MS), "backfill bound");
        let open = LastPass { ongoing: true, ..last };
        assert!(needs_pass(Some(&open), &state(1_000_000), 5_060_000), "an open insight may end");
        assert!(needs_pass(None, &state(1_000_000), 0), "never passed");
    }
}
