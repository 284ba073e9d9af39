//! Creating an instance whole, in one transaction: its settings, departments,
//! help topics, roles, statuses and priorities (each with the claim on its
//! name) and first admin agent. `taquilla init --demo` and the
//! first run of `taquilla serve` provision the demo instance with it.

use std::collections::BTreeSet;

use super::ServiceError;
use super::admin::names;
use super::admin::objects::{ObjectId as _, Record};
use crate::clock::Clock;
use crate::domain::mail_settings::Mailbox;
use crate::domain::{
    Agent, AgentId, Department, DepartmentId, HelpTopic, Instance, InstanceId, Language,
    MailSettings, Permission, Priority, PriorityId, Role, RoleId, State, Status, StatusId, TopicId,
};
use crate::keys;
use crate::password;
use crate::store::{Condition, Item, ItemStore, StoreError, WriteOp, codec};

/// Everything an instance starts with.
#[derive(Debug, Clone)]
pub struct Blueprint {
    pub id: InstanceId,
    pub name: String,
    pub language: Language,
    pub timezone: String,
    pub ticket_number_format: String,
    /// Departments, numbered from 1 in this order.
    pub departments: Vec<String>,
    /// Help topics: name, index into `departments`, public.
    pub topics: Vec<(String, usize, bool)>,
    /// The first admin agent: name and e-mail; the password is generated.
    pub admin_name: String,
    pub admin_email: String,
    /// Receiving addresses and the rest of the mail settings.
    pub mail: MailSettings,
}

/// What provisioning returns: the only time the admin's password is known in clear.
#[derive(Debug, Clone)]
pub struct Provisioned {
    pub instance: Instance,
    pub admin_email: String,
    pub admin_password: String,
}

/// The demo instance: a university with an IT service and an academic office.
#[must_use]
pub fn demo_blueprint() -> Blueprint {
    Blueprint {
        id: InstanceId::parse("demo").unwrap_or_else(|_| unreachable!("a valid slug")),
        name: "Demo University".into(),
        language: Language::En,
        timezone: "Europe/Madrid".into(),
        ticket_number_format: "######".into(),
        departments: vec!["IT Support".into(), "Academic Office".into()],
        topics: vec![
            ("Account and password".into(), 0, true),
            ("Wi-Fi and network".into(), 0, true),
            ("Enrolment and certificates".into(), 1, true),
        ],
        admin_name: "Demo Admin".into(),
        admin_email: "admin@demo.taquilla.test".into(),
        mail: MailSettings {
            mailboxes: vec![
                Mailbox {
                    address: "support@demo.taquilla.test".into(),
                    department: DepartmentId(1),
                    topic: None,
                    priority: None,
                },
                Mailbox {
                    address: "academic@demo.taquilla.test".into(),
                    department: DepartmentId(2),
                    topic: None,
                    priority: None,
                },
            ],
            ..MailSettings::default()
        },
    }
}

fn default_roles() -> Vec<Role> {
    let limited = [
        Permission::TicketCreate,
        Permission::TicketReply,
        Permission::TicketNote,
        Permission::TicketClose,
        Permission::TaskCreate,
        Permission::StatsView,
    ];
    vec![
        Role {
            id: RoleId(1),
            name: "All access".into(),
            permissions: Permission::ALL.into_iter().collect(),
        },
        Role {
            id: RoleId(2),
            name: "Limited access".into(),
            permissions: limited.into_iter().collect::<BTreeSet<_>>(),
        },
    ]
}

/// osTicket's default status list: one status per state, plus "Resolved".
fn default_statuses() -> Vec<Status> {
    [
        ("Open", State::Open),
        ("Resolved", State::Closed),
        ("Closed", State::Closed),
        ("Archived", State::Archived),
        ("Deleted", State::Deleted),
    ]
    .into_iter()
    .zip(1..)
    .map(|((name, state), n)| Status {
        id: StatusId(n),
        name: name.into(),
        state,
    })
    .collect()
}

/// osTicket's default priorities, most urgent first.
fn default_priorities() -> Vec<Priority> {
    [("Emergency", 1), ("High", 2), ("Normal", 3), ("Low", 4)]
        .into_iter()
        .zip(1..)
        .map(|((name, urgency), n)| Priority {
            id: PriorityId(n),
            name: name.into(),
            urgency,
        })
        .collect()
}

/// Puts a configuration object (or the settings) at version 1, as
/// [`admin::records`](super::admin::records) versions every object.
fn put_versioned(item: Item) -> WriteOp {
    put_new(item.with(super::admin::records::VERSION_ATTR, 1))
}

/// Puts a named configuration object at version 1 with the claim on its
/// name, as [`admin::objects`](super::admin::objects) creates one.
fn put_named<K: Record>(id: &InstanceId, object: &K) -> Result<[WriteOp; 2], ServiceError> {
    let number = object.id().number();
    Ok([
        put_versioned(codec::encode(keys::object(id, K::KIND, number), object)?),
        put_new(names::claim_item(id, K::KIND, object.name(), number)),
    ])
}

