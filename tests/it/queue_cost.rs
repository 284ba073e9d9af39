//! What the main queue listing costs in store operations: the first page of
//! an agent's open queue is a fixed handful of key-range queries and gets,
//! whatever the number of tickets (SQLite store wrapped in `CountingStore`,
//! demo instance, tickets opened across both departments).
//!
//! The cost of one listing, as an agent's API request pays it (the route
//! also reads the instance, one more get, outside what is counted here):
//!
//! - loading the agent's access: one get (the agent) and one batch get (its
//!   roles);
//! - an administrator (who sees every department) lists the instance's
//!   departments: one query;
//! - one query per department queue (`gsi1`, `LIMIT 50` each, newest
//!   activity first), merged in order; 50 tickets never exhaust a buffer of
//!   50, so no partition is read twice.
//!
//! Nothing is written and nothing is read by scanning (the port has no scan).

use std::collections::BTreeMap;
use std::sync::Arc;

use taquilla_core::clock::{Clock, SystemClock};
use taquilla_core::domain::{Agent, AgentId, DepartmentId, InstanceId, RoleId, Source, TopicId};
use taquilla_core::keys;
use taquilla_core::services::agents_access::load_agent_access;
use taquilla_core::services::tickets::{self, Body, OpenTicket, QueueFilter};
use taquilla_core::services::{Actor, Ctx, provision};
use taquilla_core::store::{ItemStore, codec};
use taquilla_local::{FsBlobs, SqliteStore};
use taquilla_tests::counting::{CountingStore, Counts};

/// Tickets added before each measurement.
const BATCH: usize = 2_000;
/// Concurrent openers (group commit keeps the setup short).
const OPENERS: usize = 32;

struct App {
    store: Arc<CountingStore>,
    blobs: Arc<FsBlobs>,
    instance: InstanceId,
    _dir: tempfile::TempDir,
}

