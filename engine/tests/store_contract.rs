//! The storage contract: what every `Store` implementation must do, written once and run
//! against each backend (`sqlite::NAME` always, `postgres::NAME` when
//! `TRAILSIGHT_TEST_POSTGRES_URL` names a server; see `backends`).

mod backends;

use std::sync::Arc;

use engine::detect::Sensitivity;
use engine::ingest::parse_document;
use engine::store::*;
use engine::Record;

fn records(json: &str) -> Vec<Record> {
    parse_document(json.as_bytes()).unwrap().records
}

/// Five events across two minutes: two users, a read, an error, resources.
fn sample() -> Vec<Record> {
    records(
        r#"[
        {"eventID":"e1","eventTime":"2024-05-01T10:00:05Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser",
         "awsRegion":"us-east-1","recipientAccountId":"111","readOnly":false,
         "userIdentity":{"arn":"arn:aws:iam::111:user/alice","userName":"alice","accessKeyId":"AKIAALICE"},
         "resources":[{"type":"AWS::IAM::User","ARN":"arn:aws:iam::111:user/new"}]},
        {"eventID":"e2","eventTime":"2024-05-01T10:00:30Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser",
         "awsRegion":"us-east-1","recipientAccountId":"111","readOnly":false,"errorCode":"AccessDenied",
         "userIdentity":{"arn":"arn:aws:iam::111:user/bob","userName":"bob","accessKeyId":"AKIABOB"}},
        {"eventID":"e3","eventTime":"2024-05-01T10:01:00Z","eventSource":"iam.amazonaws.com","eventName":"GetUser",
         "awsRegion":"us-east-1","recipientAccountId":"111","readOnly":true,
         "userIdentity":{"arn":"arn:aws:iam::111:user/alice","userName":"alice","accessKeyId":"AKIAALICE"}},
        {"eventID":"e4","eventTime":"2024-05-01T10:01:10Z","eventSource":"s3.amazonaws.com","eventName":"CreateBucket",
         "awsRegion":"eu-west-1","recipientAccountId":"111","readOnly":false,
         "resources":[{"type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::logs"}]},
        {"eventID":"e5","eventTime":"2024-05-01T10:01:20Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser",
         "awsRegion":"us-east-1","recipientAccountId":"111","readOnly":false}
    ]"#,
    )
}

fn ids(events: &[StoredEvent]) -> Vec<&str> {
    events.iter().map(|e| e.record.event_id.as_str()).collect()
}

