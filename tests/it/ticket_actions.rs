//! The ticket actions of part 2 (assign, claim, release, transfer, status,
//! priority, topic, due date, close, reopen, collaborators, merge, link,
//! delete, collision locks) on a fresh SQLite store per test, with the demo
//! instance and two more agents:
//!
//! - the demo admin (agent 1, every permission everywhere);
//! - Lia, agent 2: the demo's role 2 "Limited access" in department 2 only;
//! - Bea, agent 3: role 1 "All access" in department 1 only, not an admin.

use std::collections::BTreeMap;
use std::sync::Arc;

use taquilla_core::clock::{Clock, ManualClock};
use taquilla_core::domain::change::event;
use taquilla_core::domain::{
    Agent, AgentAccess, AgentId, CopyKind, DepartmentId, Entry, InstanceId, PriorityId, Role,
    RoleId, Source, State, StatusId, Team, TeamId, Ticket, TicketId, TopicId,
};
use taquilla_core::keys;
use taquilla_core::services::tickets::actions::{self, Assignee};
use taquilla_core::services::tickets::collaborators;
use taquilla_core::services::tickets::locks;
use taquilla_core::services::tickets::merge;
use taquilla_core::services::tickets::{self, Body, OpenTicket};
use taquilla_core::services::{Actor, Ctx, ServiceError, provision};
use taquilla_core::store::{Index, ItemStore, Query, codec};
use taquilla_local::{FsBlobs, SqliteStore};

const START_MS: i64 = 1_800_000_000_000;

/// A fresh store with the demo instance and the agents above.
struct TestApp {
    store: Arc<SqliteStore>,
    blobs: FsBlobs,
    clock: Arc<ManualClock>,
    instance: InstanceId,
    admin: Actor,
    lia: Actor,
    bea: Actor,
    _dir: tempfile::TempDir,
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
        let instance = InstanceId::parse("demo").unwrap();
        let mut app = Self {
            admin: Actor::System("placeholder".into()),
            lia: Actor::System("placeholder".into()),
            bea: Actor::System("placeholder".into()),
            store,
            blobs,
            clock,
            instance,
            _dir: dir,
        };
        let lia = agent(2, "Lia", DepartmentId(2), RoleId(2));
        let bea = agent(3, "Bea", DepartmentId(1), RoleId(1));
        app.put_agent(&lia).await;
        app.put_agent(&bea).await;
        app.put_team(1, "Network").await;
        app.admin = app.actor(AgentId(1)).await;
        app.lia = app.actor(AgentId(2)).await;
        app.bea = app.actor(AgentId(3)).await;
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

    async fn put_agent(&self, agent: &Agent) {
        let key = keys::object(&self.instance, AgentId::KIND, agent.id.0);
        let item = codec::encode(key, agent).unwrap();
        self.store.put(item, None).await.unwrap();
    }

    async fn put_team(&self, id: u32, name: &str) {
        let team = Team {
            id: TeamId(id),
            name: name.into(),
            lead: None,
            members: Vec::new(),
        };
        let key = keys::object(&self.instance, TeamId::KIND, id);
        self.store
            .put(codec::encode(key, &team).unwrap(), None)
            .await
            .unwrap();
    }

    /// The agent with its roles resolved, as a signed-in agent acts.
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

    /// A new open ticket in `department`, from `email`, opened by the admin
    /// (as for a phone call); its thread starts with the user's message.
    async fn open_in(&self, department: u32, email: &str) -> Ticket {
        let input = OpenTicket {
            name: "Requester".into(),
            email: email.into(),
            phone: None,
            subject: "The printer is on fire".into(),
            body: Body::Text("Please help.".into()),
            topic: None,
            department: Some(DepartmentId(department)),
            priority: None,
            source: Source::Phone,
            fields: BTreeMap::new(),
            attachments: Vec::new(),
            collaborators: Vec::new(),
            autorespond: false,
            alert: false,
            ip: None,
        };
        tickets::open(&self.ctx(), &self.admin, input)
            .await
            .unwrap()
    }

    async fn open(&self, department: u32) -> Ticket {
        self.open_in(department, "req@uni.edu").await
    }

    async fn ticket(&self, id: &TicketId) -> Ticket {
        let item = self
            .store
            .get(&keys::ticket(&self.instance, id))
            .await
            .unwrap()
            .unwrap();
        codec::decode(&item).unwrap()
    }

