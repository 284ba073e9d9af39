//! Ticket use cases, part 1 (open, read, thread, queues, reply/respond/note)
//! and users, on a fresh SQLite store and blob folder per test, with the
//! demo instance and:
//!
//! - the demo admin (agent 1, every permission everywhere);
//! - Lia, agent 2: the demo's role 2 "Limited access" in department 2 only.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use taquilla_core::clock::ManualClock;
use taquilla_core::domain::{
    Agent, AgentAccess, AgentId, DepartmentId, EntryKind, HelpTopic, InstanceId, Permission,
    PriorityId, Role, RoleId, Source, State, StatusId, Ticket, TopicId,
};
use taquilla_core::keys;
use taquilla_core::services::organisations::{self, NewOrganisation};
use taquilla_core::services::tickets::{
    self, Body, NewAttachment, NewMessage, NewNote, NewResponse, OpenTicket, QueueFilter,
};
use taquilla_core::services::{Actor, Ctx, ServiceError, provision, users};
use taquilla_core::store::{Condition, ItemStore, codec};
use taquilla_local::{FsBlobs, SqliteStore};

const START_MS: i64 = 1_800_000_000_000;

struct TestApp {
    store: Arc<SqliteStore>,
    blobs: FsBlobs,
    clock: Arc<ManualClock>,
    instance: InstanceId,
    admin: Actor,
    lia: Actor,
    dir: tempfile::TempDir,
}

fn agent(id: u32, name: &str, department: DepartmentId, role: RoleId) -> Agent {
    Agent {
        id: AgentId(id),
        name: name.into(),
        email: format!("{}@staff.uni.edu", name.to_lowercase()),
        password_hash: String::new(),
        admin: false,
        department,
        role,
        access: BTreeMap::new(),
        teams: Vec::new(),
        active: true,
        on_vacation: false,
    }
}

impl TestApp {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::at_ms(START_MS));
        let store = Arc::new(
            SqliteStore::open_with_clock(&dir.path().join("t.db"), clock.clone()).unwrap(),
        );
        let blobs = FsBlobs::new(
            dir.path().join("blobs"),
            "http://127.0.0.1:9".into(),
            b"test key".to_vec(),
            clock.clone(),
        );
        provision::ensure_demo(store.as_ref(), clock.as_ref())
            .await
            .unwrap()
            .unwrap();
        let mut app = Self {
            admin: Actor::System("placeholder".into()),
            lia: Actor::System("placeholder".into()),
            store,
            blobs,
            clock,
            instance: InstanceId::parse("demo").unwrap(),
            dir,
        };
        let lia = agent(2, "Lia", DepartmentId(2), RoleId(2));
        let key = keys::object(&app.instance, AgentId::KIND, 2);
        app.put(codec::encode(key, &lia).unwrap()).await;
        app.admin = app.actor(AgentId(1)).await;
        app.lia = app.actor(AgentId(2)).await;
        app
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            store: self.store.as_ref(),
            blobs: &self.blobs,
            clock: self.clock.as_ref(),
            instance: &self.instance,
        }
    }

    async fn put(&self, item: taquilla_core::store::Item) {
        self.store.put(item, None).await.unwrap();
    }

    async fn actor(&self, id: AgentId) -> Actor {
        let key = keys::object(&self.instance, AgentId::KIND, id.0);
        let agent: Agent = codec::decode(&self.store.get(&key).await.unwrap().unwrap()).unwrap();
        let mut roles = BTreeMap::new();
        for role in [RoleId(1), RoleId(2)] {
            let key = keys::object(&self.instance, RoleId::KIND, role.0);
            let role: Role = codec::decode(&self.store.get(&key).await.unwrap().unwrap()).unwrap();
            roles.insert(role.id, role);
        }
        Actor::Agent(AgentAccess { agent, roles })
    }

    /// Every item in the database (a test-only count, straight from SQLite).
    fn count_items(&self) -> i64 {
        let db = rusqlite::Connection::open(self.dir.path().join("t.db")).unwrap();
        db.query_row("SELECT count(*) FROM items", [], |row| row.get(0))
            .unwrap()
    }

    async fn open_as(&self, actor: &Actor, input: OpenTicket) -> Result<Ticket, ServiceError> {
        tickets::open(&self.ctx(), actor, input).await
    }

    /// Every ticket of a queue, following cursors.
    async fn whole_queue(&self, actor: &Actor, mut filter: QueueFilter) -> Vec<Ticket> {
        let mut all = Vec::new();
        loop {
            let page = tickets::queue(&self.ctx(), actor, &filter).await.unwrap();
            assert!(page.items.len() <= filter.limit as usize);
            all.extend(page.items);
            match page.cursor {
                Some(cursor) => filter.cursor = Some(cursor),
                None => return all,
            }
        }
    }
}

fn request(email: &str, subject: &str) -> OpenTicket {
    OpenTicket {
        name: "Ana Pons".into(),
        email: email.into(),
        phone: None,
        subject: subject.into(),
        body: Body::Text("My password expired.\n\nCan you help?".into()),
        topic: Some(TopicId(1)),
        department: None,
        priority: None,
        source: Source::Web,
        fields: BTreeMap::new(),
        attachments: Vec::new(),
        collaborators: Vec::new(),
        autorespond: true,
        alert: true,
        ip: Some("192.0.2.7".into()),
    }
}

fn api_key(permissions: &[Permission]) -> Actor {
    Actor::ApiKey {
        key_id: "k1".into(),
        permissions: permissions.iter().copied().collect::<BTreeSet<_>>(),
    }
}

