//! The administrator's services on a fresh SQLite store per test: every kind
//! round-trips; every rule refuses bad input and changes nothing; only an
//! administrator of the instance itself may configure it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use taquilla_core::blobs::Blobs;
use taquilla_core::clock::{Clock, SystemClock};
use taquilla_core::domain::{
    Agent, AgentAccess, AgentId, AutoAssign, Department, DepartmentId, HelpTopic, InstanceId,
    Language, Permission, Priority, PriorityId, Role, RoleId, State, Status, StatusId, Team,
    TeamId, TopicId,
};
use taquilla_core::keys;
use taquilla_core::password;
use taquilla_core::services::admin::{
    agents, departments, instances, objects, priorities, roles, statuses, topics,
};
use taquilla_core::services::{Actor, Ctx, ServiceError, provision};
use taquilla_core::store::{Item, ItemStore, Query, codec};
use taquilla_local::{FsBlobs, SqliteStore};
use taquilla_tests::moto;

/// A fresh store with two instances: `demo` (the demo blueprint) and `lab`.
struct Desk {
    store: Arc<dyn ItemStore>,
    blobs: Arc<dyn Blobs>,
    clock: Arc<dyn Clock>,
    demo: InstanceId,
    lab: InstanceId,
    _dir: tempfile::TempDir,
}

fn system() -> Actor {
    Actor::System("test".into())
}

impl Desk {
    /// On a SQLite file.
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = Arc::new(
            SqliteStore::open_with_clock(&dir.path().join("taquilla.db"), clock.clone()).unwrap(),
        );
        Self::over(store, clock, dir).await
    }

    /// On a fresh table of the DynamoDB emulator.
    async fn on_dynamodb() -> Self {
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
            moto::unique_name("admin"),
        )
        .with_clock(clock.clone());
        store.ensure_table().await.unwrap();
        Self::over(Arc::new(store), clock, tempfile::tempdir().unwrap()).await
    }

    /// `store` with the two instances provisioned.
    async fn over(
        store: Arc<dyn ItemStore>,
        clock: Arc<dyn Clock>,
        dir: tempfile::TempDir,
    ) -> Self {
        let blobs: Arc<dyn Blobs> = Arc::new(FsBlobs::new(
            dir.path().join("blobs"),
            "http://127.0.0.1".into(),
            vec![7; 32],
            clock.clone(),
        ));
        provision::ensure_demo(store.as_ref(), clock.as_ref())
            .await
            .unwrap()
            .unwrap();
        instances::create(
            store.as_ref(),
            clock.as_ref(),
            instances::CreateInstance {
                slug: "lab".into(),
                name: "Chemistry Lab".into(),
                language: Language::Ca,
                timezone: "Europe/Madrid".into(),
                number_format: "LAB-####".into(),
                admin_name: "Lab Admin".into(),
                admin_email: "admin@lab.example.org".into(),
            },
        )
        .await
        .unwrap();
        Self {
            store,
            blobs,
            clock,
            demo: InstanceId::parse("demo").unwrap(),
            lab: InstanceId::parse("lab").unwrap(),
            _dir: dir,
        }
    }

    fn ctx<'a>(&'a self, instance: &'a InstanceId) -> Ctx<'a> {
        Ctx {
            store: self.store.as_ref(),
            blobs: self.blobs.as_ref(),
            clock: self.clock.as_ref(),
            instance,
        }
    }

    fn demo(&self) -> Ctx<'_> {
        self.ctx(&self.demo)
    }

    /// The stored agent `id` of `instance`.
    async fn agent(&self, instance: &InstanceId, id: AgentId) -> Agent {
        let item = self
            .store
            .get(&keys::object(instance, AgentId::KIND, id.0))
            .await
            .unwrap()
            .unwrap();
        codec::decode(&item).unwrap()
    }

    /// Agent `id` of `instance` acting (roles are not needed by admin checks).
    async fn as_agent(&self, instance: &InstanceId, id: AgentId) -> Actor {
        Actor::Agent(AgentAccess {
            agent: self.agent(instance, id).await,
            roles: BTreeMap::new(),
        })
    }

    /// The demo instance's administrator.
    async fn demo_admin(&self) -> Actor {
        self.as_agent(&self.demo, AgentId(1)).await
    }

    /// Every item of the instance's partition.
    async fn items(&self, instance: &InstanceId) -> Vec<Item> {
        let mut out = Vec::new();
        let mut query = Query::table(keys::instance_pk(instance)).limit(1000);
        loop {
            let page = self.store.query(&query).await.unwrap();
            out.extend(page.items);
            match page.cursor {
                Some(c) => query.cursor = Some(c),
                None => return out,
            }
        }
    }

    /// The id of the object of `kind` holding the claim on `name` in the
    /// demo instance, read from the store.
    async fn name_holder(&self, kind: &str, name: &str) -> Option<i64> {
        self.store
            .get(&keys::object_name(&self.demo, kind, name))
            .await
            .unwrap()
            .and_then(|claim| claim.get_i64("id"))
    }
}

#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(result: Result<T, ServiceError>, expected: &str) {
    match result {
        Err(ServiceError::Invalid { field, .. }) => assert_eq!(field, expected),
        other => panic!("expected an invalid {expected}, got {other:?}"),
    }
}

#[track_caller]
fn assert_conflict<T: std::fmt::Debug>(result: Result<T, ServiceError>) {
    assert!(
        matches!(result, Err(ServiceError::Conflict(_))),
        "expected a conflict, got {result:?}"
    );
}

#[track_caller]
fn assert_forbidden<T: std::fmt::Debug>(result: Result<T, ServiceError>) {
    assert!(
        matches!(result, Err(ServiceError::Forbidden(_))),
        "expected forbidden, got {result:?}"
    );
}

/// A department to create (the service assigns its id).
fn department(name: &str) -> Department {
    Department::new(DepartmentId(0), name)
}

