//! The permission matrix: every ticket action and every task action
//! against every kind of actor, at the service level, on the demo instance.
//!
//! Each ticket cell runs on fresh tickets (`T`, opened in department 1 "IT
//! Support" by the user Ana with Carla copied, and `T2` beside it for merge
//! and link); each task cell on a fresh task `K` in department 1. So the
//! cells do not depend on each other.
//!
//! A cell's expected outcome is `ok` or an error code, and the matrix holds
//! the code of every cell exactly. Beyond the code, every cell is checked
//! against what it claims:
//!
//! - `not_found` (hidden): the actor may not see the object (reading it
//!   is `not_found` too), and the same action on an object that does not
//!   exist fails with the very same error, message included (with the id
//!   swapped): nothing tells a hidden object from a missing one;
//! - `forbidden`: the actor does see the object (reading it succeeds, both
//!   tickets for merge and link): a refusal that reveals only what the
//!   actor may read anyway;
//! - any refusal leaves the database exactly as it was (the objects' items
//!   and the number of items in the whole database);
//! - `ok` changed something (except reads and opening/creating elsewhere,
//!   which add items).
//!
//! The actors:
//!
//! | column | who |
//! | --- | --- |
//! | `All` | agent 2, role 1 "All access" in department 1, not admin |
//! | `Limited` | agent 3, role 2 "Limited access" in department 1 |
//! | `NoAccess` | agent 4, role 1 in department 2 only |
//! | `Admin` | the demo admin, agent 1 |
//! | `ApiCreate` | an API key with only `ticket.create` |
//! | `Owner` | the user who opened the ticket |
//! | `OtherAdmin` | the admin of another instance, in its own instance |
//!
//! The other instance's admin holds a token of its own instance only: a
//! token presented to the demo's API is refused before any service runs
//! (checked in [`another_instances_admin_is_not_an_agent_of_the_demo`]).
//! What it can do is name the demo's tickets and tasks through its own
//! instance, which is what its column runs: every service call in its
//! instance's context, on the demo's ids. Opening a ticket or creating a
//! task there is its right (it lands in its own instance).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use taquilla_core::clock::ManualClock;
use taquilla_core::domain::{
    AgentId, CopyKind, DepartmentId, InstanceId, Language, Permission, PriorityId, RoleId, Source,
    State, StatusId, Task, TaskId, Team, TeamId, Ticket, TicketId, TopicId, UserId,
};
use taquilla_core::keys;
use taquilla_core::secrets::{MasterKey, Purpose, SecretKey};
use taquilla_core::services::admin::agents::{self, NewAgent};
use taquilla_core::services::provision::{self, Blueprint};
use taquilla_core::services::tasks::{self, NewTask, TaskChanges};
use taquilla_core::services::tickets::actions::{self, Assignee};
use taquilla_core::services::tickets::{
    self, Body, NewNote, NewResponse, OpenTicket, collaborators, locks, merge,
};
use taquilla_core::services::{Actor, Ctx, ServiceError, agents_access, tokens, users};
use taquilla_core::store::{Item, ItemStore, codec};
use taquilla_local::{FsBlobs, SqliteStore};

const START_MS: i64 = 1_800_000_000_000;
/// Agent 2: "All access" in department 1.
const ALL: AgentId = AgentId(2);
/// Agent 3: "Limited access" in department 1.
const LIMITED: AgentId = AgentId(3);
/// Agent 4: "All access" in department 2 only.
const NO_ACCESS: AgentId = AgentId(4);
/// A team of the demo instance, with no members.
const TEAM: TeamId = TeamId(1);

