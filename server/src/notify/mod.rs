//! Notifications: the server's delivery worker, which sends what the outbox holds.
//!
//! Insight events are queued in the transaction that stores them (see `engine::notify` for
//! who gets what). Every server runs a [`Notifier`]: each second it claims the deliveries
//! that are due (each is claimed by one server at a time, see `engine::store::notify`), sends
//! them, and records the outcome. Delivery is at least once: a server that dies after the
//! destination accepted an event but before recording it leaves the claim to expire, and
//! another server sends it again, with the same `X-Trailsight-Event-Id` (webhooks) and
//! EventBridge `id`, the same insight file name (S3, directory), so receivers can tell. Once
//! recorded as sent, a delivery is never sent again. Failures are retried with exponential
//! backoff and jitter (`backon`) up to the destination's `max_attempts`.

pub mod message;
pub mod send;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use backon::BackoffBuilder;
use engine::notify::{Delivery, Destination};
use engine::store::notify::Outcome;
use engine::Store;

/// How the worker paces itself.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// Pause between looks at the outbox when it has nothing due.
    pub poll: Duration,
    /// Wait before the first retry; each further retry waits about twice as long.
    pub first_retry: Duration,
    /// Longest wait between two attempts.
    pub max_retry: Duration,
    /// How long a server's claim on a delivery lasts: if it dies while sending, another
    /// server sends the delivery once the claim has run out. Keep it well above the 30 s a
    /// send may take, or a slow send may be sent again by another server.
    pub claim: Duration,
    /// Where people open the dashboard, for links in messages.
    pub public_url: Option<url::Url>,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            poll: Duration::from_secs(1),
            first_retry: Duration::from_secs(10),
            max_retry: Duration::from_secs(3600),
            claim: Duration::from_secs(300),
            public_url: None,
        }
    }
}

/// Deliveries claimed (and sent concurrently) at once.
const BATCH: u32 = 16;

pub struct Notifier {
    store: Arc<dyn Store>,
    settings: NotifySettings,
    holder: String,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Notifier {
    pub fn new(store: Arc<dyn Store>, settings: NotifySettings) -> Arc<Notifier> {
        let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        let holder = format!("{}/pid {}/{}/notify", host.trim(), std::process::id(), now_ms());
        Arc::new(Notifier { store, settings, holder })
    }

    /// Sends what is due, forever.
    pub async fn run(self: Arc<Self>) {
        loop {
            match self.deliver_due().await {
                Ok(0) => tokio::time::sleep(self.settings.poll).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::error!("notifications: cannot read the outbox: {e}");
                    tokio::time::sleep(self.settings.poll * 5).await;
                }
            }
        }
    }

