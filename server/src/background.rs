//! Work the server does by itself: detection over each trail as minutes close, so insights
//! appear while logs arrive, and retention of old events.
//!
//! Several servers may share one database. Detection of a trail runs in exactly one of them
//! at a time: the one holding the trail's lease (`detect:TRAIL`, see
//! [`engine::Store::acquire_lease`]). A holder renews its leases every third of their term,
//! also in the middle of a long pass; when it dies, its leases run out and another server
//! takes them over at its next check. Detection is idempotent (insight IDs derive from the
//! insight), so even a pass cut short by `kill -9` leaves nothing that the next holder's
//! pass would duplicate, and nothing it would miss.
//!
//! A pass over a trail replays its stored history, which costs time in proportion to it, so
//! the holder passes over a trail again only when something could have changed: its events
//! (span or newest event), its settings, or an insight still going on (whose End waits for
//! quiet minutes to close). Events backfilled *older* than the newest stored one change
//! neither, so every trail also gets a full pass every [`FULL_PASS_EVERY_MS`];
//! `trailsight detect` picks them up at once.
//!
//! A pass judges closed minutes only. When the last pass over a trail saw its newest event's
//! minute still open (a burst pushed a moment ago), the server wakes when that minute ends and
//! passes over the trail at once, whatever the period: the insight is stored within seconds
//! of the burst's minute closing instead of at the next period or full pass.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use engine::detect::{detect_trail, DetectorConfig};
use engine::detect::DetectReport;
use engine::store::Trail;
use engine::time::{minute_of_millis, Minute};
use engine::Store;

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
        Some(last) => {
            last.ongoing || last.state != *state || now_ms - last.at_ms >= FULL_PASS_EVERY_MS || newest_minute_closed(last, now_ms)
        }
    }
}

/// Whether the minute of the trail's newest event was still open when the last pass ran and
/// has closed since. A pass judges closed minutes only, so a burst pushed into the current
/// minute is judged by the first pass after that minute ends: this is what asks for that
/// pass, at once rather than at the next period or full pass (minutes later).
pub fn newest_minute_closed(last: &LastPass, now_ms: i64) -> bool {
    let Some(newest) = last.state.last_event_ms.map(minute_of_millis) else { return false };
    newest >= minute_of_millis(last.at_ms) && minute_of_millis(now_ms) > newest
}

/// When the next minute with events to judge closes, after `now_ms`: a moment after the end
/// of the newest event's minute of any trail whose last pass saw that minute open. (Once that
/// moment has passed, the regular ticks retry a pass that could not run.)
fn next_closing_ms(passes: &HashMap<String, LastPass>, now_ms: i64) -> Option<i64> {
    passes
        .values()
        .filter_map(|p| p.state.last_event_ms.map(minute_of_millis).filter(|m| *m >= minute_of_millis(p.at_ms)))
        .map(|minute| (minute + 1) * 60_000 + CLOSE_MARGIN_MS)
        .filter(|at| *at > now_ms)
        .min()
}

/// How long after a minute ends its pass starts: events stamped in its last second may still
/// be arriving (a push is stored within milliseconds of its records' time).
const CLOSE_MARGIN_MS: i64 = 1_000;

/// How background detection shares the work with other servers.
#[derive(Debug, Clone)]
pub struct DetectionSchedule {
    /// Time between two passes over a trail.
    pub period: Duration,
    /// How long a lease lasts without renewal: how soon another server takes over a dead
    /// one's trails.
    pub lease_term: Duration,
}

/// Background detection in one server: which leases it holds, under which name.
pub struct BackgroundDetection {
    store: Arc<dyn Store>,
    schedule: DetectionSchedule,
    /// Names this server in the lease table: host, process and start time.
    holder: String,
    held: Mutex<BTreeSet<String>>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn lease_name(trail: &str) -> String {
    format!("detect:{trail}")
}

impl BackgroundDetection {
    pub fn new(store: Arc<dyn Store>, schedule: DetectionSchedule) -> Arc<BackgroundDetection> {
        let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        let holder = format!("{}/pid {}/{}", host.trim(), std::process::id(), now_ms());
        Arc::new(BackgroundDetection { store, schedule, holder, held: Mutex::new(BTreeSet::new()) })
    }

    fn term_ms(&self) -> i64 {
        self.schedule.lease_term.as_millis() as i64
    }

    /// Checks the leases every third of their term, and runs a pass over each trail it
    /// holds once `period` has passed since that trail's last pass. Runs until dropped.
    pub async fn run(self: Arc<Self>) {
        let mut ticks = tokio::time::interval(self.schedule.lease_term / 3);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_check: HashMap<String, Instant> = Default::default();
        let mut last_pass: HashMap<String, LastPass> = Default::default();
        loop {
            // The next tick, or the end of a minute that holds events no pass could judge yet.
            let now = now_ms();
            let wake = next_closing_ms(&last_pass, now).map(|at| Duration::from_millis((at - now) as u64));
            match wake {
                Some(wait) => tokio::select! {
                    _ = ticks.tick() => {}
                    () = tokio::time::sleep(wait) => {}
                },
                None => {
                    ticks.tick().await;
                }
            }
            let trails = match self.store.list_trails().await {
                Ok(trails) => trails,
                Err(e) => {
                    tracing::error!("background detection cannot list the trails: {e}");
                    continue;
                }
            };
            for trail in trails {
                if !self.hold(&trail.name).await {
                    continue;
                }
                let due = last_check.get(&trail.name).is_none_or(|t| t.elapsed() >= self.schedule.period);
                let closed = last_pass.get(&trail.name).is_some_and(|p| newest_minute_closed(p, now_ms()));
                if !due && !closed {
                    continue;
                }
                last_check.insert(trail.name.clone(), Instant::now());
                let state = match self.store.event_span(&trail.name).await {
                    Ok(span) => TrailState {
                        span,
                        last_event_ms: trail.last_event_ms,
                        settings: format!("{:?} {:?} drops {}", trail.insight_types, trail.sensitivity, trail.drops),
                    },
                    Err(e) => {
                        tracing::error!(trail = %trail.name, "background detection cannot read the trail: {e}");
                        continue;
                    }
                };
                let now = now_ms();
                if !needs_pass(last_pass.get(&trail.name), &state, now) {
                    continue;
                }
                if let Some(report) = self.pass(&trail).await {
                    last_pass.insert(trail.name.clone(), LastPass { state, at_ms: now, ongoing: report.insights_ongoing > 0 });
                }
            }
        }
    }

