//! The permission matrix: every ticket action against every kind of actor,
//! at the service level, on the demo instance.
//!
//! Each cell runs on fresh tickets (`T`, opened in department 1 "IT
//! Support" by the user Ana with Carla copied, and `T2` beside it for merge
//! and link), so the cells do not depend on each other. A refused cell must
//! leave the store exactly as it was: both tickets' items and the number of
//! items in the database are compared before and after.
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
//! | `OtherAdmin` | the admin of another instance, through the path an API request takes |
//!
//! The other instance's admin reaches the demo instance only through an
//! agent token: verified for the instance in the URL (the demo), it is
//! refused before any service runs, so every cell of that column is the
//! refusal of authentication (`invalid_token`). The id resolution itself is
//! checked separately: the same agent id on the demo names a different agent.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use taquilla_core::clock::ManualClock;
use taquilla_core::domain::{
    AgentId, CopyKind, DepartmentId, InstanceId, Language, Permission, PriorityId, RoleId, Source,
    State, StatusId, Ticket, TicketId, TopicId, UserId,
};
use taquilla_core::keys;
use taquilla_core::secrets::{MasterKey, Purpose, SecretKey};
use taquilla_core::services::admin::agents::{self, NewAgent};
use taquilla_core::services::provision::{self, Blueprint};
use taquilla_core::services::tickets::actions::{self, Assignee};
use taquilla_core::services::tickets::{
    self, Body, NewNote, NewResponse, OpenTicket, collaborators, locks, merge,
};
use taquilla_core::services::{Actor, Ctx, ServiceError, agents_access, tokens, users};
use taquilla_core::store::{Item, ItemStore};
use taquilla_local::{FsBlobs, SqliteStore};

const START_MS: i64 = 1_800_000_000_000;
/// Agent 2: "All access" in department 1.
const ALL: AgentId = AgentId(2);
/// Agent 3: "Limited access" in department 1.
const LIMITED: AgentId = AgentId(3);
/// Agent 4: "All access" in department 2 only.
const NO_ACCESS: AgentId = AgentId(4);

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
const TOKEN: &str = "invalid_token";