impl App {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let sqlite = Arc::new(
            SqliteStore::open_with_clock(&dir.path().join("t.db"), clock.clone()).unwrap(),
        );
        let store = Arc::new(CountingStore::new(sqlite));
        let blobs = Arc::new(FsBlobs::new(
            dir.path().join("blobs"),
            "http://127.0.0.1:9".into(),
            b"test key".to_vec(),
            clock.clone(),
        ));
        provision::ensure_demo(store.as_ref(), clock.as_ref())
            .await
            .unwrap()
            .unwrap();
        let app = Self {
            store,
            blobs,
            instance: InstanceId::parse("demo").unwrap(),
            _dir: dir,
        };
        // Agent 2: not an administrator, with a role in both departments.
        let agent = Agent {
            id: AgentId(2),
            name: "Lia".into(),
            email: "lia@staff.uni.edu".into(),
            password_hash: String::new(),
            admin: false,
            department: DepartmentId(1),
            role: RoleId(2),
            access: BTreeMap::from([(DepartmentId(2), RoleId(1))]),
            teams: Vec::new(),
            active: true,
            on_vacation: false,
        };
        let key = keys::object(&app.instance, AgentId::KIND, 2);
        app.store
            .put(codec::encode(key, &agent).unwrap(), None)
            .await
            .unwrap();
        app
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            store: self.store.as_ref(),
            blobs: self.blobs.as_ref(),
            clock: &SystemClock,
            instance: &self.instance,
        }
    }

    /// Opens tickets `from..from + BATCH`, spread over both departments.
    async fn open_tickets(self: &Arc<Self>, from: usize) {
        let tasks: Vec<_> = (0..OPENERS)
            .map(|task| {
                let app = Arc::clone(self);
                tokio::spawn(async move {
                    let actor = Actor::System("queue cost test".into());
                    for n in (from + task..from + BATCH).step_by(OPENERS) {
                        // Topics 1 and 2: IT Support; 3 and every fourth
                        // ticket without a topic: the Academic Office.
                        let (topic, department) = match n % 4 {
                            3 => (None, Some(DepartmentId(2))),
                            k => (Some(TopicId(u32::try_from(k).unwrap() + 1)), None),
                        };
                        let user = n % 100;
                        let input = OpenTicket {
                            name: format!("User {user}"),
                            email: format!("user{user}@example.org"),
                            phone: None,
                            subject: format!("Ticket {n}"),
                            body: Body::Text(format!("Body of ticket {n}.")),
                            topic,
                            department,
                            priority: None,
                            source: Source::Web,
                            fields: BTreeMap::new(),
                            attachments: Vec::new(),
                            collaborators: Vec::new(),
                            autorespond: false,
                            alert: false,
                            ip: None,
                        };
                        tickets::open(&app.ctx(), &actor, input).await.unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    }

    /// The store calls of one first page of `agent`'s open queue, with the
    /// access loading an API request does; checks the page.
    async fn first_page_cost(&self, agent: AgentId) -> Counts {
        self.store.reset();
        let ctx = self.ctx();
        let actor = Actor::Agent(load_agent_access(&ctx, agent).await.unwrap());
        let page = tickets::queue(&ctx, &actor, &QueueFilter::default())
            .await
            .unwrap();
        let counts = self.store.counts();
        assert_eq!(page.items.len(), 50);
        assert!(page.cursor.is_some());
        assert!(
            page.items
                .windows(2)
                .all(|w| w[0].updated_at >= w[1].updated_at),
            "newest activity first"
        );
        let departments: std::collections::BTreeSet<_> =
            page.items.iter().map(|t| t.department).collect();
        assert_eq!(departments.len(), 2, "both department queues merged");
        counts
    }
}

/// No writes, no transactions: a listing only reads.
fn read_only(counts: Counts) {
    assert_eq!(
        (counts.put, counts.update, counts.delete, counts.transact),
        (0, 0, 0, 0),
        "{counts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_queue_page_costs_a_fixed_handful_of_key_range_reads_whatever_the_ticket_count() {
    let app = Arc::new(App::new().await);
    app.open_tickets(0).await;

    let admin = app.first_page_cost(AgentId(1)).await;
    let lia = app.first_page_cost(AgentId(2)).await;
    // The administrator: agent get + roles batch get; the departments
    // query and one query per department queue (the demo has two).
    let admin_expected = Counts {
        get: 1,
        batch_get: 1,
        query: 1 + 2,
        items_read: 2 + 2 * 50,
        ..Counts::default()
    };
    assert_eq!(admin, admin_expected);
    // An agent of both departments knows its departments from its access:
    // only the two queue queries.
    let lia_expected = Counts {
        get: 1,
        batch_get: 1,
        query: 2,
        items_read: 2 * 50,
        ..Counts::default()
    };
    assert_eq!(lia, lia_expected);
    read_only(admin);
    read_only(lia);

    // Twice the tickets: the same cost.
    app.open_tickets(BATCH).await;
    assert_eq!(app.first_page_cost(AgentId(1)).await, admin);
    assert_eq!(app.first_page_cost(AgentId(2)).await, lia);
}

/// What opening one ticket costs, as the API pays it for a returning user
/// with a help topic: printed, and bounded so a change that adds reads to
/// the hottest write path shows up here.
#[tokio::test]
async fn opening_a_ticket_costs_a_bounded_handful_of_reads_and_one_transaction() {
    let app = Arc::new(App::new().await);
    app.open_tickets(0).await;
    app.store.reset();
    let input = OpenTicket {
        name: "User 7".into(),
        email: "user7@example.org".into(),
        phone: None,
        subject: "Counted".into(),
        body: Body::Text("Counted body.".into()),
        topic: Some(TopicId(1)),
        department: None,
        priority: None,
        source: Source::Api,
        fields: BTreeMap::new(),
        attachments: Vec::new(),
        collaborators: Vec::new(),
        autorespond: false,
        alert: false,
        ip: None,
    };
    tickets::open(&app.ctx(), &Actor::System("cost".into()), input)
        .await
        .unwrap();
    let counts = app.store.counts();
    println!("opening a ticket: {counts:?}");
    assert_eq!(counts.transact, 1, "{counts:?}");
    assert_eq!(
        (counts.put, counts.update, counts.delete),
        (0, 0, 0),
        "{counts:?}"
    );
    let reads = counts.get + counts.batch_get + counts.query;
    assert!(reads <= 12, "{reads} reads: {counts:?}");
}
