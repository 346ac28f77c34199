//! Work the server does by itself: detection over each trail as minutes close, so insights
//! appear while logs arrive. Detection is idempotent, so a pass that repeats the work of the
//! one before changes nothing.

use std::sync::Arc;
use std::time::Duration;

use engine::detect::detect_trails;

pub async fn detect_every(store: Arc<dyn engine::Store>, period: Duration) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = chrono::Utc::now().timestamp_millis();
        match detect_trails(store.as_ref(), None, now).await {
            Ok(reports) => {
                for r in reports.iter().filter(|r| r.insights_changed > 0) {
                    tracing::info!(trail = %r.trail, changed = r.insights_changed, "detection stored insights");
                }
            }
            Err(e) => tracing::error!("background detection failed: {e}"),
        }
    }
}
