//! An insight left open by one pass is ended by a later pass that no longer finds it, instead
//! of reading "ongoing" forever: when the trail's settings change, and when events are
//! backfilled before it. Runs on SQLite, and on Postgres when `TRAILSIGHT_TEST_POSTGRES_URL`
//! is set.

mod backends;

use std::sync::Arc;

use engine::detect::{detect_trail, DetectorConfig, Sensitivity};
use engine::ingest::parse_document;
use engine::store::{InsightFilter, StoredInsight};
use engine::time::{format_millis, millis_of_minute};
use engine::Store;

/// The burst's minute: 2024-05-12T12:00Z, eight days into the history below.
const BURST: i64 = 28_591_920;
const DAY: i64 = 1_440;

fn calls(minutes: impl Iterator<Item = (i64, usize)>, tag: &str) -> Vec<engine::Record> {
    let records: Vec<serde_json::Value> = minutes
        .flat_map(|(minute, n)| {
            (0..n).map(move |i| {
                serde_json::json!({
                    "eventID": format!("{tag}-{minute}-{i}"), "eventTime": format_millis(millis_of_minute(minute) + i as i64 * 100),
                    "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "readOnly": false,
                    "awsRegion": "us-east-1", "recipientAccountId": "111122223333"
                })
            })
        })
        .collect();
    parse_document(serde_json::to_vec(&records).unwrap().as_slice()).unwrap().records
}

/// Eight days of one call every six hours, then 6 calls in the burst's minute.
async fn trail_with_a_burst(store: &Arc<dyn Store>) {
    store.ensure_trail("t").await.unwrap();
    store.insert_events("t", &calls((BURST - 8 * DAY..BURST).step_by(360).map(|m| (m, 1)), "quiet")).await.unwrap();
    store.insert_events("t", &calls([(BURST, 6)].into_iter(), "burst")).await.unwrap();
}

/// Detection judging the minutes before `until`.
async fn detect(store: &Arc<dyn Store>, sensitivity: Sensitivity, until: i64) -> Vec<StoredInsight> {
    store.set_sensitivity("t", sensitivity).await.unwrap();
    let trail = store.get_trail("t").await.unwrap().unwrap();
    detect_trail(store.as_ref(), &trail, millis_of_minute(until), &DetectorConfig::new(sensitivity)).await.unwrap();
    store.list_insights(&InsightFilter { trail: Some("t".into()), ..Default::default() }).await.unwrap()
}

fn end_record(insight: &StoredInsight) -> serde_json::Value {
    serde_json::from_str(insight.end_record.as_deref().expect("an End record")).unwrap()
}

async fn a_settings_change_ends_the_insight_it_no_longer_supports(store: Arc<dyn Store>) {
    trail_with_a_burst(&store).await;
    // High sensitivity flags 6 calls (its floor is 3); judged right after the burst's minute,
    // the insight has started and cannot have ended.
    let open = detect(&store, Sensitivity::High, BURST + 1).await;
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].start_minute, open[0].end_minute), (BURST, None));

    // Low sensitivity needs 10 calls: a pass does not find it. Within the first minutes it is
    // left alone (a drop found by a pass is dated back that far); later the pass ends it.
    assert_eq!(detect(&store, Sensitivity::Low, BURST + 5).await, open, "too soon to judge");
    let ended = detect(&store, Sensitivity::Low, BURST + 30).await;
    assert_eq!(ended.len(), 1, "the insight is kept, not deleted");
    assert_eq!(ended[0].end_minute, Some(BURST + 1));
    let end = end_record(&ended[0]);
    assert_eq!(end["insightDetails"]["state"], "End");
    let statistics = &end["insightDetails"]["insightContext"]["statistics"];
    assert_eq!(statistics["insightDuration"].as_f64(), Some(1.0), "{statistics}");
    assert_eq!(statistics["insight"]["average"].as_f64(), Some(6.0), "the 6 calls of its one minute");
    assert_eq!(ended[0].start_record, open[0].start_record, "the Start is never rewritten");

    // Another pass changes nothing more.
    assert_eq!(detect(&store, Sensitivity::Low, BURST + 60).await, ended);
}

async fn a_backfill_that_makes_the_burst_ordinary_ends_it(store: Arc<dyn Store>) {
    trail_with_a_burst(&store).await;
    assert_eq!(detect(&store, Sensitivity::High, BURST + 1).await[0].end_minute, None);
    // Older logs arrive: the week before held 3 calls every minute, so 6 is nothing unusual.
    store.insert_events("t", &calls((BURST - 7 * DAY..BURST).map(|m| (m, 3)), "backfill")).await.unwrap();
    let after = detect(&store, Sensitivity::High, BURST + 30).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].end_minute, Some(BURST + 1));
    assert_eq!(end_record(&after[0])["insightDetails"]["state"], "End");
}

async fn turning_a_type_off_ends_its_open_insights(store: Arc<dyn Store>) {
    trail_with_a_burst(&store).await;
    assert_eq!(detect(&store, Sensitivity::High, BURST + 1).await[0].end_minute, None);
    store.set_insight_types("t", &[engine::store::InsightType::ApiErrorRate]).await.unwrap();
    let after = detect(&store, Sensitivity::High, BURST + 30).await;
    assert_eq!(after[0].end_minute, Some(BURST + 1), "a call-rate insight ends when call-rate insights are off");
}

for_each_backend!(
    a_settings_change_ends_the_insight_it_no_longer_supports,
    a_backfill_that_makes_the_burst_ordinary_ends_it,
    turning_a_type_off_ends_its_open_insights
);
