//! The demo, end to end through a real database (SQLite always, Postgres when
//! `TRAILSIGHT_TEST_POSTGRES_URL` is set): the real attack is found, the harmless background
//! is not, and running anything twice changes nothing.

mod backends;

use std::sync::Arc;

use engine::demo::{self, DemoPlan};
use engine::detect::{detect_trail, DetectorConfig};
use engine::store::{InsightFilter, InsightType};
use engine::time::millis_of_minute;

const END_MS: i64 = 1_700_000_000_000;

async fn demo_history_yields_the_attack_insights_and_nothing_else(store: Arc<dyn engine::Store>) {
    let plan = DemoPlan::ending_at(42, END_MS);
    let first = demo::load(store.as_ref(), "demo", &plan).await.unwrap();
    assert!(first.records_stored > 50_000);
    assert!(first.rejections.is_empty(), "{:?}", first.rejections);

    // Delivered twice, stored once.
    let again = demo::load(store.as_ref(), "demo", &plan).await.unwrap();
    assert_eq!(again.records_stored, 0);
    assert_eq!(again.duplicates_skipped, first.records_stored);

    let trail = store.list_trails().await.unwrap().remove(0);
    let cfg = DetectorConfig::default();
    let report = detect_trail(store.as_ref(), &trail, END_MS, &cfg).await.unwrap();
    let insights = store.list_insights(&InsightFilter::default()).await.unwrap();
    assert_eq!(report.insights_changed, insights.len());

    let found: Vec<(InsightType, &str, Option<&str>)> = insights
        .iter()
        .map(|i| (i.insight_type, i.key.event_name.as_str(), i.key.error_code.as_deref()))
        .collect();
    assert!(found.contains(&(InsightType::ApiCallRate, "PutParameter", None)), "{found:?}");
    assert!(found.contains(&(InsightType::ApiCallRate, "DeleteParameter", None)), "{found:?}");
    assert!(
        found.contains(&(InsightType::ApiErrorRate, "GetPasswordData", Some("Client.UnauthorizedOperation"))),
        "{found:?}"
    );
    // Everything found is part of the attack: within its hour, on its APIs.
    for i in &insights {
        assert!(
            (plan.attack_start..plan.attack_start + 60).contains(&i.start_minute),
            "an insight outside the attack: {:?} at {}",
            found,
            engine::time::format_minute(i.start_minute)
        );
        assert!(i.end_record.is_some(), "the attack is over, so every insight has ended");
    }

    // The PutParameter insight carries AWS's statistics and attributions.
    let put = insights
        .iter()
        .find(|i| i.insight_type == InsightType::ApiCallRate && i.key.event_name == "PutParameter")
        .unwrap();
    let start: serde_json::Value = serde_json::from_str(&put.start_record).unwrap();
    let details = &start["insightDetails"];
    assert_eq!(details["state"], "Start");
    assert_eq!(start["eventTime"], engine::time::format_millis(millis_of_minute(put.start_minute)));
    let stats = &details["insightContext"]["statistics"];
    assert_eq!(stats["baselineDuration"], 10080);
    assert!(stats["baseline"]["average"].as_f64().unwrap() < 0.1);
    assert!(stats["insight"]["average"].as_f64().unwrap() >= 5.0);
    let attributes: Vec<&str> = details["insightContext"]["attributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["attribute"].as_str().unwrap())
        .collect();
    assert_eq!(attributes, ["userIdentityArn", "userAgent", "errorCode"]);

    // Detecting again neither duplicates nor changes anything.
    let rerun = detect_trail(store.as_ref(), &trail, END_MS, &cfg).await.unwrap();
    assert_eq!(rerun.insights_changed, 0);
    assert_eq!(store.list_insights(&InsightFilter::default()).await.unwrap(), insights);
}

for_each_backend!(demo_history_yields_the_attack_insights_and_nothing_else);
