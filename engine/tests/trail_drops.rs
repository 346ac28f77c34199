//! Drops below the baseline are a per-trail setting, off by default: an API that makes 6
//! calls every minute for a week and then stops is an insight only on a trail with drops on.
//! Runs on SQLite, and on Postgres when `TRAILSIGHT_TEST_POSTGRES_URL` is set.

mod backends;

use std::sync::Arc;

use engine::detect::{detect_trail, DetectorConfig};
use engine::ingest::parse_document;
use engine::store::InsightFilter;
use engine::time::{format_millis, millis_of_minute};
use engine::Store;

/// 2024-05-12T12:00Z: the API goes quiet here, after eight busy days.
const QUIET: i64 = 28_591_920;
const DAY: i64 = 1_440;

async fn busy_then_quiet(store: &Arc<dyn Store>, trail: &str) {
    store.ensure_trail(trail).await.unwrap();
    let records: Vec<serde_json::Value> = (QUIET - 8 * DAY..QUIET)
        .flat_map(|minute| {
            (0..6).map(move |i| {
                serde_json::json!({
                    "eventID": format!("{minute}-{i}"), "eventTime": format_millis(millis_of_minute(minute) + i * 1000),
                    "eventSource": "sqs.amazonaws.com", "eventName": "SendMessage", "readOnly": false,
                    "awsRegion": "us-east-1", "recipientAccountId": "111122223333"
                })
            })
        })
        .collect();
    let parsed = parse_document(serde_json::to_vec(&records).unwrap().as_slice()).unwrap().records;
    store.insert_events(trail, &parsed).await.unwrap();
}

async fn insights_after_quiet_half_hour(store: &Arc<dyn Store>, trail: &str) -> Vec<engine::store::StoredInsight> {
    let t = store.get_trail(trail).await.unwrap().unwrap();
    detect_trail(store.as_ref(), &t, millis_of_minute(QUIET + 30), &DetectorConfig::for_trail(&t)).await.unwrap();
    store.list_insights(&InsightFilter { trail: Some(trail.into()), ..Default::default() }).await.unwrap()
}

async fn drops_are_insights_only_where_turned_on(store: Arc<dyn Store>) {
    busy_then_quiet(&store, "off").await;
    assert!(!store.get_trail("off").await.unwrap().unwrap().drops, "off by default");
    assert!(insights_after_quiet_half_hour(&store, "off").await.is_empty());

    busy_then_quiet(&store, "on").await;
    store.set_drops("on", true).await.unwrap();
    assert!(store.get_trail("on").await.unwrap().unwrap().drops);
    let found = insights_after_quiet_half_hour(&store, "on").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].insight_average < found[0].baseline_average, "a drop: below its baseline of 6 a minute");
    assert_eq!(found[0].start_minute, QUIET, "it starts at the first quiet minute");
}

for_each_backend!(drops_are_insights_only_where_turned_on);