    /// Takes or renews the trail's lease; says so in the log when that changes.
    async fn hold(&self, trail: &str) -> bool {
        let lease = lease_name(trail);
        let holds = match self.store.acquire_lease(&lease, &self.holder, now_ms(), self.term_ms()).await {
            Ok(holds) => holds,
            Err(e) => {
                tracing::error!(trail, "cannot renew the detection lease: {e}");
                false
            }
        };
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if holds && held.insert(lease.clone()) {
            tracing::info!(trail, holder = %self.holder, "took the detection lease");
        } else if !holds && held.remove(&lease) {
            tracing::warn!(trail, "lost the detection lease: another server detects this trail now");
        }
        holds
    }

    /// One detection pass over a trail, renewing every held lease meanwhile; stopped if this
    /// trail's lease is lost. Returns the report of a pass that completed.
    async fn pass(&self, trail: &Trail) -> Option<DetectReport> {
        let cfg = DetectorConfig::for_trail(trail);
        let detect = detect_trail(self.store.as_ref(), trail, now_ms(), &cfg);
        let renew = async {
            loop {
                tokio::time::sleep(self.schedule.lease_term / 3).await;
                let held: Vec<String> = self.held.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect();
                for lease in held {
                    let trail_name = lease.strip_prefix("detect:").unwrap_or(&lease);
                    if !self.hold(trail_name).await && trail_name == trail.name {
                        return;
                    }
                }
            }
        };
        tokio::select! {
            report = detect => match report {
                Ok(r) => {
                    tracing::info!(
                        trail = %r.trail, insights = r.insights_found, changed = r.insights_changed,
                        "detection pass done"
                    );
                    Some(r)
                }
                Err(e) => {
                    tracing::error!(trail = %trail.name, "background detection failed: {e}");
                    None
                }
            },
            () = renew => {
                tracing::warn!(trail = %trail.name, "detection pass stopped: the lease was lost");
                None
            }
        }
    }

    /// Gives up every lease so other servers take over at once (on a clean shutdown).
    pub async fn release_all(&self) {
        let held = std::mem::take(&mut *self.held.lock().unwrap_or_else(|e| e.into_inner()));
        for lease in held {
            if let Err(e) = self.store.release_lease(&lease, &self.holder).await {
                tracing::warn!("cannot release the lease {lease}: {e}");
            }
        }
    }
}

/// Deletes, trail by trail, what is older than `days` days before that trail's newest stored
/// event, now and then every `every`. Counting back from each trail's newest event rather
/// than from the clock (or from the newest event of all trails) means a live trail keeps
/// its last `days` days, and history replayed from old logs (the reason to ingest it) is
/// not deleted the moment it is stored, whatever other trails hold.
pub async fn retain_every(store: Arc<dyn Store>, days: u32, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        // The clock only caps each trail's anchor (events stamped in the future).
        let anchor = now_ms();
        match store.apply_retention(anchor, days).await {
            Ok(r) if r.events_removed + r.insights_removed > 0 => tracing::info!(
                days, events = r.events_removed, insights = r.insights_removed,
                "retention removed old data"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!("retention failed: {e}"),
        }
    }
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
        let open = LastPass { ongoing: true, ..last.clone() };
        assert!(needs_pass(Some(&open), &state(1_000_000), 5_060_000), "an open insight may end");
        assert!(needs_pass(None, &state(1_000_000), 0), "never passed");
    }

    #[test]
    fn a_minute_seen_open_asks_for_a_pass_once_it_has_closed() {
        // Newest event at 10:00:20 (minute 600 of the epoch's first day), last pass at 10:00:30.
        let pushed = LastPass { state: state(36_020_000), at_ms: 36_030_000, ongoing: false };
        assert!(!needs_pass(Some(&pushed), &state(36_020_000), 36_059_000), "the minute is still open");
        assert!(needs_pass(Some(&pushed), &state(36_020_000), 36_060_000), "it closed at 10:01:00");
        let passes = HashMap::from([("t".to_owned(), pushed.clone())]);
        assert_eq!(next_closing_ms(&passes, 36_040_000), Some(36_060_000 + CLOSE_MARGIN_MS));
        assert_eq!(next_closing_ms(&passes, 36_062_000), None, "past: left to the ticks");
        // A pass after the minute closed judged it: nothing more to wait for.
        let judged = LastPass { at_ms: 36_061_000, ..pushed };
        assert!(!newest_minute_closed(&judged, 36_120_000));
        assert_eq!(next_closing_ms(&HashMap::from([("t".to_owned(), judged)]), 36_062_000), None);
    }
}