/// The ticket actions of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// An agent (or key, or user) opens a ticket for Ana in department 1.
    Open,
    Respond,
    Note,
    /// To agent 2.
    Assign,
    Claim,
    /// Of a ticket assigned to agent 2.
    Release,
    /// To department 2.
    Transfer,
    /// To "Archived" (status 4).
    SetStatus,
    Close,
    /// Of a closed ticket.
    Reopen,
    SetPriority,
    SetTopic,
    SetDue,
    AddCollaborators,
    /// Carla, copied when the ticket was opened.
    RemoveCollaborator,
    /// `T` into `T2`.
    Merge,
    /// `T` with `T2`.
    Link,
    Delete,
    Lock,
    /// Of a ticket the admin holds the lock of (an administrator may release it).
    Unlock,
}

/// The task actions of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TaskAction {
    /// A task in department 1.
    Create,
    Read,
    Thread,
    /// A new title.
    Edit,
    /// To agent 2.
    Assign,
    /// To the team.
    SetTeam,
    /// Of a task assigned to agent 2.
    Release,
    Close,
    /// Of a closed task.
    Reopen,
    Note,
    Delete,
}

/// The actors of the matrix (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    All,
    Limited,
    NoAccess,
    Admin,
    ApiCreate,
    Owner,
    OtherAdmin,
}

const WHO: [Who; 7] = [
    Who::All,
    Who::Limited,
    Who::NoAccess,
    Who::Admin,
    Who::ApiCreate,
    Who::Owner,
    Who::OtherAdmin,
];

const OK: &str = "ok";
const NO: &str = "forbidden";
const HIDDEN: &str = "not_found";

/// The expected outcome of each ticket action for each actor, in the order
/// of [`WHO`]: `ok`, or the error code.
///
/// Notes:
/// - `NoAccess` does not see department 1's tickets: `not_found` for every
///   action on one; opening one there is `forbidden` (there is no ticket
///   yet to hide);
/// - a key with `ticket.create` sees tickets (it is a ticket integration)
///   but may do nothing to them; the owner sees its ticket but is no agent;
/// - claiming an unassigned ticket needs only access to its department;
/// - delete is for administrators only, whatever the role says.
const MATRIX: [(Action, [&str; 7]); 20] = [
    //                        All  Limited NoAccess Admin ApiCreate Owner OtherAdmin
    (Action::Open, [OK, OK, NO, OK, OK, OK, OK]),
    (Action::Respond, [OK, OK, HIDDEN, OK, NO, NO, HIDDEN]),
    (Action::Note, [OK, OK, HIDDEN, OK, NO, NO, HIDDEN]),
    (Action::Assign, [OK, NO, HIDDEN, OK, NO, NO, HIDDEN]),
    (Action::Claim, [OK, OK, HIDDEN, OK, NO, NO, HIDDEN]),
    (Action::Release, [OK, NO, HIDDEN, OK, NO, NO, HIDDEN]),
    (Action::Transfer, [OK, NO, HIDDEN, OK, NO, NO, HIDDEN]),
    (Action::SetStatus, [OK, NO, HIDDEN, OK, NO, NO, HIDDEN]),
    (Action::Close, [OK, OK, HIDDEN, OK, NO, NO, HIDDEN]),
    (Action::Reopen, [OK, NO, HIDDEN, OK, NO, NO, HIDDEN]),
    (Action::SetPriority, [OK, NO, HIDDEN, OK, NO, NO, HIDDEN]),
    (Action::SetTopic, [OK, NO, HIDDEN, OK, NO, NO, HIDDEN]),
    (Action::SetDue, [OK, NO, HIDDEN, OK, NO, NO, HIDDEN]),
    (
        Action::AddCollaborators,
        [OK, NO, HIDDEN, OK, NO, NO, HIDDEN],
    ),
    (
        Action::RemoveCollaborator,
        [OK, NO, HIDDEN, OK, NO, NO, HIDDEN],
    ),
    (Action::Merge, [OK, NO, HIDDEN, OK, NO, NO, HIDDEN]),
    (Action::Link, [OK, NO, HIDDEN, OK, NO, NO, HIDDEN]),
    (Action::Delete, [NO, NO, HIDDEN, OK, NO, NO, HIDDEN]),
    (Action::Lock, [OK, OK, HIDDEN, OK, NO, NO, HIDDEN]),
    (Action::Unlock, [LOCKED, LOCKED, HIDDEN, OK, NO, NO, HIDDEN]),
];

