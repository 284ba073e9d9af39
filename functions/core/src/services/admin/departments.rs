//! Departments: create, read, list, update, delete.

use serde::Deserialize;

use super::records::{self, Versioned};
use super::{access, ids, nullable, validate};
use crate::domain::{
    Agent, AgentId, AssignmentMode, Department, DepartmentId, HelpTopic, State, TopicId,
};
use crate::keys;
use crate::services::{Actor, Ctx, ServiceError};
use crate::store::{Index, Query, WriteOp};

const KIND: &str = DepartmentId::KIND;

/// A department to create.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewDepartment {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub parent: Option<DepartmentId>,
    #[serde(default)]
    pub manager: Option<AgentId>,
    #[serde(default)]
    pub sla: Option<u32>,
    #[serde(default)]
    pub members_only: bool,
    #[serde(default)]
    pub assignment: AssignmentMode,
}

/// Changes to a department made from `version`; absent fields stay,
/// `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DepartmentChanges {
    pub version: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub parent: Option<Option<DepartmentId>>,
    #[serde(default, deserialize_with = "nullable")]
    pub manager: Option<Option<AgentId>>,
    #[serde(default, deserialize_with = "nullable")]
    pub sla: Option<Option<u32>>,
    #[serde(default)]
    pub members_only: Option<bool>,
    #[serde(default)]
    pub assignment: Option<AssignmentMode>,
}

/// Every department of the instance; any agent of the instance may list them.
pub async fn list(ctx: Ctx<'_>, actor: &Actor) -> Result<Vec<Versioned<Department>>, ServiceError> {
    access::require_member(&ctx, actor).await?;
    records::list(&ctx, KIND).await
}

/// One department; any agent of the instance may read it.
pub async fn get(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: DepartmentId,
) -> Result<Versioned<Department>, ServiceError> {
    access::require_member(&ctx, actor).await?;
    records::load(&ctx, KIND, id.0, "department").await
}

/// Creates a department (administrators only).
pub async fn create(
    ctx: Ctx<'_>,
    actor: &Actor,
    new: NewDepartment,
) -> Result<Versioned<Department>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let mut department = Department {
        id: DepartmentId(0),
        name: new.name,
        email: new.email,
        parent: new.parent,
        manager: new.manager,
        sla: new.sla,
        members_only: new.members_only,
        assignment: new.assignment,
    };
    let existing = records::list::<Department>(&ctx, KIND).await?;
    check(&ctx, &mut department, None, &existing).await?;
    department.id = DepartmentId(ids::next(ctx.store, ctx.instance, KIND).await?);
    let op = records::create_op(&ctx, KIND, department.id.0, &department)?;
    records::commit(&ctx, vec![op], "department", |_| None).await?;
    Ok(Versioned {
        record: department,
        version: 1,
    })
}

/// Applies `changes` if the department is still at `changes.version`.
pub async fn update(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: DepartmentId,
    changes: DepartmentChanges,
) -> Result<Versioned<Department>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let what = format!("department {id}");
    let current: Versioned<Department> = records::load(&ctx, KIND, id.0, "department").await?;
    records::check_version(&what, current.version, changes.version)?;
    let mut department = current.record;
    if let Some(name) = changes.name {
        department.name = name;
    }
    if let Some(email) = changes.email {
        department.email = email;
    }
    if let Some(parent) = changes.parent {
        department.parent = parent;
    }
    if let Some(manager) = changes.manager {
        department.manager = manager;
    }
    if let Some(sla) = changes.sla {
        department.sla = sla;
    }
    if let Some(members_only) = changes.members_only {
        department.members_only = members_only;
    }
    if let Some(assignment) = changes.assignment {
        department.assignment = assignment;
    }
    let existing = records::list::<Department>(&ctx, KIND).await?;
    check(&ctx, &mut department, Some(id), &existing).await?;
    let op = records::replace_op(&ctx, KIND, id.0, &department, current.version)?;
    records::commit(&ctx, vec![op], &what, |_| None).await?;
    Ok(Versioned {
        record: department,
        version: current.version + 1,
    })
}

/// Deletes a department that nothing refers to: no tickets in any state, no
/// agent with access, no help topic and no sub-department (else `Conflict`).
pub async fn delete(ctx: Ctx<'_>, actor: &Actor, id: DepartmentId) -> Result<(), ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let what = format!("department {id}");
    let current: Versioned<Department> = records::load(&ctx, KIND, id.0, "department").await?;
    for state in [State::Open, State::Closed, State::Archived, State::Deleted] {
        let query = Query::index(
            Index::Gsi1,
            keys::queue::department(ctx.instance, id, state),
        )
        .limit(1);
        if !ctx.store.query(&query).await?.items.is_empty() {
            return Err(in_use(&what, &format!("a {} ticket", state.as_str())));
        }
    }
    let agents = records::list::<Agent>(&ctx, AgentId::KIND).await?;
    if let Some(agent) = agents
        .iter()
        .find(|a| a.record.departments().any(|d| d == id))
    {
        return Err(in_use(&what, &format!("agent {}", agent.record.email)));
    }
    let topics = records::list::<HelpTopic>(&ctx, TopicId::KIND).await?;
    if let Some(topic) = topics.iter().find(|t| t.record.department == id) {
        return Err(in_use(
            &what,
            &format!("help topic {:?}", topic.record.name),
        ));
    }
    let departments = records::list::<Department>(&ctx, KIND).await?;
    if let Some(child) = departments.iter().find(|d| d.record.parent == Some(id)) {
        return Err(in_use(
            &what,
            &format!("sub-department {:?}", child.record.name),
        ));
    }
    let op = WriteOp::Delete {
        key: records::key(&ctx, KIND, id.0),
        condition: Some(records::if_at(current.version)),
    };
    records::commit(&ctx, vec![op], &what, |_| None).await
}

/// Displays as "{what} is in use: {user} of it already exists".
fn in_use(what: &str, user: &str) -> ServiceError {
    ServiceError::Conflict(format!("{what} is in use: {user} of it"))
}

/// Validates `department` (normalising its name and e-mail) against the
/// instance's other departments and agents.
async fn check(
    ctx: &Ctx<'_>,
    department: &mut Department,
    own: Option<DepartmentId>,
    existing: &[Versioned<Department>],
) -> Result<(), ServiceError> {
    department.name = validate::name("name", &department.name)?;
    validate::unique_name(
        &department.name,
        own.map(|d| d.0),
        existing
            .iter()
            .map(|d| (d.record.id.0, d.record.name.as_str())),
    )?;
    if let Some(email) = &department.email {
        department.email = Some(validate::email("email", email)?);
    }
    if let Some(parent) = department.parent {
        validate::parent("parent", own.map(|d| d.0), parent.0, |at| {
            existing
                .iter()
                .find(|d| d.record.id.0 == at)
                .map(|d| d.record.parent.map(|p| p.0))
        })?;
    }
    if let Some(manager) = department.manager
        && ctx
            .store
            .get(&records::key(ctx, AgentId::KIND, manager.0))
            .await?
            .is_none()
    {
        return Err(validate::invalid(
            "manager",
            format!("agent {manager} does not exist"),
        ));
    }
    Ok(())
}
