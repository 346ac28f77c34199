//! Live detection in a real `trailsight serve`: a burst pushed into the current minute is
//! judged as soon as that minute closes. Before, the pass the push triggered ran while the
//! minute was still open, found nothing, and no other pass came until the 15-minute full pass
//! (issue #15: "one of three tries gave nothing within 4 minutes").

mod receivers;

use std::time::{Duration, Instant};

use engine::store::InsightFilter;
use engine::time::{format_millis, minute_of_millis};
use receivers::{wait_until, Server};

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `n` RunInstances calls at `at_ms` and the milliseconds just before it (never in the future).
fn burst(n: usize, at_ms: i64) -> Vec<u8> {
    let records: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "eventVersion": "1.10", "eventID": format!("live-burst-{i}"),
                "eventTime": format_millis(at_ms - i as i64 * 10),
                "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "readOnly": false,
                "awsRegion": engine::demo::DEMO_REGION, "recipientAccountId": engine::demo::DEMO_ACCOUNT,
                "eventType": "AwsApiCall", "managementEvent": true, "eventCategory": "Management",
                "userIdentity": { "type": "IAMUser", "arn": "arn:aws:iam::123837392027:user/intruder" }
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "Records": records })).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_pushed_into_the_current_minute_is_an_insight_once_the_minute_closes() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("live.db").display());
    let store = engine::open_store(&db).await.unwrap();
    // Two weeks of history ending now: RunInstances is rare in it (a few calls a day).
    engine::demo::load(store.as_ref(), "demo", &engine::demo::DemoPlan::ending_at(7, now_ms())).await.unwrap();
    // Passes at most every 5 s per trail, leases checked every second.
    let server = Server::start(&db, &["--detect-every", "5", "--lease-seconds", "3"]);
    wait_until("the first detection pass", &[&server], async || server.logged("detection pass done", Instant::now() - Duration::from_secs(600))).await;

    // Push early enough in a minute that the pass the push triggers runs before it ends.
    while !(3..=20).contains(&((now_ms() / 1000) % 60)) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let pushed_at = now_ms();
    let minute = minute_of_millis(pushed_at);
    let reply = ureq::post(&format!("{}/api/v1/trails/demo/events", server.url))
        .header("Content-Type", "application/json")
        .send(&burst(40, pushed_at)[..])
        .expect("the push is accepted");
    assert_eq!(reply.status(), 200);
    let seen_open = Instant::now();
    wait_until("a pass while the burst's minute is open", &[&server], async || server.logged("detection pass done", seen_open)).await;
    assert_eq!(minute_of_millis(now_ms()), minute, "the test's premise: that pass ran inside the burst's minute");

    // Nothing else arrives; the minute's end alone must bring the insight.
    let insight = wait_until("the RunInstances insight", &[&server], async || {
        let found = store.list_insights(&InsightFilter { trail: Some("demo".into()), ..Default::default() }).await.unwrap();
        found.into_iter().find(|i| i.key.event_name == "RunInstances" && i.start_minute == minute)
    })
    .await;
    assert!(insight.start_record.contains("\"ApiCallRateInsight\""));
    eprintln!(
        "stored {:.1} s after the burst's minute closed",
        (now_ms() - (minute + 1) * 60_000) as f64 / 1000.0
    );
}