async fn trails_are_created_configured_renamed_and_deleted(store: Arc<dyn Store>) {
    let t = store.create_trail(&NewTrail { s3_bucket: Some("bucket"), ..NewTrail::for_ingest("prod") }).await.unwrap();
    assert_eq!(t.insight_types, [InsightType::ApiCallRate, InsightType::ApiErrorRate]);
    assert_eq!((t.sensitivity, t.logging, t.s3_bucket.as_deref()), (Sensitivity::Medium, true, Some("bucket")));
    assert_eq!((t.options, t.event_selectors), (TrailOptions::for_ingested_logs(), EventSelectors::KeepAll));
    assert!(t.start_logging_ms.is_some_and(|ms| ms == t.created_ms), "a trail made logging logs from its creation");
    assert!(matches!(store.create_trail(&NewTrail::for_ingest("prod")).await, Err(StoreError::TrailExists(_))));

    store.set_insight_types("prod", &[InsightType::ApiErrorRate]).await.unwrap();
    store.set_sensitivity("prod", Sensitivity::High).await.unwrap();
    store.set_logging("prod", false, 1_000).await.unwrap();
    store.set_logging("prod", false, 2_000).await.unwrap();
    let t = store.get_trail("prod").await.unwrap().unwrap();
    assert_eq!((t.insight_types, t.sensitivity, t.logging), (vec![InsightType::ApiErrorRate], Sensitivity::High, false));
    assert_eq!(t.stop_logging_ms, Some(1_000), "stopping a stopped trail keeps the time it stopped");
    store.set_logging("prod", true, 3_000).await.unwrap();
    let t = store.get_trail("prod").await.unwrap().unwrap();
    assert_eq!((t.logging, t.start_logging_ms, t.stop_logging_ms), (true, Some(3_000), Some(1_000)));
    assert!(matches!(store.set_logging("nope", true, 0).await, Err(StoreError::NoSuchTrail(_))));

    // What CreateTrail, UpdateTrail and PutEventSelectors keep.
    let options = TrailOptions { s3_key_prefix: Some("ct".into()), kms_key_id: Some("alias/k".into()), ..TrailOptions::aws_default() };
    let api = store
        .create_trail(&NewTrail {
            name: "api",
            s3_bucket: Some("logs"),
            logging: false,
            options: Some(&options),
            event_selectors: &EventSelectors::aws_default(),
        })
        .await
        .unwrap();
    assert_eq!((api.logging, api.start_logging_ms, &api.options), (false, None, &options));
    assert_eq!(api.event_selectors, EventSelectors::aws_default());
    let changed = TrailOptions { is_multi_region_trail: true, ..options };
    store.update_trail("api", Some("other-logs"), &changed).await.unwrap();
    let only_writes = EventSelectors::Basic(vec![engine::selectors::BasicSelector {
        read_write_type: engine::selectors::ReadWriteType::WriteOnly,
        include_management_events: true,
        data_resources: vec![],
        exclude_management_event_sources: vec![],
    }]);
    store.set_event_selectors("api", &only_writes).await.unwrap();
    let api = store.get_trail("api").await.unwrap().unwrap();
    assert_eq!((api.s3_bucket.as_deref(), &api.options, &api.event_selectors), (Some("other-logs"), &changed, &only_writes));
    assert!(matches!(store.set_event_selectors("nope", &only_writes).await, Err(StoreError::NoSuchTrail(_))));
    store.delete_trail("api").await.unwrap();

    store.insert_events("prod", &sample()).await.unwrap();
    store.rename_trail("prod", "production").await.unwrap();
    assert!(store.get_trail("prod").await.unwrap().is_none());
    let moved = store.list_events(&EventQuery { trail: Some("production".into()), limit: 50, ..Default::default() }).await.unwrap();
    assert_eq!(moved.len(), 5, "events move with the trail");

    store.create_trail(&NewTrail::for_ingest("other")).await.unwrap();
    assert!(matches!(store.rename_trail("production", "other").await, Err(StoreError::TrailExists(_))));
    store.delete_trail("production").await.unwrap();
    assert_eq!(store.list_trails().await.unwrap().len(), 1);
    assert!(store.get_event("e1").await.unwrap().is_empty(), "events go with their trail");
}

async fn the_same_event_id_is_stored_once_per_trail(store: Arc<dyn Store>) {
    store.ensure_trail("a").await.unwrap();
    store.ensure_trail("b").await.unwrap();
    assert_eq!(store.insert_events("a", &sample()).await.unwrap(), 5);
    assert_eq!(store.insert_events("a", &sample()).await.unwrap(), 0);
    assert_eq!(store.insert_events("b", &sample()[..2]).await.unwrap(), 2);
    assert_eq!(store.get_event("e1").await.unwrap().len(), 2);
    let t = store.get_trail("a").await.unwrap().unwrap();
    assert_eq!(t.last_event_ms, Some(engine::time::parse_millis("2024-05-01T10:01:20Z").unwrap()));
}

