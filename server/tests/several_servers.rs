//! Several `trailsight serve` processes on one database, as an operator runs them: two real
//! servers share the demo history; exactly one detects the trail; `kill -9` it in the middle
//! of its pass and the other takes over, and every insight ends up stored exactly once.
//! Runs on SQLite always and on Postgres when `TRAILSIGHT_TEST_POSTGRES_URL` is set.

#[path = "../../engine/tests/backends/mod.rs"]
mod backends;
mod receivers;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use backends::TestDb;
use receivers::Server;
use engine::demo::{self, DemoPlan};
use engine::detect::detect_trails;
use engine::store::{InsightFilter, InsightType};

/// Waits up to a minute for `found` to give an answer.
async fn wait_for<T>(what: &str, servers: &[&Server], mut found: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(answer) = found() {
            return answer;
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = servers.iter().map(|s| s.log()).collect();
            panic!("gave up waiting for {what}; the servers logged:\n{}", logs.join("\n-----\n"));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn a_killed_servers_detection_moves_to_the_other_and_no_insight_is_lost_or_doubled(db: &TestDb) {
    let store = db.open().await;
    let plan = DemoPlan::ending_at(42, chrono::Utc::now().timestamp_millis());
    demo::load(store.as_ref(), "demo", &plan).await.unwrap();

    let started = Instant::now();
    let detecting = ["--detect-every", "1", "--lease-seconds", "3"];
    let mut servers = vec![Server::start(&db.url, &detecting), Server::start(&db.url, &detecting)];
    let took = "took the detection lease";
    let first = wait_for("a server to take the lease", &[&servers[0], &servers[1]], || {
        (0..2).find(|&i| servers[i].logged(took, started).is_some())
    })
    .await;
    let mut holder = servers.remove(first);
    let other = servers.remove(0);

    // kill -9 the holder in the middle of its pass: once it has committed its first insight
    // (a state the test sees, on a fast machine or a slow one), so that the other server's
    // pass meets insights already stored and must neither duplicate nor alter them.
    let deadline = Instant::now() + Duration::from_secs(60);
    while store.count_insights(&InsightFilter::default()).await.unwrap() == 0 {
        assert!(Instant::now() < deadline, "the holder stored no insight within a minute:\n{}", holder.log());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    holder.child.kill().unwrap();
    let killed_at = Instant::now();
    holder.child.wait().unwrap();
    let stored_at_kill = store.count_insights(&InsightFilter::default()).await.unwrap() as usize;
    assert!(holder.logged("detection pass done", started).is_none(), "the pass ended before the kill:\n{}", holder.log());

    let took_over = wait_for("the other server to take over", &[&other], || other.logged(took, started)).await;
    assert!(
        took_over > killed_at,
        "both servers held the lease at once: the second took it before the first died\n{}",
        other.log()
    );
    wait_for("the new holder's pass", &[&other], || other.logged("detection pass done", took_over)).await;

    let insights = store.list_insights(&InsightFilter::default()).await.unwrap();
    assert!(stored_at_kill >= 1 && stored_at_kill < insights.len(), "the second server stored what the first had not ({stored_at_kill} at the kill)");
    // What one uninterrupted pass stores from the same history, in a database of its own:
    // the two servers together must have stored exactly that, record for record (none
    // missing, none extra, no Start without the End the reference has).
    let reference_db = TestDb::sqlite();
    let reference = reference_db.open().await;
    demo::load(reference.as_ref(), "demo", &plan).await.unwrap();
    detect_trails(reference.as_ref(), None, chrono::Utc::now().timestamp_millis()).await.unwrap();
    let records = |list: Vec<engine::store::StoredInsight>| {
        let mut all: Vec<(String, String, Option<String>)> =
            list.into_iter().map(|i| (i.shared_event_id, i.start_record, i.end_record)).collect();
        all.sort();
        all
    };
    let expected = records(reference.list_insights(&InsightFilter::default()).await.unwrap());
    let stored = records(insights.clone());
    let ids = |list: &[(String, String, Option<String>)]| list.iter().map(|(id, ..)| id.clone()).collect::<HashSet<_>>();
    let (stored_ids, expected_ids) = (ids(&stored), ids(&expected));
    assert!(stored_ids.is_subset(&expected_ids), "stored but not by one server: {:?}", stored_ids.difference(&expected_ids));
    assert!(expected_ids.is_subset(&stored_ids), "missing: {:?}", expected_ids.difference(&stored_ids));
    let differing: Vec<&String> = stored.iter().zip(&expected).filter(|(a, b)| a != b).map(|(a, _)| &a.0).collect();
    assert!(differing.is_empty(), "these insights' records differ from one server's (half-written or rewritten?): {differing:?}");
    let found: Vec<(InsightType, &str)> = insights.iter().map(|i| (i.insight_type, i.key.event_name.as_str())).collect();
    for expected in [(InsightType::ApiCallRate, "PutParameter"), (InsightType::ApiErrorRate, "GetPasswordData")] {
        assert!(found.contains(&expected), "{expected:?} missing from {found:?}");
    }
}

for_each_backend!(db: a_killed_servers_detection_moves_to_the_other_and_no_insight_is_lost_or_doubled);
