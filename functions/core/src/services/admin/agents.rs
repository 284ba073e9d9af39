//! Agents: created with a generated password shown once, edited, moved
//! between departments, deactivated (never deleted: tickets and threads name
//! them), sent on vacation, and given new passwords.
//!
//! A new agent also gets the welcome mail, written to the outbox in the
//! same transaction as the agent, with a single-use link to choose its own
//! password (`accounts::links`): the generated password answered to the
//! administrator is for an instance that sends no mail, and stops
//! mattering once the agent chooses one. A reset may likewise answer a
//! generated password, or ([`send_reset_link`], what the agent portal
//! uses) revoke the current password and mail the agent a reset link, so
//! no administrator ever knows an agent's password.
//!
//! An agent's e-mail is unique in its instance through a claim item
//! ([`keys::agent_email`]) written in the same transaction as the agent;
//! changing the e-mail moves the claim. Team membership is kept by
//! [`super::teams`], which writes both sides.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::objects::set;
use super::records::{self, Versioned};
use super::{access, ids, validate};
use crate::domain::{Agent, AgentId, DepartmentId, RoleId, TeamId};
use crate::keys;
use crate::password;
use crate::services::accounts::links;
use crate::services::{Actor, Ctx, ServiceError};
use crate::store::{Condition, Item, Update, WriteOp, codec};

const KIND: &str = AgentId::KIND;
/// Length of generated passwords.
const PASSWORD_CHARS: usize = 20;

/// An agent as the API shows it: everything but the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentView {
    pub id: AgentId,
    pub name: String,
    pub email: String,
    pub admin: bool,
    pub department: DepartmentId,
    pub role: RoleId,
    pub access: BTreeMap<DepartmentId, RoleId>,
    pub teams: Vec<TeamId>,
    pub active: bool,
    pub on_vacation: bool,
}

impl From<Agent> for AgentView {
    fn from(a: Agent) -> Self {
        Self {
            id: a.id,
            name: a.name,
            email: a.email,
            admin: a.admin,
            department: a.department,
            role: a.role,
            access: a.access,
            teams: a.teams,
            active: a.active,
            on_vacation: a.on_vacation,
        }
    }
}

/// An agent with a password in clear: returned once, when it is generated.
#[derive(Debug, Clone, Serialize)]
pub struct WithPassword {
    pub agent: Versioned<AgentView>,
    pub password: String,
}

/// An agent to create.
#[derive(Debug, Clone, Deserialize)]
pub struct NewAgent {
    pub name: String,
    pub email: String,
    /// Primary department and the role there.
    pub department: DepartmentId,
    pub role: RoleId,
    #[serde(default)]
    pub admin: bool,
    /// Further departments, each with its role.
    #[serde(default)]
    pub access: BTreeMap<DepartmentId, RoleId>,
}

/// Changes to an agent made from `version`; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AgentChanges {
    pub version: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub department: Option<DepartmentId>,
    #[serde(default)]
    pub role: Option<RoleId>,
    #[serde(default)]
    pub admin: Option<bool>,
    #[serde(default)]
    pub access: Option<BTreeMap<DepartmentId, RoleId>>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub on_vacation: Option<bool>,
}

fn view(agent: Versioned<Agent>) -> Versioned<AgentView> {
    agent.map(AgentView::from)
}

/// Every agent of the instance (administrators only).
pub async fn list(ctx: Ctx<'_>, actor: &Actor) -> Result<Vec<Versioned<AgentView>>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    Ok(records::list(&ctx, KIND)
        .await?
        .into_iter()
        .map(view)
        .collect())
}

/// One agent (administrators only).
pub async fn get(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: AgentId,
) -> Result<Versioned<AgentView>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    records::load(&ctx, KIND, id.0, "agent").await.map(view)
}

/// The agent with `email` (administrators only).
pub async fn by_email(
    ctx: Ctx<'_>,
    actor: &Actor,
    email: &str,
) -> Result<Versioned<AgentView>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let id = claimant(&ctx, email)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("agent {email}")))?;
    records::load(&ctx, KIND, id, "agent").await.map(view)
}

/// `email` as agents' addresses are stored (trimmed, lower case), or
/// `Invalid` naming `field` when it is no address.
pub(crate) fn checked_email(field: &str, email: &str) -> Result<String, ServiceError> {
    validate::email(field, email)
}