async fn events_are_looked_up_by_every_attribute_newest_first(store: Arc<dyn Store>) {
    store.ensure_trail("t").await.unwrap();
    store.insert_events("t", &sample()).await.unwrap();
    let lookup = |a: LookupAttribute, v: &str| EventQuery { lookup: Some((a, v.into())), limit: 50, ..Default::default() };
    let cases = [
        (LookupAttribute::EventId, "e3", vec!["e3"]),
        (LookupAttribute::EventName, "CreateUser", vec!["e5", "e2", "e1"]),
        (LookupAttribute::EventSource, "s3.amazonaws.com", vec!["e4"]),
        (LookupAttribute::Username, "alice", vec!["e3", "e1"]),
        (LookupAttribute::AccessKeyId, "AKIABOB", vec!["e2"]),
        (LookupAttribute::ReadOnly, "true", vec!["e3"]),
        (LookupAttribute::ReadOnly, "false", vec!["e5", "e4", "e2", "e1"]),
        (LookupAttribute::ResourceType, "AWS::S3::Bucket", vec!["e4"]),
        (LookupAttribute::ResourceName, "arn:aws:iam::111:user/new", vec!["e1"]),
    ];
    for (attribute, value, expected) in cases {
        let found = store.list_events(&lookup(attribute, value)).await.unwrap();
        assert_eq!(ids(&found), expected, "{attribute:?} = {value}");
    }
    let e1 = store.get_event("e1").await.unwrap().remove(0);
    assert_eq!(e1.record.resources, [("AWS::IAM::User".to_owned(), "arn:aws:iam::111:user/new".to_owned())]);

    // Time bounds are inclusive, and the series filters narrow to one API's errors.
    let window = EventQuery {
        from_ms: engine::time::parse_millis("2024-05-01T10:00:30Z"),
        to_ms: engine::time::parse_millis("2024-05-01T10:01:10Z"),
        limit: 50,
        ..Default::default()
    };
    assert_eq!(ids(&store.list_events(&window).await.unwrap()), ["e4", "e3", "e2"]);
    let errors = EventQuery { event_name: Some("CreateUser".into()), error_code: Some("AccessDenied".into()), limit: 50, ..Default::default() };
    assert_eq!(ids(&store.list_events(&errors).await.unwrap()), ["e2"]);

    // The event history leaves out data events; the call-rate view keeps only writes.
    store
        .insert_events("t", &records(r#"[{"eventID":"d1","eventTime":"2024-05-01T10:01:30Z","eventSource":"s3.amazonaws.com",
            "eventName":"GetObject","eventCategory":"Data","readOnly":true}]"#))
        .await
        .unwrap();
    let everything = EventQuery { limit: 50, ..Default::default() };
    assert_eq!(ids(&store.list_events(&everything).await.unwrap())[0], "d1");
    let history = EventQuery { management_only: true, limit: 50, ..Default::default() };
    assert_eq!(ids(&store.list_events(&history).await.unwrap()), ["e5", "e4", "e3", "e2", "e1"]);
    let writes = EventQuery { writes_only: true, limit: 50, ..Default::default() };
    assert_eq!(ids(&store.list_events(&writes).await.unwrap()), ["e5", "e4", "e2", "e1"]);
}