/// Releasing another agent's collision lock: refused to anyone but an
/// administrator, naming the holder.
const LOCKED: &str = "ticket_locked";

/// The expected outcome of each task action for each actor, in the order
/// of [`WHO`].
///
/// Notes:
/// - tasks are internal: users never see one, nor does a key without a
///   `task.*` permission, so for them every action on a task is
///   `not_found` and creating one `forbidden`;
/// - role 2 "Limited access" holds `task.create` only: it sees its
///   department's tasks, reads them and writes notes, and is refused the
///   rest.
const TASK_MATRIX: [(TaskAction, [&str; 7]); 11] = [
    //                            All  Limited NoAccess Admin ApiCreate Owner OtherAdmin
    (TaskAction::Create, [OK, OK, NO, OK, NO, NO, OK]),
    (
        TaskAction::Read,
        [OK, OK, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN],
    ),
    (
        TaskAction::Thread,
        [OK, OK, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN],
    ),
    (
        TaskAction::Edit,
        [OK, NO, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN],
    ),
    (
        TaskAction::Assign,
        [OK, NO, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN],
    ),
    (
        TaskAction::SetTeam,
        [OK, NO, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN],
    ),
    (
        TaskAction::Release,
        [OK, NO, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN],
    ),
    (
        TaskAction::Close,
        [OK, NO, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN],
    ),
    (
        TaskAction::Reopen,
        [OK, NO, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN],
    ),
    (
        TaskAction::Note,
        [OK, OK, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN],
    ),
    (
        TaskAction::Delete,
        [OK, NO, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN],
    ),
];

struct App {
    store: Arc<SqliteStore>,
    blobs: FsBlobs,
    clock: Arc<ManualClock>,
    demo: InstanceId,
    other: InstanceId,
    token_key: SecretKey,
    dir: tempfile::TempDir,
}

