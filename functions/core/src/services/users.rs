//! Users (requesters): found or created by e-mail address, each address
//! claimed by one user per instance.
//!
//! A user's profile lives in the instance's users partition; each of its
//! addresses is claimed by an item of its own (`keys::user_email`) written
//! in the same transaction, so two concurrent calls for one address yield
//! one user.

use super::{Actor, Ctx, Page, ServiceError, organisations};
use crate::domain::{Language, OrgId, Permission, User, UserId};
use crate::keys;
use crate::store::{Condition, Item, Query, StoreError, WriteOp, codec};

/// Longest e-mail address (RFC 5321's path limit).
const MAX_EMAIL_LEN: usize = 254;
/// Longest user name.
const MAX_NAME_LEN: usize = 128;
/// Attribute of an e-mail claim naming its user.
const CLAIM_USER_ATTR: &str = "user";

/// `email` trimmed and lower-cased, if it is a plausible address: one `@`,
/// a non-empty local part, a domain with a dot and no empty label, no
/// spaces or control characters, at most 254 characters.
pub fn normalise_email(email: &str) -> Result<String, ServiceError> {
    let email = email.trim().to_lowercase();
    let invalid = |message: &str| ServiceError::Invalid {
        field: "email".into(),
        message: format!("{email:?}: {message}"),
    };
    if email.is_empty() || email.len() > MAX_EMAIL_LEN {
        return Err(invalid("empty or longer than 254 characters"));
    }
    if email.chars().any(|c| {
        c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"' | '#')
    }) {
        return Err(invalid(
            "contains spaces or characters addresses do not have",
        ));
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(invalid("no '@'"));
    };
    if local.is_empty() || domain.contains('@') {
        return Err(invalid("one '@' after a non-empty local part"));
    }
    if !domain.contains('.') || domain.split('.').any(str::is_empty) {
        return Err(invalid("the domain needs dot-separated parts"));
    }
    Ok(email)
}

/// The domain of a normalised address.
fn domain_of(email: &str) -> &str {
    email.rsplit_once('@').map_or("", |(_, domain)| domain)
}

/// The user with this id.
pub async fn get(ctx: &Ctx<'_>, id: &UserId) -> Result<User, ServiceError> {
    let item = ctx
        .store
        .get(&keys::user(ctx.instance, id))
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("user {id}")))?;
    Ok(codec::decode(&item)?)
}

/// The user holding `email`, if any (an invalid address holds none).
pub async fn by_email(ctx: &Ctx<'_>, email: &str) -> Result<Option<User>, ServiceError> {
    let Ok(email) = normalise_email(email) else {
        return Ok(None);
    };
    let Some(claim) = ctx
        .store
        .get(&keys::user_email(ctx.instance, &email))
        .await?
    else {
        return Ok(None);
    };
    let id = claim
        .get_str(CLAIM_USER_ATTR)
        .and_then(|id| UserId::parse(id).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("the claim on {email} names no user")))?;
    Ok(Some(get(ctx, &id).await?))
}

/// The user with address `email`, created (with `name`, or the address's
/// local part when `name` is blank) if there is none. A new user joins the
/// organisation whose `domains` contain the address's domain.
pub async fn find_or_create(ctx: &Ctx<'_>, name: &str, email: &str) -> Result<User, ServiceError> {
    let email = normalise_email(email)?;
    if let Some(user) = by_email(ctx, &email).await? {
        return Ok(user);
    }
    let name = match name.trim() {
        "" => email.split('@').next().unwrap_or_default().to_owned(),
        name => name.chars().take(MAX_NAME_LEN).collect(),
    };
    let organisation = organisations::by_domain(ctx, domain_of(&email))
        .await?
        .map(|org| org.id);
    let user = User {
        id: UserId::generate(),
        name,
        emails: vec![email.clone()],
        organisation,
        language: None,
        phone: None,
        created_at: ctx.clock.now_ms(),
    };
    let ops = vec![
        WriteOp::Put {
            item: codec::encode(keys::user(ctx.instance, &user.id), &user)?,
            condition: Some(Condition::Absent),
        },
        claim_op(ctx, &email, &user.id),
    ];
    match ctx.store.transact(ops).await {
        Ok(()) => Ok(user),
        // Someone claimed the address first: theirs is the user.
        Err(StoreError::TransactionCanceled { .. }) => by_email(ctx, &email)
            .await?
            .ok_or_else(|| ServiceError::Conflict(format!("user {email}"))),
        Err(other) => Err(other.into()),
    }
}

