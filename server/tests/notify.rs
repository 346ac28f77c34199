//! Notifications through real servers and real receivers on 127.0.0.1: `trailsight serve`
//! sends what the outbox holds to an HTTP receiver that records bodies and headers. The
//! insight is stored in the test as detection stores it (same call, same transaction), so
//! each test controls exactly what is queued. Runs on SQLite, and on Postgres when
//! `TRAILSIGHT_TEST_POSTGRES_URL` is set.

#[path = "../../engine/tests/backends/mod.rs"]
mod backends;
mod receivers;

use std::collections::HashMap;

use backends::TestDb;
use engine::notify::{sample_insight, DeliveryStatus, Destination, Target};
use hmac::{Hmac, Mac};
use receivers::{wait_until, Answer, Receiver, Server};

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn webhook(url: &str, secret: Option<&str>) -> Destination {
    Destination {
        name: "hook".into(),
        trail: None,
        target: Target::Webhook { url: url.into(), secret: secret.map(str::to_owned) },
        max_age_ms: Destination::DEFAULT_MAX_AGE_MS,
        group_minutes: Destination::DEFAULT_GROUP_MINUTES,
        max_attempts: 5,
        created_ms: now_ms() - 60_000,
        created_by: "test".into(),
    }
}

/// The delivery rows of the outbox, by eventID.
async fn deliveries(store: &dyn engine::Store) -> HashMap<String, (DeliveryStatus, i64)> {
    let list = store.notify().list_deliveries(None, None, 1000).await.unwrap();
    list.into_iter().map(|d| (d.event_id, (d.status, d.attempts))).collect()
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

async fn a_webhook_gets_the_eventbridge_event_signed_and_retried_after_a_failure(db: &TestDb) {
    let store = db.open().await;
    store.create_trail(&engine::store::NewTrail::for_ingest("prod")).await.unwrap();
    let receiver = Receiver::start(vec![Answer::Status(503)]);
    store.notify().add_destination(&webhook(&receiver.url, Some("shh"))).await.unwrap();
    let insight = sample_insight("prod", "RunInstances", now_ms() - 120_000, None, "arn:aws:iam::123456789012:user/mallory");
    store.save_insight(&insight, now_ms()).await.unwrap();

    let server = Server::start(&db.url, &["--detect-every", "0", "--notify-retry-seconds", "1"]);
    let got = receiver.wait_for(2);
    let record: serde_json::Value = serde_json::from_str(&insight.start_record).unwrap();
    let event_id = record["eventID"].as_str().unwrap();
    // What EventBridge delivers for CloudTrail Insights (see docs/INSIGHTS.md §9), field by field.
    let event = got[1].json();
    assert_eq!(event["version"], "0");
    assert_eq!(event["detail-type"], "AWS Insight via CloudTrail");
    assert_eq!(event["source"], "aws.cloudtrail");
    assert_eq!(event["account"], "123456789012");
    assert_eq!(event["region"], "us-east-1");
    assert_eq!(event["time"], record["eventTime"]);
    assert_eq!(event["resources"], serde_json::json!([]));
    assert_eq!(event["detail"], record, "the insight record, unchanged");
    assert_eq!(event.as_object().unwrap().len(), 9, "these nine fields, no others: {event}");
    assert!(uuid::Uuid::parse_str(event["id"].as_str().unwrap()).is_ok(), "the id is a UUID");
    // The retry is the same event: same body, same id, signed.
    assert_eq!(got[0].body, got[1].body);
    for request in &got {
        assert_eq!(request.headers["content-type"], "application/json");
        assert_eq!(request.headers["x-trailsight-event-id"], event_id);
        assert_eq!(request.headers["x-trailsight-signature"], format!("sha256={}", hmac_hex("shh", &request.body)));
    }
    let sent = wait_until("the delivery to be recorded as sent", &[&server], async || {
        let d = deliveries(store.as_ref()).await;
        (d[event_id].0 == DeliveryStatus::Sent).then_some(d)
    })
    .await;
    assert_eq!(sent[event_id], (DeliveryStatus::Sent, 2), "one failed attempt, one that worked");
}

async fn a_notification_queued_before_a_crash_is_sent_after_restart(db: &TestDb) {
    let store = db.open().await;
    store.create_trail(&engine::store::NewTrail::for_ingest("prod")).await.unwrap();
    // The first request reaches the receiver, which never answers: the server is killed
    // while it waits (stored and claimed, not recorded as sent).
    let receiver = Receiver::start(vec![Answer::Hang]);
    store.notify().add_destination(&webhook(&receiver.url, None)).await.unwrap();
    let insight = sample_insight("prod", "RunInstances", now_ms() - 120_000, None, "arn:aws:iam::123456789012:user/mallory");
    store.save_insight(&insight, now_ms()).await.unwrap();
    let event_id = engine::notify::event_id_of(&insight.start_record).unwrap();

    let mut first = Server::start(&db.url, &["--detect-every", "0", "--notify-claim-seconds", "2"]);
    receiver.wait_for(1);
    first.kill();
    assert_eq!(deliveries(store.as_ref()).await[&event_id], (DeliveryStatus::Pending, 0), "not recorded before the kill");

    let second = Server::start(&db.url, &["--detect-every", "0", "--notify-claim-seconds", "2"]);
    let got = receiver.wait_for(2);
    wait_until("the delivery to be recorded as sent", &[&second], async || {
        (deliveries(store.as_ref()).await[&event_id] == (DeliveryStatus::Sent, 1)).then_some(())
    })
    .await;
    // At least once: the receiver saw the event twice, with the same id to deduplicate on.
    assert_eq!(got[0].body, got[1].body);
    assert_eq!(got[1].headers["x-trailsight-event-id"], event_id);
    assert_eq!(receiver.received().len(), 2, "nothing more once sent");
}

async fn two_servers_send_each_notification_exactly_once(db: &TestDb) {
    let store = db.open().await;
    store.create_trail(&engine::store::NewTrail::for_ingest("prod")).await.unwrap();
    let receiver = Receiver::start(Vec::new());
    store.notify().add_destination(&webhook(&receiver.url, None)).await.unwrap();
    let now = now_ms();
    let mut ids = Vec::new();
    for n in 0..40 {
        let insight = sample_insight("prod", &format!("Api{n}"), now - 120_000, None, "arn:aws:iam::123456789012:user/a");
        store.save_insight(&insight, now).await.unwrap();
        ids.push(engine::notify::event_id_of(&insight.start_record).unwrap());
    }
    let servers = [Server::start(&db.url, &["--detect-every", "0"]), Server::start(&db.url, &["--detect-every", "0"])];
    wait_until("every delivery to be recorded as sent", &[&servers[0], &servers[1]], async || {
        deliveries(store.as_ref()).await.values().all(|(status, _)| *status == DeliveryStatus::Sent).then_some(())
    })
    .await;
    let got = receiver.received();
    let mut seen: Vec<String> = got.iter().map(|r| r.headers["x-trailsight-event-id"].clone()).collect();
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids, "each event once, none missing");
    assert!(deliveries(store.as_ref()).await.values().all(|d| d.1 == 1));
}

for_each_backend!(
    db: a_webhook_gets_the_eventbridge_event_signed_and_retried_after_a_failure,
    a_notification_queued_before_a_crash_is_sent_after_restart,
    two_servers_send_each_notification_exactly_once,
);