#[tokio::test]
async fn a_user_opens_a_ticket_with_its_first_message_and_attachment() {
    let app = TestApp::new().await;
    let ana = users::find_or_create(&app.ctx(), "Ana", "Ana@Uni.edu")
        .await
        .unwrap();
    assert_eq!(ana.emails, ["ana@uni.edu"]);
    let mut input = request("ignored@uni.edu", "  Password expired  ");
    input.attachments.push(NewAttachment {
        name: "captura de pantalla.png".into(),
        content_type: "image/png".into(),
        bytes: vec![1, 2, 3],
    });
    let ticket = app
        .open_as(&Actor::User(ana.id.clone()), input)
        .await
        .unwrap();
    assert_eq!(ticket.subject, "Password expired");
    assert_eq!(ticket.user, ana.id);
    assert_eq!(
        (ticket.department, ticket.priority),
        (DepartmentId(1), PriorityId(3))
    );
    assert_eq!((ticket.status, ticket.state), (StatusId(1), State::Open));
    assert_eq!(ticket.number.len(), 6);
    assert!(ticket.number.bytes().all(|b| b.is_ascii_digit()));

    let user = Actor::User(ana.id.clone());
    let found = tickets::by_number(&app.ctx(), &user, &ticket.number)
        .await
        .unwrap();
    // Users read the ticket without its SLA clock.
    let mut expected = ticket.clone();
    expected.sla_clock = Default::default();
    assert_eq!(found, expected);
    let thread = tickets::thread(&app.ctx(), &user, &ticket.id, None, 10)
        .await
        .unwrap();
    assert_eq!(thread.items.len(), 1);
    let first = &thread.items[0];
    assert_eq!(first.kind, EntryKind::Message);
    assert_eq!(
        first.body_html,
        "<p>My password expired.</p><p>Can you help?</p>"
    );
    assert_eq!(first.body_text, "My password expired.\n\nCan you help?");
    assert_eq!(first.data.get("ip").map(String::as_str), Some("192.0.2.7"));
    let blob = &first.attachments[0].blob;
    assert!(
        blob.as_str()
            .starts_with(&format!("demo/tickets/{}/{}/1-", ticket.id, first.id))
    );
    // Named after the file; the folder store adds where it lies in its pack.
    assert!(blob.as_str().contains("-captura_de_pantalla.png"), "{blob}");
    use taquilla_core::blobs::Blobs as _;
    assert_eq!(app.blobs.get(blob).await.unwrap().bytes, vec![1, 2, 3]);
}

#[tokio::test]
async fn an_agent_opens_on_a_users_behalf_and_an_api_key_opens_too() {
    let app = TestApp::new().await;
    let mut input = request("caller@uni.edu", "Phoned in");
    input.source = Source::Phone;
    input.body = Body::Html("<p>Wi-Fi <b>down</b><script>x()</script></p>".into());
    let ticket = app.open_as(&app.admin, input).await.unwrap();
    let thread = tickets::thread(&app.ctx(), &app.admin, &ticket.id, None, 10)
        .await
        .unwrap();
    let first = &thread.items[0];
    let caller = users::by_email(&app.ctx(), "CALLER@uni.edu")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.author, taquilla_core::domain::Author::User(caller.id));
    assert_eq!(first.data.get("agent").map(String::as_str), Some("1"));
    assert_eq!(first.body_html, "<p>Wi-Fi <b>down</b></p>");
    assert_eq!(first.body_text, "Wi-Fi down");

    // Lia has no role in department 1 (topic 1's department): refused.
    let refused = app.open_as(&app.lia, request("x@uni.edu", "Hi")).await;
    assert!(
        matches!(refused, Err(ServiceError::Forbidden(_))),
        "{refused:?}"
    );
    let mut in_her_department = request("x@uni.edu", "Certificate");
    in_her_department.topic = Some(TopicId(3));
    assert_eq!(
        app.open_as(&app.lia, in_her_department)
            .await
            .unwrap()
            .department,
        DepartmentId(2)
    );

    let key = api_key(&[Permission::TicketCreate]);
    let by_api = app
        .open_as(&key, request("api@uni.edu", "From the API"))
        .await
        .unwrap();
    assert_eq!(by_api.department, DepartmentId(1));
    let without = app
        .open_as(
            &api_key(&[Permission::TicketNote]),
            request("api@uni.edu", "No"),
        )
        .await;
    assert!(matches!(without, Err(ServiceError::Forbidden(_))));
}

/// One way to spoil a valid request.
type Breakage = Box<dyn Fn(&mut OpenTicket)>;

#[tokio::test]
async fn invalid_requests_are_refused_and_change_nothing() {
    let app = TestApp::new().await;
    let before = app.count_items();
    let cases: Vec<(&str, Breakage)> = vec![
        ("subject", Box::new(|t| t.subject = "   ".into())),
        ("subject", Box::new(|t| t.subject = "x".repeat(256))),
        ("body", Box::new(|t| t.body = Body::Text(" \n ".into()))),
        (
            "body",
            Box::new(|t| t.body = Body::Html("<script>x</script>".into())),
        ),
        (
            "body",
            Box::new(|t| t.body = Body::Text("x".repeat(64 * 1024 + 1))),
        ),
        ("email", Box::new(|t| t.email = "not-an-address".into())),
        ("topic", Box::new(|t| t.topic = Some(TopicId(99)))),
        (
            "department",
            Box::new(|t| t.department = Some(DepartmentId(99))),
        ),
        ("priority", Box::new(|t| t.priority = Some(PriorityId(99)))),
        (
            "collaborators",
            Box::new(|t| t.collaborators = vec!["bad".into()]),
        ),
        (
            "attachments",
            Box::new(|t| {
                t.attachments = vec![NewAttachment {
                    name: String::new(),
                    content_type: "text/plain".into(),
                    bytes: vec![],
                }]
            }),
        ),
    ];
    for (field, break_it) in cases {
        let mut input = request("ana@uni.edu", "Fine");
        break_it(&mut input);
        match app.open_as(&app.admin, input).await {
            Err(ServiceError::Invalid { field: got, .. }) => assert_eq!(got, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert_eq!(
        app.count_items(),
        before,
        "a refused ticket wrote something"
    );
}

#[tokio::test]
async fn two_hundred_concurrent_tickets_get_distinct_numbers_and_all_are_queued() {
    let app = Arc::new(TestApp::new().await);
    let mut tasks = Vec::new();
    for task in 0..8 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let mut numbers = Vec::new();
            for n in 0..25 {
                let mut input = request(&format!("u{task}-{n}@uni.edu"), "Concurrent");
                input.topic = Some(TopicId(1 + (n % 3)));
                let ticket = app
                    .open_as(&Actor::System("test".into()), input)
                    .await
                    .unwrap();
                numbers.push(ticket.number);
            }
            numbers
        }));
    }
    let mut numbers = BTreeSet::new();
    for task in tasks {
        for number in task.await.unwrap() {
            assert!(numbers.insert(number), "a number was given twice");
        }
    }
    assert_eq!(numbers.len(), 200);
    let filter = QueueFilter {
        limit: 17,
        ..QueueFilter::default()
    };
    let queued = app.whole_queue(&app.admin, filter).await;
    let queued_numbers: BTreeSet<_> = queued.iter().map(|t| t.number.clone()).collect();
    assert_eq!(queued.len(), 200, "a ticket was listed twice or not at all");
    assert_eq!(queued_numbers, numbers);
}

