//! `TestApp`: the real router on a free loopback port over a fresh data
//! directory (SQLite, folder blobs, outbox), with the demo instance and a
//! second one provisioned, an agent token and an API key issued through the
//! services, and one method per endpoint.
//!
//! The server runs on the app's own runtime; tests are plain `#[test]`s
//! that talk HTTP with the blocking client of [`crate::http`].

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use taquilla_core::blobs::Blobs;
use taquilla_core::clock::{Clock, SystemClock};
use taquilla_core::domain::{AgentId, InstanceId, Permission};
use taquilla_core::secrets::{MasterKey, Purpose, SecretKey};
use taquilla_core::services::provision::{self, Blueprint};
use taquilla_core::services::{apikeys, tokens};
use taquilla_core::store::ItemStore;
use taquilla_local::{FsBlobs, OutboxMailer, SqliteStore};

use crate::http::{self, Response};

/// A running server and what a test needs to drive it.
pub struct TestApp {
    pub url: String,
    pub rt: tokio::runtime::Runtime,
    pub store: Arc<SqliteStore>,
    pub blobs: Arc<FsBlobs>,
    /// The clock the server and the services run on.
    pub clock: Arc<dyn Clock>,
    pub token_key: SecretKey,
    /// The key of the server's reply tokens: mail sent with it
    /// ([`TestApp::send_pending_mail`]) carries reply addresses the server
    /// verifies when the reply comes back.
    pub reply_key: SecretKey,
    /// A token of the demo instance's admin agent.
    pub token: String,
    /// An API key of the demo instance, allowed from loopback, with every
    /// ticket permission.
    pub api_key: String,
    pub dir: tempfile::TempDir,
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// The demo instance's slug.
pub const DEMO: &str = "demo";
/// The second instance's slug.
pub const OTHER: &str = "other";

fn other_blueprint() -> Blueprint {
    Blueprint {
        id: InstanceId::parse(OTHER).unwrap(),
        name: "Other Unit".into(),
        admin_email: "admin@other.taquilla.test".into(),
        mail: taquilla_core::domain::MailSettings::default(),
        ..provision::demo_blueprint()
    }
}

impl TestApp {
    /// Starts the app.
    #[must_use]
    pub fn new() -> Self {
        Self::start(Arc::new(SystemClock), 3600)
    }

    /// Starts the app on `clock` (e.g. a `ManualClock` a test moves); its
    /// agent token is valid for as long as a token may be (a year of that
    /// clock).
    #[must_use]
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self::start(clock, tokens::MAX_TTL_SECS)
    }