    /// Claims one batch of due deliveries and sends them; returns how many it claimed.
    pub async fn deliver_due(&self) -> Result<usize, engine::StoreError> {
        // The one query of an idle second; destinations are read only when something is due.
        let claimed = self.store.notify().claim_deliveries(&self.holder, now_ms(), self.claim_ms(), BATCH).await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let destinations: HashMap<String, Destination> = match self.store.notify().list_destinations().await {
            Ok(list) => list.into_iter().map(|d| (d.name.clone(), d)).collect(),
            Err(e) => {
                // Give the claims back at once rather than leave them to run out.
                let retry = Outcome::Retry { at_ms: now_ms(), error: format!("reading the destinations failed: {e}") };
                for delivery in &claimed {
                    let _ = self.store.notify().finish_delivery(delivery.id, &self.holder, now_ms(), &retry).await;
                }
                return Err(e);
            }
        };
        let count = claimed.len();
        // Each send is cut off well inside the claim, so a slow receiver can neither hold the
        // batch past it nor let another server send the same delivery meanwhile.
        let limit = self.settings.claim / 3;
        let mut sending = tokio::task::JoinSet::new();
        let mut by_task = HashMap::new();
        for delivery in claimed {
            let destination = destinations.get(&delivery.destination).cloned();
            let public_url = self.settings.public_url.clone();
            let (record, trail) = (delivery.record.clone(), delivery.trail.clone());
            let task = sending.spawn(async move {
                let Some(d) = destination else { return None };
                let cx = send::Context { record: &record, trail: &trail, public_url: public_url.as_ref() };
                Some(match tokio::time::timeout(limit, send::send(&d, &cx)).await {
                    Ok(result) => result,
                    Err(_) => Err(send::SendError {
                        message: format!("no answer within {} s", limit.as_secs()),
                        retry: true,
                        retry_after: None,
                    }),
                })
            });
            by_task.insert(task.id(), delivery);
        }
        while let Some(joined) = sending.join_next_with_id().await {
            let (id, result) = match joined {
                Ok((id, result)) => (id, result),
                // A send that panicked is a failure to record like any other, not a claim
                // left to run out again and again.
                Err(e) => (e.id(), Some(Err(send::SendError { message: format!("sending failed: {e}"), retry: true, retry_after: None }))),
            };
            let Some(delivery) = by_task.remove(&id) else { continue };
            let result = match result {
                Some(result) => result,
                None => Err(self.missing_destination(&delivery.destination).await),
            };
            let outcome = self.outcome(&delivery, destinations.get(&delivery.destination), result);
            match &outcome {
                Outcome::Sent => tracing::info!(destination = %delivery.destination, event = %delivery.event_id, "notification sent"),
                Outcome::Retry { error, .. } => {
                    tracing::warn!(destination = %delivery.destination, event = %delivery.event_id, attempt = delivery.attempts + 1, "notification failed, will retry: {error}")
                }
                Outcome::Failed { error } => {
                    tracing::error!(destination = %delivery.destination, event = %delivery.event_id, "notification failed for good: {error}")
                }
            }
            // Go on with the rest of the batch whatever happens to this one's record.
            match self.store.notify().finish_delivery(delivery.id, &self.holder, now_ms(), &outcome).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!(delivery = delivery.id, "the claim on a notification passed to another server before it was recorded"),
                Err(e) => tracing::error!(delivery = delivery.id, "cannot record a notification's outcome (it will be sent again): {e}"),
            }
        }
        Ok(count)
    }

    fn claim_ms(&self) -> i64 {
        self.settings.claim.as_millis() as i64
    }

    /// Why a delivery's destination was not among those read: removed, or its stored settings
    /// cannot be read (kept for a retry: an admin may fix it by removing and adding it again).
    async fn missing_destination(&self, name: &str) -> send::SendError {
        match self.store.notify().get_destination(name).await {
            Ok(None) => send::SendError { message: "the destination was removed".into(), retry: false, retry_after: None },
            Ok(Some(_)) => send::SendError { message: "the destination was added again meanwhile".into(), retry: true, retry_after: None },
            Err(e) => send::SendError { message: format!("{e}: remove the destination and add it again"), retry: true, retry_after: None },
        }
    }

    fn outcome(&self, delivery: &Delivery, destination: Option<&Destination>, result: Result<(), send::SendError>) -> Outcome {
        let error = match result {
            Ok(()) => return Outcome::Sent,
            Err(e) => e,
        };
        let attempts = delivery.attempts + 1;
        let max_attempts = destination.map(|d| d.max_attempts).unwrap_or(Destination::DEFAULT_MAX_ATTEMPTS);
        if !error.retry || attempts >= max_attempts {
            let message = if error.retry { format!("{} (gave up after {attempts} attempts)", error.message) } else { error.message };
            return Outcome::Failed { error: message };
        }
        let wait = error.retry_after.map(|w| w.min(self.settings.max_retry)).unwrap_or_else(|| retry_delay(&self.settings, attempts));
        Outcome::Retry { at_ms: now_ms() + wait.as_millis() as i64, error: error.message }
    }
}

/// Sends a sample insight event to the destination at once (`destinations test`, the
/// settings page's Test button), outside the outbox: the error comes back to the person.
pub async fn send_sample(destination: &Destination, public_url: Option<&url::Url>) -> Result<(), String> {
    let trail = destination.trail.as_deref().unwrap_or("sample");
    let record = engine::notify::sample_record(trail, now_ms());
    let cx = send::Context { record: &record, trail, public_url };
    send::send(destination, &cx).await.map_err(|e| e.message)
}

/// The wait before retry number `attempts` (1 after the first failure): exponential from
/// `first_retry`, capped at `max_retry`, with jitter so that many failed deliveries (a
/// receiver that was down) do not all come back at the same instant.
pub fn retry_delay(settings: &NotifySettings, attempts: i64) -> Duration {
    let mut delays = backon::ExponentialBuilder::default()
        .with_min_delay(settings.first_retry)
        .with_max_delay(settings.max_retry)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .build();
    delays.nth(attempts.saturating_sub(1) as usize).unwrap_or(settings.max_retry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let settings = NotifySettings { first_retry: Duration::from_secs(10), max_retry: Duration::from_secs(300), ..Default::default() };
        // backon's jitter adds up to one more base delay: 10-20 s, then 20-40 s, 40-80 s.
        for (attempt, low) in [(1, 10), (2, 20), (3, 40)] {
            let d = retry_delay(&settings, attempt).as_secs_f64();
            assert!(d >= low as f64 && d <= 2.0 * low as f64, "attempt {attempt}: {d}");
        }
        assert!(retry_delay(&settings, 30) <= Duration::from_secs(600), "capped (plus jitter)");
    }
}