#[tokio::test]
async fn sequential_number_formats_count_up() {
    let app = TestApp::new().await;
    let key = keys::object(&app.instance, TopicId::KIND, 2);
    let mut topic: HelpTopic = codec::decode(&app.store.get(&key).await.unwrap().unwrap()).unwrap();
    topic.number_format = Some("IT-{seq:6}".into());
    app.put(codec::encode(key, &topic).unwrap()).await;
    let mut numbers = Vec::new();
    for _ in 0..3 {
        let mut input = request("ana@uni.edu", "Wi-Fi");
        input.topic = Some(TopicId(2));
        numbers.push(app.open_as(&app.admin, input).await.unwrap().number);
    }
    assert_eq!(numbers, ["IT-000001", "IT-000002", "IT-000003"]);
}

#[tokio::test]
async fn queue_pages_merge_departments_in_activity_order_exactly_once() {
    let app = TestApp::new().await;
    let mut opened = Vec::new();
    for n in 0..23u32 {
        app.clock.advance_ms(1_000);
        let mut input = request(&format!("p{n}@uni.edu"), &format!("T{n}"));
        input.topic = Some(TopicId(1 + (n % 3)));
        opened.push(app.open_as(&app.admin, input).await.unwrap());
    }
    for limit in [1, 4, 23, 50] {
        let filter = QueueFilter {
            limit,
            ..QueueFilter::default()
        };
        let all = app.whole_queue(&app.admin, filter).await;
        let subjects: Vec<_> = all.iter().map(|t| t.subject.clone()).collect();
        let expected: Vec<_> = (0..23).rev().map(|n| format!("T{n}")).collect();
        assert_eq!(subjects, expected, "limit {limit}");
        let ascending = QueueFilter {
            limit,
            descending: false,
            ..QueueFilter::default()
        };
        let all = app.whole_queue(&app.admin, ascending).await;
        assert_eq!(all.len(), 23);
        assert!(all.windows(2).all(|w| w[0].updated_at < w[1].updated_at));
    }
    // Lia sees department 2 only; filters narrow further.
    let hers = app
        .whole_queue(
            &app.lia,
            QueueFilter {
                limit: 3,
                ..QueueFilter::default()
            },
        )
        .await;
    assert_eq!(hers.len(), 7);
    assert!(hers.iter().all(|t| t.department == DepartmentId(2)));
    let topic_two = QueueFilter {
        topic: Some(TopicId(2)),
        limit: 2,
        ..QueueFilter::default()
    };
    assert_eq!(app.whole_queue(&app.admin, topic_two).await.len(), 8);
    let closed = QueueFilter {
        state: Some(State::Closed),
        ..QueueFilter::default()
    };
    assert!(app.whole_queue(&app.admin, closed).await.is_empty());
    // A cursor is bound to its partitions.
    let first = tickets::queue(
        &app.ctx(),
        &app.admin,
        &QueueFilter {
            limit: 2,
            ..QueueFilter::default()
        },
    )
    .await
    .unwrap();
    let bad = QueueFilter {
        department: Some(DepartmentId(2)),
        cursor: first.cursor,
        ..QueueFilter::default()
    };
    let refused = tickets::queue(&app.ctx(), &app.admin, &bad).await;
    assert!(
        matches!(refused, Err(ServiceError::Store(_))),
        "{refused:?}"
    );
    let forged = QueueFilter {
        cursor: Some("not a cursor".into()),
        ..QueueFilter::default()
    };
    assert!(
        tickets::queue(&app.ctx(), &app.admin, &forged)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn only_those_who_may_see_a_ticket_find_it() {
    let app = TestApp::new().await;
    let ana = users::find_or_create(&app.ctx(), "Ana", "ana@uni.edu")
        .await
        .unwrap();
    let bob = users::find_or_create(&app.ctx(), "Bob", "bob@uni.edu")
        .await
        .unwrap();
    let cleo = users::find_or_create(&app.ctx(), "Cleo", "cleo@uni.edu")
        .await
        .unwrap();
    let mut input = request("ana@uni.edu", "Visible?");
    input.collaborators = vec!["bob@uni.edu".into()];
    let ticket = app
        .open_as(&Actor::User(ana.id.clone()), input)
        .await
        .unwrap();
    let ctx = app.ctx();
    for actor in [
        app.admin.clone(),
        Actor::User(ana.id.clone()),
        Actor::User(bob.id.clone()),
        api_key(&[Permission::TicketReply]),
        Actor::System("mail".into()),
    ] {
        assert!(
            tickets::get(&ctx, &actor, &ticket.id).await.is_ok(),
            "{actor:?}"
        );
    }
    for actor in [
        app.lia.clone(),
        Actor::User(cleo.id.clone()),
        api_key(&[Permission::FaqManage]),
    ] {
        let hidden = tickets::get(&ctx, &actor, &ticket.id).await;
        assert!(
            matches!(hidden, Err(ServiceError::NotFound(_))),
            "{actor:?}"
        );
        let hidden = tickets::by_number(&ctx, &actor, &ticket.number).await;
        assert!(
            matches!(hidden, Err(ServiceError::NotFound(_))),
            "{actor:?}"
        );
    }
    // Cleo's own queue does not list Ana's ticket; Ana's does.
    let mine = app
        .whole_queue(&Actor::User(ana.id.clone()), QueueFilter::default())
        .await;
    assert_eq!(mine.len(), 1);
    let theirs = app
        .whole_queue(&Actor::User(cleo.id.clone()), QueueFilter::default())
        .await;
    assert!(theirs.is_empty());
    // Lia cannot ask for a department she has no access to.
    let other = QueueFilter {
        department: Some(DepartmentId(1)),
        ..QueueFilter::default()
    };
    assert!(matches!(
        tickets::queue(&ctx, &app.lia, &other).await,
        Err(ServiceError::Forbidden(_))
    ));
}

#[tokio::test]
async fn the_conversation_moves_the_ticket_and_users_never_see_notes() {
    let app = TestApp::new().await;
    let ana = users::find_or_create(&app.ctx(), "Ana", "ana@uni.edu")
        .await
        .unwrap();
    let user = Actor::User(ana.id.clone());
    let ticket = app.open_as(&user, request("", "Help")).await.unwrap();
    let ctx = app.ctx();
    let text = |s: &str| Body::Text(s.into());

    app.clock.advance_ms(1_000);
    let noted = tickets::note(
        &ctx,
        &app.admin,
        &ticket.id,
        NewNote {
            body: text("internal"),
            attachments: vec![],
        },
    )
    .await
    .unwrap();
    assert_eq!(noted.version, ticket.version + 1);
    assert!(noted.updated_at > ticket.updated_at);

    app.clock.advance_ms(1_000);
    let closed = tickets::respond(
        &ctx,
        &app.admin,
        &ticket.id,
        NewResponse {
            body: text("Fixed"),
            attachments: vec![],
            status: Some(StatusId(3)),
        },
    )
    .await
    .unwrap();
    assert!(closed.answered);
    assert_eq!((closed.status, closed.state), (StatusId(3), State::Closed));
    assert!(closed.last_response_at.is_some());

    app.clock.advance_ms(1_000);
    let reopened = tickets::reply(
        &ctx,
        &user,
        &ticket.id,
        NewMessage {
            body: text("Still broken"),
            attachments: vec![],
        },
    )
    .await
    .unwrap();
    assert_eq!(reopened.state, State::Open);
    assert!(!reopened.answered);
    assert!(reopened.reopened_at.is_some());

    let for_agent = tickets::thread(&ctx, &app.admin, &ticket.id, None, 100)
        .await
        .unwrap();
    let kinds: Vec<_> = for_agent.items.iter().map(|e| e.kind).collect();
    use EntryKind::*;
    assert_eq!(kinds, [Message, Note, Response, Event, Message, Event]);
    let mut for_user = Vec::new();
    let mut cursor = None;
    loop {
        let page = tickets::thread(&ctx, &user, &ticket.id, cursor, 1)
            .await
            .unwrap();
        for_user.extend(page.items);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert!(for_user.iter().all(|e| e.kind != Note));
    assert_eq!(for_user.len(), 5);

    // Agents respond, users reply: not the other way round.
    assert!(
        tickets::reply(
            &ctx,
            &app.admin,
            &ticket.id,
            NewMessage {
                body: text("x"),
                attachments: vec![]
            }
        )
        .await
        .is_err()
    );
    assert!(
        tickets::respond(
            &ctx,
            &user,
            &ticket.id,
            NewResponse {
                body: text("x"),
                attachments: vec![],
                status: None
            }
        )
        .await
        .is_err()
    );
    // Lia may not respond in department 1 (she cannot even see the ticket).
    let refused = tickets::note(
        &ctx,
        &app.lia,
        &ticket.id,
        NewNote {
            body: text("x"),
            attachments: vec![],
        },
    )
    .await;
    assert!(matches!(refused, Err(ServiceError::NotFound(_))));
    let bad_status = NewResponse {
        body: text("x"),
        attachments: vec![],
        status: Some(StatusId(42)),
    };
    assert!(matches!(
        tickets::respond(&ctx, &app.admin, &ticket.id, bad_status).await,
        Err(ServiceError::Invalid { .. })
    ));
}

#[tokio::test]
async fn concurrent_responses_both_land_and_stale_versions_conflict() {
    let app = Arc::new(TestApp::new().await);
    let ticket = app
        .open_as(&app.admin, request("ana@uni.edu", "Race"))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for n in 0..8 {
        let app = app.clone();
        let id = ticket.id.clone();
        tasks.push(tokio::spawn(async move {
            let response = NewResponse {
                body: Body::Text(format!("response {n}")),
                attachments: vec![],
                status: None,
            };
            tickets::respond(&app.ctx(), &app.admin, &id, response)
                .await
                .unwrap()
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let thread = tickets::thread(&app.ctx(), &app.admin, &ticket.id, None, 100)
        .await
        .unwrap();
    assert_eq!(
        thread
            .items
            .iter()
            .filter(|e| e.kind == EntryKind::Response)
            .count(),
        8
    );
    let now = tickets::get(&app.ctx(), &app.admin, &ticket.id)
        .await
        .unwrap();
    assert_eq!(now.version, ticket.version + 8);

    // Two writers holding the same old version: exactly one wins.
    let key = keys::ticket(&app.instance, &ticket.id);
    let item = app.store.get(&key).await.unwrap().unwrap();
    let old = item.get_i64("version").unwrap();
    let write = |subject: &'static str| {
        let store = app.store.clone();
        let item = item
            .clone()
            .with("subject", subject)
            .with("version", old + 1);
        async move {
            store
                .put(item, Some(Condition::equals("version", old)))
                .await
        }
    };
    let (a, b) = tokio::join!(write("A"), write("B"));
    assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1);
    // The service sees the winner's version and moves on from it.
    let after = tickets::note(
        &app.ctx(),
        &app.admin,
        &ticket.id,
        NewNote {
            body: Body::Text("n".into()),
            attachments: vec![],
        },
    )
    .await
    .unwrap();
    assert_eq!(after.version, old + 2);
}

#[tokio::test]
async fn one_address_is_one_user_even_when_asked_concurrently() {
    let app = Arc::new(TestApp::new().await);
    let org = organisations::create(
        &app.ctx(),
        &app.admin,
        NewOrganisation {
            name: "Physics".into(),
            domains: vec!["phys.uni.edu".into()],
            ..NewOrganisation::default()
        },
    )
    .await
    .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            users::find_or_create(&app.ctx(), "Marie", "marie@PHYS.uni.edu")
                .await
                .unwrap()
        }));
    }
    let mut ids = BTreeSet::new();
    for task in tasks {
        let user = task.await.unwrap();
        assert_eq!(user.organisation, Some(org.id));
        ids.insert(user.id);
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(
        users::list(&app.ctx(), None, 100)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let id = ids.into_iter().next().unwrap();
    let other = users::find_or_create(&app.ctx(), "Other", "other@uni.edu")
        .await
        .unwrap();
    let taken = users::add_email(&app.ctx(), &app.admin, &other.id, "marie@phys.uni.edu").await;
    assert!(matches!(taken, Err(ServiceError::Conflict(_))));
    let refused = users::add_email(&app.ctx(), &app.lia, &id, "m@uni.edu").await;
    assert!(matches!(refused, Err(ServiceError::Forbidden(_))));
    let added = users::add_email(&app.ctx(), &app.admin, &id, "M.Curie@uni.edu")
        .await
        .unwrap();
    assert_eq!(added.emails, ["marie@phys.uni.edu", "m.curie@uni.edu"]);
    assert_eq!(
        users::by_email(&app.ctx(), "m.curie@uni.edu")
            .await
            .unwrap()
            .unwrap()
            .id,
        id
    );
}

#[tokio::test]
async fn a_response_is_refused_while_another_agent_holds_the_lock_until_it_expires() {
    let app = TestApp::new().await;
    let mut input = request("ana@uni.edu", "Certificate");
    input.topic = Some(TopicId(3));
    let ticket = app.open_as(&app.admin, input).await.unwrap();
    assert_eq!(ticket.department, DepartmentId(2));
    tickets::locks::lock(&app.ctx(), &app.admin, &ticket.id)
        .await
        .unwrap();
    let response = || NewResponse {
        body: Body::Text("On it".into()),
        attachments: vec![],
        status: None,
    };
    let err = tickets::respond(&app.ctx(), &app.lia, &ticket.id, response())
        .await
        .unwrap_err();
    match err {
        ServiceError::Locked { holder, until_ms } => {
            assert_eq!(holder, "Demo Admin");
            assert_eq!(until_ms, START_MS + 180_000);
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    // The holder itself may respond; nothing was written for the refusal.
    tickets::respond(&app.ctx(), &app.admin, &ticket.id, response())
        .await
        .unwrap();
    // Locks expire by themselves.
    app.clock.advance_ms(180_001);
    tickets::respond(&app.ctx(), &app.lia, &ticket.id, response())
        .await
        .unwrap();
    let thread = tickets::thread(&app.ctx(), &app.admin, &ticket.id, None, 100)
        .await
        .unwrap();
    let responses = thread
        .items
        .iter()
        .filter(|e| e.kind == EntryKind::Response)
        .count();
    assert_eq!(responses, 2);
}

#[tokio::test]
async fn the_lock_lasts_as_long_as_the_instance_says() {
    use taquilla_core::services::admin::instances::{self, InstanceChanges};
    let app = TestApp::new().await;
    let ticket = app
        .open_as(&app.admin, request("ana@uni.edu", "Locks"))
        .await
        .unwrap();
    let lock = tickets::locks::lock(&app.ctx(), &app.admin, &ticket.id)
        .await
        .unwrap();
    assert_eq!(lock.until_ms, START_MS + 180_000, "3 minutes by default");

    let current = instances::get(app.ctx(), &app.admin).await.unwrap();
    let refused = instances::update(
        app.ctx(),
        &app.admin,
        InstanceChanges {
            version: current.version,
            lock_seconds: Some(0),
            mail: None,
            ..InstanceChanges::default()
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&refused, ServiceError::Invalid { field, .. } if field == "lock_seconds"),
        "{refused:?}"
    );
    instances::update(
        app.ctx(),
        &app.admin,
        InstanceChanges {
            version: current.version,
            lock_seconds: Some(600),
            mail: None,
            ..InstanceChanges::default()
        },
    )
    .await
    .unwrap();
    let lock = tickets::locks::lock(&app.ctx(), &app.admin, &ticket.id)
        .await
        .unwrap();
    assert_eq!(lock.until_ms, START_MS + 600_000);
}

// ---------------------------------------------------------------------------
// Round-robin auto-assignment (topic 3 routes to department 2, "Academic
// Office", where Lia, agent 2, works).
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_users_reply_to_a_merged_ticket_lands_in_the_target_it_may_see() {
    use taquilla_core::services::tickets::merge;
    let app = TestApp::new().await;
    let ctx = app.ctx();
    let a = app
        .open_as(&app.admin, request("ana@uni.edu", "Printer"))
        .await
        .unwrap();
    let b = app
        .open_as(&app.admin, request("ana@uni.edu", "Printer again"))
        .await
        .unwrap();
    let other = app
        .open_as(&app.admin, request("bo@uni.edu", "Projector"))
        .await
        .unwrap();
    merge::merge(&ctx, &app.admin, &a.id, &b.id, None)
        .await
        .unwrap();
    let ana = Actor::User(a.user.clone());
    let message = || NewMessage {
        body: Body::Text("Any news?".into()),
        attachments: vec![],
    };
    // Later than every entry so far: it is the thread's last.
    app.clock.advance_ms(1_000);
    let landed = tickets::reply(&ctx, &ana, &a.id, message()).await.unwrap();
    assert_eq!(landed.id, b.id);
    let thread = tickets::thread(&ctx, &ana, &b.id, None, 100).await.unwrap();
    let last = thread.items.last().unwrap();
    assert_eq!(
        last.author,
        taquilla_core::domain::Author::User(a.user.clone())
    );
    assert_eq!(
        tickets::get(&ctx, &ana, &a.id).await.unwrap().state,
        State::Closed
    );

    // Merged into a ticket of someone else, which she may not see: refused,
    // and nothing is written there.
    let c = app
        .open_as(&app.admin, request("ana@uni.edu", "Printer, third"))
        .await
        .unwrap();
    merge::merge(&ctx, &app.admin, &c.id, &other.id, None)
        .await
        .unwrap();
    let before = app.count_items();
    let refused = tickets::reply(&ctx, &ana, &c.id, message()).await;
    assert!(
        matches!(refused, Err(ServiceError::Forbidden(_))),
        "{refused:?}"
    );
    assert_eq!(app.count_items(), before);
    // Mail (the system, on the user's behalf) reaches it, as the user's.
    let mail = Actor::System("mail".into());
    app.clock.advance_ms(1_000);
    let landed = tickets::reply(&ctx, &mail, &c.id, message()).await.unwrap();
    assert_eq!(landed.id, other.id);
    let thread = tickets::thread(&ctx, &mail, &other.id, None, 100)
        .await
        .unwrap();
    assert_eq!(
        thread.items.last().unwrap().author,
        taquilla_core::domain::Author::User(a.user.clone())
    );
}

mod round_robin {
    use super::*;
    use taquilla_core::domain::{AssignmentMode, AutoAssign, Department};

    /// Puts an encoded object as a configuration record (version 1).
    async fn put_config(app: &TestApp, item: taquilla_core::store::Item) {
        app.put(item.with("version", 1)).await;
    }

    /// Sets department 2's assignment mode.
    async fn set_mode(app: &TestApp, mode: AssignmentMode) {
        let key = keys::object(&app.instance, DepartmentId::KIND, 2);
        let mut dept: Department =
            codec::decode(&app.store.get(&key).await.unwrap().unwrap()).unwrap();
        dept.assignment = mode;
        put_config(app, codec::encode(key, &dept).unwrap()).await;
    }

    async fn put_agent(app: &TestApp, agent: &Agent) {
        let key = keys::object(&app.instance, AgentId::KIND, agent.id.0);
        put_config(app, codec::encode(key, agent).unwrap()).await;
    }

    /// Agents 3 (Bo, primary department 1 with access to 2), 4 (Cai, on
    /// vacation) and 5 (Dan, inactive) beside Lia.
    async fn staff(app: &TestApp) {
        let mut bo = agent(3, "Bo", DepartmentId(1), RoleId(2));
        bo.access.insert(DepartmentId(2), RoleId(2));
        put_agent(app, &bo).await;
        let mut cai = agent(4, "Cai", DepartmentId(2), RoleId(2));
        cai.on_vacation = true;
        put_agent(app, &cai).await;
        let mut dan = agent(5, "Dan", DepartmentId(2), RoleId(2));
        dan.active = false;
        put_agent(app, &dan).await;
    }

    async fn open_academic(app: &TestApp, n: usize) -> Ticket {
        let mut input = request("ana@uni.edu", &format!("Certificate {n}"));
        input.topic = Some(TopicId(3));
        app.open_as(&Actor::User(users_id(app).await), input)
            .await
            .unwrap_or_else(|e| panic!("ticket {n}: {e:?}"))
    }

    async fn users_id(app: &TestApp) -> taquilla_core::domain::UserId {
        users::find_or_create(&app.ctx(), "Ana Pons", "ana@uni.edu")
            .await
            .unwrap()
            .id
    }

    #[tokio::test]
    async fn tickets_go_in_turn_to_available_members_only() {
        let app = TestApp::new().await;
        staff(&app).await;
        set_mode(&app, AssignmentMode::RoundRobin).await;
        let mut got = Vec::new();
        for n in 0..6 {
            let ticket = open_academic(&app, n).await;
            let stored = tickets::get(&app.ctx(), &app.admin, &ticket.id)
                .await
                .unwrap();
            assert_eq!(stored.assignee, ticket.assignee);
            got.push(ticket.assignee);
            let thread = tickets::thread(&app.ctx(), &app.admin, &ticket.id, None, 50)
                .await
                .unwrap();
            let events: Vec<_> = thread
                .items
                .iter()
                .filter(|e| e.kind == EntryKind::Event)
                .collect();
            assert_eq!(events.len(), 1, "{thread:?}");
            assert_eq!(events[0].event.as_deref(), Some("assigned"));
            assert_eq!(
                events[0].data.get("to").map(String::as_str),
                ticket.assignee.map(|a| a.to_string()).as_deref()
            );
        }
        // Lia (2) and Bo (3) in turn; Cai (vacation) and Dan (inactive) skipped.
        let (lia, bo) = (Some(AgentId(2)), Some(AgentId(3)));
        assert_eq!(got, vec![lia, bo, lia, bo, lia, bo]);
    }

    #[tokio::test]
    async fn a_manual_department_assigns_nobody() {
        let app = TestApp::new().await;
        staff(&app).await;
        for n in 0..2 {
            let ticket = open_academic(&app, n).await;
            assert_eq!(ticket.assignee, None);
            let thread = tickets::thread(&app.ctx(), &app.admin, &ticket.id, None, 50)
                .await
                .unwrap();
            assert!(thread.items.iter().all(|e| e.kind != EntryKind::Event));
        }
    }

    #[tokio::test]
    async fn a_department_without_available_members_leaves_tickets_unassigned() {
        let app = TestApp::new().await;
        let mut lia = agent(2, "Lia", DepartmentId(2), RoleId(2));
        lia.on_vacation = true;
        put_agent(&app, &lia).await;
        set_mode(&app, AssignmentMode::RoundRobin).await;
        assert_eq!(open_academic(&app, 0).await.assignee, None);
    }

    #[tokio::test]
    async fn the_topics_own_auto_assignment_wins() {
        let app = TestApp::new().await;
        staff(&app).await;
        set_mode(&app, AssignmentMode::RoundRobin).await;
        let key = keys::object(&app.instance, TopicId::KIND, 3);
        let mut topic: HelpTopic =
            codec::decode(&app.store.get(&key).await.unwrap().unwrap()).unwrap();
        topic.auto_assign = Some(AutoAssign::Agent(AgentId(3)));
        put_config(&app, codec::encode(key, &topic).unwrap()).await;
        for n in 0..3 {
            assert_eq!(open_academic(&app, n).await.assignee, Some(AgentId(3)));
        }
        // The turn was never taken: with the topic's assignment gone, Lia is first.
        topic.auto_assign = None;
        let key = keys::object(&app.instance, TopicId::KIND, 3);
        put_config(&app, codec::encode(key, &topic).unwrap()).await;
        assert_eq!(open_academic(&app, 9).await.assignee, Some(AgentId(2)));
    }
}

/// Writing to a merged ticket, over HTTP on the real server: the entry
/// lands in the ticket it was merged into, and the answer says so.
mod merged {
    use serde_json::{Value, json};
    use taquilla_core::domain::{InstanceId, TicketId};
    use taquilla_core::keys;
    use taquilla_core::services::tickets::conversation::REDIRECTED_FROM;
    use taquilla_core::services::tickets::merge::MAX_MERGE_CHAIN;
    use taquilla_core::store::ItemStore;
    use taquilla_tests::app::{DEMO, TestApp, json};
    use taquilla_tests::http::Response;

    fn code(r: &Response) -> String {
        json(r)["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Opens a ticket from `email` with `topic` (1: department 1, 3:
    /// department 2) as the demo admin; its number.
    fn open(app: &TestApp, email: &str, topic: u32) -> String {
        let r = app.open_ticket(
            DEMO,
            &json!({"name": "Requester", "email": email, "subject": "Projector",
                    "body": {"text": "It does not start."}, "topic": topic}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        json(&r)["number"].as_str().unwrap().to_owned()
    }

    fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> Response {
        app.api_as(token, "POST", &format!("{DEMO}/{path}"), Some(body))
    }

    fn merge(app: &TestApp, source: &str, into: &str) {
        let r = post(
            app,
            &app.token,
            &format!("tickets/{source}/merge"),
            &json!({"into": into}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }

    fn get(app: &TestApp, token: &str, number: &str) -> Response {
        app.api_as(token, "GET", &format!("{DEMO}/tickets/{number}"), None)
    }

    /// An agent created through the admin API with `role` in `department`;
    /// a token for it.
    fn agent(app: &TestApp, email: &str, department: u32, role: u32) -> String {
        let r = app.api(
            "POST",
            &format!("{DEMO}/agents"),
            Some(&json!({"name": email, "email": email, "department": department, "role": role})),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let id = u32::try_from(json(&r)["agent"]["id"].as_u64().unwrap()).unwrap();
        app.token_for(DEMO, id, None)
    }

    #[test]
    fn responses_notes_and_messages_to_a_merged_ticket_land_in_its_target() {
        let app = TestApp::new();
        let a = open(&app, "ada@example.org", 1);
        let b = open(&app, "bob@example.org", 3);
        merge(&app, &a, &b);
        let (a_before, a_thread) = app.ticket_and_thread(DEMO, &a);
        let (_, b_thread) = app.ticket_and_thread(DEMO, &b);

        let sent = [
            ("responses", "We are on it."),
            ("notes", "Same projector as the other ticket."),
            ("messages", "Any news?"),
        ];
        for (kind, text) in sent {
            let r = post(
                &app,
                &app.token,
                &format!("tickets/{a}/{kind}"),
                &json!({"body": text}),
            );
            assert_eq!(r.status, 201, "{kind}: {}", r.text());
            let answer = json(&r);
            assert_eq!(answer["number"], b.as_str(), "{kind} landed in the target");
            assert_eq!(answer["redirected_from"], a.as_str(), "{kind}");
        }

        // The three entries are in B's thread, each naming where it was
        // sent; A's thread and A itself did not move.
        let (b_after, b_thread_after) = app.ticket_and_thread(DEMO, &b);
        assert_eq!(b_thread_after.len(), b_thread.len() + 3);
        let landed: Vec<_> = sent
            .iter()
            .map(|(kind, text)| {
                b_thread_after
                    .iter()
                    .find(|e| e.body_text.trim() == *text)
                    .unwrap_or_else(|| panic!("the {kind} is not in the target's thread"))
            })
            .collect();
        for entry in &landed {
            assert_eq!(entry.data[REDIRECTED_FROM], a);
        }
        // The message is the user's of the ticket it answered, not B's.
        let (a_after, a_thread_after) = app.ticket_and_thread(DEMO, &a);
        assert_eq!(
            landed[2].author,
            taquilla_core::domain::Author::User(a_after.user.clone())
        );
        assert_ne!(a_after.user, b_after.user);
        assert_eq!(a_after, a_before, "the merged ticket stays as it was");
        assert_eq!(a_thread_after, a_thread);
        assert!(!b_after.answered && b_after.last_response_at.is_some());

        // Reading A still works and says where it went.
        let r = get(&app, &app.token, &a);
        assert_eq!(r.status, 200, "{}", r.text());
        let read = json(&r);
        assert_eq!(read["state"], "closed");
        assert_eq!(read["merged_into"], b_after.id.to_string());
        assert_eq!(read["merged_into_number"], b.as_str());
        assert!(read.get("redirected_from").is_none());
        let r = app.thread(DEMO, &a);
        assert_eq!(r.status, 200, "{}", r.text());

        // Writing to B itself is not a redirect.
        let r = post(
            &app,
            &app.token,
            &format!("tickets/{b}/notes"),
            &json!({"body": "Direct."}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        assert!(json(&r).get("redirected_from").is_none());
        assert!(
            !get(&app, &app.token, &b)
                .text()
                .contains("merged_into_number")
        );
    }

    #[test]
    fn a_message_to_a_closed_target_reopens_the_target_not_the_source() {
        let app = TestApp::new();
        let (a, b) = (
            open(&app, "ada@example.org", 1),
            open(&app, "ada@example.org", 1),
        );
        merge(&app, &a, &b);
        let r = post(&app, &app.token, &format!("tickets/{b}/close"), &json!({}));
        assert_eq!(r.status, 200, "{}", r.text());
        let r = post(
            &app,
            &app.token,
            &format!("tickets/{a}/messages"),
            &json!({"body": "It broke again."}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(json(&r)["state"], "open");
        assert_eq!(json(&r)["number"], b.as_str());
        assert_eq!(app.ticket_and_thread(DEMO, &a).0.state.as_str(), "closed");
    }

    #[test]
    fn a_chain_of_merges_is_followed_to_its_end() {
        let app = TestApp::new();
        let (a, b, c) = (
            open(&app, "ada@example.org", 1),
            open(&app, "ada@example.org", 1),
            open(&app, "ada@example.org", 3),
        );
        merge(&app, &a, &b);
        merge(&app, &b, &c);
        let r = post(
            &app,
            &app.token,
            &format!("tickets/{a}/responses"),
            &json!({"body": "Found it."}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(json(&r)["number"], c.as_str());
        assert_eq!(json(&r)["redirected_from"], a.as_str());
        let (_, thread) = app.ticket_and_thread(DEMO, &c);
        let response = thread.iter().find(|e| e.body_text.trim() == "Found it.");
        assert_eq!(response.unwrap().data[REDIRECTED_FROM], a);
        // Each merged ticket names its own target.
        assert_eq!(
            json(&get(&app, &app.token, &a))["merged_into_number"],
            b.as_str()
        );
        assert_eq!(
            json(&get(&app, &app.token, &b))["merged_into_number"],
            c.as_str()
        );
    }

    #[test]
    fn a_merge_cycle_is_refused_with_409_and_writes_nothing() {
        let app = TestApp::new();
        let (a, b) = (
            open(&app, "ada@example.org", 1),
            open(&app, "ada@example.org", 1),
        );
        merge(&app, &a, &b);
        // A damaged store: B points back to A (no merge can make this).
        let (a_ticket, _) = app.ticket_and_thread(DEMO, &a);
        let (b_ticket, _) = app.ticket_and_thread(DEMO, &b);
        let key = keys::ticket(&InstanceId::parse(DEMO).unwrap(), &b_ticket.id);
        app.rt.block_on(async {
            let mut item = app.store.get(&key).await.unwrap().unwrap();
            item.set("merged_into", a_ticket.id.to_string());
            app.store.put(item, None).await.unwrap();
        });
        let before = (
            app.ticket_and_thread(DEMO, &a),
            app.ticket_and_thread(DEMO, &b),
        );
        for kind in ["responses", "notes", "messages"] {
            let r = post(
                &app,
                &app.token,
                &format!("tickets/{a}/{kind}"),
                &json!({"body": "Hello?"}),
            );
            assert_eq!(r.status, 409, "{kind}: {}", r.text());
            assert_eq!(code(&r), "conflict");
            assert!(
                json(&r)["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains(&MAX_MERGE_CHAIN.to_string())
            );
        }
        let after = (
            app.ticket_and_thread(DEMO, &a),
            app.ticket_and_thread(DEMO, &b),
        );
        assert_eq!(after, before, "nothing was written");
        // A target that does not exist is refused the same way.
        let ghost = TicketId::generate();
        app.rt.block_on(async {
            let mut item = app.store.get(&key).await.unwrap().unwrap();
            item.set("merged_into", ghost.to_string());
            app.store.put(item, None).await.unwrap();
        });
        let r = post(
            &app,
            &app.token,
            &format!("tickets/{a}/notes"),
            &json!({"body": "x"}),
        );
        assert_eq!(
            (r.status, code(&r).as_str()),
            (409, "conflict"),
            "{}",
            r.text()
        );
    }

    #[test]
    fn a_target_out_of_the_agents_reach_refuses_the_entry() {
        let app = TestApp::new();
        let a = open(&app, "ada@example.org", 1);
        let b = open(&app, "ada@example.org", 3);
        merge(&app, &a, &b);
        let before = app.ticket_and_thread(DEMO, &b);
        // Role 1 in department 1 only: A is visible, B (department 2) is not.
        let one = agent(&app, "one@demo.example.org", 1, 1);
        let r = get(&app, &one, &a);
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(
            json(&r).get("merged_into_number").is_none(),
            "B is not in its reach"
        );
        assert_eq!(get(&app, &one, &b).status, 404);
        for kind in ["responses", "notes", "messages"] {
            let r = post(
                &app,
                &one,
                &format!("tickets/{a}/{kind}"),
                &json!({"body": "Hi"}),
            );
            assert_eq!(r.status, 403, "{kind}: {}", r.text());
            assert_eq!(code(&r), "forbidden");
        }
        assert_eq!(app.ticket_and_thread(DEMO, &b), before, "nothing landed");
    }
}
