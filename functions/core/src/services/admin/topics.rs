//! Help topics: create, read, list, update, delete.

use serde::Deserialize;

use super::records::{self, Versioned};
use super::{access, ids, nullable, validate};
use crate::domain::{AgentId, AutoAssign, DepartmentId, HelpTopic, PriorityId, TeamId, TopicId};
use crate::services::{Actor, Ctx, ServiceError};
use crate::store::WriteOp;

const KIND: &str = TopicId::KIND;

/// A help topic to create.
#[derive(Debug, Clone, Deserialize)]
pub struct NewTopic {
    pub name: String,
    pub department: DepartmentId,
    #[serde(default = "yes")]
    pub public: bool,
    #[serde(default)]
    pub parent: Option<TopicId>,
    #[serde(default)]
    pub priority: Option<PriorityId>,
    #[serde(default)]
    pub sla: Option<u32>,
    #[serde(default)]
    pub auto_assign: Option<AutoAssign>,
    #[serde(default = "yes")]
    pub auto_response: bool,
    #[serde(default)]
    pub number_format: Option<String>,
    #[serde(default)]
    pub forms: Vec<u32>,
    #[serde(default)]
    pub default_collaborators: Vec<String>,
}

impl NewTopic {
    /// A public topic of `department` with nothing else configured.
    #[must_use]
    pub fn new(name: impl Into<String>, department: DepartmentId) -> Self {
        Self {
            name: name.into(),
            department,
            public: true,
            parent: None,
            priority: None,
            sla: None,
            auto_assign: None,
            auto_response: true,
            number_format: None,
            forms: Vec::new(),
            default_collaborators: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// Changes to a help topic made from `version`; absent fields stay, `null`
/// clears an optional one.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TopicChanges {
    pub version: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub department: Option<DepartmentId>,
    #[serde(default)]
    pub public: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub parent: Option<Option<TopicId>>,
    #[serde(default, deserialize_with = "nullable")]
    pub priority: Option<Option<PriorityId>>,
    #[serde(default, deserialize_with = "nullable")]
    pub sla: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    pub auto_assign: Option<Option<AutoAssign>>,
    #[serde(default)]
    pub auto_response: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub number_format: Option<Option<String>>,
    #[serde(default)]
    pub forms: Option<Vec<u32>>,
    #[serde(default)]
    pub default_collaborators: Option<Vec<String>>,
}

/// Every help topic of the instance; any agent of the instance may list them.
pub async fn list(ctx: Ctx<'_>, actor: &Actor) -> Result<Vec<Versioned<HelpTopic>>, ServiceError> {
    access::require_member(&ctx, actor).await?;
    records::list(&ctx, KIND).await
}

/// One help topic; any agent of the instance may read it.
pub async fn get(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: TopicId,
) -> Result<Versioned<HelpTopic>, ServiceError> {
    access::require_member(&ctx, actor).await?;
    records::load(&ctx, KIND, id.0, "help topic").await
}

/// Creates a help topic (administrators only).
pub async fn create(
    ctx: Ctx<'_>,
    actor: &Actor,
    new: NewTopic,
) -> Result<Versioned<HelpTopic>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let mut topic = HelpTopic {
        id: TopicId(0),
        name: new.name,
        department: new.department,
        public: new.public,
        parent: new.parent,
        priority: new.priority,
        sla: new.sla,
        auto_assign: new.auto_assign,
        auto_response: new.auto_response,
        number_format: new.number_format,
        forms: new.forms,
        default_collaborators: new.default_collaborators,
    };
    check(&ctx, &mut topic, None).await?;
    topic.id = TopicId(ids::next(ctx.store, ctx.instance, KIND).await?);
    let op = records::create_op(&ctx, KIND, topic.id.0, &topic)?;
    records::commit(&ctx, vec![op], "help topic", |_| None).await?;
    Ok(Versioned {
        record: topic,
        version: 1,
    })
}

/// Applies `changes` if the topic is still at `changes.version`.
pub async fn update(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: TopicId,
    changes: TopicChanges,
) -> Result<Versioned<HelpTopic>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let what = format!("help topic {id}");
    let current: Versioned<HelpTopic> = records::load(&ctx, KIND, id.0, "help topic").await?;
    records::check_version(&what, current.version, changes.version)?;
    let mut topic = current.record;
    if let Some(v) = changes.name {
        topic.name = v;
    }
    if let Some(v) = changes.department {
        topic.department = v;
    }
    if let Some(v) = changes.public {
        topic.public = v;
    }
    if let Some(v) = changes.parent {
        topic.parent = v;
    }
    if let Some(v) = changes.priority {
        topic.priority = v;
    }
    if let Some(v) = changes.sla {
        topic.sla = v;
    }
    if let Some(v) = changes.auto_assign {
        topic.auto_assign = v;
    }
    if let Some(v) = changes.auto_response {
        topic.auto_response = v;
    }
    if let Some(v) = changes.number_format {
        topic.number_format = v;
    }
    if let Some(v) = changes.forms {
        topic.forms = v;
    }
    if let Some(v) = changes.default_collaborators {
        topic.default_collaborators = v;
    }
    check(&ctx, &mut topic, Some(id)).await?;
    let op = records::replace_op(&ctx, KIND, id.0, &topic, current.version)?;
    records::commit(&ctx, vec![op], &what, |_| None).await?;
    Ok(Versioned {
        record: topic,
        version: current.version + 1,
    })
}