/// A public help topic of `department` to create.
fn topic(name: &str, department: DepartmentId) -> HelpTopic {
    HelpTopic::new(TopicId(0), name, department)
}

/// A team without members to create.
fn team(name: &str) -> Team {
    Team {
        id: TeamId(0),
        name: name.into(),
        lead: None,
        members: Vec::new(),
    }
}

#[tokio::test]
async fn departments_round_trip_create_list_update_delete() {
    let desk = Desk::new().await;
    let admin = desk.demo_admin().await;
    let ctx = desk.demo();
    let labs = objects::create(
        ctx,
        &admin,
        Department {
            email: Some("Labs@Demo.example.org".into()),
            parent: Some(DepartmentId(1)),
            ..department("  Labs ")
        },
    )
    .await
    .unwrap();
    assert_eq!(labs.record.id, DepartmentId(3));
    assert_eq!(labs.record.name, "Labs");
    assert_eq!(labs.record.email.as_deref(), Some("labs@demo.example.org"));
    assert_eq!(labs.version, 1);

    let names: Vec<_> = objects::list::<Department>(ctx, &admin)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.record.name)
        .collect();
    assert_eq!(names, ["IT Support", "Academic Office", "Labs"]);

    let renamed = objects::update(
        ctx,
        &admin,
        labs.record.id,
        departments::DepartmentChanges {
            version: 1,
            name: Some("Research Labs".into()),
            parent: Some(None),
            members_only: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(renamed.version, 2);
    let read = objects::get(ctx, &admin, labs.record.id).await.unwrap();
    assert_eq!(read, renamed);
    assert_eq!(read.record.parent, None);
    assert!(read.record.members_only);

    objects::delete(ctx, &admin, labs.record.id).await.unwrap();
    assert!(matches!(
        objects::get(ctx, &admin, labs.record.id).await,
        Err(ServiceError::NotFound(_))
    ));
}

#[tokio::test]
async fn topics_roles_statuses_priorities_and_teams_round_trip() {
    let desk = Desk::new().await;
    let admin = desk.demo_admin().await;
    let ctx = desk.demo();

    // Priorities.
    let urgent = objects::create(
        ctx,
        &admin,
        Priority {
            id: PriorityId(0),
            name: "Exam week".into(),
            urgency: 2,
        },
    )
    .await
    .unwrap();
    assert_eq!(urgent.record.id, PriorityId(5));
    let urgent = objects::update(
        ctx,
        &admin,
        urgent.record.id,
        priorities::PriorityChanges {
            version: 1,
            name: Some("Exam period".into()),
            urgency: Some(1),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (urgent.record.name.as_str(), urgent.record.urgency),
        ("Exam period", 1)
    );
    assert_eq!(
        objects::list::<Priority>(ctx, &admin).await.unwrap().len(),
        5
    );

    // Teams, whose members see them in their `teams`.
    let team = objects::create(
        ctx,
        &admin,
        Team {
            id: TeamId(0),
            name: "Night shift".into(),
            lead: Some(AgentId(1)),
            members: vec![],
        },
    )
    .await
    .unwrap();
    assert_eq!(team.record.members, [AgentId(1)], "the lead is a member");
    assert_eq!(
        desk.agent(&desk.demo, AgentId(1)).await.teams,
        [team.record.id]
    );

    // Topics, with everything they may refer to.
    let mut new = topic("Lab equipment", DepartmentId(1));
    new.parent = Some(TopicId(1));
    new.priority = Some(urgent.record.id);
    new.auto_assign = Some(AutoAssign::Team(team.record.id));
    new.public = false;
    let topic = objects::create(ctx, &admin, new).await.unwrap();
    assert_eq!(topic.record.id, TopicId(4));
    let topic = objects::update(
        ctx,
        &admin,
        topic.record.id,
        topics::TopicChanges {
            version: 1,
            department: Some(DepartmentId(2)),
            auto_assign: Some(Some(AutoAssign::Agent(AgentId(1)))),
            number_format: Some(Some("LAB-###".into())),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(topic.record.department, DepartmentId(2));
    assert_eq!(
        objects::list::<HelpTopic>(ctx, &admin).await.unwrap().len(),
        4
    );

    // Roles.
    let role = objects::create(
        ctx,
        &admin,
        Role {
            id: RoleId(0),
            name: "Read and note".into(),
            permissions: BTreeSet::from([Permission::TicketNote]),
        },
    )
    .await
    .unwrap();
    let role = objects::update(
        ctx,
        &admin,
        role.record.id,
        roles::RoleChanges {
            version: 1,
            permissions: Some(BTreeSet::from([
                Permission::TicketNote,
                Permission::TicketReply,
            ])),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(role.record.allows(Permission::TicketReply));
    assert_eq!(objects::list::<Role>(ctx, &admin).await.unwrap().len(), 3);
    objects::delete(ctx, &admin, role.record.id).await.unwrap();
    assert_eq!(objects::list::<Role>(ctx, &admin).await.unwrap().len(), 2);

    // Statuses: added and renamed.
    let status = objects::create(
        ctx,
        &admin,
        Status {
            id: StatusId(0),
            name: "Waiting for the user".into(),
            state: State::Open,
        },
    )
    .await
    .unwrap();
    assert_eq!(status.record.id, StatusId(6));
    let status = objects::update(
        ctx,
        &admin,
        status.record.id,
        statuses::StatusChanges {
            version: 1,
            name: Some("Awaiting reply".into()),
        },
    )
    .await
    .unwrap();
    assert_eq!(status.record.name, "Awaiting reply");
    assert_eq!(objects::list::<Status>(ctx, &admin).await.unwrap().len(), 6);

    // Deleting in the order references allow.
    objects::delete(ctx, &admin, topic.record.id).await.unwrap();
    objects::delete(ctx, &admin, urgent.record.id)
        .await
        .unwrap();
    objects::delete(ctx, &admin, team.record.id).await.unwrap();
    assert!(desk.agent(&desk.demo, AgentId(1)).await.teams.is_empty());
    assert!(objects::list::<Team>(ctx, &admin).await.unwrap().is_empty());
}

#[tokio::test]
async fn agents_are_created_with_a_password_edited_deactivated_and_reset() {
    let desk = Desk::new().await;
    let admin = desk.demo_admin().await;
    let ctx = desk.demo();
    let created = agents::create(
        ctx,
        &admin,
        agents::NewAgent {
            name: "Marta".into(),
            email: "Marta@Demo.example.org".into(),
            department: DepartmentId(1),
            role: RoleId(2),
            admin: false,
            access: BTreeMap::from([(DepartmentId(2), RoleId(1))]),
        },
    )
    .await
    .unwrap();
    let id = created.agent.record.id;
    assert_eq!(id, AgentId(2));
    assert_eq!(created.agent.record.email, "marta@demo.example.org");
    let stored = desk.agent(&desk.demo, id).await;
    assert!(password::verify(&created.password, &stored.password_hash));
    let json = serde_json::to_string(&created.agent).unwrap();
    assert!(!json.contains("password"), "{json}");

    let listed = agents::list(ctx, &admin).await.unwrap();
    assert_eq!(listed.len(), 2);

    // A new e-mail moves the claim: the old address is free again.
    let moved = agents::update(
        ctx,
        &admin,
        id,
        agents::AgentChanges {
            version: 1,
            email: Some("marta.puig@demo.example.org".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(moved.version, 2);
    let claim = |email: &str| keys::agent_email(&desk.demo, email);
    assert!(
        desk.store
            .get(&claim("marta@demo.example.org"))
            .await
            .unwrap()
            .is_none()
    );
    let new_claim = desk
        .store
        .get(&claim("marta.puig@demo.example.org"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(new_claim.get_i64("agent"), Some(2));
    let found = agents::by_email(ctx, &admin, "MARTA.PUIG@demo.example.org")
        .await
        .unwrap();
    assert_eq!(found.record.id, id);

    let away = agents::set_vacation(ctx, &admin, id, true).await.unwrap();
    assert!(away.record.on_vacation);
    let off = agents::set_active(ctx, &admin, id, false).await.unwrap();
    assert!(!off.record.active);

    let reset = agents::reset_password(ctx, &admin, id).await.unwrap();
    assert_ne!(reset.password, created.password);
    let stored = desk.agent(&desk.demo, id).await;
    assert!(password::verify(&reset.password, &stored.password_hash));
    assert!(!password::verify(&created.password, &stored.password_hash));

    // An administrator does not lock itself out.
    assert_invalid(
        agents::set_active(ctx, &admin, AgentId(1), false).await,
        "admin",
    );
}

#[tokio::test]
async fn instance_settings_are_read_by_agents_and_changed_by_admins() {
    let desk = Desk::new().await;
    let admin = desk.demo_admin().await;
    let ctx = desk.demo();
    let settings = instances::get(ctx, &admin).await.unwrap();
    assert_eq!(settings.version, 1);
    let changed = instances::update(
        ctx,
        &admin,
        instances::InstanceChanges {
            version: 1,
            name: Some("Demo College".into()),
            language: Some(Language::Es),
            timezone: Some("Atlantic/Canary".into()),
            ticket_number_format: Some("D-#####".into()),
            online: Some(false),
            lock_seconds: Some(300),
            mail: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(changed.version, 2);
    assert!(!changed.record.online);
    assert_eq!(changed.record.lock_seconds, 300);
    let listed = instances::list(desk.store.as_ref()).await.unwrap();
    let names: BTreeSet<_> = listed.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["Demo College", "Chemistry Lab"]));
    let directory = desk
        .store
        .get(&keys::directory_entry(&desk.demo))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(directory.get_str("name"), Some("Demo College"));

    assert_invalid(
        instances::update(
            ctx,
            &admin,
            instances::InstanceChanges {
                version: 2,
                timezone: Some("Madrid".into()),
                ..Default::default()
            },
        )
        .await,
        "timezone",
    );
    // An existing slug is a conflict.
    let again = instances::create(
        desk.store.as_ref(),
        desk.clock.as_ref(),
        instances::CreateInstance {
            slug: "lab".into(),
            name: "Another lab".into(),
            language: Language::En,
            timezone: "UTC".into(),
            number_format: "######".into(),
            admin_name: "X".into(),
            admin_email: "x@example.org".into(),
        },
    )
    .await;
    assert_conflict(again);
}

/// A ticket of `department` in the gsi1 queue, as the ticket service writes it.
async fn put_ticket(desk: &Desk, department: DepartmentId, state: State) {
    let ticket = taquilla_core::domain::TicketId::generate();
    let item = Item::new(keys::ticket(&desk.demo, &ticket))
        .with(
            "gsi1pk",
            keys::queue::department(&desk.demo, department, state),
        )
        .with("gsi1sk", keys::queue::at(1, &ticket));
    desk.store.put(item, None).await.unwrap();
}

#[tokio::test]
async fn every_rule_refuses_bad_input_and_changes_nothing() {
    let desk = Desk::new().await;
    let admin = desk.demo_admin().await;
    let ctx = desk.demo();
    // A chain of departments 3 <- 4 <- 5 to close into a cycle.
    let a = objects::create(ctx, &admin, department("A")).await.unwrap();
    let mut b = department("B");
    b.parent = Some(a.record.id);
    let b = objects::create(ctx, &admin, b).await.unwrap();
    let mut c = department("C");
    c.parent = Some(b.record.id);
    let c = objects::create(ctx, &admin, c).await.unwrap();
    // The same chain of topics.
    let mut t = topic("Child", DepartmentId(1));
    t.parent = Some(TopicId(1));
    let child = objects::create(ctx, &admin, t).await.unwrap();
    let mut t = topic("Grandchild", DepartmentId(1));
    t.parent = Some(child.record.id);
    let grandchild = objects::create(ctx, &admin, t).await.unwrap();
    // A topic on priority 4, and a department with a closed ticket only.
    let mut t = topic("Low things", DepartmentId(1));
    t.priority = Some(PriorityId(4));
    objects::create(ctx, &admin, t).await.unwrap();
    let quiet = objects::create(ctx, &admin, department("Quiet"))
        .await
        .unwrap();
    put_ticket(&desk, quiet.record.id, State::Closed).await;

    let before = desk.items(&desk.demo).await;

    // Names: non-empty, unique per kind (ignoring case).
    assert_invalid(objects::create(ctx, &admin, department("  ")).await, "name");
    assert_invalid(
        objects::create(ctx, &admin, department("it support")).await,
        "name",
    );
    assert_invalid(
        objects::update(
            ctx,
            &admin,
            b.record.id,
            departments::DepartmentChanges {
                version: 1,
                name: Some("A".into()),
                ..Default::default()
            },
        )
        .await,
        "name",
    );
    assert_invalid(
        objects::create(ctx, &admin, topic("Wi-Fi and network", DepartmentId(1))).await,
        "name",
    );
    assert_invalid(
        objects::create(
            ctx,
            &admin,
            Role {
                id: RoleId(0),
                name: "ALL ACCESS".into(),
                permissions: BTreeSet::new(),
            },
        )
        .await,
        "name",
    );
    assert_invalid(
        objects::create(
            ctx,
            &admin,
            Status {
                id: StatusId(0),
                name: "Open".into(),
                state: State::Open,
            },
        )
        .await,
        "name",
    );
    assert_invalid(
        objects::create(
            ctx,
            &admin,
            Priority {
                id: PriorityId(0),
                name: "".into(),
                urgency: 1,
            },
        )
        .await,
        "name",
    );
    assert_invalid(objects::create(ctx, &admin, team("")).await, "name");

    // Parents exist and make no cycle (A -> C -> B -> A).
    let mut orphan = department("Orphan");
    orphan.parent = Some(DepartmentId(99));
    assert_invalid(objects::create(ctx, &admin, orphan).await, "parent");
    let close_cycle = |parent, version| departments::DepartmentChanges {
        version,
        parent: Some(Some(parent)),
        ..Default::default()
    };
    assert_invalid(
        objects::update(ctx, &admin, a.record.id, close_cycle(c.record.id, 1)).await,
        "parent",
    );
    assert_invalid(
        objects::update(ctx, &admin, a.record.id, close_cycle(a.record.id, 1)).await,
        "parent",
    );
    assert_invalid(
        objects::update(
            ctx,
            &admin,
            TopicId(1),
            topics::TopicChanges {
                version: 1,
                parent: Some(Some(grandchild.record.id)),
                ..Default::default()
            },
        )
        .await,
        "parent",
    );

    // What a topic refers to exists.
    assert_invalid(
        objects::create(ctx, &admin, topic("Lost", DepartmentId(42))).await,
        "department",
    );
    let mut t = topic("Lost", DepartmentId(1));
    t.priority = Some(PriorityId(42));
    assert_invalid(objects::create(ctx, &admin, t).await, "priority");
    let mut t = topic("Lost", DepartmentId(1));
    t.auto_assign = Some(AutoAssign::Agent(AgentId(42)));
    assert_invalid(objects::create(ctx, &admin, t).await, "auto_assign");
    let mut t = topic("Lost", DepartmentId(1));
    t.auto_assign = Some(AutoAssign::Team(TeamId(42)));
    assert_invalid(objects::create(ctx, &admin, t).await, "auto_assign");

    // Agents: a unique, well-formed e-mail; existing departments and roles.
    let agent = |email: &str, department, role| agents::NewAgent {
        name: "Someone".into(),
        email: email.into(),
        department,
        role,
        admin: false,
        access: BTreeMap::new(),
    };
    assert_invalid(
        agents::create(
            ctx,
            &admin,
            agent("ADMIN@demo.taquilla.test", DepartmentId(1), RoleId(1)),
        )
        .await,
        "email",
    );
    assert_invalid(
        agents::create(
            ctx,
            &admin,
            agent("not-an-address", DepartmentId(1), RoleId(1)),
        )
        .await,
        "email",
    );
    assert_invalid(
        agents::create(
            ctx,
            &admin,
            agent("new@demo.example.org", DepartmentId(42), RoleId(1)),
        )
        .await,
        "department",
    );
    assert_invalid(
        agents::create(
            ctx,
            &admin,
            agent("new@demo.example.org", DepartmentId(1), RoleId(42)),
        )
        .await,
        "role",
    );

    // Deleting what is referred to.
    assert_conflict(objects::delete(ctx, &admin, DepartmentId(1)).await); // agent, topics
    assert_conflict(objects::delete(ctx, &admin, quiet.record.id).await); // a closed ticket
    assert_conflict(objects::delete(ctx, &admin, a.record.id).await); // sub-department
    assert_conflict(objects::delete(ctx, &admin, RoleId(1)).await); // the admin's role
    assert_conflict(objects::delete(ctx, &admin, PriorityId(4)).await); // a topic's
    assert_conflict(objects::delete(ctx, &admin, child.record.id).await); // a parent

    let after = desk.items(&desk.demo).await;
    assert_eq!(before, after, "a refused call changed the instance");
}

#[tokio::test]
async fn a_department_with_an_open_ticket_or_an_agent_is_not_deleted() {
    let desk = Desk::new().await;
    let admin = desk.demo_admin().await;
    let ctx = desk.demo();
    let busy = objects::create(ctx, &admin, department("Busy"))
        .await
        .unwrap();
    put_ticket(&desk, busy.record.id, State::Open).await;
    assert_conflict(objects::delete(ctx, &admin, busy.record.id).await);

    let staffed = objects::create(ctx, &admin, department("Staffed"))
        .await
        .unwrap();
    agents::create(
        ctx,
        &admin,
        agents::NewAgent {
            name: "Pau".into(),
            email: "pau@demo.example.org".into(),
            department: DepartmentId(1),
            role: RoleId(2),
            admin: false,
            access: BTreeMap::from([(staffed.record.id, RoleId(2))]),
        },
    )
    .await
    .unwrap();
    assert_conflict(objects::delete(ctx, &admin, staffed.record.id).await);
    assert_conflict(objects::delete(ctx, &admin, RoleId(2)).await);
}

#[tokio::test]
async fn an_agent_who_is_not_an_admin_may_read_lists_but_not_configure() {
    let desk = Desk::new().await;
    let admin = desk.demo_admin().await;
    let ctx = desk.demo();
    let created = agents::create(
        ctx,
        &admin,
        agents::NewAgent {
            name: "Jordi".into(),
            email: "jordi@demo.example.org".into(),
            department: DepartmentId(1),
            role: RoleId(1),
            admin: false,
            access: BTreeMap::new(),
        },
    )
    .await
    .unwrap();
    let agent = desk.as_agent(&desk.demo, created.agent.record.id).await;
    let before = desk.items(&desk.demo).await;

    assert_eq!(
        objects::list::<Department>(ctx, &agent)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        objects::list::<HelpTopic>(ctx, &agent).await.unwrap().len(),
        3
    );
    assert_eq!(objects::list::<Status>(ctx, &agent).await.unwrap().len(), 5);
    assert_eq!(
        objects::list::<Priority>(ctx, &agent).await.unwrap().len(),
        4
    );
    assert!(objects::list::<Team>(ctx, &agent).await.unwrap().is_empty());
    instances::get(ctx, &agent).await.unwrap();

    assert_forbidden(objects::create(ctx, &agent, department("Mine")).await);
    assert_forbidden(objects::list::<Role>(ctx, &agent).await);
    assert_forbidden(agents::list(ctx, &agent).await);
    assert_forbidden(agents::reset_password(ctx, &agent, AgentId(1)).await);
    assert_forbidden(
        instances::update(
            ctx,
            &agent,
            instances::InstanceChanges {
                version: 1,
                online: Some(false),
                ..Default::default()
            },
        )
        .await,
    );
    assert_forbidden(
        objects::list::<Department>(ctx, &Actor::User(taquilla_core::domain::UserId::generate()))
            .await,
    );

    // A deactivated agent reads nothing.
    agents::set_active(ctx, &admin, created.agent.record.id, false)
        .await
        .unwrap();
    let before_inactive = desk.items(&desk.demo).await;
    assert_forbidden(objects::list::<Department>(ctx, &agent).await);
    assert_eq!(desk.items(&desk.demo).await, before_inactive);
    assert_ne!(before, before_inactive, "only the deactivation changed");
}

#[tokio::test]
async fn two_concurrent_updates_from_one_version_do_not_both_win() {
    let desk = Desk::new().await;
    let admin = desk.demo_admin().await;
    let ctx = desk.demo();
    let rename = |name: &str| departments::DepartmentChanges {
        version: 1,
        name: Some(name.into()),
        ..Default::default()
    };
    let (first, second) = tokio::join!(
        objects::update(ctx, &admin, DepartmentId(1), rename("Helpdesk")),
        objects::update(ctx, &admin, DepartmentId(1), rename("Service desk")),
    );
    let won: Vec<_> = [&first, &second]
        .into_iter()
        .filter_map(|r| r.as_ref().ok())
        .collect();
    assert_eq!(won.len(), 1, "{first:?} {second:?}");
    assert!(
        matches!(first, Err(ServiceError::Conflict(_)))
            || matches!(second, Err(ServiceError::Conflict(_)))
    );
    let stored = objects::get(ctx, &admin, DepartmentId(1)).await.unwrap();
    assert_eq!(&stored, won[0]);
    assert_eq!(stored.version, 2);

    // An update from a version already replaced is refused too.
    assert_conflict(objects::update(ctx, &admin, DepartmentId(1), rename("Late")).await);
}

#[tokio::test]
async fn an_admin_of_one_instance_cannot_read_or_change_another() {
    let desk = Desk::new().await;
    let demo_admin = desk.demo_admin().await;
    let lab = desk.ctx(&desk.lab);
    let before = desk.items(&desk.lab).await;

    assert_forbidden(objects::list::<Department>(lab, &demo_admin).await);
    assert_forbidden(objects::get(lab, &demo_admin, DepartmentId(1)).await);
    assert_forbidden(objects::create(lab, &demo_admin, department("Intruders")).await);
    assert_forbidden(
        objects::update(
            lab,
            &demo_admin,
            DepartmentId(1),
            departments::DepartmentChanges {
                version: 1,
                name: Some("Taken".into()),
                ..Default::default()
            },
        )
        .await,
    );
    assert_forbidden(objects::delete(lab, &demo_admin, DepartmentId(1)).await);
    assert_forbidden(agents::reset_password(lab, &demo_admin, AgentId(1)).await);
    assert_forbidden(instances::get(lab, &demo_admin).await);
    assert_eq!(desk.items(&desk.lab).await, before);

    // Lab's own admin may.
    let lab_admin = desk.as_agent(&desk.lab, AgentId(1)).await;
    let names: Vec<_> = objects::list::<Department>(lab, &lab_admin)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.record.name)
        .collect();
    assert_eq!(names, ["General"]);
}

#[tokio::test]
async fn a_new_instance_starts_with_a_department_a_topic_and_its_admin() {
    let desk = Desk::new().await;
    let lab = desk.ctx(&desk.lab);
    let admin = desk.agent(&desk.lab, AgentId(1)).await;
    assert_eq!(admin.email, "admin@lab.example.org");
    assert!(admin.admin);
    let settings = instances::get(lab, &system()).await.unwrap().record;
    assert_eq!(settings.ticket_number_format, "LAB-####");
    assert_eq!(settings.language, Language::Ca);
    assert_eq!(
        objects::list::<HelpTopic>(lab, &system())
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(matches!(
        objects::list::<Department>(desk.ctx(&InstanceId::parse("nowhere").unwrap()), &system())
            .await,
        Err(ServiceError::NotFound(_))
    ));
}

/// Names are claimed with their objects, whatever the store: provisioned
/// objects hold theirs; of concurrent creates with one name exactly one
/// wins; a rename into a taken name is refused and moves no claim; a rename
/// and a delete free the old name.
async fn names_are_claimed_with_their_objects(desk: &Desk) {
    let admin = desk.demo_admin().await;
    let ctx = desk.demo();
    assert_eq!(desk.name_holder("DEPT", "IT Support").await, Some(1));
    assert_eq!(
        desk.name_holder("TOPIC", "wi-fi and NETWORK").await,
        Some(2)
    );
    assert_eq!(desk.name_holder("ROLE", "Limited access").await, Some(2));
    assert_eq!(desk.name_holder("STATUS", "resolved").await, Some(2));
    assert_eq!(desk.name_holder("PRIORITY", "Low").await, Some(4));
    assert_eq!(desk.name_holder("TOPIC", "IT Support").await, None);

    let create = |name: &'static str| objects::create(ctx, &admin, department(name));
    let results = tokio::join!(
        create("Front Desk"),
        create("front desk"),
        create("  FRONT   desk "),
        create("Front\tDesk"),
        create("Front Desk"),
        create("FRONT DESK"),
    );
    let results = [
        results.0, results.1, results.2, results.3, results.4, results.5,
    ];
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let front = winners[0].record.clone();
    for lost in results.into_iter().filter(Result::is_err) {
        assert_invalid(lost, "name");
    }
    assert_eq!(
        desk.name_holder("DEPT", "front desk").await,
        Some(i64::from(front.id.0))
    );

    let library = objects::create(ctx, &admin, department("Library"))
        .await
        .unwrap()
        .record;
    let rename = |version, name: &str| departments::DepartmentChanges {
        version,
        name: Some(name.into()),
        ..Default::default()
    };
    assert_invalid(
        objects::update(ctx, &admin, library.id, rename(1, " front DESK")).await,
        "name",
    );
    assert_eq!(
        objects::get(ctx, &admin, library.id).await.unwrap().version,
        1
    );
    assert_eq!(
        desk.name_holder("DEPT", "Library").await,
        Some(i64::from(library.id.0))
    );
    assert_eq!(
        desk.name_holder("DEPT", "Front Desk").await,
        Some(i64::from(front.id.0))
    );

    // A new spelling of the same name keeps the claim; a new name moves it.
    let respelt = objects::update(ctx, &admin, library.id, rename(1, "LIBRARY"))
        .await
        .unwrap();
    assert_eq!(respelt.record.name, "LIBRARY");
    objects::update(ctx, &admin, library.id, rename(2, "Reading Room"))
        .await
        .unwrap();
    assert_eq!(desk.name_holder("DEPT", "library").await, None);
    assert_eq!(
        desk.name_holder("DEPT", "reading room").await,
        Some(i64::from(library.id.0))
    );
    let again = objects::create(ctx, &admin, department("Library"))
        .await
        .unwrap();
    assert_ne!(again.record.id, library.id);

    // A delete releases the name.
    objects::delete(ctx, &admin, front.id).await.unwrap();
    assert_eq!(desk.name_holder("DEPT", "front desk").await, None);
    let reused = objects::create(ctx, &admin, department("front desk"))
        .await
        .unwrap();
    assert_eq!(
        desk.name_holder("DEPT", "Front Desk").await,
        Some(i64::from(reused.record.id.0))
    );
}

#[tokio::test]
async fn names_are_claimed_with_their_objects_on_sqlite() {
    names_are_claimed_with_their_objects(&Desk::new().await).await;
}

#[tokio::test]
async fn names_are_claimed_with_their_objects_on_dynamodb() {
    names_are_claimed_with_their_objects(&Desk::on_dynamodb().await).await;
}

#[tokio::test]
async fn every_kind_round_trips_on_dynamodb() {
    let desk = Desk::on_dynamodb().await;
    let admin = desk.demo_admin().await;
    let ctx = desk.demo();
    let team = objects::create(
        ctx,
        &admin,
        Team {
            lead: Some(AgentId(1)),
            ..team("Night shift")
        },
    )
    .await
    .unwrap()
    .record;
    assert_eq!(desk.agent(&desk.demo, AgentId(1)).await.teams, [team.id]);
    let priority = objects::create(
        ctx,
        &admin,
        Priority {
            id: PriorityId(0),
            name: "Exam week".into(),
            urgency: 2,
        },
    )
    .await
    .unwrap()
    .record;
    let topic = objects::create(
        ctx,
        &admin,
        HelpTopic {
            priority: Some(priority.id),
            auto_assign: Some(AutoAssign::Team(team.id)),
            ..topic("Lab equipment", DepartmentId(1))
        },
    )
    .await
    .unwrap()
    .record;
    let status = objects::create(
        ctx,
        &admin,
        Status {
            id: StatusId(0),
            name: "Waiting".into(),
            state: State::Open,
        },
    )
    .await
    .unwrap()
    .record;
    let role = objects::create(
        ctx,
        &admin,
        Role {
            id: RoleId(0),
            name: "Notes only".into(),
            permissions: BTreeSet::from([Permission::TicketNote]),
        },
    )
    .await
    .unwrap()
    .record;
    let status = objects::update(
        ctx,
        &admin,
        status.id,
        statuses::StatusChanges {
            version: 1,
            name: Some("Waiting for the user".into()),
        },
    )
    .await
    .unwrap();
    assert_eq!(status.version, 2);
    assert_eq!(desk.name_holder("STATUS", "waiting").await, None);
    assert_conflict(objects::delete(ctx, &admin, team.id).await); // the topic's
    objects::delete(ctx, &admin, topic.id).await.unwrap();
    objects::delete(ctx, &admin, team.id).await.unwrap();
    objects::delete(ctx, &admin, priority.id).await.unwrap();
    objects::delete(ctx, &admin, role.id).await.unwrap();
    assert!(desk.agent(&desk.demo, AgentId(1)).await.teams.is_empty());
    for (kind, name) in [
        ("TEAM", "Night shift"),
        ("TOPIC", "Lab equipment"),
        ("PRIORITY", "Exam week"),
        ("ROLE", "Notes only"),
    ] {
        assert_eq!(desk.name_holder(kind, name).await, None, "{kind}");
    }
    assert_eq!(objects::list::<Team>(ctx, &admin).await.unwrap().len(), 0);
}

/// The same services through the JSON API of the real server.
mod over_http {
    use std::sync::Barrier;

    use serde_json::{Value, json};
    use taquilla_tests::app::{DEMO, OTHER, TestApp, json};
    use taquilla_tests::http::Response;

    /// The named kinds, by path segment.
    const KINDS: [&str; 6] = [
        "departments",
        "topics",
        "teams",
        "roles",
        "statuses",
        "priorities",
    ];

    /// A create body for an object of `kind` named `name`.
    fn new_object(kind: &str, name: &str) -> Value {
        match kind {
            "topics" => json!({"name": name, "department": 1}),
            "statuses" => json!({"name": name, "state": "open"}),
            "priorities" => json!({"name": name, "urgency": 3}),
            _ => json!({"name": name}),
        }
    }

    fn code(r: &Response) -> String {
        json(r)["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// How many objects of `kind` are named `name`, ignoring case and
    /// white space.
    fn named(app: &TestApp, kind: &str, name: &str) -> usize {
        let fold = |n: &str| {
            n.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        };
        let list = json(&app.api("GET", &format!("{DEMO}/{kind}"), None));
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| fold(o["name"].as_str().unwrap()) == fold(name))
            .count()
    }

    #[test]
    fn of_many_concurrent_creates_with_one_name_exactly_one_succeeds() {
        const CLIENTS: usize = 16;
        let app = TestApp::new();
        let spellings = ["Front Desk", "front desk", "  FRONT   desk ", "Front\tDesk"];
        for kind in KINDS {
            let start = Barrier::new(CLIENTS);
            let answers: Vec<Response> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..CLIENTS)
                    .map(|i| {
                        let (app, start) = (&app, &start);
                        let body = new_object(kind, spellings[i % spellings.len()]);
                        s.spawn(move || {
                            start.wait();
                            app.api("POST", &format!("{DEMO}/{kind}"), Some(&body))
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let created = answers.iter().filter(|r| r.status == 201).count();
            assert_eq!(created, 1, "{kind}");
            for refused in answers.iter().filter(|r| r.status != 201) {
                assert_eq!(
                    (refused.status, code(refused).as_str()),
                    (400, "invalid_field"),
                    "{kind}: {}",
                    refused.text()
                );
                assert!(refused.text().contains("name"), "{}", refused.text());
            }
            assert_eq!(named(&app, kind, "front desk"), 1, "{kind}");
        }
    }

    #[test]
    fn a_rename_into_a_taken_name_is_refused_and_changes_nothing() {
        let app = TestApp::new();
        for kind in KINDS {
            let first = app.api(
                "POST",
                &format!("{DEMO}/{kind}"),
                Some(&new_object(kind, "Labs")),
            );
            assert_eq!(first.status, 201, "{kind}: {}", first.text());
            let second = app.api(
                "POST",
                &format!("{DEMO}/{kind}"),
                Some(&new_object(kind, "Library")),
            );
            assert_eq!(second.status, 201, "{kind}: {}", second.text());
            let path = format!("{DEMO}/{kind}/{}", json(&second)["id"]);
            let before = json(&app.api("GET", &path, None));

            let refused = app.api(
                "PATCH",
                &path,
                Some(&json!({"version": 1, "name": "LABS "})),
            );
            assert_eq!(
                (refused.status, code(&refused).as_str()),
                (400, "invalid_field"),
                "{kind}: {}",
                refused.text()
            );
            assert_eq!(json(&app.api("GET", &path, None)), before, "{kind}");
            assert_eq!(named(&app, kind, "labs"), 1, "{kind}");

            // Its own name in another spelling is no conflict.
            let respelt = app.api(
                "PATCH",
                &path,
                Some(&json!({"version": 1, "name": "LIBRARY"})),
            );
            assert_eq!(respelt.status, 200, "{kind}: {}", respelt.text());
        }
    }

    #[test]
    fn a_name_freed_by_a_delete_or_a_rename_can_be_used_again() {
        let app = TestApp::new();
        for kind in KINDS {
            let create = |name: &str| {
                app.api(
                    "POST",
                    &format!("{DEMO}/{kind}"),
                    Some(&new_object(kind, name)),
                )
            };
            let old = create("Old name");
            assert_eq!(old.status, 201, "{kind}: {}", old.text());
            let path = format!("{DEMO}/{kind}/{}", json(&old)["id"]);
            let renamed = app.api(
                "PATCH",
                &path,
                Some(&json!({"version": 1, "name": "New name"})),
            );
            assert_eq!(renamed.status, 200, "{kind}: {}", renamed.text());
            assert_eq!(create("old NAME").status, 201, "{kind}");
            assert_eq!(create("New Name").status, 400, "{kind}");
            if kind == "statuses" {
                // Statuses are never deleted.
                assert_eq!(app.api("DELETE", &path, None).status, 405);
                continue;
            }
            let deleted = app.api("DELETE", &path, None);
            assert_eq!(deleted.status, 204, "{kind}: {}", deleted.text());
            let reused = create("new name");
            assert_eq!(reused.status, 201, "{kind}: {}", reused.text());
            assert_eq!(named(&app, kind, "New Name"), 1, "{kind}");
        }
    }

    #[test]
    fn departments_round_trip_over_the_api_with_versions() {
        let app = TestApp::new();
        let created = app.api(
            "POST",
            &format!("{DEMO}/departments"),
            Some(&json!({"name": "Labs", "parent": 1})),
        );
        assert_eq!(created.status, 201, "{}", created.text());
        let body = json(&created);
        assert_eq!(body["name"], "Labs");
        assert_eq!(body["version"], 1);
        let id = body["id"].as_u64().unwrap();

        let list = json(&app.api("GET", &format!("{DEMO}/departments"), None));
        assert_eq!(list["items"].as_array().unwrap().len(), 3);

        let path = format!("{DEMO}/departments/{id}");
        let renamed = app.api(
            "PATCH",
            &path,
            Some(&json!({"version": 1, "name": "Research", "parent": null})),
        );
        assert_eq!(renamed.status, 200, "{}", renamed.text());
        assert_eq!(json(&renamed)["parent"], serde_json::Value::Null);
        let stale = app.api("PATCH", &path, Some(&json!({"version": 1, "name": "Late"})));
        assert_eq!(stale.status, 409);
        assert_eq!(json(&stale)["error"]["code"], "conflict");

        let invalid = app.api(
            "POST",
            &format!("{DEMO}/departments"),
            Some(&json!({"name": "research"})),
        );
        assert_eq!(invalid.status, 400);
        assert_eq!(json(&invalid)["error"]["code"], "invalid_field");

        assert_eq!(app.api("DELETE", &path, None).status, 204);
        assert_eq!(app.api("GET", &path, None).status, 404);

        // The other instance's admin is nobody here.
        let other = app.token_for(OTHER, 1, None);
        let refused = app.api_as(&other, "GET", &format!("{DEMO}/departments"), None);
        assert!(matches!(refused.status, 401 | 403), "{}", refused.status);
    }

    #[test]
    fn create_bodies_are_the_records_fields_and_bad_ones_get_stable_codes() {
        let app = TestApp::new();
        // Absent fields take the record's defaults: a topic is public, a
        // role may start without permissions.
        let topic = app.api(
            "POST",
            &format!("{DEMO}/topics"),
            Some(&json!({"name": "Printing", "department": 2, "id": 99})),
        );
        assert_eq!(topic.status, 201, "{}", topic.text());
        let topic = json(&topic);
        assert_eq!(topic["public"], true);
        assert_eq!(topic["auto_response"], true);
        assert_ne!(topic["id"], 99, "the service assigns ids");
        let role = app.api(
            "POST",
            &format!("{DEMO}/roles"),
            Some(&json!({"name": "Nothing yet"})),
        );
        assert_eq!(role.status, 201, "{}", role.text());
        assert_eq!(json(&role)["permissions"], json!([]));

        for (method, path, body) in [
            ("POST", "departments", json!({"name": 5})),
            ("POST", "topics", json!({"name": "No department"})),
            ("POST", "statuses", json!({"name": "Stateless"})),
            (
                "POST",
                "roles",
                json!({"name": "Wizard", "permissions": ["ticket.fly"]}),
            ),
            ("POST", "departments", json!([])),
            ("PATCH", "departments/1", json!({"name": "No version"})),
            (
                "PATCH",
                "priorities/1",
                json!({"version": 1, "urgency": "high"}),
            ),
        ] {
            let r = app.api(method, &format!("{DEMO}/{path}"), Some(&body));
            assert_eq!(
                (r.status, code(&r).as_str()),
                (400, "invalid_body"),
                "{method} {path} {body}: {}",
                r.text()
            );
        }
        let r = app.api(
            "POST",
            &format!("{DEMO}/priorities"),
            Some(&json!({"name": "Top", "urgency": 0})),
        );
        assert_eq!(
            (r.status, code(&r).as_str()),
            (400, "invalid_field"),
            "{}",
            r.text()
        );
        for path in [
            "departments/abc",
            "topics/99",
            "agents/-1",
            "statuses/4294967296",
        ] {
            let r = app.api("GET", &format!("{DEMO}/{path}"), None);
            assert_eq!(
                (r.status, code(&r).as_str()),
                (404, "not_found"),
                "{path}: {}",
                r.text()
            );
        }
    }

    #[test]
    fn settings_agents_and_passwords_over_the_api() {
        let app = TestApp::new();
        let settings = json(&app.api("GET", DEMO, None));
        let version = settings["version"].clone();
        let offline = app.api(
            "PATCH",
            DEMO,
            Some(&json!({"version": version, "online": false})),
        );
        assert_eq!(offline.status, 200, "{}", offline.text());
        assert_eq!(json(&offline)["online"], false);

        let created = app.api(
            "POST",
            &format!("{DEMO}/agents"),
            Some(&json!({"name": "Anna", "email": "anna@demo.example.org", "department": 1, "role": 2})),
        );
        assert_eq!(created.status, 201, "{}", created.text());
        let body = json(&created);
        assert_eq!(body["password"].as_str().unwrap().len(), 20);
        assert!(body["agent"].get("password_hash").is_none());
        let id = body["agent"]["id"].as_u64().unwrap();
        let reset = app.api("POST", &format!("{DEMO}/agents/{id}/reset-password"), None);
        assert_eq!(reset.status, 200);
        assert_ne!(json(&reset)["password"], body["password"]);

        for kind in [
            "topics",
            "teams",
            "roles",
            "statuses",
            "priorities",
            "agents",
        ] {
            let list = app.api("GET", &format!("{DEMO}/{kind}"), None);
            assert_eq!(list.status, 200, "{kind}: {}", list.text());
        }
    }
}