    /// Every entry of the ticket's thread, oldest first.
    async fn thread(&self, id: &TicketId) -> Vec<Entry> {
        let mut entries = Vec::new();
        let mut query = Query::table(keys::ticket_pk(&self.instance, id)).sk(keys::entries());
        loop {
            let page = self.store.query(&query).await.unwrap();
            entries.extend(page.items.iter().map(|i| codec::decode(i).unwrap()));
            match page.cursor {
                Some(c) => query.cursor = Some(c),
                None => return entries,
            }
        }
    }

    /// The events of the ticket's thread, by name.
    async fn events(&self, id: &TicketId) -> Vec<Entry> {
        self.thread(id)
            .await
            .into_iter()
            .filter(|e| e.event.is_some())
            .collect()
    }

    async fn last_event(&self, id: &TicketId) -> Entry {
        self.events(id).await.pop().expect("an event")
    }

    /// Ids of the tickets in a department's queue for `state`.
    async fn queue(&self, department: u32, state: State) -> Vec<String> {
        let pk = keys::queue::department(&self.instance, DepartmentId(department), state);
        let page = self
            .store
            .query(&Query::index(Index::Gsi1, pk))
            .await
            .unwrap();
        page.items
            .iter()
            .map(|i| i.get_str("id").unwrap().to_owned())
            .collect()
    }
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

fn is_forbidden<T: std::fmt::Debug>(result: Result<T, ServiceError>) -> bool {
    matches!(result, Err(ServiceError::Forbidden(_)))
}

fn is_not_found<T: std::fmt::Debug>(result: Result<T, ServiceError>) -> bool {
    matches!(result, Err(ServiceError::NotFound(_)))
}

fn is_conflict<T: std::fmt::Debug>(result: &Result<T, ServiceError>) -> bool {
    matches!(result, Err(ServiceError::Conflict(_)))
}

// ---------------------------------------------------------------------------
// Assignment
// ---------------------------------------------------------------------------

#[tokio::test]
async fn assigning_to_an_agent_records_who_from_and_to_and_bumps_the_version() {
    let app = TestApp::new().await;
    let t = app.open(1).await;
    app.clock.advance_ms(5_000);
    let after = actions::assign(
        &app.ctx(),
        &app.admin,
        &t.id,
        Assignee::Agent(AgentId(3)),
        None,
    )
    .await
    .unwrap();
    assert_eq!(after.assignee, Some(AgentId(3)));
    assert_eq!(after.version, t.version + 1);
    assert_eq!(after.updated_at, START_MS + 5_000);
    assert_eq!(app.ticket(&t.id).await, after);
    let e = app.last_event(&t.id).await;
    assert_eq!(e.event.as_deref(), Some(event::ASSIGNED));
    assert_eq!(e.author, taquilla_core::domain::Author::Agent(AgentId(1)));
    assert_eq!((e.data["from"].as_str(), e.data["to"].as_str()), ("", "3"));
}

#[tokio::test]
async fn assigning_needs_an_existing_active_agent_with_access() {
    let app = TestApp::new().await;
    let t = app.open(1).await;
    let ctx = app.ctx();
    let unknown = actions::assign(&ctx, &app.admin, &t.id, Assignee::Agent(AgentId(99)), None);
    assert!(matches!(unknown.await, Err(ServiceError::NotFound(_))));
    // Lia works in department 2 only.
    let outsider = actions::assign(&ctx, &app.admin, &t.id, Assignee::Agent(AgentId(2)), None);
    assert!(matches!(outsider.await, Err(ServiceError::Invalid { .. })));
    let mut away = agent(4, "Max", DepartmentId(1), RoleId(1));
    away.active = false;
    app.put_agent(&away).await;
    let inactive = actions::assign(&ctx, &app.admin, &t.id, Assignee::Agent(AgentId(4)), None);
    assert!(matches!(inactive.await, Err(ServiceError::Invalid { .. })));
    assert_eq!(app.ticket(&t.id).await, t, "nothing changed");
    assert!(app.events(&t.id).await.is_empty());
}

#[tokio::test]
async fn assigning_to_a_team_puts_the_ticket_in_the_team_queue() {
    let app = TestApp::new().await;
    let t = app.open(1).await;
    let ctx = app.ctx();
    let after = actions::assign(&ctx, &app.bea, &t.id, Assignee::Team(TeamId(1)), None)
        .await
        .unwrap();
    assert_eq!(after.team, Some(TeamId(1)));
    assert_eq!(app.last_event(&t.id).await.data["kind"], "team");
    let missing = actions::assign(&ctx, &app.bea, &t.id, Assignee::Team(TeamId(9)), None);
    assert!(matches!(missing.await, Err(ServiceError::NotFound(_))));
}

#[tokio::test]
async fn a_limited_agent_claims_an_unassigned_ticket_of_its_department_only() {
    let app = TestApp::new().await;
    let ctx = app.ctx();
    let mine = app.open(2).await;
    let claimed = actions::claim(&ctx, &app.lia, &mine.id, None)
        .await
        .unwrap();
    assert_eq!(claimed.assignee, Some(AgentId(2)));
    assert_eq!(app.last_event(&mine.id).await.data["to"], "2");
    // Assigned to someone else: claiming it needs ticket.assign.
    let taken = app.open(2).await;
    actions::assign(
        &ctx,
        &app.admin,
        &taken.id,
        Assignee::Agent(AgentId(1)),
        None,
    )
    .await
    .unwrap();
    assert!(is_forbidden(
        actions::claim(&ctx, &app.lia, &taken.id, None).await
    ));
    // Another department's ticket: out of sight, so not found.
    let other = app.open(1).await;
    assert!(is_not_found(
        actions::claim(&ctx, &app.lia, &other.id, None).await
    ));
    assert_eq!(app.ticket(&other.id).await, other);
}

#[tokio::test]
async fn releasing_clears_agent_and_team() {
    let app = TestApp::new().await;
    let ctx = app.ctx();
    let t = app.open(1).await;
    actions::assign(&ctx, &app.bea, &t.id, Assignee::Agent(AgentId(3)), None)
        .await
        .unwrap();
    actions::assign(&ctx, &app.bea, &t.id, Assignee::Team(TeamId(1)), None)
        .await
        .unwrap();
    let after = actions::release(&ctx, &app.bea, &t.id, None).await.unwrap();
    assert_eq!((after.assignee, after.team), (None, None));
    let e = app.last_event(&t.id).await;
    assert_eq!(e.event.as_deref(), Some(event::RELEASED));
    assert_eq!(
        (e.data["agent"].as_str(), e.data["team"].as_str()),
        ("3", "1")
    );
}

// ---------------------------------------------------------------------------
// Transfer, status, priority, topic, due date
// ---------------------------------------------------------------------------

#[tokio::test]
async fn transferring_clears_an_assignee_without_access_there() {
    let app = TestApp::new().await;
    let ctx = app.ctx();
    let t = app.open(1).await;
    actions::assign(&ctx, &app.admin, &t.id, Assignee::Agent(AgentId(3)), None)
        .await
        .unwrap();
    let after = actions::transfer(&ctx, &app.bea, &t.id, DepartmentId(2), None)
        .await
        .unwrap();
    assert_eq!(after.department, DepartmentId(2));
    assert_eq!(after.assignee, None, "Bea has no access to department 2");
    let e = app.last_event(&t.id).await;
    assert_eq!(e.event.as_deref(), Some(event::TRANSFERRED));
    assert_eq!(e.data["assignee_cleared"], "3");
    assert_eq!(app.queue(2, State::Open).await, vec![t.id.to_string()]);
    assert!(app.queue(1, State::Open).await.is_empty());
    let nowhere = actions::transfer(&ctx, &app.admin, &t.id, DepartmentId(9), None);
    assert!(matches!(nowhere.await, Err(ServiceError::NotFound(_))));
}

#[tokio::test]
async fn closing_and_reopening_keep_state_and_times_in_step() {
    let app = TestApp::new().await;
    let ctx = app.ctx();
    let t = app.open(1).await;
    app.clock.advance_ms(1_000);
    let closed = actions::close(&ctx, &app.bea, &t.id, None).await.unwrap();
    assert_eq!((closed.status, closed.state), (StatusId(2), State::Closed));
    assert_eq!(closed.closed_at, Some(START_MS + 1_000));
    assert_eq!(app.queue(1, State::Closed).await, vec![t.id.to_string()]);
    app.clock.advance_ms(1_000);
    let open = actions::reopen(&ctx, &app.bea, &t.id, None).await.unwrap();
    assert_eq!((open.status, open.state), (StatusId(1), State::Open));
    assert_eq!(open.closed_at, None);
    assert_eq!(open.reopened_at, Some(START_MS + 2_000));
    let via_status = actions::set_status(&ctx, &app.bea, &t.id, StatusId(3), None)
        .await
        .unwrap();
    assert_eq!(via_status.state, State::Closed);
    let e = app.last_event(&t.id).await;
    assert_eq!(e.event.as_deref(), Some(event::STATUS_CHANGED));
    assert_eq!((e.data["from"].as_str(), e.data["to"].as_str()), ("1", "3"));
    assert_eq!(e.data["to_state"], "closed");
    let deleted = actions::set_status(&ctx, &app.admin, &t.id, StatusId(5), None);
    assert!(matches!(deleted.await, Err(ServiceError::Invalid { .. })));
    let unknown = actions::set_status(&ctx, &app.admin, &t.id, StatusId(42), None);
    assert!(matches!(unknown.await, Err(ServiceError::NotFound(_))));
}

#[tokio::test]
async fn priority_topic_and_due_date_changes_are_recorded() {
    let app = TestApp::new().await;
    let ctx = app.ctx();
    let t = app.open(1).await;
    let p = actions::set_priority(&ctx, &app.bea, &t.id, PriorityId(1), None)
        .await
        .unwrap();
    assert_eq!(p.priority, PriorityId(1));
    let topic = actions::set_topic(&ctx, &app.bea, &t.id, Some(TopicId(2)), None)
        .await
        .unwrap();
    assert_eq!(topic.topic, Some(TopicId(2)));
    let due = actions::set_due(&ctx, &app.bea, &t.id, Some(START_MS + 86_400_000), None)
        .await
        .unwrap();
    assert_eq!(due.due_at, Some(START_MS + 86_400_000));
    assert_eq!(due.version, t.version + 3);
    let names: Vec<_> = app
        .events(&t.id)
        .await
        .into_iter()
        .map(|e| e.event.unwrap())
        .collect();
    assert_eq!(
        names,
        [
            event::PRIORITY_CHANGED,
            event::TOPIC_CHANGED,
            event::DUE_CHANGED
        ]
    );
    // The same value again changes nothing and writes nothing.
    let same = actions::set_priority(&ctx, &app.bea, &t.id, PriorityId(1), None)
        .await
        .unwrap();
    assert_eq!(same.version, due.version);
    assert_eq!(app.events(&t.id).await.len(), 3);
    let bad = actions::set_priority(&ctx, &app.bea, &t.id, PriorityId(77), None);
    assert!(matches!(bad.await, Err(ServiceError::NotFound(_))));
}

// ---------------------------------------------------------------------------
// Permissions
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_limited_agent_cannot_assign_transfer_or_delete_and_nothing_changes() {
    let app = TestApp::new().await;
    let ctx = app.ctx();
    let t = app.open(2).await;
    let to_lia = Assignee::Agent(AgentId(2));
    assert!(is_forbidden(
        actions::assign(&ctx, &app.lia, &t.id, to_lia, None).await
    ));
    assert!(is_forbidden(
        actions::transfer(&ctx, &app.lia, &t.id, DepartmentId(1), None).await
    ));
    assert!(is_forbidden(
        actions::delete(&ctx, &app.lia, &t.id, None).await
    ));
    assert!(is_forbidden(
        actions::release(&ctx, &app.lia, &t.id, None).await
    ));
    assert!(is_forbidden(
        actions::set_priority(&ctx, &app.lia, &t.id, PriorityId(1), None).await
    ));
    assert_eq!(app.ticket(&t.id).await, t);
    assert!(app.events(&t.id).await.is_empty());
    // What the role allows, it may: closing.
    let closed = actions::close(&ctx, &app.lia, &t.id, None).await.unwrap();
    assert_eq!(closed.state, State::Closed);
}

/// Every action of `lia` on `id` (and `other`, a ticket of her own
/// department, for link and merge): the codes, in a fixed order.
async fn outcomes(
    app: &TestApp,
    lia: &Actor,
    id: &TicketId,
    other: &TicketId,
) -> Vec<&'static str> {
    let ctx = app.ctx();
    let code = |r: Result<(), ServiceError>| match r {
        Ok(()) => "ok",
        Err(e) => e.code(),
    };
    vec![
        code(actions::close(&ctx, lia, id, None).await.map(drop)),
        code(actions::claim(&ctx, lia, id, None).await.map(drop)),
        code(
            actions::assign(&ctx, lia, id, Assignee::Agent(AgentId(2)), None)
                .await
                .map(drop),
        ),
        code(
            actions::set_due(&ctx, lia, id, Some(1), None)
                .await
                .map(drop),
        ),
        code(
            actions::set_topic(&ctx, lia, id, None, None)
                .await
                .map(drop),
        ),
        code(
            collaborators::add_collaborators(&ctx, lia, id, "a@uni.edu", CopyKind::Cc, None)
                .await
                .map(drop),
        ),
        code(actions::link(&ctx, lia, other, id, None).await.map(drop)),
        code(merge::merge(&ctx, lia, other, id, None).await.map(drop)),
        code(actions::delete(&ctx, lia, id, None).await.map(drop)),
        code(locks::lock(&ctx, lia, id).await.map(drop)),
        code(locks::current_lock(&ctx, lia, id).await.map(drop)),
        code(locks::unlock(&ctx, lia, id).await),
    ]
}