fn claim_op(ctx: &Ctx<'_>, email: &str, user: &UserId) -> WriteOp {
    WriteOp::Put {
        item: Item::new(keys::user_email(ctx.instance, email))
            .with(CLAIM_USER_ATTR, user.to_string()),
        condition: Some(Condition::Absent),
    }
}

/// One page of the instance's users, in id (creation) order.
pub async fn list(
    ctx: &Ctx<'_>,
    cursor: Option<String>,
    limit: u32,
) -> Result<Page<User>, ServiceError> {
    let query = Query::table(keys::users_pk(ctx.instance))
        .limit(limit.clamp(1, crate::store::MAX_QUERY_LIMIT))
        .after(cursor);
    Ok(Page::decode(ctx.store.query(&query).await?)?)
}

/// Changes to a user's profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPatch {
    pub name: Option<String>,
    /// `Some(None)` clears the phone.
    pub phone: Option<Option<String>>,
    pub language: Option<Option<Language>>,
    pub organisation: Option<Option<OrgId>>,
}

/// Users are instance-wide: managing them needs `user.manage` in the
/// agent's primary department (administrators and the system always may).
fn require_manage(actor: &Actor) -> Result<(), ServiceError> {
    match actor {
        Actor::Agent(access) => actor.require(Permission::UserManage, access.agent.department),
        Actor::System(_) => Ok(()),
        Actor::User(_) | Actor::ApiKey { .. } => Err(ServiceError::Forbidden(
            Permission::UserManage.as_str().into(),
        )),
    }
}

/// Applies `patch` to the user.
pub async fn update(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &UserId,
    patch: UserPatch,
) -> Result<User, ServiceError> {
    require_manage(actor)?;
    let mut user = get(ctx, id).await?;
    if let Some(name) = patch.name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
            return Err(ServiceError::Invalid {
                field: "name".into(),
                message: "1 to 128 characters".into(),
            });
        }
        name.clone_into(&mut user.name);
    }
    if let Some(phone) = patch.phone {
        user.phone = phone;
    }
    if let Some(language) = patch.language {
        user.language = language;
    }
    if let Some(organisation) = patch.organisation {
        if let Some(org) = organisation {
            organisations::get(ctx, org)
                .await
                .map_err(|_| ServiceError::Invalid {
                    field: "organisation".into(),
                    message: format!("no organisation {org}"),
                })?;
        }
        user.organisation = organisation;
    }
    let item = codec::encode(keys::user(ctx.instance, id), &user)?;
    ctx.store.put(item, Some(Condition::Exists)).await?;
    Ok(user)
}

/// Gives the user a further address; fails with `Conflict` if another user
/// (or this one) holds it.
pub async fn add_email(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &UserId,
    email: &str,
) -> Result<User, ServiceError> {
    require_manage(actor)?;
    let email = normalise_email(email)?;
    let mut user = get(ctx, id).await?;
    user.emails.push(email.clone());
    let ops = vec![
        WriteOp::Put {
            item: codec::encode(keys::user(ctx.instance, id), &user)?,
            condition: Some(Condition::Exists),
        },
        claim_op(ctx, &email, id),
    ];
    match ctx.store.transact(ops).await {
        Ok(()) => Ok(user),
        Err(StoreError::TransactionCanceled { .. }) => {
            Err(ServiceError::Conflict(format!("the address {email}")))
        }
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_lower_cased_and_checked() {
        assert_eq!(normalise_email(" Ana@UNI.Edu ").unwrap(), "ana@uni.edu");
        for bad in [
            "",
            "ana",
            "@uni.edu",
            "ana@",
            "ana@uni",
            "a@b@c.d",
            "a b@c.d",
            "ana@uni..edu",
            "<a@b.c>",
        ] {
            assert!(
                matches!(normalise_email(bad), Err(ServiceError::Invalid { ref field, .. }) if field == "email"),
                "{bad:?}"
            );
        }
        assert_eq!(domain_of("ana@uni.edu"), "uni.edu");
    }
}