impl App {
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
        let other = Blueprint {
            id: InstanceId::parse("other").unwrap(),
            name: "Other College".into(),
            language: Language::En,
            timezone: "Europe/Madrid".into(),
            ticket_number_format: "######".into(),
            departments: vec!["Helpdesk".into()],
            topics: vec![("General".into(), 0, true)],
            admin_name: "Other Admin".into(),
            admin_email: "boss@other.test".into(),
            mail: taquilla_core::domain::MailSettings::default(),
        };
        provision::provision(store.as_ref(), clock.as_ref(), &other)
            .await
            .unwrap();
        let app = Self {
            store,
            blobs,
            clock,
            demo: InstanceId::parse("demo").unwrap(),
            other: other.id,
            token_key: MasterKey::from_hex(&"00".repeat(32))
                .unwrap()
                .derive(Purpose::AgentTokens),
            dir,
        };
        let admin = app.agent(AgentId(1)).await;
        for (id, name, department, role) in [
            (ALL, "All", DepartmentId(1), RoleId(1)),
            (LIMITED, "Limited", DepartmentId(1), RoleId(2)),
            (NO_ACCESS, "Elsewhere", DepartmentId(2), RoleId(1)),
        ] {
            let made = agents::create(
                app.ctx(),
                &admin,
                NewAgent {
                    name: name.into(),
                    email: format!("{}@staff.demo.test", name.to_lowercase()),
                    department,
                    role,
                    admin: false,
                    access: BTreeMap::new(),
                },
            )
            .await
            .unwrap();
            assert_eq!(made.agent.record.id, id, "agents are numbered in order");
        }
        let team = Team {
            id: TEAM,
            name: "Field".into(),
            lead: None,
            members: Vec::new(),
        };
        let key = keys::object(&app.demo, TeamId::KIND, TEAM.0);
        app.store
            .put(codec::encode(key, &team).unwrap(), None)
            .await
            .unwrap();
        app
    }

    fn ctx(&self) -> Ctx<'_> {
        self.ctx_of(&self.demo)
    }

    fn ctx_of<'a>(&'a self, instance: &'a InstanceId) -> Ctx<'a> {
        Ctx {
            store: self.store.as_ref(),
            blobs: &self.blobs,
            clock: self.clock.as_ref(),
            instance,
        }
    }

    /// A demo agent, resolved as an API request resolves it.
    async fn agent(&self, id: AgentId) -> Actor {
        Actor::Agent(
            agents_access::load_agent_access(&self.ctx(), id)
                .await
                .unwrap(),
        )
    }

    async fn owner(&self) -> UserId {
        users::find_or_create(&self.ctx(), "Ana Pons", "ana@uni.edu")
            .await
            .unwrap()
            .id
    }

    /// The context a column acts in: the demo, or the other instance for
    /// the other instance's admin.
    fn ctx_for(&self, who: Who) -> Ctx<'_> {
        match who {
            Who::OtherAdmin => self.ctx_of(&self.other),
            _ => self.ctx(),
        }
    }

    /// The actor of a column, resolved as an API request of its own
    /// instance resolves it.
    async fn actor(&self, who: Who) -> Actor {
        match who {
            Who::All => self.agent(ALL).await,
            Who::Limited => self.agent(LIMITED).await,
            Who::NoAccess => self.agent(NO_ACCESS).await,
            Who::Admin => self.agent(AgentId(1)).await,
            Who::ApiCreate => Actor::ApiKey {
                key_id: "create-only".into(),
                permissions: BTreeSet::from([Permission::TicketCreate]),
            },
            Who::Owner => Actor::User(self.owner().await),
            Who::OtherAdmin => {
                let access =
                    agents_access::load_agent_access(&self.ctx_of(&self.other), AgentId(1))
                        .await
                        .unwrap();
                assert!(access.agent.admin);
                Actor::Agent(access)
            }
        }
    }

    /// Every item in the database (straight from SQLite).
    fn count_items(&self) -> i64 {
        let db = rusqlite::Connection::open(self.dir.path().join("t.db")).unwrap();
        db.query_row("SELECT count(*) FROM items", [], |row| row.get(0))
            .unwrap()
    }

    async fn stored(&self, id: &TicketId) -> Item {
        self.store
            .get(&keys::ticket(&self.demo, id))
            .await
            .unwrap()
            .unwrap()
    }

    async fn stored_task(&self, id: &TaskId) -> Option<Item> {
        self.store.get(&keys::task(&self.demo, id)).await.unwrap()
    }
}

fn request(subject: &str) -> OpenTicket {
    OpenTicket {
        name: "Ana Pons".into(),
        email: "ana@uni.edu".into(),
        phone: None,
        subject: subject.into(),
        body: Body::Text("The printer on floor 2 is out of toner.".into()),
        topic: Some(TopicId(1)),
        department: None,
        priority: None,
        source: Source::Phone,
        fields: BTreeMap::new(),
        attachments: Vec::new(),
        collaborators: vec!["carla@uni.edu".into()],
        autorespond: false,
        alert: false,
        ip: None,
    }
}

async fn open_for_ana(ctx: &Ctx<'_>, actor: &Actor, subject: &str) -> Result<Ticket, ServiceError> {
    tickets::open(ctx, actor, request(subject)).await
}

fn body(text: &str) -> Body {
    Body::Text(text.into())
}

/// `ok`, or the code of the error.
fn code_of(outcome: &Result<(), ServiceError>) -> String {
    match outcome {
        Ok(()) => OK.to_owned(),
        Err(e) => e.code().to_owned(),
    }
}