/// Deletes a help topic that is no other topic's parent (else `Conflict`).
/// Tickets keep the id of the topic they were opened with.
pub async fn delete(ctx: Ctx<'_>, actor: &Actor, id: TopicId) -> Result<(), ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let what = format!("help topic {id}");
    let current: Versioned<HelpTopic> = records::load(&ctx, KIND, id.0, "help topic").await?;
    let topics = records::list::<HelpTopic>(&ctx, KIND).await?;
    if let Some(child) = topics.iter().find(|t| t.record.parent == Some(id)) {
        return Err(ServiceError::Conflict(format!(
            "{what} is in use: sub-topic {:?} of it",
            child.record.name
        )));
    }
    let op = WriteOp::Delete {
        key: records::key(&ctx, KIND, id.0),
        condition: Some(records::if_at(current.version)),
    };
    records::commit(&ctx, vec![op], &what, |_| None).await
}

/// Validates `topic` (normalising its name): unique name, and every object
/// it refers to exists; its parent chain has no cycle.
async fn check(
    ctx: &Ctx<'_>,
    topic: &mut HelpTopic,
    own: Option<TopicId>,
) -> Result<(), ServiceError> {
    topic.name = validate::name("name", &topic.name)?;
    let existing = records::list::<HelpTopic>(ctx, KIND).await?;
    validate::unique_name(
        &topic.name,
        own.map(|t| t.0),
        existing
            .iter()
            .map(|t| (t.record.id.0, t.record.name.as_str())),
    )?;
    if let Some(parent) = topic.parent {
        validate::parent("parent", own.map(|t| t.0), parent.0, |at| {
            existing
                .iter()
                .find(|t| t.record.id.0 == at)
                .map(|t| t.record.parent.map(|p| p.0))
        })?;
    }
    if !records::exists(ctx, DepartmentId::KIND, topic.department.0).await? {
        return Err(validate::invalid(
            "department",
            format!("department {} does not exist", topic.department),
        ));
    }
    if let Some(priority) = topic.priority
        && !records::exists(ctx, PriorityId::KIND, priority.0).await?
    {
        return Err(validate::invalid(
            "priority",
            format!("priority {priority} does not exist"),
        ));
    }
    match topic.auto_assign {
        Some(AutoAssign::Agent(agent)) if !records::exists(ctx, AgentId::KIND, agent.0).await? => {
            return Err(validate::invalid(
                "auto_assign",
                format!("agent {agent} does not exist"),
            ));
        }
        Some(AutoAssign::Team(team)) if !records::exists(ctx, TeamId::KIND, team.0).await? => {
            return Err(validate::invalid(
                "auto_assign",
                format!("team {team} does not exist"),
            ));
        }
        _ => {}
    }
    if let Some(format) = &topic.number_format
        && format.trim().is_empty()
    {
        return Err(validate::invalid("number_format", "must not be empty"));
    }
    for address in &mut topic.default_collaborators {
        *address = validate::email("default_collaborators", address)?;
    }
    Ok(())
}