#[tokio::test]
async fn another_departments_ticket_is_not_found_until_seen_then_forbidden() {
    let app = TestApp::new().await;
    let ctx = app.ctx();
    let t = app.open(1).await;
    let other = app.open(2).await;
    // Lia works in department 2 only: a department 1 ticket does not exist
    // for her, whatever she tries.
    let hidden = outcomes(&app, &app.lia, &t.id, &other.id).await;
    assert_eq!(hidden, ["not_found"; 12]);
    let missing = outcomes(&app, &app.lia, &TicketId::generate(), &other.id).await;
    assert_eq!(hidden, missing, "a hidden ticket answers as a missing one");
    assert_eq!(app.ticket(&t.id).await, t);
    assert_eq!(app.ticket(&other.id).await, other);
    assert!(app.events(&t.id).await.is_empty());
    assert!(app.events(&other.id).await.is_empty());

    // Given to a team of hers, she sees it: now each refusal is forbidden
    // (she still has no role in department 1, and role 2 in department 2
    // does not edit or merge).
    let mut lia = agent(2, "Lia", DepartmentId(2), RoleId(2));
    lia.teams = vec![TeamId(1)];
    app.put_agent(&lia).await;
    let lia = app.actor(AgentId(2)).await;
    let t = actions::assign(&ctx, &app.admin, &t.id, Assignee::Team(TeamId(1)), None)
        .await
        .unwrap();
    assert_eq!(tickets::get(&ctx, &lia, &t.id).await.unwrap(), t);
    let seen = outcomes(&app, &lia, &t.id, &other.id).await;
    assert_eq!(seen, ["forbidden"; 12]);
    assert_eq!(app.ticket(&t.id).await, t);
    assert_eq!(app.ticket(&other.id).await, other);
    assert!(app.events(&other.id).await.is_empty());
}