/// Whether two refusals are the same but for the object's id: what an
/// object the actor may not see and one that does not exist must share.
fn same_refusal(
    hidden: &Result<(), ServiceError>,
    missing: &Result<(), ServiceError>,
    ids: (&str, &str),
) -> bool {
    match (hidden, missing) {
        (Err(h), Err(m)) => {
            h.code() == m.code() && h.to_string() == m.to_string().replace(ids.1, ids.0)
        }
        _ => false,
    }
}

/// Compares one cell's outcome with the matrix; every mismatch is pushed
/// to `problems` (see the module docs for what each outcome must satisfy).
struct Cell<'a> {
    what: String,
    expected: &'a str,
    problems: &'a mut Vec<String>,
}

impl Cell<'_> {
    fn check(&mut self, ok: bool, why: &str) {
        if !ok {
            self.problems.push(format!("{}: {why}", self.what));
        }
    }
}

// ---------------------------------------------------------------------------
// Tickets
// ---------------------------------------------------------------------------

/// Prepares `T` (and `T2`) for `action`, as the system.
async fn setup(app: &App, action: Action) -> (Ticket, Ticket) {
    let system = Actor::System("test setup".into());
    let ctx = app.ctx();
    let t = open_for_ana(&ctx, &system, "Printer").await.unwrap();
    let t2 = open_for_ana(&ctx, &system, "Printer again").await.unwrap();
    match action {
        Action::Release => {
            actions::assign(&ctx, &system, &t.id, Assignee::Agent(ALL), None)
                .await
                .unwrap();
        }
        Action::Reopen => {
            actions::close(&ctx, &system, &t.id, None).await.unwrap();
        }
        Action::Unlock => {
            locks::lock(&ctx, &app.agent(AgentId(1)).await, &t.id)
                .await
                .unwrap();
        }
        _ => {}
    }
    let t = tickets::get(&ctx, &system, &t.id).await.unwrap();
    (t, t2)
}

/// `action` by `actor` in `ctx` on `t` (and `t2`).
async fn run(
    ctx: &Ctx<'_>,
    actor: &Actor,
    action: Action,
    t: &Ticket,
    t2: &Ticket,
) -> Result<(), ServiceError> {
    let id = &t.id;
    match action {
        Action::Open => open_for_ana(ctx, actor, "Toner").await.map(drop),
        Action::Respond => tickets::respond(
            ctx,
            actor,
            id,
            NewResponse {
                body: body("On its way."),
                attachments: Vec::new(),
                status: None,
            },
        )
        .await
        .map(drop),
        Action::Note => tickets::note(
            ctx,
            actor,
            id,
            NewNote {
                body: body("Ordered."),
                attachments: Vec::new(),
            },
        )
        .await
        .map(drop),
        Action::Assign => actions::assign(ctx, actor, id, Assignee::Agent(ALL), None)
            .await
            .map(drop),
        Action::Claim => actions::claim(ctx, actor, id, None).await.map(drop),
        Action::Release => actions::release(ctx, actor, id, None).await.map(drop),
        Action::Transfer => actions::transfer(ctx, actor, id, DepartmentId(2), None)
            .await
            .map(drop),
        Action::SetStatus => actions::set_status(ctx, actor, id, StatusId(4), None)
            .await
            .map(drop),
        Action::Close => actions::close(ctx, actor, id, None).await.map(drop),
        Action::Reopen => actions::reopen(ctx, actor, id, None).await.map(drop),
        Action::SetPriority => actions::set_priority(ctx, actor, id, PriorityId(1), None)
            .await
            .map(drop),
        Action::SetTopic => actions::set_topic(ctx, actor, id, Some(TopicId(2)), None)
            .await
            .map(drop),
        Action::SetDue => actions::set_due(ctx, actor, id, Some(START_MS + 86_400_000), None)
            .await
            .map(drop),
        Action::AddCollaborators => collaborators::add_collaborators(
            ctx,
            actor,
            id,
            "dani@uni.edu, Eva <eva@uni.edu>",
            CopyKind::Cc,
            None,
        )
        .await
        .map(drop),
        Action::RemoveCollaborator => {
            let carla = t.collaborators[0].user.clone();
            collaborators::remove_collaborator(ctx, actor, id, &carla, None)
                .await
                .map(drop)
        }
        Action::Merge => merge::merge(ctx, actor, id, &t2.id, None).await.map(drop),
        Action::Link => actions::link(ctx, actor, id, &t2.id, None).await.map(drop),
        Action::Delete => actions::delete(ctx, actor, id, None).await.map(drop),
        Action::Lock => locks::lock(ctx, actor, id).await.map(drop),
        Action::Unlock => locks::unlock(ctx, actor, id).await,
    }
}

