//! Instances: created whole (settings, a first department and topic, roles,
//! statuses, priorities and the first administrator) by
//! [`provision`](crate::services::provision), listed, and configured by
//! their administrators.

use crate::services::tickets::locks::MAX_LOCK_SECS;
use serde::Deserialize;

use super::records::{self, Versioned};
use super::{access, validate};
use crate::clock::Clock;
use crate::domain::{
    DepartmentId, Instance, InstanceId, Language, MailSettings, PriorityId, TopicId,
};
use crate::keys;
use crate::services::provision::{self, Blueprint, Provisioned};
use crate::services::{Actor, Ctx, ServiceError, directory};
use crate::store::{Condition, Item, ItemStore, Update, WriteOp, codec};

/// The settings of a new instance and its first administrator.
#[derive(Debug, Clone, Deserialize)]
pub struct CreateInstance {
    pub slug: String,
    pub name: String,
    #[serde(default = "default_language")]
    pub language: Language,
    #[serde(default = "default_timezone")]
    pub timezone: String,
    #[serde(default = "default_number_format")]
    pub number_format: String,
    pub admin_name: String,
    pub admin_email: String,
}

fn default_language() -> Language {
    Language::Ca
}

fn default_timezone() -> String {
    "Europe/Madrid".into()
}

fn default_number_format() -> String {
    "######".into()
}

/// Changes to the instance's settings made from `version`; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InstanceChanges {
    pub version: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub language: Option<Language>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub ticket_number_format: Option<String>,
    #[serde(default)]
    pub online: Option<bool>,
    /// Seconds an agent's collision lock lasts, 1 to an hour.
    #[serde(default)]
    pub lock_seconds: Option<u32>,
    /// The whole mail settings (mailboxes, limits, auto-responses, alerts).
    #[serde(default)]
    pub mail: Option<MailSettings>,
}

/// Name of the department (and help topic) a new instance starts with.
const FIRST_DEPARTMENT: &str = "General";
const FIRST_TOPIC: &str = "General enquiry";

/// Creates an instance, all of it or nothing; the administrator's password
/// is in the result, and nowhere else ever again. For operators (the CLI):
/// no actor is checked. An existing slug is a `Conflict`.
pub async fn create(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    new: CreateInstance,
) -> Result<Provisioned, ServiceError> {
    let id =
        InstanceId::parse(new.slug.trim()).map_err(|e| validate::invalid("slug", e.to_string()))?;
    let blueprint = Blueprint {
        id,
        name: validate::name("name", &new.name)?,
        language: new.language,
        timezone: timezone(&new.timezone)?,
        ticket_number_format: number_format("number_format", &new.number_format)?,
        departments: vec![FIRST_DEPARTMENT.into()],
        topics: vec![(FIRST_TOPIC.into(), 0, true)],
        admin_name: validate::name("admin_name", &new.admin_name)?,
        admin_email: validate::email("admin_email", &new.admin_email)?,
        mail: crate::domain::MailSettings::default(),
    };
    provision::provision(store, clock, &blueprint).await
}

/// Every instance of the deployment. For operators (the CLI).
pub async fn list(store: &dyn ItemStore) -> Result<Vec<Instance>, ServiceError> {
    directory::list_instances(store).await
}

/// The call's instance; any agent of it may read its settings.
pub async fn get(ctx: Ctx<'_>, actor: &Actor) -> Result<Versioned<Instance>, ServiceError> {
    access::require_member(&ctx, actor).await?;
    load(&ctx).await
}

async fn load(ctx: &Ctx<'_>) -> Result<Versioned<Instance>, ServiceError> {
    let item = ctx
        .store
        .get(&keys::instance_config(ctx.instance))
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("instance {}", ctx.instance)))?;
    records::decode(&item)
}

/// Applies `changes` if the settings are still at `changes.version`
/// (administrators only); a new name is also written to the directory.
pub async fn update(
    ctx: Ctx<'_>,
    actor: &Actor,
    changes: InstanceChanges,
) -> Result<Versioned<Instance>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let what = format!("instance {}", ctx.instance);
    let current = load(&ctx).await?;
    records::check_version(&what, current.version, changes.version)?;
    let mut instance = current.record;
    if let Some(name) = changes.name {
        instance.name = validate::name("name", &name)?;
    }
    if let Some(language) = changes.language {
        instance.language = language;
    }
    if let Some(tz) = changes.timezone {
        instance.timezone = timezone(&tz)?;
    }
    if let Some(format) = changes.ticket_number_format {
        instance.ticket_number_format = number_format("ticket_number_format", &format)?;
    }
    if let Some(online) = changes.online {
        instance.online = online;
    }
    if let Some(secs) = changes.lock_seconds {
        if !(1..=MAX_LOCK_SECS).contains(&i64::from(secs)) {
            return Err(validate::invalid(
                "lock_seconds",
                format!("must be between 1 and {MAX_LOCK_SECS}"),
            ));
        }
        instance.lock_seconds = secs;
    }
    let mut route_ops = Vec::new();
    if let Some(mail) = changes.mail {
        let mail = mail
            .checked()
            .map_err(|(field, message)| validate::invalid(field, message))?;
        check_mailbox_targets(&ctx, &mail).await?;
        route_ops = mailbox_route_ops(&ctx, &instance.mail, &mail).await?;
        instance.mail = mail;
    }
    let mut ops = vec![
        WriteOp::Put {
            item: codec::encode(keys::instance_config(ctx.instance), &instance)?
                .with(records::VERSION_ATTR, current.version + 1),
            condition: Some(records::if_at(current.version)),
        },
        WriteOp::Update(
            Update::new(keys::directory_entry(ctx.instance))
                .set("name", instance.name.clone())
                .when(Condition::Exists),
        ),
    ];
    let first_route = ops.len();
    let claimed: Vec<String> = route_ops
        .iter()
        .filter_map(|(claim, _)| claim.clone())
        .collect();
    ops.extend(route_ops.into_iter().map(|(_, op)| op));
    records::commit(&ctx, ops, &what, |failed| {
        let address = failed
            .checked_sub(first_route)
            .and_then(|n| claimed.get(n))?;
        Some(validate::invalid(
            "mail.mailboxes",
            format!("{address} is already a mailbox of another help desk"),
        ))
    })
    .await?;
    Ok(Versioned {
        record: instance,
        version: current.version + 1,
    })
}

