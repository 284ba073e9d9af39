//! The main flow on the DynamoDB adapter (through the emulator): the real
//! router served on a free port over a `DynamoStore` on a fresh table:
//! open -> respond -> note -> assign -> close -> the closed queue lists it.

use std::sync::Arc;

use serde_json::{Value, json};
use taquilla_core::clock::{Clock, SystemClock};
use taquilla_core::domain::{AgentId, InstanceId};
use taquilla_core::secrets::{MasterKey, Purpose};
use taquilla_core::services::{provision, tokens};
use taquilla_local::{FsBlobs, OutboxMailer};
use taquilla_tests::moto;

/// The router served over a fresh DynamoDB table with the demo instance:
/// its base URL, and a token of the demo admin.
async fn dynamo_app(dir: &std::path::Path) -> (String, String) {
    let emulator = moto::moto();
    let settings = taquilla_aws::AwsSettings {
        region: moto::REGION.to_owned(),
        endpoint_url: Some(emulator.endpoint.clone()),
        static_credentials: Some((
            moto::ACCESS_KEY_ID.to_owned(),
            moto::SECRET_ACCESS_KEY.to_owned(),
        )),
    };
    let config = taquilla_aws::sdk_config(&settings).await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = taquilla_aws::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        moto::unique_name("flow"),
    )
    .with_clock(clock.clone());
    store.ensure_table().await.unwrap();
    let store = Arc::new(store);
    provision::ensure_demo(store.as_ref(), clock.as_ref())
        .await
        .unwrap();
    let master = MasterKey::generate().unwrap();
    let token_key = master.derive(Purpose::AgentTokens);
    let blobs = Arc::new(FsBlobs::new(
        dir.join("blobs"),
        "http://127.0.0.1".into(),
        master.derive(Purpose::BlobUrls).expose().to_vec(),
        clock.clone(),
    ));
    let demo = InstanceId::parse("demo").unwrap();
    let token = tokens::issue(&token_key, &demo, AgentId(1), None, clock.now_secs(), 3600).unwrap();
    let state = taquilla_web::AppState {
        store,
        blobs: blobs.clone(),
        mailer: Arc::new(OutboxMailer::new(dir.join("outbox"))),
        clock,
        signed_blobs: Some(blobs),
        pages: Arc::new(taquilla_web::Pages::embedded().unwrap()),
        token_key: Arc::new(token_key),
        reply_key: Arc::new(master.derive(Purpose::ReplyTokens)),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, taquilla_web::router(state)).await });
    (url, token)
}

/// One request to the server; the status and the JSON answer.
async fn call(
    url: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let (url, token, method) = (
        format!("{url}/api/v1/demo/{path}"),
        format!("Bearer {token}"),
        method.to_owned(),
    );
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let response = tokio::task::spawn_blocking(move || {
        taquilla_tests::http::request(
            &method,
            &url,
            &[
                ("Authorization", &token),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        )
    })
    .await
    .unwrap()
    .unwrap();
    let value = if response.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&response.body).unwrap()
    };
    (response.status, value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_main_flow_runs_on_dynamodb() {
    let dir = tempfile::tempdir().unwrap();
    let (app, token) = dynamo_app(dir.path()).await;
    let (status, ticket) = call(
        &app,
        &token,
        "POST",
        "tickets",
        Some(json!({"name": "Ada", "email": "ada@example.org", "subject": "On Dynamo", "body": "Hello", "topic": 1})),
    )
    .await;
    assert_eq!(status, 201, "{ticket}");
    let n = ticket["number"].as_str().unwrap().to_owned();

    let (status, t) = call(
        &app,
        &token,
        "POST",
        &format!("tickets/{n}/responses"),
        Some(json!({"body": "Answer"})),
    )
    .await;
    assert_eq!(status, 201, "{t}");
    assert_eq!(t["answered"], true);
    let (status, t) = call(
        &app,
        &token,
        "POST",
        &format!("tickets/{n}/notes"),
        Some(json!({"body": "Note"})),
    )
    .await;
    assert_eq!(status, 201, "{t}");
    let (status, t) = call(
        &app,
        &token,
        "PATCH",
        &format!("tickets/{n}"),
        Some(json!({"version": t["version"], "assignee": {"agent": 1}})),
    )
    .await;
    assert_eq!((status, &t["assignee"]), (200, &json!(1)), "{t}");
    let (status, t) = call(
        &app,
        &token,
        "POST",
        &format!("tickets/{n}/close"),
        Some(json!({"version": t["version"]})),
    )
    .await;
    assert_eq!((status, &t["state"]), (200, &json!("closed")), "{t}");

    let (status, thread) = call(&app, &token, "GET", &format!("tickets/{n}/thread"), None).await;
    assert_eq!(status, 200, "{thread}");
    let kinds: Vec<&str> = thread["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in ["message", "response", "note", "event"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let (status, open) = call(&app, &token, "GET", "tickets", None).await;
    assert_eq!(status, 200, "{open}");
    assert_eq!(open["items"], json!([]));
    let (status, closed) = call(&app, &token, "GET", "tickets?state=closed&assignee=1", None).await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["items"][0]["number"], json!(n));
}