async fn pages_stay_stable_while_newer_events_arrive(store: Arc<dyn Store>) {
    store.ensure_trail("t").await.unwrap();
    store.insert_events("t", &sample()).await.unwrap();
    let page = |before| EventQuery { before, limit: 2, ..Default::default() };
    let first = store.list_events(&page(None)).await.unwrap();
    assert_eq!(ids(&first), ["e5", "e4"]);
    // A newer event arrives between pages: the next page continues where the first ended.
    store
        .insert_events("t", &records(r#"[{"eventID":"e9","eventTime":"2024-05-02T00:00:00Z","eventSource":"a","eventName":"PutX"}]"#))
        .await
        .unwrap();
    let second = store.list_events(&page(Some(first[1].cursor))).await.unwrap();
    assert_eq!(ids(&second), ["e3", "e2"]);
    let third = store.list_events(&page(Some(second[1].cursor))).await.unwrap();
    assert_eq!(ids(&third), ["e1"]);
}

async fn series_counts_follow_what_each_insight_type_counts(store: Arc<dyn Store>) {
    store.ensure_trail("t").await.unwrap();
    store.insert_events("t", &sample()).await.unwrap();
    let minute = engine::time::minute_of_millis(engine::time::parse_millis("2024-05-01T10:00:00Z").unwrap());
    let query = |counted, error_code: Option<&str>| SeriesQuery {
        event_source: "iam.amazonaws.com".into(),
        event_name: "CreateUser".into(),
        error_code: error_code.map(str::to_owned),
        counted,
        from: minute,
        to: minute + 5,
        ..Default::default()
    };
    assert_eq!(store.series_counts(&query(None, None)).await.unwrap(), [(minute, 2), (minute + 1, 1)]);
    assert_eq!(
        store.series_counts(&query(Some(InsightType::ApiErrorRate), Some("AccessDenied"))).await.unwrap(),
        [(minute, 1)]
    );
    let calls = store.minute_counts("t", InsightType::ApiCallRate).await.unwrap();
    let create_user = calls.iter().find(|s| s.key.event_name == "CreateUser").unwrap();
    assert_eq!(create_user.counts, [(minute, 2), (minute + 1, 1)]);
    assert!(calls.iter().all(|s| s.key.event_name != "GetUser"), "reads are not call-rate events");
}

fn insight(id: &str, kind: InsightType, name: &str, start: i64, end: Option<i64>) -> StoredInsight {
    StoredInsight {
        shared_event_id: id.into(),
        trail: "t".into(),
        insight_type: kind,
        key: SeriesKey {
            account: "111".into(),
            region: "us-east-1".into(),
            event_source: "iam.amazonaws.com".into(),
            event_name: name.into(),
            error_code: None,
        },
        start_minute: start,
        end_minute: end,
        baseline_average: 0.5,
        insight_average: 10.0,
        start_record: format!(r#"{{"eventID":"{id}-start"}}"#),
        end_record: end.map(|_| format!(r#"{{"eventID":"{id}-end"}}"#)),
        triage: Default::default(),
    }
}

async fn insights_are_saved_once_ended_once_and_filtered(store: Arc<dyn Store>) {
    let ongoing = insight("i1", InsightType::ApiCallRate, "CreateUser", 100, None);
    assert!(store.save_insight(&ongoing, 0).await.unwrap());
    assert!(!store.save_insight(&ongoing, 0).await.unwrap(), "saving again changes nothing");
    let ended = insight("i1", InsightType::ApiCallRate, "CreateUser", 100, Some(103));
    assert!(store.save_insight(&ended, 0).await.unwrap(), "the End is added");
    let mut changed = ended.clone();
    changed.end_minute = Some(200);
    changed.end_record = Some("{}".into());
    assert!(!store.save_insight(&changed, 0).await.unwrap(), "a stored End is never replaced");
    assert_eq!(store.get_insight("i1").await.unwrap().unwrap(), ended);

    store.save_insight(&insight("i2", InsightType::ApiErrorRate, "GetUser", 200, Some(201)), 0).await.unwrap();
    store.save_insight(&insight("i3", InsightType::ApiCallRate, "GetUser", 300, None), 0).await.unwrap();
    let list = |f: InsightFilter| {
        let store = store.clone();
        async move { store.list_insights(&f).await.unwrap().into_iter().map(|i| i.shared_event_id).collect::<Vec<_>>() }
    };
    assert_eq!(list(InsightFilter::default()).await, ["i3", "i2", "i1"]);
    assert_eq!(list(InsightFilter { insight_type: Some(InsightType::ApiCallRate), ..Default::default() }).await, ["i3", "i1"]);
    assert_eq!(list(InsightFilter { event_name: Some("GetUser".into()), ..Default::default() }).await, ["i3", "i2"]);
    assert_eq!(list(InsightFilter { event_id: Some("i1-end".into()), ..Default::default() }).await, ["i1"]);
    assert_eq!(list(InsightFilter { from: Some(150), to: Some(300), ..Default::default() }).await, ["i2"]);
    assert_eq!(list(InsightFilter { limit: Some(1), offset: 1, ..Default::default() }).await, ["i2"]);
    assert_eq!(store.count_insights(&InsightFilter { limit: Some(1), ..Default::default() }).await.unwrap(), 3);
}

fn at(time: &str) -> i64 {
    engine::time::parse_millis(time).unwrap()
}

async fn retention_drops_old_days_and_ended_insights(store: Arc<dyn Store>) {
    store.ensure_trail("t").await.unwrap();
    let event = |id: &str, time: &str| {
        format!(r#"{{"eventID":"{id}","eventTime":"{time}","eventSource":"iam.amazonaws.com","eventName":"CreateUser","resources":[{{"type":"AWS::IAM::User","ARN":"u-{id}"}}]}}"#)
    };
    let history = format!(
        "[{},{},{},{},{}]",
        event("old-day", "2024-04-01T10:00:00Z"),
        event("old-day-2", "2024-04-01T23:59:59Z"),
        event("cutoff-day-before", "2024-05-03T11:59:59Z"),
        event("cutoff-day-at", "2024-05-03T12:00:00Z"),
        event("recent", "2024-08-01T12:00:00Z"),
    );
    store.insert_events("t", &records(&history)).await.unwrap();
    let minute = |time| engine::time::minute_of_millis(at(time));
    store.save_insight(&insight("ended-long-ago", InsightType::ApiCallRate, "CreateUser", minute("2024-04-01T10:00:00Z"), Some(minute("2024-04-01T10:05:00Z"))), 0).await.unwrap();
    store.save_insight(&insight("still-going", InsightType::ApiCallRate, "CreateUser", minute("2024-04-02T10:00:00Z"), None), 0).await.unwrap();
    store.save_insight(&insight("recent", InsightType::ApiErrorRate, "CreateUser", minute("2024-07-31T09:00:00Z"), Some(minute("2024-07-31T09:02:00Z"))), 0).await.unwrap();

    // The trail's newest event is 2024-08-01T12:00:00Z (= now); 90 days before it is
    // 2024-05-03T12:00:00Z: older events go, to the millisecond.
    let now = at("2024-08-01T12:00:00Z");
    let report = store.apply_retention(now, 90).await.unwrap();
    assert_eq!(report, RetentionReport { events_removed: 3, insights_removed: 1 });
    let left = store.list_events(&EventQuery { limit: 50, ..Default::default() }).await.unwrap();
    assert_eq!(ids(&left), ["recent", "cutoff-day-at"]);
    assert_eq!(store.event_span("t").await.unwrap().unwrap().0, minute("2024-05-03T12:00:00Z"));
    let insights: Vec<String> =
        store.list_insights(&InsightFilter::default()).await.unwrap().into_iter().map(|i| i.shared_event_id).collect();
    assert_eq!(insights, ["recent", "still-going"], "insights still going on are kept");
    assert_eq!(store.apply_retention(now, 90).await.unwrap(), RetentionReport::default(), "nothing left to remove");

    // Old logs ingested again are stored again (and found by their resources).
    let again = records(&format!("[{}]", event("old-day", "2024-04-01T10:00:00Z")));
    assert_eq!(store.insert_events("t", &again).await.unwrap(), 1);
    let by_resource = EventQuery { lookup: Some((LookupAttribute::ResourceName, "u-old-day".into())), limit: 5, ..Default::default() };
    assert_eq!(ids(&store.list_events(&by_resource).await.unwrap()), ["old-day"]);
}

async fn retention_counts_back_from_each_trails_own_newest_event(store: Arc<dyn Store>) {
    let event = |id: &str, time: &str| {
        format!(r#"{{"eventID":"{id}","eventTime":"{time}","eventSource":"iam.amazonaws.com","eventName":"CreateUser"}}"#)
    };
    // "replayed": old logs, newest 2020-06-30T00:00:00Z; 30 days back is 2020-05-31T00:00:00Z.
    // "live": newest 2024-08-01T00:00:00Z; 30 days back is 2024-07-02T00:00:00Z.
    store.ensure_trail("replayed").await.unwrap();
    store.ensure_trail("live").await.unwrap();
    let replayed = format!(
        "[{},{},{},{}]",
        event("r-too-old", "2020-05-30T23:59:59Z"),
        event("r-at-cutoff", "2020-05-31T00:00:00Z"),
        event("r-mid", "2020-06-15T00:00:00Z"),
        event("r-newest", "2020-06-30T00:00:00Z"),
    );
    let live = format!(
        "[{},{},{}]",
        event("l-too-old", "2024-07-01T23:59:59Z"),
        event("l-at-cutoff", "2024-07-02T00:00:00Z"),
        event("l-newest", "2024-08-01T00:00:00Z"),
    );
    store.insert_events("replayed", &records(&replayed)).await.unwrap();
    store.insert_events("live", &records(&live)).await.unwrap();
    let minute = |time| engine::time::minute_of_millis(at(time));
    // An insight of the replayed trail that ended within its own 30 days: kept.
    let mut kept = insight("replayed-insight", InsightType::ApiCallRate, "CreateUser", minute("2020-06-15T00:00:00Z"), Some(minute("2020-06-15T00:05:00Z")));
    kept.trail = "replayed".into();
    store.save_insight(&kept, 0).await.unwrap();

    let report = store.apply_retention(at("2024-08-01T06:00:00Z"), 30).await.unwrap();
    assert_eq!(report, RetentionReport { events_removed: 2, insights_removed: 0 });
    let ids_of = |trail: &str| EventQuery { trail: Some(trail.into()), limit: 50, ..Default::default() };
    assert_eq!(ids(&store.list_events(&ids_of("replayed")).await.unwrap()), ["r-newest", "r-mid", "r-at-cutoff"]);
    assert_eq!(ids(&store.list_events(&ids_of("live")).await.unwrap()), ["l-newest", "l-at-cutoff"]);
    assert_eq!(store.count_insights(&InsightFilter::default()).await.unwrap(), 1);

    // "now" caps a trail's anchor: with now at 2024-07-15T00:00:00Z the live trail keeps
    // from 2024-06-15T00:00:00Z on, and l-at-cutoff is not touched.
    assert_eq!(store.apply_retention(at("2024-07-15T00:00:00Z"), 30).await.unwrap(), RetentionReport::default());
}

async fn a_lease_has_one_holder_until_it_expires_or_is_released(store: Arc<dyn Store>) {
    let (t0, ttl) = (1_000_000, 30_000);
    assert!(store.acquire_lease("detect:prod", "server-a", t0, ttl).await.unwrap());
    assert!(!store.acquire_lease("detect:prod", "server-b", t0 + 1_000, ttl).await.unwrap(), "held by a");
    assert!(store.acquire_lease("detect:other", "server-b", t0 + 1_000, ttl).await.unwrap(), "leases are per name");
    // a renews before expiry; b still cannot take it when the first term would have ended.
    assert!(store.acquire_lease("detect:prod", "server-a", t0 + 20_000, ttl).await.unwrap());
    assert!(!store.acquire_lease("detect:prod", "server-b", t0 + ttl + 1, ttl).await.unwrap(), "renewed by a");
    // a stops renewing (it died): b takes over once the renewed term is over, and a has lost it.
    assert!(store.acquire_lease("detect:prod", "server-b", t0 + 20_000 + ttl, ttl).await.unwrap());
    assert!(!store.acquire_lease("detect:prod", "server-a", t0 + 20_000 + ttl + 1, ttl).await.unwrap());
    // Releasing hands it over at once; releasing a lease one does not hold does nothing.
    store.release_lease("detect:prod", "server-a").await.unwrap();
    assert!(!store.acquire_lease("detect:prod", "server-a", t0 + 60_000, ttl).await.unwrap());
    store.release_lease("detect:prod", "server-b").await.unwrap();
    assert!(store.acquire_lease("detect:prod", "server-a", t0 + 60_000, ttl).await.unwrap());
}

async fn checkpoints_are_per_trail_replaced_and_go_with_the_trail(store: Arc<dyn Store>) {
    let key = "s3://logs/AWSLogs/111/CloudTrail/us-east-1/";
    store.ensure_trail("prod").await.unwrap();
    store.ensure_trail("dev").await.unwrap();
    assert_eq!(store.get_checkpoint("prod", key).await.unwrap(), None, "nothing read yet");
    store.set_checkpoint("prod", key, "first").await.unwrap();
    store.set_checkpoint("prod", key, "second").await.unwrap();
    store.set_checkpoint("dev", key, "dev's").await.unwrap();
    assert_eq!(store.get_checkpoint("prod", key).await.unwrap().as_deref(), Some("second"));
    assert_eq!(store.get_checkpoint("dev", key).await.unwrap().as_deref(), Some("dev's"));
    // A renamed trail keeps its place; a deleted and re-created one starts from the beginning.
    store.rename_trail("prod", "production").await.unwrap();
    assert_eq!(store.get_checkpoint("production", key).await.unwrap().as_deref(), Some("second"));
    store.delete_trail("dev").await.unwrap();
    store.ensure_trail("dev").await.unwrap();
    assert_eq!(store.get_checkpoint("dev", key).await.unwrap(), None);
}

async fn users_sessions_and_tokens_are_kept_and_ended(store: Arc<dyn Store>) {
    use engine::access::Role;
    use engine::store::access::{ApiToken, AuditEntry, SessionLimits};
    let access = store.access();
    access.add_user("alice", Role::Admin, "hash-a", 1_000).await.unwrap();
    access.add_user("bob", Role::Viewer, "hash-b", 2_000).await.unwrap();
    assert!(matches!(access.add_user("alice", Role::Viewer, "x", 3_000).await, Err(StoreError::UserExists(_))));
    let names: Vec<_> = access.list_users().await.unwrap().into_iter().map(|u| (u.name, u.role)).collect();
    assert_eq!(names, [("alice".to_owned(), Role::Admin), ("bob".to_owned(), Role::Viewer)]);
    assert_eq!(access.get_user("alice").await.unwrap().unwrap().1, "hash-a");

    // Sessions end when idle too long or too old, and with their user's password change.
    let limits = SessionLimits { idle_ms: 1_000, max_ms: 10_000 };
    access.create_session("s-alice", "alice", Role::Admin, 100_000).await.unwrap();
    access.create_session("s-bob", "bob", Role::Viewer, 100_000).await.unwrap();
    assert_eq!(access.session("s-alice", 100_500, limits).await.unwrap().unwrap().role, Role::Admin);
    assert!(access.session("s-alice", 101_600, limits).await.unwrap().is_none(), "idle for 1.6 s > 1 s");
    assert!(access.session("s-alice", 100_600, limits).await.unwrap().is_none(), "an expired session is gone for good");
    access.create_session("s-busy", "bob", Role::Viewer, 200_000).await.unwrap();
    let long = SessionLimits { idle_ms: 1_000_000, max_ms: 100_000 };
    for t in (200_000..=300_000).step_by(50_000) {
        assert!(access.session("s-busy", t, long).await.unwrap().is_some(), "busy at {t}");
    }
    assert!(access.session("s-busy", 300_001, long).await.unwrap().is_none(), "older than the absolute limit");
    access.create_session("s-bob2", "bob", Role::Viewer, 400_000).await.unwrap();
    access.set_password("bob", "hash-b2").await.unwrap();
    assert!(access.session("s-bob2", 400_001, long).await.unwrap().is_none(), "a password change ends sessions");
    access.create_session("s-bob3", "bob", Role::Viewer, 400_000).await.unwrap();
    access.remove_user("bob").await.unwrap();
    assert!(access.session("s-bob3", 400_001, long).await.unwrap().is_none(), "removing a user ends sessions");
    assert!(matches!(access.remove_user("bob").await, Err(StoreError::NoSuchUser(_))));
    assert!(matches!(access.set_password("bob", "x").await, Err(StoreError::NoSuchUser(_))));
    access.create_session("old", "alice", Role::Admin, 0).await.unwrap();
    access.create_session("new", "alice", Role::Admin, 500_000).await.unwrap();
    assert_eq!(access.purge_sessions(500_000, long).await.unwrap(), 1, "only 'old' (created 500 s ago, limit 100 s)");
    assert!(access.session("new", 500_001, long).await.unwrap().is_some());

    // Tokens: found by the digest of their secret, or by AWS access key; revoked by name.
    let token = |name: &str, role, key: Option<&str>| ApiToken {
        name: name.to_owned(),
        role,
        aws_access_key_id: key.map(str::to_owned),
        created_ms: 5,
        created_by: "cli".to_owned(),
        last_used_ms: None,
    };
    access.create_token(&token("ci", Role::Push, None), "digest-ci", None).await.unwrap();
    access.create_token(&token("aws", Role::Viewer, Some("TSAKEXAMPLE")), "digest-aws", Some("secret")).await.unwrap();
    assert!(matches!(
        access.create_token(&token("ci", Role::Admin, None), "digest-other", None).await,
        Err(StoreError::TokenExists(_))
    ));
    let found = access.token_by_secret("digest-ci", 42).await.unwrap().unwrap();
    assert_eq!((found.name.as_str(), found.role), ("ci", Role::Push));
    assert_eq!(access.list_tokens().await.unwrap()[1].last_used_ms, Some(42), "use is noted");
    assert!(access.token_by_secret("digest-nope", 42).await.unwrap().is_none());
    let (aws, secret) = access.token_by_aws_key("TSAKEXAMPLE").await.unwrap().unwrap();
    assert_eq!((aws.name.as_str(), secret.as_str()), ("aws", "secret"));
    access.revoke_token("ci").await.unwrap();
    assert!(access.token_by_secret("digest-ci", 43).await.unwrap().is_none());
    assert!(matches!(access.revoke_token("ci").await, Err(StoreError::NoSuchToken(_))));

    // The audit log: newest first.
    for (i, action) in ["user.add", "trail.delete"].into_iter().enumerate() {
        let entry = AuditEntry { id: 0, at_ms: i as i64, actor: "alice".into(), action: action.into(), target: "t".into(), detail: String::new() };
        access.record_audit(&entry).await.unwrap();
    }
    let log = access.list_audit(10).await.unwrap();
    assert_eq!(log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["trail.delete", "user.add"]);
    assert!(log[0].id > log[1].id);
}

async fn a_server_secret_is_created_once_and_shared(store: Arc<dyn Store>) {
    let first = store.server_secret("next-token-key", "candidate-a").await.unwrap();
    assert_eq!(first, "candidate-a", "the first candidate is stored");
    // Another server (same database, its own random candidate) gets the stored value.
    assert_eq!(store.server_secret("next-token-key", "candidate-b").await.unwrap(), "candidate-a");
    assert_eq!(store.server_secret("other", "candidate-c").await.unwrap(), "candidate-c", "secrets are per name");
}

async fn tags_follow_their_trail_and_are_limited(store: Arc<dyn Store>) {
    store.create_trail(&NewTrail::for_ingest("prod")).await.unwrap();
    let tags = store.tags();
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    assert!(tags.add_tags("prod", &[pair("team", "sec"), pair("env", "prod")]).await.unwrap());
    assert!(tags.add_tags("prod", &[pair("team", "secops")]).await.unwrap(), "a key is replaced");
    assert_eq!(tags.tags("prod").await.unwrap(), [pair("env", "prod"), pair("team", "secops")]);
    let many: Vec<_> = (0..49).map(|i| pair(&format!("k{i:02}"), "v")).collect();
    assert!(!tags.add_tags("prod", &many).await.unwrap(), "51 tags is one too many");
    assert_eq!(tags.tags("prod").await.unwrap().len(), 2, "and nothing of it was kept");
    tags.remove_tags("prod", &["env".to_owned()]).await.unwrap();
    store.rename_trail("prod", "production").await.unwrap();
    assert_eq!(tags.tags("production").await.unwrap(), [pair("team", "secops")]);
    store.delete_trail("production").await.unwrap();
    store.create_trail(&NewTrail::for_ingest("production")).await.unwrap();
    assert_eq!(tags.tags("production").await.unwrap(), [], "a new trail of the same name starts bare");
}

for_each_backend!(
    tags_follow_their_trail_and_are_limited,
    trails_are_created_configured_renamed_and_deleted,
    the_same_event_id_is_stored_once_per_trail,
    events_are_looked_up_by_every_attribute_newest_first,
    pages_stay_stable_while_newer_events_arrive,
    series_counts_follow_what_each_insight_type_counts,
    insights_are_saved_once_ended_once_and_filtered,
    retention_drops_old_days_and_ended_insights,
    retention_counts_back_from_each_trails_own_newest_event,
    a_lease_has_one_holder_until_it_expires_or_is_released,
    checkpoints_are_per_trail_replaced_and_go_with_the_trail,
    users_sessions_and_tokens_are_kept_and_ended,
    a_server_secret_is_created_once_and_shared,
);
