//! Opening a SQLite database brings its schema up to date. A database written by an earlier
//! trailsight opens in this one with nothing lost: events keep their raw JSON and resources,
//! duplicates of them are still recognised, and new records (stored compressed) sit beside
//! them. Several processes may open the same database at once while it is being upgraded.

use engine::ingest::parse_document;
use engine::store::*;

/// Records as an earlier version stored them: raw JSON text, identity (trail, event_id).
const OLD_ROWS: &str = r#"
INSERT INTO trails (name, created_ms) VALUES ('prod', 0);
INSERT INTO events (trail, event_id, event_time_ms, minute, event_source, event_name,
        aws_region, account, is_management, is_write, user_name, raw)
    VALUES ('prod', 'old-1', 1714557605000, 28575960, 'iam.amazonaws.com', 'CreateUser',
            'us-east-1', '111', 1, 1, 'alice', '{"eventID":"old-1","eventTime":"2024-05-01T10:00:05Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","recipientAccountId":"111","readOnly":false,"userIdentity":{"userName":"alice"},"resources":[{"type":"AWS::IAM::User","ARN":"arn:aws:iam::111:user/new"}]}'),
           ('prod', 'old-2', 1714644000000, 28577400, 'iam.amazonaws.com', 'GetUser',
            'us-east-1', '111', 1, 0, 'bob', '{"eventID":"old-2"}');
-- Before 0013 an assumed role's Username was the role's name.
INSERT INTO events (trail, event_id, event_time_ms, minute, event_source, event_name,
        aws_region, account, is_management, is_write, user_arn, user_name, raw)
    VALUES ('prod', 'old-3', 1714644000000, 28577400, 'ec2.amazonaws.com', 'RunInstances',
            'us-east-1', '111', 1, 1, 'arn:aws:sts::111:assumed-role/deployer/ci-run-42', 'deployer', '{"eventID":"old-3"}'),
           ('prod', 'old-4', 1714644000000, 28577400, 'iam.amazonaws.com', 'CreateUser',
            'us-east-1', '111', 1, 1, 'arn:aws:iam::111:root', NULL, '{"eventID":"old-4"}');
INSERT INTO event_resources (event_row, resource_type, resource_name)
    VALUES (1, 'AWS::IAM::User', 'arn:aws:iam::111:user/new');
"#;

const OLD_1: &str = r#"{"eventID":"old-1","eventTime":"2024-05-01T10:00:05Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","recipientAccountId":"111","readOnly":false,"userIdentity":{"userName":"alice"},"resources":[{"type":"AWS::IAM::User","ARN":"arn:aws:iam::111:user/new"}]}"#;
const NEW_1: &str = r#"{"eventID":"new-1","eventTime":"2024-05-03T08:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","recipientAccountId":"111","readOnly":false,"resources":[{"type":"AWS::IAM::User","ARN":"arn:aws:iam::111:user/new"}]}"#;

/// A database at migration 0007: the migration files up to it, run by sqlx as a release
/// with only those files would have run them.
async fn database_at_0007(dir: &std::path::Path) -> String {
    let old = dir.join("migrations");
    std::fs::create_dir(&old).unwrap();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.as_str() < "0008" {
            std::fs::copy(&path, old.join(name)).unwrap();
        }
    }
    let url = format!("sqlite://{}", dir.join("old.db").display());
    let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
    let pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true).foreign_keys(true)).await.unwrap();
    sqlx::migrate::Migrator::new(old.as_path()).await.unwrap().run(&pool).await.unwrap();
    sqlx::raw_sql(OLD_ROWS).execute(&pool).await.unwrap();
    pool.close().await;
    url
}