    fn start(clock: Arc<dyn Clock>, token_ttl_secs: i64) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let master = MasterKey::generate().unwrap();
        let token_key = master.derive(Purpose::AgentTokens);
        let reply_key = master.derive(Purpose::ReplyTokens);
        let (url, store, blobs) = rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let store = Arc::new(
                SqliteStore::open_with_clock(&dir.path().join("t.db"), clock.clone()).unwrap(),
            );
            let blobs = Arc::new(FsBlobs::new(
                dir.path().join("blobs"),
                url.clone(),
                master.derive(Purpose::BlobUrls).expose().to_vec(),
                clock.clone(),
            ));
            provision::ensure_demo(store.as_ref(), clock.as_ref())
                .await
                .unwrap();
            provision::provision(store.as_ref(), clock.as_ref(), &other_blueprint())
                .await
                .unwrap();
            let state = taquilla_web::AppState {
                store: store.clone(),
                blobs: blobs.clone(),
                mailer: Arc::new(OutboxMailer::new(dir.path().join("outbox"))),
                clock: clock.clone(),
                signed_blobs: Some(blobs.clone()),
                pages: Arc::new(taquilla_web::Pages::embedded().unwrap()),
                token_key: Arc::new(token_key.clone()),
                reply_key: Arc::new(reply_key.clone()),
            };
            let app =
                taquilla_web::router(state).into_make_service_with_connect_info::<SocketAddr>();
            tokio::spawn(async move { axum::serve(listener, app).await });
            (url, store, blobs)
        });
        let demo = InstanceId::parse(DEMO).unwrap();
        let token = tokens::issue(
            &token_key,
            &demo,
            AgentId(1),
            None,
            clock.now_secs(),
            token_ttl_secs,
        )
        .unwrap();
        let mut app = Self {
            url,
            rt,
            store,
            blobs,
            clock,
            token_key,
            reply_key,
            token,
            api_key: String::new(),
            dir,
        };
        let all_ticket: BTreeSet<Permission> = Permission::ALL
            .into_iter()
            .filter(|p| p.as_str().starts_with("ticket."))
            .collect();
        app.api_key = app.create_api_key(DEMO, &["127.0.0.0/8", "::1"], all_ticket);
        app
    }

    /// A new API key of `instance` through the service; the clear key.
    pub fn create_api_key(
        &self,
        instance: &str,
        networks: &[&str],
        permissions: BTreeSet<Permission>,
    ) -> String {
        let instance = InstanceId::parse(instance).unwrap();
        self.rt
            .block_on(apikeys::create(
                self.store.as_ref(),
                &SystemClock,
                &instance,
                apikeys::NewApiKey {
                    networks: networks.iter().map(|n| (*n).to_owned()).collect(),
                    permissions,
                    description: None,
                },
            ))
            .unwrap()
            .key
    }

    /// A token for `agent` of `instance`, optionally scoped.
    #[must_use]
    pub fn token_for(
        &self,
        instance: &str,
        agent: u32,
        scope: Option<BTreeSet<Permission>>,
    ) -> String {
        let instance = InstanceId::parse(instance).unwrap();
        tokens::issue(
            &self.token_key,
            &instance,
            AgentId(agent),
            scope,
            SystemClock.now_secs(),
            3600,
        )
        .unwrap()
    }

    /// Counts the items of a partition prefix, to prove nothing was written.
    #[must_use]
    pub fn count_tickets(&self, instance: &str) -> usize {
        let store: &dyn ItemStore = self.store.as_ref();
        let instance = InstanceId::parse(instance).unwrap();
        let actor = taquilla_core::services::Actor::System("test".into());
        let ctx = taquilla_core::services::Ctx {
            store,
            blobs: self.blobs.as_ref() as &dyn Blobs,
            clock: &SystemClock,
            instance: &instance,
        };
        let mut filter = taquilla_core::services::tickets::QueueFilter {
            limit: 1000,
            ..Default::default()
        };
        let mut n = 0;
        for state in [
            taquilla_core::domain::State::Open,
            taquilla_core::domain::State::Closed,
        ] {
            filter.state = Some(state);
            n += self
                .rt
                .block_on(taquilla_core::services::tickets::queue(
                    &ctx, &actor, &filter,
                ))
                .unwrap()
                .items
                .len();
        }
        n
    }

    /// The ticket `number` of `instance` and its thread, read through the services.
    #[must_use]
    pub fn ticket_and_thread(
        &self,
        instance: &str,
        number: &str,
    ) -> (
        taquilla_core::domain::Ticket,
        Vec<taquilla_core::domain::Entry>,
    ) {
        use taquilla_core::services::{Actor, Ctx, tickets};
        let instance = InstanceId::parse(instance).unwrap();
        let actor = Actor::System("test".into());
        let ctx = Ctx {
            store: self.store.as_ref(),
            blobs: self.blobs.as_ref(),
            clock: self.clock.as_ref(),
            instance: &instance,
        };
        self.rt.block_on(async {
            let ticket = tickets::by_number(&ctx, &actor, number).await.unwrap();
            let thread = tickets::thread(&ctx, &actor, &ticket.id, None, 100)
                .await
                .unwrap();
            (ticket, thread.items)
        })
    }

    /// Sends the instance's pending mail through a fresh outbox folder (the
    /// dispatcher `taquilla serve` runs every second); the mails this run
    /// sent, parsed back.
    pub fn send_pending_mail(&self, instance: &str) -> Vec<taquilla_mail::inbound::ParsedMail> {
        use taquilla_mail::dispatch::{self, Dispatcher, Due, RetryPolicy};
        let outbox = self.dir.path().join("sent");
        let before: BTreeSet<_> = std::fs::read_dir(&outbox)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        let mailer = OutboxMailer::new(outbox.clone());
        let tokens = taquilla_mail::reply_token::ReplyTokens::new(self.reply_key.clone());
        let instance = InstanceId::parse(instance).unwrap();
        let ctx = taquilla_core::services::Ctx {
            store: self.store.as_ref(),
            blobs: self.blobs.as_ref(),
            clock: &SystemClock,
            instance: &instance,
        };
        let dispatcher = Dispatcher {
            mailer: &mailer,
            tokens: &tokens,
            public_url: "http://127.0.0.1",
            retry: RetryPolicy::default(),
        };
        self.rt
            .block_on(dispatch::send_pending(&ctx, &dispatcher, Due::All))
            .unwrap();
        let mut sent: Vec<_> = std::fs::read_dir(&outbox)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_else(|_| Vec::new());
        sent.retain(|path| !before.contains(path));
        sent.sort();
        sent.iter()
            .map(|path| taquilla_mail::inbound::parse(&std::fs::read(path).unwrap()).unwrap())
            .collect()
    }

    /// The bytes of a stored blob.
    #[must_use]
    pub fn blob(&self, key: &taquilla_core::blobs::BlobKey) -> Vec<u8> {
        self.rt.block_on(self.blobs.get(key)).unwrap().bytes
    }

    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        http::request(method, &format!("{}{path}", self.url), headers, body).unwrap()
    }

    /// `POST /{instance}/api/tickets.{json|xml}` (or `/api/...` when
    /// `instance` is `None`) with `key`.
    #[must_use]
    pub fn osticket_create(
        &self,
        instance: Option<&str>,
        format: &str,
        key: Option<&str>,
        body: &str,
    ) -> Response {
        let path = match instance {
            Some(i) => format!("/{i}/api/tickets.{format}"),
            None => format!("/api/tickets.{format}"),
        };
        let content_type = if format == "xml" {
            "application/xml"
        } else {
            "application/json"
        };
        let mut headers = vec![("Content-Type", content_type)];
        if let Some(key) = key {
            headers.push(("X-API-Key", key));
        }
        self.send("POST", &path, &headers, body.as_bytes())
    }

    /// A request to `/api/v1/{path}` with an agent token.
    #[must_use]
    pub fn api_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Response {
        let auth = format!("Bearer {token}");
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.send(
            method,
            &format!("/api/v1/{path}"),
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        )
    }

    /// A request to `/api/v1/{path}` with the demo admin's token.
    #[must_use]
    pub fn api(&self, method: &str, path: &str, body: Option<&serde_json::Value>) -> Response {
        self.api_as(&self.token, method, path, body)
    }

    /// A request to `/api/v1/{path}` with an API key.
    #[must_use]
    pub fn api_with_key(
        &self,
        key: &str,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Response {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.send(
            method,
            &format!("/api/v1/{path}"),
            &[("X-API-Key", key), ("Content-Type", "application/json")],
            body.as_bytes(),
        )
    }

    /// `GET /api/v1/{instance}/tickets?{query}`.
    #[must_use]
    pub fn list_tickets(&self, instance: &str, query: &str) -> Response {
        self.api("GET", &format!("{instance}/tickets?{query}"), None)
    }

    /// `POST /api/v1/{instance}/tickets`.
    #[must_use]
    pub fn open_ticket(&self, instance: &str, body: &serde_json::Value) -> Response {
        self.api("POST", &format!("{instance}/tickets"), Some(body))
    }

    /// `GET /api/v1/{instance}/tickets/{number}`.
    #[must_use]
    pub fn get_ticket(&self, instance: &str, number: &str) -> Response {
        self.api("GET", &format!("{instance}/tickets/{number}"), None)
    }

    /// `GET /api/v1/{instance}/tickets/{number}/thread`.
    #[must_use]
    pub fn thread(&self, instance: &str, number: &str) -> Response {
        self.api("GET", &format!("{instance}/tickets/{number}/thread"), None)
    }

    /// `GET /api/v1/openapi.json`.
    #[must_use]
    pub fn openapi(&self) -> Response {
        self.send("GET", "/api/v1/openapi.json", &[], &[])
    }
}

impl Default for TestApp {
    fn default() -> Self {
        Self::new()
    }
}

/// The JSON body of a response.
#[must_use]
pub fn json(response: &Response) -> serde_json::Value {
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", response.text()))
}