#[tokio::test]
async fn every_ticket_action_against_every_actor() {
    let app = App::new().await;
    let mut problems = Vec::new();
    let (mut cells, mut hidden, mut forbidden) = (0, 0, 0);
    for (action, row) in MATRIX {
        for (who, expected) in WHO.into_iter().zip(row) {
            let (t, t2) = setup(&app, action).await;
            let ctx = app.ctx_for(who);
            let actor = app.actor(who).await;
            let (before, before2, items) = (
                app.stored(&t.id).await,
                app.stored(&t2.id).await,
                app.count_items(),
            );
            let outcome = run(&ctx, &actor, action, &t, &t2).await;
            let got = code_of(&outcome);
            let mut cell = Cell {
                what: format!("{action:?} by {who:?}"),
                expected,
                problems: &mut problems,
            };
            cells += 1;
            cell.check(
                got == cell.expected,
                &format!("expected {expected}, got {got} ({outcome:?})"),
            );
            let sees = |ticket: &Ticket| {
                let (ctx, actor, id) = (&ctx, &actor, ticket.id.clone());
                async move { tickets::get(ctx, actor, &id).await.is_ok() }
            };
            if got == OK {
                let changed = app.stored(&t.id).await != before || app.count_items() != items;
                cell.check(changed, "allowed but wrote nothing");
            } else {
                let unchanged = app.stored(&t.id).await == before
                    && app.stored(&t2.id).await == before2
                    && app.count_items() == items;
                cell.check(unchanged, "refused but wrote");
            }
            if action == Action::Open {
                continue;
            }
            if got == HIDDEN {
                hidden += 1;
                cell.check(!sees(&t).await, "not_found, yet the actor reads the ticket");
                let mut ghost = t.clone();
                ghost.id = TicketId::generate();
                let missing = run(&ctx, &actor, action, &ghost, &t2).await;
                let ids = (t.id.to_string(), ghost.id.to_string());
                cell.check(
                    same_refusal(&outcome, &missing, (&ids.0, &ids.1)),
                    &format!("a hidden ticket answers {outcome:?}, a missing one {missing:?}"),
                );
            } else if got != OK {
                forbidden += usize::from(got == NO);
                let both = sees(&t).await
                    && (!matches!(action, Action::Merge | Action::Link) || sees(&t2).await);
                cell.check(
                    both,
                    "refused with a code other than not_found on a ticket the actor does not see",
                );
            }
        }
    }
    assert_eq!(cells, MATRIX.len() * WHO.len());
    assert!(
        hidden > 0 && forbidden > 0,
        "the matrix tells hidden from forbidden"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------
// Tasks
// ---------------------------------------------------------------------------

/// Prepares `K` for `action`, as the system.
async fn setup_task(app: &App, action: TaskAction) -> Task {
    let system = Actor::System("test setup".into());
    let ctx = app.ctx();
    let k = tasks::create(&ctx, &system, new_task("Replace the projector"))
        .await
        .unwrap();
    match action {
        TaskAction::Release => {
            let changes = TaskChanges {
                version: k.version,
                assignee: Some(Some(ALL)),
                ..TaskChanges::default()
            };
            tasks::update(&ctx, &system, &k.id, changes).await.unwrap()
        }
        TaskAction::Reopen => tasks::close(&ctx, &system, &k.id, None).await.unwrap(),
        _ => k,
    }
}

fn new_task(title: &str) -> NewTask {
    NewTask {
        title: title.into(),
        description: None,
        department: DepartmentId(1),
        assignee: None,
        team: None,
        due_at: None,
        ticket: None,
    }
}

/// `action` by `actor` in `ctx` on `k`.
async fn run_task(
    ctx: &Ctx<'_>,
    actor: &Actor,
    action: TaskAction,
    k: &Task,
) -> Result<(), ServiceError> {
    let id = &k.id;
    let change = |changes: TaskChanges| TaskChanges {
        version: k.version,
        ..changes
    };
    match action {
        TaskAction::Create => tasks::create(ctx, actor, new_task("Call the supplier"))
            .await
            .map(drop),
        TaskAction::Read => tasks::get(ctx, actor, id).await.map(drop),
        TaskAction::Thread => tasks::thread(ctx, actor, id, None, 50).await.map(drop),
        TaskAction::Edit => {
            let changes = change(TaskChanges {
                title: Some("Replace both projectors".into()),
                ..TaskChanges::default()
            });
            tasks::update(ctx, actor, id, changes).await.map(drop)
        }
        TaskAction::Assign => {
            let changes = change(TaskChanges {
                assignee: Some(Some(ALL)),
                ..TaskChanges::default()
            });
            tasks::update(ctx, actor, id, changes).await.map(drop)
        }
        TaskAction::SetTeam => {
            let changes = change(TaskChanges {
                team: Some(Some(TEAM)),
                ..TaskChanges::default()
            });
            tasks::update(ctx, actor, id, changes).await.map(drop)
        }
        TaskAction::Release => {
            let changes = change(TaskChanges {
                assignee: Some(None),
                ..TaskChanges::default()
            });
            tasks::update(ctx, actor, id, changes).await.map(drop)
        }
        TaskAction::Close => tasks::close(ctx, actor, id, None).await.map(drop),
        TaskAction::Reopen => tasks::reopen(ctx, actor, id, None).await.map(drop),
        TaskAction::Note => tasks::note(ctx, actor, id, &body("Ordered."))
            .await
            .map(drop),
        TaskAction::Delete => tasks::delete(ctx, actor, id, None).await,
    }
}

#[tokio::test]
async fn every_task_action_against_every_actor() {
    let app = App::new().await;
    let mut problems = Vec::new();
    let (mut cells, mut hidden, mut forbidden) = (0, 0, 0);
    for (action, row) in TASK_MATRIX {
        for (who, expected) in WHO.into_iter().zip(row) {
            let k = setup_task(&app, action).await;
            let ctx = app.ctx_for(who);
            let actor = app.actor(who).await;
            let (before, items) = (app.stored_task(&k.id).await, app.count_items());
            let outcome = run_task(&ctx, &actor, action, &k).await;
            let got = code_of(&outcome);
            let mut cell = Cell {
                what: format!("task {action:?} by {who:?}"),
                expected,
                problems: &mut problems,
            };
            cells += 1;
            cell.check(
                got == cell.expected,
                &format!("expected {expected}, got {got} ({outcome:?})"),
            );
            let writes = !matches!(action, TaskAction::Read | TaskAction::Thread);
            if got == OK && writes {
                let changed = app.stored_task(&k.id).await != before || app.count_items() != items;
                cell.check(changed, "allowed but wrote nothing");
            } else if got != OK {
                let unchanged =
                    app.stored_task(&k.id).await == before && app.count_items() == items;
                cell.check(unchanged, "refused but wrote");
            }
            if action == TaskAction::Create {
                continue;
            }
            let sees = tasks::get(&ctx, &actor, &k.id).await.is_ok();
            if got == HIDDEN {
                hidden += 1;
                cell.check(!sees, "not_found, yet the actor reads the task");
                let mut ghost = k.clone();
                ghost.id = TaskId::generate();
                let missing = run_task(&ctx, &actor, action, &ghost).await;
                let ids = (k.id.to_string(), ghost.id.to_string());
                cell.check(
                    same_refusal(&outcome, &missing, (&ids.0, &ids.1)),
                    &format!("a hidden task answers {outcome:?}, a missing one {missing:?}"),
                );
            } else if got != OK {
                forbidden += usize::from(got == NO);
                cell.check(
                    sees,
                    "refused with a code other than not_found on a task the actor does not see",
                );
            }
        }
    }
    assert_eq!(cells, TASK_MATRIX.len() * WHO.len());
    assert!(
        hidden > 0 && forbidden > 0,
        "the matrix tells hidden from forbidden"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn another_instances_admin_is_not_an_agent_of_the_demo() {
    let app = App::new().await;
    let other_ctx = app.ctx_of(&app.other);
    let other_admin = agents_access::load_agent_access(&other_ctx, AgentId(1))
        .await
        .unwrap();
    assert_eq!(other_admin.agent.email, "boss@other.test");
    assert!(other_admin.agent.admin);

    // Its token, presented to the demo, is refused.
    let token = tokens::issue(
        &app.token_key,
        &app.other,
        AgentId(1),
        None,
        START_MS / 1000,
        3600,
    )
    .unwrap();
    let refused = tokens::verify(&app.token_key, &app.demo, &token, START_MS / 1000).unwrap_err();
    assert_eq!(refused.code(), "invalid_token");

    // Its id, resolved on the demo, names the demo's own agent, never it.
    match agents_access::load_agent_access(&app.ctx(), AgentId(1)).await {
        Ok(access) => {
            assert_ne!(access.agent.email, other_admin.agent.email);
            assert_eq!(access.agent.email, "admin@demo.taquilla.test");
        }
        Err(e) => assert_eq!(e.code(), "not_found"),
    }

    // Agents of the other instance, resolved on the demo by their ids, are
    // either someone else (ids are per instance) or not found at all.
    let mut last = None;
    for n in 0..4 {
        let email = format!("far{n}@other.test");
        let made = agents::create(
            other_ctx,
            &Actor::Agent(other_admin.clone()),
            NewAgent {
                name: format!("Far {n}"),
                email: email.clone(),
                department: DepartmentId(1),
                role: RoleId(1),
                admin: true,
                access: BTreeMap::new(),
            },
        )
        .await
        .unwrap();
        let id = made.agent.record.id;
        match agents_access::load_agent_access(&app.ctx(), id).await {
            Ok(access) => {
                assert_ne!(access.agent.email, email);
                assert!(!access.agent.admin, "{id:?} is a demo agent, not an admin");
            }
            Err(e) => assert_eq!(e.code(), "not_found"),
        }
        last = Some(id);
    }
    // Agent 5 exists only in the other instance.
    let missing = agents_access::load_agent_access(&app.ctx(), last.unwrap())
        .await
        .unwrap_err();
    assert_eq!(missing.code(), "not_found");

    // And the demo's tickets are not in the other instance's reach.
    let system = Actor::System("test setup".into());
    let t = open_for_ana(&app.ctx(), &system, "Printer").await.unwrap();
    let before = app.stored(&t.id).await;
    let other_admin = agents_access::load_agent_access(&app.ctx_of(&app.other), AgentId(1))
        .await
        .unwrap();
    let through_other = actions::close(&other_ctx, &Actor::Agent(other_admin), &t.id, None)
        .await
        .unwrap_err();
    assert_eq!(through_other.code(), "not_found");
    assert_eq!(app.stored(&t.id).await, before);
    assert_eq!(
        tickets::get(&app.ctx(), &system, &t.id)
            .await
            .unwrap()
            .state,
        State::Open
    );
}
