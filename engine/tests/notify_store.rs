//! Who is told, decided where insights are stored, on every backend: the outbox rows an
//! insight event queues (and those it must not), suppression rules, grouping, claims that
//! one holder at a time gets, and triage beside the record.

mod backends;

use std::sync::Arc;

use engine::notify::*;
use engine::store::notify::Outcome;
use engine::store::*;

const HOUR: i64 = 3_600_000;
/// "Now" in these tests: 2024-05-02T00:00:00Z.
const NOW: i64 = 1_714_608_000_000;

/// A call-rate insight on ec2 `name` starting at `start_ms`, ended after `minutes` if
/// given, led by `who`, with real AWS records.
fn insight(name: &str, start_ms: i64, minutes: Option<i64>, who: &str) -> StoredInsight {
    sample_insight("prod", name, start_ms, minutes, who)
}

fn webhook(name: &str, trail: Option<&str>, created_ms: i64) -> Destination {
    Destination {
        name: name.into(),
        trail: trail.map(str::to_owned),
        target: Target::Webhook { url: "http://127.0.0.1:9/hook".into(), secret: Some("s3cret".into()) },
        max_age_ms: Destination::DEFAULT_MAX_AGE_MS,
        group_minutes: Destination::DEFAULT_GROUP_MINUTES,
        max_attempts: 3,
        created_ms,
        created_by: "alice".into(),
    }
}

/// (destination, eventID, status) of every delivery, oldest first.
async fn outbox(store: &Arc<dyn Store>) -> Vec<(String, String, DeliveryStatus)> {
    let mut all = store.notify().list_deliveries(None, None, 1000).await.unwrap();
    all.reverse();
    all.into_iter().map(|d| (d.destination, d.event_id, d.status)).collect()
}

fn event_id(record: &str) -> String {
    event_id_of(record).unwrap()
}

async fn new_recent_insights_are_queued_for_each_destination_of_their_trail(store: Arc<dyn Store>) {
    store.create_trail(&engine::store::NewTrail::for_ingest("prod")).await.unwrap();
    store.create_trail(&engine::store::NewTrail::for_ingest("dev")).await.unwrap();
    let notify = store.notify();
    notify.add_destination(&webhook("all", None, NOW - HOUR)).await.unwrap();
    notify.add_destination(&webhook("prod-only", Some("prod"), NOW - HOUR)).await.unwrap();
    notify.add_destination(&webhook("dev-only", Some("dev"), NOW - HOUR)).await.unwrap();
    notify.add_destination(&webhook("later", None, NOW + HOUR)).await.unwrap();
    assert!(matches!(notify.add_destination(&webhook("all", None, 0)).await, Err(StoreError::DestinationExists(_))));
    let listed: Vec<String> = notify.list_destinations().await.unwrap().into_iter().map(|d| d.name).collect();
    assert_eq!(listed, ["all", "dev-only", "later", "prod-only"]);
    assert_eq!(notify.get_destination("all").await.unwrap().unwrap(), webhook("all", None, NOW - HOUR), "the target round-trips");

    // Started ten minutes ago: sent to "all" and "prod-only"; "later" did not exist yet.
    let open = insight("RunInstances", NOW - 10 * 60_000, None, "arn:aws:iam::123456789012:user/mallory");
    assert!(store.save_insight(&open, NOW).await.unwrap());
    let start = event_id(&open.start_record);
    assert_eq!(outbox(&store).await, [
        ("all".to_owned(), start.clone(), DeliveryStatus::Pending),
        ("prod-only".to_owned(), start.clone(), DeliveryStatus::Pending),
    ]);
    // Saving it again (a replay, another server) queues nothing more.
    assert!(!store.save_insight(&open, NOW + 60_000).await.unwrap());
    assert_eq!(outbox(&store).await.len(), 2);

    // Its End goes where its Start went, once.
    let ended = insight("RunInstances", NOW - 10 * 60_000, Some(12), "arn:aws:iam::123456789012:user/mallory");
    assert!(store.save_insight(&ended, NOW + 2 * 60_000).await.unwrap());
    assert!(!store.save_insight(&ended, NOW + 3 * 60_000).await.unwrap());
    let end = event_id(ended.end_record.as_deref().unwrap());
    let queued = outbox(&store).await;
    assert_eq!(queued.len(), 4, "{queued:?}");
    assert!(queued.contains(&("all".to_owned(), end.clone(), DeliveryStatus::Pending)));
    assert!(queued.contains(&("prod-only".to_owned(), end, DeliveryStatus::Pending)));
}