#[tokio::test]
async fn only_an_administrator_deletes_and_the_ticket_leaves_the_open_queue() {
    let app = TestApp::new().await;
    let ctx = app.ctx();
    let t = app.open(1).await;
    assert!(is_forbidden(
        actions::delete(&ctx, &app.bea, &t.id, None).await
    ));
    assert_eq!(app.queue(1, State::Open).await, vec![t.id.to_string()]);
    let deleted = actions::delete(&ctx, &app.admin, &t.id, None)
        .await
        .unwrap();
    assert_eq!(
        (deleted.status, deleted.state),
        (StatusId(5), State::Deleted)
    );
    assert!(app.queue(1, State::Open).await.is_empty());
    assert_eq!(app.queue(1, State::Deleted).await, vec![t.id.to_string()]);
    assert_eq!(
        app.last_event(&t.id).await.event.as_deref(),
        Some(event::DELETED)
    );
}

// ---------------------------------------------------------------------------
// Optimistic concurrency
// ---------------------------------------------------------------------------

#[tokio::test]
async fn two_concurrent_changes_of_the_same_version_never_both_win() {
    let app = TestApp::new().await;
    let ctx = app.ctx();
    let t = app.open(1).await;
    let (a, b) = tokio::join!(
        actions::set_priority(&ctx, &app.bea, &t.id, PriorityId(1), Some(t.version)),
        actions::set_priority(&ctx, &app.admin, &t.id, PriorityId(4), Some(t.version)),
    );
    assert_eq!(
        [a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(),
        1,
        "{a:?} {b:?}"
    );
    assert!(is_conflict(&a) || is_conflict(&b));
    let winner = a.or(b).unwrap();
    assert_eq!(app.ticket(&t.id).await, winner);
    assert_eq!(app.events(&t.id).await.len(), 1, "only the winner's event");
}

#[tokio::test]
async fn without_an_expected_version_concurrent_changes_still_never_both_win() {
    let app = TestApp::new().await;
    let ctx = app.ctx();
    let t = app.open(1).await;
    let (a, b) = tokio::join!(
        actions::set_priority(&ctx, &app.bea, &t.id, PriorityId(1), None),
        actions::set_due(&ctx, &app.admin, &t.id, Some(7), None),
    );
    let stored = app.ticket(&t.id).await;
    let wins = usize::from(a.is_ok()) + usize::from(b.is_ok());
    assert_eq!(stored.version, t.version + i64::try_from(wins).unwrap());
    assert_eq!(app.events(&t.id).await.len(), wins);
    if wins == 1 {
        assert!(is_conflict(&a) || is_conflict(&b));
    } else {
        // Serialised: both landed, each on the other's version.
        assert_eq!((stored.priority, stored.due_at), (PriorityId(1), Some(7)));
    }
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict_and_changes_nothing() {
    let app = TestApp::new().await;
    let ctx = app.ctx();
    let t = app.open(1).await;
    actions::set_due(&ctx, &app.bea, &t.id, Some(5), Some(t.version))
        .await
        .unwrap();
    let stale = actions::set_priority(&ctx, &app.bea, &t.id, PriorityId(1), Some(t.version)).await;
    assert!(is_conflict(&stale));
    assert_eq!(app.ticket(&t.id).await.priority, t.priority);
}

// ---------------------------------------------------------------------------
// Collision locks
// ---------------------------------------------------------------------------

#[tokio::test]
async fn another_agents_lock_blocks_until_it_expires() {
    let app = TestApp::new().await;
    let ctx = app.ctx();
    let t = app.open(1).await;
    let lock = locks::lock(&ctx, &app.admin, &t.id).await.unwrap();
    let until = START_MS + locks::DEFAULT_LOCK_SECS * 1000;
    assert_eq!((lock.holder, lock.until_ms), (AgentId(1), until));
    locks::check_lock(&ctx, &app.admin, &t.id).await.unwrap();
    match locks::check_lock(&ctx, &app.bea, &t.id).await {
        Err(ServiceError::Locked { holder, until_ms }) => {
            assert_eq!(holder, "Demo Admin");
            assert_eq!(until_ms, until);
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    assert!(matches!(
        locks::lock(&ctx, &app.bea, &t.id).await,
        Err(ServiceError::Locked { .. })
    ));
    assert_eq!(
        locks::current_lock(&ctx, &app.bea, &t.id).await.unwrap(),
        Some(lock)
    );
    app.clock.advance_ms(locks::DEFAULT_LOCK_SECS * 1000);
    locks::check_lock(&ctx, &app.bea, &t.id).await.unwrap();
    assert_eq!(
        locks::current_lock(&ctx, &app.bea, &t.id).await.unwrap(),
        None
    );
    let taken = locks::lock(&ctx, &app.bea, &t.id).await.unwrap();
    assert_eq!(taken.holder, AgentId(3));
}

#[tokio::test]
async fn the_holder_renews_and_releases_its_lock() {
    let app = TestApp::new().await;
    let ctx = app.ctx();
    let t = app.open(1).await;
    locks::lock(&ctx, &app.bea, &t.id).await.unwrap();
    app.clock.advance_ms(100_000);
    let renewed = locks::lock(&ctx, &app.bea, &t.id).await.unwrap();
    assert_eq!(renewed.until_ms, START_MS + 100_000 + 180_000);
    app.clock.advance_ms(150_000);
    assert!(
        locks::check_lock(&ctx, &app.admin, &t.id).await.is_err(),
        "renewed"
    );
    locks::unlock(&ctx, &app.bea, &t.id).await.unwrap();
    locks::check_lock(&ctx, &app.admin, &t.id).await.unwrap();
    locks::unlock(&ctx, &app.bea, &t.id).await.unwrap();
    let short = locks::lock_for(&ctx, &app.admin, &t.id, 10).await.unwrap();
    assert_eq!(short.until_ms, app.clock.now_ms() + 10_000);
    // Bea cannot release the admin's lock; an admin can release anyone's.
    assert!(matches!(
        locks::unlock(&ctx, &app.bea, &t.id).await,
        Err(ServiceError::Locked { .. })
    ));
    locks::lock(&ctx, &app.admin, &t.id).await.unwrap();
    assert!(matches!(
        locks::lock_for(&ctx, &app.admin, &t.id, 0).await,
        Err(ServiceError::Invalid { .. })
    ));
}

// ---------------------------------------------------------------------------
// Collaborators
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_pasted_list_is_reported_entry_by_entry() {
    let app = TestApp::new().await;
    let ctx = app.ctx();
    let t = app.open_in(1, "req@uni.edu").await;
    let paste = "Ann Lee <ann@uni.edu>, not-an-address; \"Bo, Ruiz\" <BO@uni.edu>\n\
                 ann@uni.edu, REQ@uni.edu, Carl <carl@nowhere>";
    let report = collaborators::add_collaborators(&ctx, &app.bea, &t.id, paste, CopyKind::Cc, None)
        .await
        .unwrap();
    assert_eq!(report.added.len(), 2);
    assert_eq!(report.already, ["ann@uni.edu", "req@uni.edu"]);
    let invalid: Vec<_> = report
        .invalid
        .iter()
        .map(|(text, _)| text.as_str())
        .collect();
    assert_eq!(invalid, ["not-an-address", "Carl <carl@nowhere>"]);
    assert!(report.invalid.iter().all(|(_, why)| !why.is_empty()));
    let stored = app.ticket(&t.id).await;
    let users: Vec<_> = stored
        .collaborators
        .iter()
        .map(|c| c.user.clone())
        .collect();
    assert_eq!(users, report.added);
    assert!(stored.collaborators.iter().all(|c| c.kind == CopyKind::Cc));
    let events = app.events(&t.id).await;
    assert_eq!(events.len(), 2);
    assert!(
        events
            .iter()
            .all(|e| e.event.as_deref() == Some(event::COLLABORATOR_ADDED))
    );
    // Pasting again: everyone is already there, nothing is written.
    let again = collaborators::add_collaborators(&ctx, &app.bea, &t.id, paste, CopyKind::Bcc, None)
        .await
        .unwrap();
    assert!(again.added.is_empty());
    assert_eq!(again.already.len(), 4);
    assert_eq!(app.ticket(&t.id).await.version, stored.version);
    // Removing one.
    let bo = report.added[1].clone();
    let after = collaborators::remove_collaborator(&ctx, &app.bea, &t.id, &bo, None)
        .await
        .unwrap();
    assert_eq!(after.collaborators.len(), 1);
    assert_eq!(
        app.last_event(&t.id).await.event.as_deref(),
        Some(event::COLLABORATOR_REMOVED)
    );
    let gone = collaborators::remove_collaborator(&ctx, &app.bea, &t.id, &bo, None);
    assert!(matches!(gone.await, Err(ServiceError::NotFound(_))));
}

// ---------------------------------------------------------------------------
// Links and merges
// ---------------------------------------------------------------------------

#[tokio::test]
async fn linking_relates_both_tickets_and_unlinking_undoes_it() {
    let app = TestApp::new().await;
    let ctx = app.ctx();
    let (a, b) = (app.open(1).await, app.open(2).await);
    let linked = actions::link(&ctx, &app.admin, &a.id, &b.id, Some(a.version))
        .await
        .unwrap();
    assert_eq!(linked.links, vec![b.id.clone()]);
    assert_eq!(app.ticket(&b.id).await.links, vec![a.id.clone()]);
    assert_eq!(
        app.last_event(&a.id).await.event.as_deref(),
        Some(event::LINKED)
    );
    assert_eq!(app.last_event(&b.id).await.data["number"], a.number);
    // Bea has no access to department 2: its ticket is not found for her.
    let c = app.open(1).await;
    assert!(is_not_found(
        actions::link(&ctx, &app.bea, &c.id, &b.id, None).await
    ));
    let unlinked = actions::unlink(&ctx, &app.admin, &b.id, &a.id, None)
        .await
        .unwrap();
    assert!(unlinked.links.is_empty());
    assert!(app.ticket(&a.id).await.links.is_empty());
    assert_eq!(app.events(&a.id).await.len(), 2);
    let own = actions::link(&ctx, &app.admin, &a.id, &a.id, None);
    assert!(matches!(own.await, Err(ServiceError::Invalid { .. })));
}

/// Gives the ticket a thread of `n` events, a millisecond apart.
async fn grow_thread(app: &TestApp, id: &TicketId, n: i64) {
    for due in 0..n {
        app.clock.advance_ms(1);
        actions::set_due(&app.ctx(), &app.admin, id, Some(START_MS + due), None)
            .await
            .unwrap();
    }
}

fn sort_keys(entries: &[Entry]) -> Vec<(i64, String)> {
    entries
        .iter()
        .map(|e| (e.created_at, e.id.to_string()))
        .collect()
}

#[tokio::test]
async fn merging_moves_every_entry_and_running_it_again_changes_nothing() {
    let app = TestApp::new().await;
    let ctx = app.ctx();
    let (source, target) = (app.open(1).await, app.open(2).await);
    grow_thread(&app, &source.id, 130).await; // more than one page
    grow_thread(&app, &target.id, 3).await;
    let moved = app.thread(&source.id).await;
    let merged = merge::merge(&ctx, &app.admin, &source.id, &target.id, None)
        .await
        .unwrap();
    let src = app.ticket(&source.id).await;
    assert_eq!(src.merged_into, Some(target.id.clone()));
    assert_eq!(src.state, State::Closed);
    assert_eq!(
        app.last_event(&source.id).await.event.as_deref(),
        Some(event::MERGED_INTO)
    );
    let thread = app.thread(&target.id).await;
    // Both opening messages, both grown threads, the merge event.
    assert_eq!(thread.len(), 1 + 130 + 1 + 3 + 1);
    let keys = sort_keys(&thread);
    for entry in sort_keys(&moved) {
        assert!(keys.contains(&entry), "{entry:?} was not moved");
    }
    let last = thread.last().unwrap();
    assert_eq!(last.event.as_deref(), Some(event::MERGED_FROM));
    assert_eq!(last.data["number"], source.number);
    assert_eq!(app.ticket(&target.id).await, merged);
    // Again: nothing more.
    merge::merge(&ctx, &app.admin, &source.id, &target.id, None)
        .await
        .unwrap();
    assert_eq!(app.thread(&target.id).await, thread);
    // Into a third ticket: refused, it was merged already.
    let third = app.open(1).await;
    let elsewhere = merge::merge(&ctx, &app.admin, &source.id, &third.id, None);
    assert!(is_conflict(&elsewhere.await));
}

#[tokio::test]
async fn an_interrupted_merge_completes_when_run_again() {
    let app = TestApp::new().await;
    let ctx = app.ctx();
    let (source, target) = (app.open(1).await, app.open(1).await);
    grow_thread(&app, &source.id, 40).await;
    // A first run copied some entries, then stopped before marking the source.
    let target_pk = keys::ticket_pk(&app.instance, &target.id);
    let page = app
        .store
        .query(&Query::table(keys::ticket_pk(&app.instance, &source.id)).limit(15))
        .await
        .unwrap();
    for item in page.items.into_iter().filter(|i| i.sk().starts_with("E#")) {
        let mut copy = item.clone();
        copy.set("pk", target_pk.clone());
        app.store.put(copy, None).await.unwrap();
    }
    merge::merge(
        &ctx,
        &app.admin,
        &source.id,
        &target.id,
        Some(source.version + 40),
    )
    .await
    .unwrap();
    let thread = app.thread(&target.id).await;
    assert_eq!(
        thread.len(),
        2 + 40 + 1,
        "both opening messages and each event exactly once, plus the merge event"
    );
    let mut ids: Vec<_> = thread.iter().map(|e| e.id.clone()).collect();
    ids.dedup();
    assert_eq!(ids.len(), thread.len());
}

#[tokio::test]
async fn merging_needs_the_merge_permission_in_both_departments() {
    let app = TestApp::new().await;
    let ctx = app.ctx();
    let (source, target) = (app.open(1).await, app.open(2).await);
    // Bea may merge in department 1 but has no access to department 2:
    // the target is not found for her.
    assert!(is_not_found(
        merge::merge(&ctx, &app.bea, &source.id, &target.id, None).await
    ));
    // With role 2 "Limited access" in department 2 she sees the target but
    // may not merge there.
    let mut bea = agent(3, "Bea", DepartmentId(1), RoleId(1));
    bea.access = BTreeMap::from([(DepartmentId(2), RoleId(2))]);
    app.put_agent(&bea).await;
    let bea = app.actor(AgentId(3)).await;
    assert!(tickets::get(&ctx, &bea, &target.id).await.is_ok());
    assert!(is_forbidden(
        merge::merge(&ctx, &bea, &source.id, &target.id, None).await
    ));
    let into_itself = merge::merge(&ctx, &app.admin, &source.id, &source.id, None);
    assert!(matches!(
        into_itself.await,
        Err(ServiceError::Invalid { .. })
    ));
    assert_eq!(app.ticket(&source.id).await, source);
    assert_eq!(
        app.thread(&target.id).await.len(),
        1,
        "its opening message only"
    );
}