/// The expected outcome of each action for each actor, in the order of
/// [`WHO`]: `ok`, or the error code.
///
/// Notes:
/// - `NoAccess` gets `not_found` where the service loads the ticket as
///   "visible to the actor" (respond, note) and `forbidden` where it checks
///   the permission on the ticket's department directly;
/// - a key with `ticket.create` sees tickets (it is a ticket integration)
///   but may do nothing to them;
/// - claiming an unassigned ticket needs only access to its department;
/// - delete is for administrators only, whatever the role says.
const MATRIX: [(Action, [&str; 7]); 19] = [
    //                        All  Limited NoAccess Admin ApiCreate Owner OtherAdmin
    (Action::Open, [OK, OK, NO, OK, OK, OK, TOKEN]),
    (Action::Respond, [OK, OK, HIDDEN, OK, NO, NO, TOKEN]),
    (Action::Note, [OK, OK, HIDDEN, OK, NO, NO, TOKEN]),
    (Action::Assign, [OK, NO, NO, OK, NO, NO, TOKEN]),
    (Action::Claim, [OK, OK, NO, OK, NO, NO, TOKEN]),
    (Action::Release, [OK, NO, NO, OK, NO, NO, TOKEN]),
    (Action::Transfer, [OK, NO, NO, OK, NO, NO, TOKEN]),
    (Action::SetStatus, [OK, NO, NO, OK, NO, NO, TOKEN]),
    (Action::Close, [OK, OK, NO, OK, NO, NO, TOKEN]),
    (Action::Reopen, [OK, NO, NO, OK, NO, NO, TOKEN]),
    (Action::SetPriority, [OK, NO, NO, OK, NO, NO, TOKEN]),
    (Action::SetTopic, [OK, NO, NO, OK, NO, NO, TOKEN]),
    (Action::SetDue, [OK, NO, NO, OK, NO, NO, TOKEN]),
    (Action::AddCollaborators, [OK, NO, NO, OK, NO, NO, TOKEN]),
    (Action::RemoveCollaborator, [OK, NO, NO, OK, NO, NO, TOKEN]),
    (Action::Merge, [OK, NO, NO, OK, NO, NO, TOKEN]),
    (Action::Link, [OK, NO, NO, OK, NO, NO, TOKEN]),
    (Action::Delete, [NO, NO, NO, OK, NO, NO, TOKEN]),
    (Action::Lock, [OK, OK, NO, OK, NO, NO, TOKEN]),
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

    /// The actor of a column; `Err` when the request would be refused
    /// before any service runs (authentication).
    async fn actor(&self, who: Who) -> Result<Actor, ServiceError> {
        Ok(match who {
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
                // The other instance's admin holds a valid token of its own
                // instance and presents it to the demo's API.
                let token = tokens::issue(
                    &self.token_key,
                    &self.other,
                    AgentId(1),
                    None,
                    START_MS / 1000,
                    3600,
                )?;
                let verified =
                    tokens::verify(&self.token_key, &self.demo, &token, START_MS / 1000)?;
                self.agent(verified.agent).await
            }
        })
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

    async fn open_for_ana(&self, actor: &Actor, subject: &str) -> Result<Ticket, ServiceError> {
        tickets::open(&self.ctx(), actor, request(subject)).await
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

fn body(text: &str) -> Body {
    Body::Text(text.into())
}

/// Prepares `T` (and `T2`) for `action`, as the system.
async fn setup(app: &App, action: Action) -> (Ticket, Ticket) {
    let system = Actor::System("test setup".into());
    let t = app.open_for_ana(&system, "Printer").await.unwrap();
    let t2 = app.open_for_ana(&system, "Printer again").await.unwrap();
    let ctx = app.ctx();
    match action {
        Action::Release => {
            actions::assign(&ctx, &system, &t.id, Assignee::Agent(ALL), None)
                .await
                .unwrap();
        }
        Action::Reopen => {
            actions::close(&ctx, &system, &t.id, None).await.unwrap();
        }
        _ => {}
    }
    let t = tickets::get(&ctx, &system, &t.id).await.unwrap();
    (t, t2)
}

/// The outcome of `action` by `actor` on `t` (and `t2`): `ok` or the code.
async fn run(app: &App, actor: &Actor, action: Action, t: &Ticket, t2: &Ticket) -> String {
    let ctx = app.ctx();
    let id = &t.id;
    let outcome: Result<(), ServiceError> = match action {
        Action::Open => app.open_for_ana(actor, "Toner").await.map(drop),
        Action::Respond => tickets::respond(
            &ctx,
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
            &ctx,
            actor,
            id,
            NewNote {
                body: body("Ordered."),
                attachments: Vec::new(),
            },
        )
        .await
        .map(drop),
        Action::Assign => actions::assign(&ctx, actor, id, Assignee::Agent(ALL), None)
            .await
            .map(drop),
        Action::Claim => actions::claim(&ctx, actor, id, None).await.map(drop),
        Action::Release => actions::release(&ctx, actor, id, None).await.map(drop),
        Action::Transfer => actions::transfer(&ctx, actor, id, DepartmentId(2), None)
            .await
            .map(drop),
        Action::SetStatus => actions::set_status(&ctx, actor, id, StatusId(4), None)
            .await
            .map(drop),
        Action::Close => actions::close(&ctx, actor, id, None).await.map(drop),
        Action::Reopen => actions::reopen(&ctx, actor, id, None).await.map(drop),
        Action::SetPriority => actions::set_priority(&ctx, actor, id, PriorityId(1), None)
            .await
            .map(drop),
        Action::SetTopic => actions::set_topic(&ctx, actor, id, Some(TopicId(2)), None)
            .await
            .map(drop),
        Action::SetDue => actions::set_due(&ctx, actor, id, Some(START_MS + 86_400_000), None)
            .await
            .map(drop),
        Action::AddCollaborators => collaborators::add_collaborators(
            &ctx,
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
            collaborators::remove_collaborator(&ctx, actor, id, &carla, None)
                .await
                .map(drop)
        }
        Action::Merge => merge::merge(&ctx, actor, id, &t2.id, None).await.map(drop),
        Action::Link => actions::link(&ctx, actor, id, &t2.id, None).await.map(drop),
        Action::Delete => actions::delete(&ctx, actor, id, None).await.map(drop),
        Action::Lock => locks::lock(&ctx, actor, id).await.map(drop),
    };
    match outcome {
        Ok(()) => OK.to_owned(),
        Err(e) => e.code().to_owned(),
    }
}

#[tokio::test]
async fn every_action_against_every_actor() {
    let app = App::new().await;
    let mut mismatches = Vec::new();
    let mut cells = 0;
    for (action, expected) in MATRIX {
        for (who, expected) in WHO.into_iter().zip(expected) {
            let (t, t2) = setup(&app, action).await;
            let (before, before2, items) = (
                app.stored(&t.id).await,
                app.stored(&t2.id).await,
                app.count_items(),
            );
            let got = match app.actor(who).await {
                Ok(actor) => run(&app, &actor, action, &t, &t2).await,
                Err(refused) => refused.code().to_owned(),
            };
            cells += 1;
            if got != expected {
                mismatches.push(format!(
                    "{action:?} by {who:?}: expected {expected}, got {got}"
                ));
            }
            if got != OK {
                let unchanged = app.stored(&t.id).await == before
                    && app.stored(&t2.id).await == before2
                    && app.count_items() == items;
                if !unchanged {
                    mismatches.push(format!("{action:?} by {who:?}: refused but wrote"));
                }
            } else if action != Action::Open && action != Action::Lock {
                // An allowed change did change the ticket (or its thread).
                let changed = app.stored(&t.id).await != before || app.count_items() != items;
                if !changed {
                    mismatches.push(format!("{action:?} by {who:?}: allowed but wrote nothing"));
                }
            }
        }
    }
    assert_eq!(cells, MATRIX.len() * WHO.len());
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
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
    let t = app.open_for_ana(&system, "Printer").await.unwrap();
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