async fn backfills_and_insights_older_than_a_destination_notify_nobody(store: Arc<dyn Store>) {
    store.create_trail(&engine::store::NewTrail::for_ingest("prod")).await.unwrap();
    store.notify().add_destination(&webhook("hook", None, NOW - HOUR)).await.unwrap();
    // History replayed from last year: stored, never sent.
    let old = insight("RunInstances", NOW - 300 * 24 * HOUR, Some(5), "arn:aws:iam::123456789012:user/a");
    assert!(store.save_insight(&old, NOW).await.unwrap());
    // 25 hours old at storing: past the default 24 hours.
    let late = insight("TerminateInstances", NOW - 25 * HOUR, None, "arn:aws:iam::123456789012:user/a");
    assert!(store.save_insight(&late, NOW).await.unwrap());
    assert_eq!(outbox(&store).await, []);
    // A Start stored before the destination existed: its End is not sent either.
    let before = insight("StopInstances", NOW - 10 * 60_000, None, "arn:aws:iam::123456789012:user/a");
    store.save_insight(&before, NOW - 2 * HOUR).await.unwrap();
    let ended = insight("StopInstances", NOW - 10 * 60_000, Some(5), "arn:aws:iam::123456789012:user/a");
    store.save_insight(&ended, NOW).await.unwrap();
    assert_eq!(outbox(&store).await, []);
}

async fn a_suppression_rule_marks_matching_insights_expected_and_unsent(store: Arc<dyn Store>) {
    store.create_trail(&engine::store::NewTrail::for_ingest("prod")).await.unwrap();
    let notify = store.notify();
    notify.add_destination(&webhook("hook", None, NOW - HOUR)).await.unwrap();
    let rule = SuppressionRule {
        name: "nightly-scaling".into(),
        insight_type: Some(InsightType::ApiCallRate),
        event_source: "ec2.amazonaws.com".into(),
        event_name: "RunInstances".into(),
        account: Some("123456789012".into()),
        region: Some("us-east-1".into()),
        identity: Some("arn:aws:iam::123456789012:role/autoscaler".into()),
        until_ms: Some(NOW + 24 * HOUR),
        reason: "the autoscaler".into(),
        created_by: "alice".into(),
        created_ms: NOW - HOUR,
    };
    notify.add_suppression(&rule).await.unwrap();
    assert!(matches!(notify.add_suppression(&rule).await, Err(StoreError::SuppressionExists(_))));
    assert_eq!(notify.list_suppressions().await.unwrap(), [rule.clone()]);

    let expected = insight("RunInstances", NOW - 5 * 60_000, None, "arn:aws:iam::123456789012:role/autoscaler");
    let by_someone_else = insight("RunInstances", NOW - 60 * 60_000, None, "arn:aws:iam::123456789012:user/mallory");
    store.save_insight(&expected, NOW).await.unwrap();
    store.save_insight(&by_someone_else, NOW).await.unwrap();
    let stored = store.get_insight(&expected.shared_event_id).await.unwrap().unwrap();
    assert_eq!(stored.triage.suppressed_by.as_deref(), Some("nightly-scaling"));
    assert_eq!(stored.triage.state, TriageState::Expected);
    assert_eq!(stored.start_record, expected.start_record, "the AWS record is untouched");
    let queued = outbox(&store).await;
    assert_eq!(queued, [("hook".to_owned(), event_id(&by_someone_else.start_record), DeliveryStatus::Pending)]);

    // Hidden from the dashboard's list by default; the AWS API's listing keeps it.
    let shown = store.list_insights(&InsightFilter { hide_suppressed: true, ..Default::default() }).await.unwrap();
    assert_eq!(shown.iter().map(|i| i.shared_event_id.as_str()).collect::<Vec<_>>(), [by_someone_else.shared_event_id.as_str()]);
    assert_eq!(store.count_insights(&InsightFilter::default()).await.unwrap(), 2);

    // Past its last day, the rule matches nothing.
    let after = insight("RunInstances", NOW + 25 * HOUR, None, "arn:aws:iam::123456789012:role/autoscaler");
    store.save_insight(&after, NOW + 25 * HOUR).await.unwrap();
    assert_eq!(store.get_insight(&after.shared_event_id).await.unwrap().unwrap().triage.suppressed_by, None);
    // Rules are edited and removed.
    let mut longer = rule.clone();
    longer.until_ms = None;
    notify.update_suppression(&longer).await.unwrap();
    assert_eq!(notify.list_suppressions().await.unwrap()[0].until_ms, None);
    notify.remove_suppression("nightly-scaling").await.unwrap();
    assert!(matches!(notify.remove_suppression("nightly-scaling").await, Err(StoreError::NoSuchSuppression(_))));
}