fn put_new(item: Item) -> WriteOp {
    WriteOp::Put {
        item,
        condition: Some(Condition::Absent),
    }
}

fn sequence_at(id: &InstanceId, kind: &str, last: usize) -> Result<WriteOp, ServiceError> {
    let last = i64::try_from(last).map_err(|_| ServiceError::Invalid {
        field: kind.to_owned(),
        message: "too many objects".into(),
    })?;
    Ok(put_new(
        Item::new(keys::sequence(id, kind)).with(keys::SEQUENCE_ATTR, last),
    ))
}

fn number(n: usize) -> Result<u32, ServiceError> {
    u32::try_from(n + 1).map_err(|_| ServiceError::Invalid {
        field: "blueprint".into(),
        message: "too many objects".into(),
    })
}

/// Creates the instance of `blueprint`, all of it or nothing.
///
/// Fails with [`ServiceError::Conflict`] if the instance exists.
pub async fn provision(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    blueprint: &Blueprint,
) -> Result<Provisioned, ServiceError> {
    let id = &blueprint.id;
    let instance = Instance {
        id: id.clone(),
        name: blueprint.name.clone(),
        language: blueprint.language,
        timezone: blueprint.timezone.clone(),
        ticket_number_format: blueprint.ticket_number_format.clone(),
        online: true,
        lock_seconds: crate::domain::instance::DEFAULT_LOCK_SECONDS,
        mail: blueprint.mail.clone(),
        created_at: clock.now_ms(),
    };
    let mut ops = vec![
        put_new(Item::new(keys::directory_entry(id)).with("name", blueprint.name.clone())),
        put_versioned(codec::encode(keys::instance_config(id), &instance)?),
    ];
    for mailbox in &blueprint.mail.mailboxes {
        ops.push(put_new(
            Item::new(keys::mail::mailbox_route(&mailbox.address))
                .with(keys::mail::ROUTE_INSTANCE_ATTR, id.to_string()),
        ));
    }
    for (n, name) in blueprint.departments.iter().enumerate() {
        let dept = Department::new(DepartmentId(number(n)?), name.clone());
        ops.extend(put_named(id, &dept)?);
    }
    for (n, (name, dept, public)) in blueprint.topics.iter().enumerate() {
        if *dept >= blueprint.departments.len() {
            return Err(ServiceError::Invalid {
                field: "topics".into(),
                message: format!("topic {name:?} names a department that does not exist"),
            });
        }
        let topic = HelpTopic {
            public: *public,
            ..HelpTopic::new(
                TopicId(number(n)?),
                name.clone(),
                DepartmentId(number(*dept)?),
            )
        };
        ops.extend(put_named(id, &topic)?);
    }
    let roles = default_roles();
    for role in &roles {
        ops.extend(put_named(id, role)?);
    }
    let admin_password = password::generate(20)?;
    let email = blueprint.admin_email.to_lowercase();
    let admin = Agent {
        id: AgentId(1),
        name: blueprint.admin_name.clone(),
        email: email.clone(),
        password_hash: password::hash(&admin_password)?,
        admin: true,
        department: DepartmentId(1),
        role: RoleId(1),
        access: std::collections::BTreeMap::new(),
        teams: Vec::new(),
        active: true,
        on_vacation: false,
    };
    ops.push(put_versioned(codec::encode(
        keys::object(id, AgentId::KIND, admin.id.0),
        &admin,
    )?));
    ops.push(put_new(
        Item::new(keys::agent_email(id, &email)).with("agent", i64::from(admin.id.0)),
    ));
    let statuses = default_statuses();
    for status in &statuses {
        ops.extend(put_named(id, status)?);
    }
    let priorities = default_priorities();
    for priority in &priorities {
        ops.extend(put_named(id, priority)?);
    }
    ops.push(sequence_at(id, StatusId::KIND, statuses.len())?);
    ops.push(sequence_at(id, PriorityId::KIND, priorities.len())?);
    ops.push(sequence_at(
        id,
        DepartmentId::KIND,
        blueprint.departments.len(),
    )?);
    ops.push(sequence_at(id, TopicId::KIND, blueprint.topics.len())?);
    ops.push(sequence_at(id, RoleId::KIND, roles.len())?);
    ops.push(sequence_at(id, AgentId::KIND, 1)?);

    match store.transact(ops).await {
        Ok(()) => Ok(Provisioned {
            instance,
            admin_email: email,
            admin_password,
        }),
        Err(StoreError::TransactionCanceled { .. }) => {
            Err(ServiceError::Conflict(format!("instance {id}")))
        }
        Err(other) => Err(other.into()),
    }
}

/// Provisions the demo instance unless it exists; `None` when it did.
pub async fn ensure_demo(
    store: &dyn ItemStore,
    clock: &dyn Clock,
) -> Result<Option<Provisioned>, ServiceError> {
    match provision(store, clock, &demo_blueprint()).await {
        Ok(done) => Ok(Some(done)),
        Err(ServiceError::Conflict(_)) => Ok(None),
        Err(other) => Err(other),
    }
}