/// The id of the agent holding the claim on `email`, if any.
pub(crate) async fn claimant(ctx: &Ctx<'_>, email: &str) -> Result<Option<u32>, ServiceError> {
    Ok(ctx
        .store
        .get(&keys::agent_email(ctx.instance, email))
        .await?
        .and_then(|item| item.get_i64("agent"))
        .and_then(|n| u32::try_from(n).ok()))
}

fn email_taken(email: &str) -> ServiceError {
    validate::invalid(
        "email",
        format!("{email} is already the e-mail of another agent"),
    )
}

/// The agent acting, when an agent acts (for "created by" in mail).
fn acting_agent(actor: &Actor) -> Option<AgentId> {
    match actor {
        Actor::Agent(access) => Some(access.agent.id),
        _ => None,
    }
}

/// Creates an agent with a generated password (administrators only), and
/// its welcome mail with a link to choose its own, in one transaction.
pub async fn create(
    ctx: Ctx<'_>,
    actor: &Actor,
    new: NewAgent,
) -> Result<WithPassword, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let password = password::generate(PASSWORD_CHARS)?;
    let mut agent = Agent {
        id: AgentId(0),
        name: new.name,
        email: new.email,
        password_hash: password::hash(&password)?,
        admin: new.admin,
        department: new.department,
        role: new.role,
        access: new.access,
        teams: Vec::new(),
        active: true,
        on_vacation: false,
    };
    check(&ctx, &mut agent).await?;
    if claimant(&ctx, &agent.email).await?.is_some() {
        return Err(email_taken(&agent.email));
    }
    agent.id = AgentId(ids::next(ctx.store, ctx.instance, KIND).await?);
    let mut ops = vec![
        records::create_op(&ctx, KIND, agent.id.0, &agent)?,
        claim_op(&ctx, &agent),
    ];
    ops.extend(links::welcome_ops(&ctx, agent.id, acting_agent(actor))?);
    let email = agent.email.clone();
    records::commit(&ctx, ops, "agent", |i| {
        (i == 1).then(|| email_taken(&email))
    })
    .await?;
    Ok(WithPassword {
        agent: view(Versioned {
            record: agent,
            version: 1,
        }),
        password,
    })
}

fn claim_op(ctx: &Ctx<'_>, agent: &Agent) -> WriteOp {
    WriteOp::Put {
        item: Item::new(keys::agent_email(ctx.instance, &agent.email))
            .with("agent", i64::from(agent.id.0)),
        condition: Some(Condition::Absent),
    }
}

/// Applies `changes` if the agent is still at `changes.version`; a new
/// e-mail moves the agent's claim in the same transaction.
pub async fn update(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: AgentId,
    changes: AgentChanges,
) -> Result<Versioned<AgentView>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let what = format!("agent {id}");
    let current: Versioned<Agent> = records::load(&ctx, KIND, id.0, "agent").await?;
    records::check_version(&what, current.version, changes.version)?;
    let mut agent = current.record.clone();
    set(&mut agent.name, changes.name);
    set(&mut agent.email, changes.email);
    set(&mut agent.department, changes.department);
    set(&mut agent.role, changes.role);
    set(&mut agent.admin, changes.admin);
    set(&mut agent.access, changes.access);
    set(&mut agent.active, changes.active);
    set(&mut agent.on_vacation, changes.on_vacation);
    if !agent.admin || !agent.active {
        not_self(actor, id)?;
    }
    check(&ctx, &mut agent).await?;
    let mut ops = vec![records::replace_op(
        &ctx,
        KIND,
        id.0,
        &agent,
        current.version,
    )?];
    let moved = agent.email != current.record.email;
    if moved {
        if claimant(&ctx, &agent.email).await?.is_some() {
            return Err(email_taken(&agent.email));
        }
        ops.push(WriteOp::Delete {
            key: keys::agent_email(ctx.instance, &current.record.email),
            condition: None,
        });
        ops.push(claim_op(&ctx, &agent));
    }
    let email = agent.email.clone();
    records::commit(&ctx, ops, &what, |i| {
        (moved && i == 2).then(|| email_taken(&email))
    })
    .await?;
    Ok(view(Versioned {
        record: agent,
        version: current.version + 1,
    }))
}

/// An administrator does not take away its own access (someone must remain
/// able to configure the instance).
fn not_self(actor: &Actor, id: AgentId) -> Result<(), ServiceError> {
    match actor {
        Actor::Agent(access) if access.agent.id == id => Err(validate::invalid(
            "admin",
            "administrators cannot deactivate themselves or drop their own admin flag",
        )),
        _ => Ok(()),
    }
}