async fn an_api_that_flaps_is_told_once(store: Arc<dyn Store>) {
    store.create_trail(&engine::store::NewTrail::for_ingest("prod")).await.unwrap();
    store.notify().add_destination(&webhook("hook", None, NOW - 2 * HOUR)).await.unwrap();
    let who = "arn:aws:iam::123456789012:user/a";
    // 60 min ago, 5 minutes long; again 20 minutes after it ended; again 40 minutes after that.
    let first = insight("RunInstances", NOW - 60 * 60_000, Some(5), who);
    let second = insight("RunInstances", NOW - 35 * 60_000, Some(5), who);
    let third = insight("RunInstances", NOW + 10 * 60_000, None, who);
    for i in [&first, &second, &third] {
        store.save_insight(i, NOW + 15 * 60_000).await.unwrap();
    }
    let status = |record: &str, queued: &[(String, String, DeliveryStatus)]| {
        queued.iter().find(|(_, id, _)| *id == event_id(record)).map(|(_, _, s)| *s)
    };
    let queued = outbox(&store).await;
    assert_eq!(status(&first.start_record, &queued), Some(DeliveryStatus::Pending));
    assert_eq!(status(first.end_record.as_deref().unwrap(), &queued), Some(DeliveryStatus::Pending));
    assert_eq!(status(&second.start_record, &queued), Some(DeliveryStatus::Grouped), "20 min after the last End");
    assert_eq!(status(second.end_record.as_deref().unwrap(), &queued), Some(DeliveryStatus::Grouped));
    assert_eq!(status(&third.start_record, &queued), Some(DeliveryStatus::Pending), "40 min after: told again");
}

async fn each_delivery_is_claimed_by_one_holder_and_finished_once(store: Arc<dyn Store>) {
    store.create_trail(&engine::store::NewTrail::for_ingest("prod")).await.unwrap();
    store.notify().add_destination(&webhook("hook", None, NOW - HOUR)).await.unwrap();
    for n in 0..5 {
        store.save_insight(&insight(&format!("Api{n}"), NOW - 60_000, None, "arn:x"), NOW).await.unwrap();
    }
    let notify = store.notify();
    let a = notify.claim_deliveries("server-a", NOW, 60_000, 3).await.unwrap();
    let b = notify.claim_deliveries("server-b", NOW, 60_000, 10).await.unwrap();
    assert_eq!((a.len(), b.len()), (3, 2), "disjoint claims");
    assert!(a.iter().all(|d| b.iter().all(|e| e.id != d.id)));
    assert!(notify.claim_deliveries("server-c", NOW + 1000, 60_000, 10).await.unwrap().is_empty(), "all claimed");

    // Sent, retried, failed; another holder's finish changes nothing.
    assert!(!notify.finish_delivery(a[0].id, "server-b", NOW, &Outcome::Sent).await.unwrap());
    assert!(notify.finish_delivery(a[0].id, "server-a", NOW, &Outcome::Sent).await.unwrap());
    assert!(!notify.finish_delivery(a[0].id, "server-a", NOW, &Outcome::Sent).await.unwrap(), "once");
    let retry = Outcome::Retry { at_ms: NOW + 30_000, error: "POST answered 503".into() };
    assert!(notify.finish_delivery(a[1].id, "server-a", NOW, &retry).await.unwrap());
    assert!(notify.finish_delivery(a[2].id, "server-a", NOW, &Outcome::Failed { error: "POST answered 404".into() }).await.unwrap());
    assert!(notify.claim_deliveries("server-c", NOW + 29_000, 60_000, 10).await.unwrap().is_empty(), "not due yet");
    // A dead holder's claim runs out; the retry comes due.
    let later = notify.claim_deliveries("server-c", NOW + 61_000, 60_000, 10).await.unwrap();
    let mut ids: Vec<i64> = later.iter().map(|d| d.id).collect();
    ids.sort();
    let mut expected: Vec<i64> = b.iter().map(|d| d.id).chain([a[1].id]).collect();
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(later.iter().find(|d| d.id == a[1].id).unwrap().attempts, 1);

    let counts = notify.delivery_counts("hook").await.unwrap();
    assert_eq!((counts.sent, counts.pending, counts.failed), (1, 3, 1));
    assert_eq!(counts.last_error.as_deref(), Some("POST answered 404"));
    // Removing the destination drops what still waits for it.
    notify.remove_destination("hook").await.unwrap();
    assert!(matches!(notify.remove_destination("hook").await, Err(StoreError::NoSuchDestination(_))));
    assert_eq!(notify.delivery_counts("hook").await.unwrap().pending, 0);
}