/// Every department, topic and priority the mailboxes route to exists.
async fn check_mailbox_targets(ctx: &Ctx<'_>, mail: &MailSettings) -> Result<(), ServiceError> {
    for mailbox in &mail.mailboxes {
        let missing = |what: &str, id: u32| {
            validate::invalid(
                "mail.mailboxes",
                format!("{}: no {what} {id}", mailbox.address),
            )
        };
        let exists = |kind: &str, id: u32| {
            let key = keys::object(ctx.instance, kind, id);
            async move { ctx.store.get(&key).await.map(|item| item.is_some()) }
        };
        if !exists(DepartmentId::KIND, mailbox.department.0).await? {
            return Err(missing("department", mailbox.department.0));
        }
        if let Some(topic) = mailbox.topic
            && !exists(TopicId::KIND, topic.0).await?
        {
            return Err(missing("help topic", topic.0));
        }
        if let Some(priority) = mailbox.priority
            && !exists(PriorityId::KIND, priority.0).await?
        {
            return Err(missing("priority", priority.0));
        }
    }
    Ok(())
}

/// The writes moving the deployment-wide mailbox routes from `old` to
/// `new`: a claim (on condition no instance holds it) for each address this
/// instance does not hold yet, paired with that address, and a release of
/// each removed address this instance holds.
async fn mailbox_route_ops(
    ctx: &Ctx<'_>,
    old: &MailSettings,
    new: &MailSettings,
) -> Result<Vec<(Option<String>, WriteOp)>, ServiceError> {
    let instance = ctx.instance.to_string();
    let holder = |address: String| async move {
        let route = ctx.store.get(&keys::mail::mailbox_route(&address)).await?;
        Ok::<_, ServiceError>(route.and_then(|r| {
            r.get_str(keys::mail::ROUTE_INSTANCE_ATTR)
                .map(str::to_owned)
        }))
    };
    let mut ops = Vec::new();
    for mailbox in &new.mailboxes {
        if holder(mailbox.address.clone()).await?.as_deref() != Some(instance.as_str()) {
            let op = WriteOp::Put {
                item: Item::new(keys::mail::mailbox_route(&mailbox.address))
                    .with(keys::mail::ROUTE_INSTANCE_ATTR, instance.clone()),
                condition: Some(Condition::Absent),
            };
            ops.push((Some(mailbox.address.clone()), op));
        }
    }
    for mailbox in &old.mailboxes {
        let kept = new.mailboxes.iter().any(|m| m.address == mailbox.address);
        if !kept && holder(mailbox.address.clone()).await?.as_deref() == Some(instance.as_str()) {
            let op = WriteOp::Delete {
                key: keys::mail::mailbox_route(&mailbox.address),
                condition: Some(Condition::equals(
                    keys::mail::ROUTE_INSTANCE_ATTR,
                    instance.clone(),
                )),
            };
            ops.push((None, op));
        }
    }
    Ok(ops)
}

/// An IANA-style time zone name: `UTC`, or `Area/Location` of letters,
/// digits, `_`, `-`, `+` and `/`. (The zone database itself is not bundled.)
fn timezone(value: &str) -> Result<String, ServiceError> {
    let value = value.trim();
    let ok = value == "UTC"
        || (value.contains('/')
            && value.len() <= 64
            && !value.starts_with('/')
            && !value.ends_with('/')
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-+/".contains(c)));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(validate::invalid(
            "timezone",
            format!("{value:?} is not a time zone such as Europe/Madrid"),
        ))
    }
}

/// A ticket-number format tickets can be numbered with
/// ([`validate::number_format`]): random digits (`######`, `IT-####`) or
/// a padded sequence (`IT-{seq:6}`).
fn number_format(field: &str, value: &str) -> Result<String, ServiceError> {
    validate::number_format(field, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_and_number_formats_are_checked() {
        assert!(timezone("Europe/Madrid").is_ok());
        assert!(timezone("UTC").is_ok());
        assert!(timezone("America/Argentina/Buenos_Aires").is_ok());
        for bad in ["", "Madrid", "Europe/", "Europe Madrid/x"] {
            assert!(timezone(bad).is_err(), "{bad}");
        }
        assert!(number_format("f", "IT-####").is_ok());
        assert_eq!(number_format("f", " IT-{seq:6} ").unwrap(), "IT-{seq:6}");
        assert!(number_format("f", "ABC").is_err());
        assert!(number_format("f", "# #").is_err());
        assert!(number_format("f", "{seq}{seq}").is_err());
    }
}