#[tokio::test]
async fn an_earlier_database_keeps_its_events_resources_and_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_at_0007(dir.path()).await;
    let store = engine::store::open_store(&url).await.unwrap();

    let found = store.get_event("old-1").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].record.raw, OLD_1, "raw text written before compression reads back unchanged");
    assert_eq!(found[0].record.resources, [("AWS::IAM::User".to_owned(), "arn:aws:iam::111:user/new".to_owned())]);

    // Redelivered: recognised as the stored copy. New: stored, compressed, readable.
    let again = parse_document(format!("[{OLD_1},{NEW_1}]").as_bytes()).unwrap().records;
    assert_eq!(store.insert_events("prod", &again).await.unwrap(), 1);
    assert_eq!(store.get_event("new-1").await.unwrap()[0].record.raw, NEW_1);

    let by_resource = store
        .list_events(&EventQuery {
            lookup: Some((LookupAttribute::ResourceName, "arn:aws:iam::111:user/new".into())),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let ids: Vec<&str> = by_resource.iter().map(|e| e.record.event_id.as_str()).collect();
    assert_eq!(ids, ["new-1", "old-1"], "resources of old and new rows both found, each once");
    assert_eq!(store.event_span("prod").await.unwrap(), Some((28575960, 28578720)));

    // Usernames become what AWS's Event history shows: the session name, "root".
    let by_user = |name: &str| EventQuery { lookup: Some((LookupAttribute::Username, name.into())), limit: 10, ..Default::default() };
    let ids = |events: Vec<StoredEvent>| events.into_iter().map(|e| e.record.event_id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_events(&by_user("ci-run-42")).await.unwrap()), ["old-3"]);
    assert_eq!(ids(store.list_events(&by_user("deployer")).await.unwrap()), Vec::<String>::new());
    assert_eq!(ids(store.list_events(&by_user("root")).await.unwrap()), ["old-4"]);
    assert_eq!(ids(store.list_events(&by_user("alice")).await.unwrap()), ["old-1"]);
    // A trail from before logging times were kept has logged since it was made.
    let trail = store.get_trail("prod").await.unwrap().unwrap();
    assert_eq!((trail.logging, trail.start_logging_ms, trail.event_selectors), (true, Some(0), EventSelectors::KeepAll));
}

/// Opens the database at `url` from `n` stores at once, each on its own task with its own
/// connections (as separate trailsight processes would), and returns how each open went.
async fn open_at_once(url: &str, n: usize) -> Vec<std::result::Result<(), String>> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let url = url.to_owned();
            tokio::spawn(async move { engine::store::open_store(&url).await.map(drop).map_err(|e| e.to_string()) })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    outcomes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_processes_can_open_a_new_database_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("new.db").display());
    for outcome in open_at_once(&url, 6).await {
        assert_eq!(outcome, Ok(()), "every opener sees the schema ready, none fails");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_processes_can_open_an_earlier_database_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_at_0007(dir.path()).await;
    for outcome in open_at_once(&url, 6).await {
        assert_eq!(outcome, Ok(()), "every opener sees the upgraded schema, none fails");
    }
    let store = engine::store::open_store(&url).await.unwrap();
    assert_eq!(store.get_event("old-1").await.unwrap().len(), 1, "upgraded once, rows kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_up_to_date_database_opens_while_an_ingest_holds_the_write_lock() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("busy.db").display());
    drop(engine::store::open_store(&url).await.unwrap());

    // Another process in the middle of a write transaction, as ingest is, batch after batch.
    let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
    let mut writer = sqlx::ConnectOptions::connect(&options).await.unwrap();
    let mut tx = sqlx::Connection::begin_with(&mut writer, "BEGIN IMMEDIATE").await.unwrap();
    sqlx::query("INSERT INTO trails (name, created_ms) VALUES ('busy', 0)").execute(&mut *tx).await.unwrap();

    // Waiting for the lock would take the 30 s busy timeout and then fail.
    let opened = tokio::time::timeout(std::time::Duration::from_secs(10), engine::store::open_store(&url)).await;
    let store = opened.expect("opening waited for the writer's lock").unwrap();
    assert!(store.list_trails().await.unwrap().is_empty(), "the writer's uncommitted trail is not visible");
    tx.rollback().await.unwrap();
}
