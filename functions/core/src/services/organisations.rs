//! Organisations: users grouped, e.g. by the mail domain of a faculty.
//!
//! Stored in the instance partition as `ORG#{id:010}` (ids from the `ORG`
//! sequence); an instance has few, so finding one by domain reads them all.

use super::{Actor, Ctx, Page, ServiceError};
use crate::domain::{OrgId, Organisation, Permission, UserId};
use crate::keys;
use crate::store::{Condition, Query, StoreError, Update, codec};

/// What a new organisation starts with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewOrganisation {
    pub name: String,
    /// Mail domains whose users join automatically, e.g. `physics.uni.edu`.
    pub domains: Vec<String>,
    pub managers: Vec<UserId>,
    pub default_collaborators: Vec<String>,
}

/// Changes to an organisation; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganisationPatch {
    pub name: Option<String>,
    pub domains: Option<Vec<String>>,
    pub managers: Option<Vec<UserId>>,
    pub default_collaborators: Option<Vec<String>>,
}

/// Organisations are instance-wide: `org.manage` in the agent's primary
/// department (administrators and the system always may).
fn require_manage(actor: &Actor) -> Result<(), ServiceError> {
    match actor {
        Actor::Agent(access) => actor.require(Permission::OrgManage, access.agent.department),
        Actor::System(_) => Ok(()),
        Actor::User(_) | Actor::ApiKey { .. } => Err(ServiceError::Forbidden(
            Permission::OrgManage.as_str().into(),
        )),
    }
}

fn check_name(name: &str) -> Result<String, ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 128 {
        return Err(ServiceError::Invalid {
            field: "name".into(),
            message: "1 to 128 characters".into(),
        });
    }
    Ok(name.to_owned())
}

/// Domains lower-cased, without a leading `@`, each with a dot.
fn check_domains(domains: Vec<String>) -> Result<Vec<String>, ServiceError> {
    let mut out: Vec<String> = Vec::with_capacity(domains.len());
    for domain in domains {
        let domain = domain.trim().trim_start_matches('@').to_lowercase();
        if !domain.contains('.')
            || domain.split('.').any(str::is_empty)
            || domain
                .chars()
                .any(|c| c.is_whitespace() || c == '@' || c == '#')
        {
            return Err(ServiceError::Invalid {
                field: "domains".into(),
                message: format!("{domain:?} is not a mail domain"),
            });
        }
        if !out.contains(&domain) {
            out.push(domain);
        }
    }
    Ok(out)
}

/// Creates an organisation with the next id.
pub async fn create(
    ctx: &Ctx<'_>,
    actor: &Actor,
    new: NewOrganisation,
) -> Result<Organisation, ServiceError> {
    require_manage(actor)?;
    let name = check_name(&new.name)?;
    let domains = check_domains(new.domains)?;
    let seq = ctx
        .store
        .update(Update::new(keys::sequence(ctx.instance, OrgId::KIND)).add(keys::SEQUENCE_ATTR, 1))
        .await?;
    let id = seq
        .get_i64(keys::SEQUENCE_ATTR)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| StoreError::Corrupt("the ORG sequence is not a u32".into()))?;
    let org = Organisation {
        id: OrgId(id),
        name,
        domains,
        managers: new.managers,
        default_collaborators: new.default_collaborators,
    };
    let item = codec::encode(keys::object(ctx.instance, OrgId::KIND, id), &org)?;
    match ctx.store.put(item, Some(Condition::Absent)).await {
        Err(StoreError::ConditionFailed) => {
            Err(ServiceError::Conflict(format!("organisation {id}")))
        }
        other => Ok(other.map(|()| org)?),
    }
}

/// The organisation with this id.
pub async fn get(ctx: &Ctx<'_>, id: OrgId) -> Result<Organisation, ServiceError> {
    let item = ctx
        .store
        .get(&keys::object(ctx.instance, OrgId::KIND, id.0))
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("organisation {id}")))?;
    Ok(codec::decode(&item)?)
}

/// One page of the instance's organisations, by id.
pub async fn list(
    ctx: &Ctx<'_>,
    cursor: Option<String>,
    limit: u32,
) -> Result<Page<Organisation>, ServiceError> {
    let query = Query::table(keys::instance_pk(ctx.instance))
        .sk(keys::objects_of(OrgId::KIND))
        .limit(limit.clamp(1, crate::store::MAX_QUERY_LIMIT))
        .after(cursor);
    Ok(Page::decode(ctx.store.query(&query).await?)?)
}

/// The organisation whose domains contain `domain`, if any (the one with
/// the lowest id when several claim it).
pub async fn by_domain(ctx: &Ctx<'_>, domain: &str) -> Result<Option<Organisation>, ServiceError> {
    let mut cursor = None;
    loop {
        let page = list(ctx, cursor, crate::store::MAX_QUERY_LIMIT).await?;
        if let Some(org) = page
            .items
            .into_iter()
            .find(|org| org.domains.iter().any(|d| d == domain))
        {
            return Ok(Some(org));
        }
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(None),
        }
    }
}

/// Applies `patch` to the organisation.
pub async fn update(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: OrgId,
    patch: OrganisationPatch,
) -> Result<Organisation, ServiceError> {
    require_manage(actor)?;
    let mut org = get(ctx, id).await?;
    if let Some(name) = patch.name {
        org.name = check_name(&name)?;
    }
    if let Some(domains) = patch.domains {
        org.domains = check_domains(domains)?;
    }
    if let Some(managers) = patch.managers {
        org.managers = managers;
    }
    if let Some(collaborators) = patch.default_collaborators {
        org.default_collaborators = collaborators;
    }
    let item = codec::encode(keys::object(ctx.instance, OrgId::KIND, id.0), &org)?;
    ctx.store.put(item, Some(Condition::Exists)).await?;
    Ok(org)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalised_and_checked() {
        assert_eq!(
            check_domains(vec!["@Physics.Uni.edu".into(), "physics.uni.edu".into()]).unwrap(),
            vec!["physics.uni.edu".to_owned()]
        );
        assert!(check_domains(vec!["localhost".into()]).is_err());
    }
}