async fn triage_states_and_comments_are_kept_beside_the_record(store: Arc<dyn Store>) {
    store.create_trail(&engine::store::NewTrail::for_ingest("prod")).await.unwrap();
    let i = insight("RunInstances", NOW - 60_000, None, "arn:x");
    store.save_insight(&i, NOW).await.unwrap();
    let notify = store.notify();
    let stored = store.get_insight(&i.shared_event_id).await.unwrap().unwrap();
    assert_eq!(stored.triage.state, TriageState::New);
    notify.set_triage(&i.shared_event_id, TriageState::Acknowledged, "bob", NOW + 5).await.unwrap();
    let stored = store.get_insight(&i.shared_event_id).await.unwrap().unwrap();
    assert_eq!((stored.triage.state, stored.triage.by.as_deref(), stored.triage.at_ms), (TriageState::Acknowledged, Some("bob"), Some(NOW + 5)));
    assert_eq!(stored.start_record, i.start_record);
    assert!(matches!(notify.set_triage("nope", TriageState::Resolved, "bob", 0).await, Err(StoreError::NoSuchInsight(_))));
    let new_only = InsightFilter { triage_state: Some(TriageState::New), ..Default::default() };
    assert_eq!(store.count_insights(&new_only).await.unwrap(), 0);
    let acknowledged = InsightFilter { triage_state: Some(TriageState::Acknowledged), ..Default::default() };
    assert_eq!(store.count_insights(&acknowledged).await.unwrap(), 1);

    notify.add_comment(&i.shared_event_id, "bob", NOW + 6, "looking").await.unwrap();
    notify.add_comment(&i.shared_event_id, "alice", NOW + 7, "the autoscaler").await.unwrap();
    let comments = notify.comments(&i.shared_event_id).await.unwrap();
    assert_eq!(comments.iter().map(|c| (c.author.as_str(), c.body.as_str())).collect::<Vec<_>>(), [("bob", "looking"), ("alice", "the autoscaler")]);
    assert!(matches!(notify.add_comment("nope", "bob", 0, "x").await, Err(StoreError::NoSuchInsight(_))));
    // Saving the insight again (its End) keeps the triage.
    store.save_insight(&insight("RunInstances", NOW - 60_000, Some(3), "arn:x"), NOW + 8).await.unwrap();
    assert_eq!(store.get_insight(&i.shared_event_id).await.unwrap().unwrap().triage.state, TriageState::Acknowledged);
}

async fn finished_deliveries_age_out_and_comments_go_with_their_insights(store: Arc<dyn Store>) {
    store.create_trail(&engine::store::NewTrail::for_ingest("prod")).await.unwrap();
    store.notify().add_destination(&webhook("hook", None, NOW - HOUR)).await.unwrap();
    for n in 0..2 {
        store.save_insight(&insight(&format!("Api{n}"), NOW - 60_000, None, "arn:x"), NOW).await.unwrap();
    }
    let notify = store.notify();
    let claimed = notify.claim_deliveries("a", NOW, 60_000, 1).await.unwrap();
    notify.finish_delivery(claimed[0].id, "a", NOW, &Outcome::Sent).await.unwrap();
    // 91 days later (by the clock): the sent one goes, the one still pending stays.
    store.apply_retention(NOW + 91 * 24 * HOUR, 90).await.unwrap();
    let left = notify.list_deliveries(None, None, 10).await.unwrap();
    assert_eq!(left.iter().map(|d| d.status).collect::<Vec<_>>(), [DeliveryStatus::Pending]);

    let i = insight("Api0", NOW - 60_000, None, "arn:x");
    notify.add_comment(&i.shared_event_id, "bob", NOW, "mine").await.unwrap();
    store.delete_trail("prod").await.unwrap();
    store.create_trail(&engine::store::NewTrail::for_ingest("prod")).await.unwrap();
    store.save_insight(&i, NOW).await.unwrap();
    assert_eq!(notify.comments(&i.shared_event_id).await.unwrap(), [], "deleted with the trail's insights");
}

