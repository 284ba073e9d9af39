//! Claims of requests delivered twice (`services::replays`) on the SQLite
//! store: the first delivery is served, a repeat gets the kept answer, a
//! repeat while the first is still served is told so, and a claim given up
//! (the first failed on our side) lets a retry be served.

use std::sync::Arc;

use taquilla_core::clock::SystemClock;
use taquilla_core::domain::InstanceId;
use taquilla_core::services::replays::{self, Answer, Claimed};
use taquilla_local::SqliteStore;

#[tokio::test]
async fn a_request_is_served_once_answered_again_and_served_after_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        SqliteStore::open_with_clock(&dir.path().join("t.db"), Arc::new(SystemClock)).unwrap();
    let (demo, other) = (
        InstanceId::parse("demo").unwrap(),
        InstanceId::parse("other").unwrap(),
    );
    let now = 1_800_000_000_000;
    let claim = |instance: &InstanceId, id: &str| {
        let (store, instance, id) = (&store, instance.clone(), id.to_owned());
        async move { replays::claim(store, &instance, &id, now).await.unwrap() }
    };
    assert_eq!(claim(&demo, "r1").await, Claimed::First);
    // Being served: a repeat must not act.
    assert_eq!(claim(&demo, "r1").await, Claimed::Pending);
    // The same id in another help desk is another request.
    assert_eq!(claim(&other, "r1").await, Claimed::First);
    let answer = Answer {
        status: 201,
        content_type: Some("application/json".into()),
        location: None,
        body: r#"{"number":"100001"}"#.into(),
    };
    replays::answered(&store, &demo, "r1", now, answer.clone())
        .await
        .unwrap();
    assert_eq!(claim(&demo, "r1").await, Claimed::Answered(answer));
    // An answer too long to keep leaves the claim pending.
    assert_eq!(claim(&demo, "r2").await, Claimed::First);
    let long = Answer {
        status: 200,
        content_type: None,
        location: None,
        body: "x".repeat(replays::MAX_ANSWER_BYTES + 1),
    };
    replays::answered(&store, &demo, "r2", now, long)
        .await
        .unwrap();
    assert_eq!(claim(&demo, "r2").await, Claimed::Pending);
    // A first delivery that failed gives its claim up: the retry is served.
    assert_eq!(claim(&demo, "r3").await, Claimed::First);
    replays::give_up(&store, &demo, "r3").await.unwrap();
    assert_eq!(claim(&demo, "r3").await, Claimed::First);
}