/// Activates or deactivates an agent (deactivated agents cannot sign in).
pub async fn set_active(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: AgentId,
    active: bool,
) -> Result<Versioned<AgentView>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    if !active {
        not_self(actor, id)?;
    }
    set_attr(&ctx, id, "active", active.into()).await
}

/// Sends an agent on vacation or back (agents away get no automatic assignments).
pub async fn set_vacation(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: AgentId,
    on_vacation: bool,
) -> Result<Versioned<AgentView>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    set_attr(&ctx, id, "on_vacation", on_vacation.into()).await
}

/// Gives an agent a new generated password, returned once.
pub async fn reset_password(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: AgentId,
) -> Result<WithPassword, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let password = password::generate(PASSWORD_CHARS)?;
    let hash = password::hash(&password)?;
    let agent = set_attr(&ctx, id, "password_hash", hash.into()).await?;
    Ok(WithPassword { agent, password })
}

/// What an administrator's reset by link answers: the agent, and when the
/// link mailed to it expires (epoch ms).
#[derive(Debug, Clone, Serialize)]
pub struct ResetLinkSent {
    pub agent: Versioned<AgentView>,
    pub link_expires_at: i64,
}

/// Revokes the agent's password (it gets a random one nobody knows) and
/// mails it a reset link, in one transaction; the agent must be active.
/// What a help desk does when an agent forgot its password or may have
/// given it away: the administrator never learns the new one.
pub async fn send_reset_link(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: AgentId,
) -> Result<ResetLinkSent, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let what = format!("agent {id}");
    let current: Versioned<Agent> = records::load(&ctx, KIND, id.0, "agent").await?;
    if !current.record.active {
        return Err(validate::invalid(
            "active",
            "the agent is inactive: activate it before sending it a password link",
        ));
    }
    let mut agent = current.record.clone();
    agent.password_hash = password::hash(&password::generate(PASSWORD_CHARS)?)?;
    let (expires_at, link_ops) = links::admin_reset_ops(&ctx, id, acting_agent(actor)).await?;
    let mut ops = vec![records::replace_op(
        &ctx,
        KIND,
        id.0,
        &agent,
        current.version,
    )?];
    ops.extend(link_ops);
    records::commit(&ctx, ops, &what, |_| None).await?;
    Ok(ResetLinkSent {
        agent: view(Versioned {
            record: agent,
            version: current.version + 1,
        }),
        link_expires_at: expires_at,
    })
}

/// Sets one attribute of an existing agent, bumping its version. Such
/// single-field changes do not conflict with each other.
async fn set_attr(
    ctx: &Ctx<'_>,
    id: AgentId,
    attr: &str,
    value: crate::store::Value,
) -> Result<Versioned<AgentView>, ServiceError> {
    let update = Update::new(records::key(ctx, KIND, id.0))
        .set(attr, value)
        .add(records::VERSION_ATTR, 1)
        .when(Condition::Exists);
    let item = match ctx.store.update(update).await {
        Ok(item) => item,
        Err(crate::store::StoreError::ConditionFailed) => {
            return Err(ServiceError::NotFound(format!("agent {id}")));
        }
        Err(other) => return Err(other.into()),
    };
    let agent: Agent = codec::decode(&item)?;
    Ok(view(Versioned {
        record: agent,
        version: item.get_i64(records::VERSION_ATTR).unwrap_or(0),
    }))
}

/// Validates `agent` (normalising name and e-mail): its departments and
/// roles exist.
async fn check(ctx: &Ctx<'_>, agent: &mut Agent) -> Result<(), ServiceError> {
    agent.name = validate::name("name", &agent.name)?;
    agent.email = validate::email("email", &agent.email)?;
    let departments = std::iter::once(("department", agent.department))
        .chain(agent.access.keys().map(|d| ("access", *d)));
    for (field, department) in departments {
        if !records::exists(ctx, DepartmentId::KIND, department.0).await? {
            return Err(validate::invalid(
                field,
                format!("department {department} does not exist"),
            ));
        }
    }
    let roles =
        std::iter::once(("role", agent.role)).chain(agent.access.values().map(|r| ("access", *r)));
    for (field, role) in roles {
        if !records::exists(ctx, RoleId::KIND, role.0).await? {
            return Err(validate::invalid(
                field,
                format!("role {role} does not exist"),
            ));
        }
    }
    Ok(())
}