async fn only_insights_a_destination_was_told_about_group_the_next_one(store: Arc<dyn Store>) {
    store.create_trail(&engine::store::NewTrail::for_ingest("prod")).await.unwrap();
    store.notify().add_destination(&webhook("hook", None, NOW - 2 * HOUR)).await.unwrap();
    let notify = store.notify();
    // The autoscaler's burst is expected; an attacker's on the same API 20 minutes after it
    // ended must still be told (it is not grouped with an insight nobody was told about).
    let rule = SuppressionRule {
        name: "autoscaler".into(),
        insight_type: None,
        event_source: "ec2.amazonaws.com".into(),
        event_name: "RunInstances".into(),
        account: None,
        region: None,
        identity: Some("arn:aws:iam::123456789012:role/autoscaler".into()),
        until_ms: None,
        reason: String::new(),
        created_by: "alice".into(),
        created_ms: NOW - HOUR,
    };
    notify.add_suppression(&rule).await.unwrap();
    let expected = insight("RunInstances", NOW - 60 * 60_000, Some(5), "arn:aws:iam::123456789012:role/autoscaler");
    let attack = insight("RunInstances", NOW - 35 * 60_000, None, "arn:aws:iam::123456789012:user/mallory");
    store.save_insight(&expected, NOW).await.unwrap();
    store.save_insight(&attack, NOW).await.unwrap();
    assert_eq!(outbox(&store).await, [("hook".to_owned(), event_id(&attack.start_record), DeliveryStatus::Pending)]);

    // Reopening the expected one takes it out of its rule's shadow.
    notify.set_triage(&expected.shared_event_id, TriageState::New, "bob", NOW).await.unwrap();
    let reopened = store.get_insight(&expected.shared_event_id).await.unwrap().unwrap();
    assert_eq!((reopened.triage.state, reopened.triage.suppressed_by), (TriageState::New, None));
}

async fn an_end_is_claimed_only_after_its_start(store: Arc<dyn Store>) {
    store.create_trail(&engine::store::NewTrail::for_ingest("prod")).await.unwrap();
    store.notify().add_destination(&webhook("hook", None, NOW - HOUR)).await.unwrap();
    let notify = store.notify();
    store.save_insight(&insight("RunInstances", NOW - 10 * 60_000, None, "arn:x"), NOW).await.unwrap();
    let start = notify.claim_deliveries("a", NOW, 60_000, 10).await.unwrap();
    assert_eq!(start.len(), 1);
    // The Start fails and waits a minute; meanwhile the insight ends.
    let retry = Outcome::Retry { at_ms: NOW + 60_000, error: "503".into() };
    notify.finish_delivery(start[0].id, "a", NOW, &retry).await.unwrap();
    store.save_insight(&insight("RunInstances", NOW - 10 * 60_000, Some(5), "arn:x"), NOW + 1000).await.unwrap();
    assert!(notify.claim_deliveries("a", NOW + 2000, 60_000, 10).await.unwrap().is_empty(), "the End waits for its Start");
    let due = notify.claim_deliveries("a", NOW + 61_000, 60_000, 10).await.unwrap();
    assert_eq!(due.iter().map(|d| d.id).collect::<Vec<_>>(), [start[0].id], "the Start goes first, alone");
    notify.finish_delivery(start[0].id, "a", NOW + 61_000, &Outcome::Sent).await.unwrap();
    let end = notify.claim_deliveries("a", NOW + 62_000, 60_000, 10).await.unwrap();
    assert_eq!(end.len(), 1);
    assert!(end[0].record.contains("\"state\":\"End\""));
}

for_each_backend!(
    only_insights_a_destination_was_told_about_group_the_next_one,
    an_end_is_claimed_only_after_its_start,
    finished_deliveries_age_out_and_comments_go_with_their_insights,
    new_recent_insights_are_queued_for_each_destination_of_their_trail,
    backfills_and_insights_older_than_a_destination_notify_nobody,
    a_suppression_rule_marks_matching_insights_expected_and_unsent,
    an_api_that_flaps_is_told_once,
    each_delivery_is_claimed_by_one_holder_and_finished_once,
    triage_states_and_comments_are_kept_beside_the_record,
);
