//! The life of a named configuration object — department, help topic, team,
//! role, status or priority — written once for every kind: list, read,
//! create, update and delete, with what they all share: who may read and
//! write, versions, and the claim on the object's name ([`names`]).
//!
//! A kind's own module says only what is its own: the changes it accepts
//! and how they apply, its rules ([`Object::check`]), what else it writes
//! with an object ([`Object::linked_writes`]) and, if its objects may be
//! deleted, what stops that ([`Deletable::used_by`]).
//!
//! The functions are chosen by type: `objects::get(ctx, actor, TopicId(3))`
//! reads a help topic, `objects::create(ctx, actor, department)` creates a
//! department, `objects::list::<Team>(ctx, actor)` lists the teams.

use std::fmt;
use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::records::{self, Versioned};
use super::{access, ids, names, validate};
use crate::domain::rules::{Rule, RuleId};
use crate::domain::{CustomList, Form, FormId, ListId};
use crate::domain::{
    Department, DepartmentId, HelpTopic, Priority, PriorityId, Role, RoleId, Status, StatusId,
    Team, TeamId, TopicId,
};
use crate::domain::{Schedule, ScheduleId, SlaPlan, SlaPlanId};
use crate::services::{Actor, Ctx, ServiceError};
use crate::store::WriteOp;

/// Who may read a kind's objects (only administrators write them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readers {
    /// Any active agent of the instance.
    Agents,
    /// Its administrators only.
    Admins,
}

/// The id of a configuration object; its type says the kind.
pub trait ObjectId: Copy + Eq + fmt::Display + Send + Sync + 'static {
    type Record: Record<Id = Self>;
    fn from_number(n: u32) -> Self;
    fn number(self) -> u32;
}

/// What every kind's record has: a numbered id and a name.
pub trait Record: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    type Id: ObjectId<Record = Self>;
    /// The kind in store keys (`DEPT`, ...).
    const KIND: &'static str;
    /// What messages call an object of the kind.
    const WHAT: &'static str;
    const READERS: Readers;
    fn id(&self) -> Self::Id;
    fn set_id(&mut self, id: Self::Id);
    fn name(&self) -> &str;
    fn name_mut(&mut self) -> &mut String;
}

/// The kinds: id type, record, what an object is called, who reads them.
macro_rules! kinds {
    ($($id:ident => $record:ident, $what:literal, $readers:ident;)*) => {$(
        impl ObjectId for $id {
            type Record = $record;
            fn from_number(n: u32) -> Self {
                Self(n)
            }
            fn number(self) -> u32 {
                self.0
            }
        }

        impl Record for $record {
            type Id = $id;
            const KIND: &'static str = $id::KIND;
            const WHAT: &'static str = $what;
            const READERS: Readers = Readers::$readers;
            fn id(&self) -> $id {
                self.id
            }
            fn set_id(&mut self, id: $id) {
                self.id = id;
            }
            fn name(&self) -> &str {
                &self.name
            }
            fn name_mut(&mut self) -> &mut String {
                &mut self.name
            }
        }
    )*};
}

kinds! {
    DepartmentId => Department, "department", Agents;
    TopicId => HelpTopic, "help topic", Agents;
    TeamId => Team, "team", Agents;
    RoleId => Role, "role", Admins;
    StatusId => Status, "status", Agents;
    PriorityId => Priority, "priority", Agents;
    ScheduleId => Schedule, "schedule", Agents;
    SlaPlanId => SlaPlan, "SLA plan", Agents;
    FormId => Form, "form", Agents;
    ListId => CustomList, "list", Agents;
    RuleId => Rule, "rule", Admins;
}

/// What a kind adds to the shared life of its objects.
pub trait Object: Record {
    /// Changes made from a version: absent fields stay.
    type Changes: Send;

    /// The version `changes` were made from.
    fn base_version(changes: &Self::Changes) -> i64;

    /// Applies `changes` (not yet checked).
    fn apply(&mut self, changes: Self::Changes);

    /// Refuses what the kind does not allow, normalising what it may (the
    /// name is already trimmed and checked; its uniqueness is checked after).
    /// `own` is the object's id when it is updated.
    fn check(
        &mut self,
        ctx: &Ctx<'_>,
        own: Option<Self::Id>,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;

    /// `Ok` if `actor` may write what a write touches (see [`Touch`]):
    /// asked first of the kind, before anything is read, then of each
    /// object. Administrators only, unless a kind says otherwise (canned
    /// responses: `canned.manage` in their department).
    fn require_writer(
        ctx: &Ctx<'_>,
        actor: &Actor,
        touch: Touch<'_, Self>,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send {
        async move {
            match touch {
                Touch::Kind => access::require_admin(ctx, actor).await,
                Touch::Stored(_) | Touch::Written(_) => Ok(()),
            }
        }
    }

    /// Other items to write in the same transaction when the object goes
    /// from `before` to `after` (`None`: it is created, or deleted).
    fn linked_writes(
        ctx: &Ctx<'_>,
        before: Option<&Self>,
        after: Option<&Self>,
    ) -> impl Future<Output = Result<Vec<WriteOp>, ServiceError>> + Send {
        let _ = (ctx, before, after);
        async { Ok(Vec::new()) }
    }
}

/// What a write touches, as [`Object::require_writer`] is asked about it.
#[derive(Debug)]
pub enum Touch<'a, K> {
    /// The kind, before anything is read.
    Kind,
    /// An object as it is stored (updated or deleted): one the actor may
    /// not see is `NotFound`, as if it did not exist.
    Stored(&'a K),
    /// An object as it is written (created, or as an update leaves it).
    Written(&'a K),
}

/// A kind whose objects may be deleted while nothing refers to them.
pub trait Deletable: Object {
    /// Something that still refers to object `id` (e.g. `agent x@y.org
    /// holding it`), which stops its deletion.
    fn used_by(
        ctx: &Ctx<'_>,
        id: Self::Id,
    ) -> impl Future<Output = Result<Option<String>, ServiceError>> + Send;
}

/// Sets `field` to `change`, if there is one: a line per field of
/// [`Object::apply`].
pub fn set<T>(field: &mut T, change: Option<T>) {
    if let Some(value) = change {
        *field = value;
    }
}

fn what<I: ObjectId>(id: I) -> String {
    format!("{} {id}", I::Record::WHAT)
}

async fn require_reader<K: Record>(ctx: &Ctx<'_>, actor: &Actor) -> Result<(), ServiceError> {
    match K::READERS {
        Readers::Agents => access::require_member(ctx, actor).await,
        Readers::Admins => access::require_admin(ctx, actor).await,
    }
}

async fn load<I: ObjectId>(ctx: &Ctx<'_>, id: I) -> Result<Versioned<I::Record>, ServiceError> {
    records::load(ctx, I::Record::KIND, id.number(), I::Record::WHAT).await
}

/// Every object of kind `K` in the instance, by id.
pub async fn list<K: Record>(
    ctx: Ctx<'_>,
    actor: &Actor,
) -> Result<Vec<Versioned<K>>, ServiceError> {
    require_reader::<K>(&ctx, actor).await?;
    records::list(&ctx, K::KIND).await
}

/// Object `id`.
pub async fn get<I: ObjectId>(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: I,
) -> Result<Versioned<I::Record>, ServiceError> {
    require_reader::<I::Record>(&ctx, actor).await?;
    load(&ctx, id).await
}

/// Creates `object` under the kind's next id (its own id is ignored), with
/// the claim on its name (administrators only, unless the kind says
/// otherwise: [`Object::require_writer`]).
pub async fn create<K: Object>(
    ctx: Ctx<'_>,
    actor: &Actor,
    mut object: K,
) -> Result<Versioned<K>, ServiceError> {
    K::require_writer(&ctx, actor, Touch::Kind).await?;
    K::require_writer(&ctx, actor, Touch::Written(&object)).await?;
    prepare(&ctx, &mut object, None).await?;
    let id = K::Id::from_number(ids::next(ctx.store, ctx.instance, K::KIND).await?);
    object.set_id(id);
    let mut ops = vec![
        records::create_op(&ctx, K::KIND, id.number(), &object)?,
        names::claim(&ctx, K::KIND, object.name(), id.number()),
    ];
    ops.extend(K::linked_writes(&ctx, None, Some(&object)).await?);
    records::commit(&ctx, ops, K::WHAT, |i| {
        (i == 1).then(|| names::taken(object.name(), None))
    })
    .await?;
    Ok(Versioned {
        record: object,
        version: 1,
    })
}

/// Applies `changes` if object `id` is still at the version they were made
/// from; a new name moves the object's claim in the same transaction.
pub async fn update<I: ObjectId>(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: I,
    changes: <I::Record as Object>::Changes,
) -> Result<Versioned<I::Record>, ServiceError>
where
    I::Record: Object,
{
    I::Record::require_writer(&ctx, actor, Touch::Kind).await?;
    let what = what(id);
    let current = load(&ctx, id).await?;
    I::Record::require_writer(&ctx, actor, Touch::Stored(&current.record)).await?;
    let base = <I::Record as Object>::base_version(&changes);
    records::check_version(&what, current.version, base)?;
    let mut object = current.record.clone();
    object.apply(changes);
    I::Record::require_writer(&ctx, actor, Touch::Written(&object)).await?;
    prepare(&ctx, &mut object, Some(id)).await?;
    let kind = I::Record::KIND;
    let mut ops = vec![records::replace_op(
        &ctx,
        kind,
        id.number(),
        &object,
        current.version,
    )?];
    let renamed = !names::same(current.record.name(), object.name());
    if renamed {
        ops.push(names::release(&ctx, kind, current.record.name()));
        ops.push(names::claim(&ctx, kind, object.name(), id.number()));
    }
    let claim_at = ops.len() - 1;
    ops.extend(I::Record::linked_writes(&ctx, Some(&current.record), Some(&object)).await?);
    records::commit(&ctx, ops, &what, |i| {
        (renamed && i == claim_at).then(|| names::taken(object.name(), None))
    })
    .await?;
    Ok(Versioned {
        record: object,
        version: current.version + 1,
    })
}

/// Deletes object `id` unless something refers to it (`Conflict`),
/// releasing its name.
pub async fn delete<I: ObjectId>(ctx: Ctx<'_>, actor: &Actor, id: I) -> Result<(), ServiceError>
where
    I::Record: Deletable,
{
    I::Record::require_writer(&ctx, actor, Touch::Kind).await?;
    let what = what(id);
    let current = load(&ctx, id).await?;
    I::Record::require_writer(&ctx, actor, Touch::Stored(&current.record)).await?;
    if let Some(user) = I::Record::used_by(&ctx, id).await? {
        // Displays as "{what} is in use: {user} already exists".
        return Err(ServiceError::Conflict(format!("{what} is in use: {user}")));
    }
    let kind = I::Record::KIND;
    let mut ops = vec![
        WriteOp::Delete {
            key: records::key(&ctx, kind, id.number()),
            condition: Some(records::if_at(current.version)),
        },
        names::release(&ctx, kind, current.record.name()),
    ];
    ops.extend(I::Record::linked_writes(&ctx, Some(&current.record), None).await?);
    records::commit(&ctx, ops, &what, |_| None).await
}

/// Trims and checks the name, applies the kind's rules, and refuses a name
/// another object of the kind holds. The claim written with the object is
/// what makes the name unique; this read only names the holder early.
async fn prepare<K: Object>(
    ctx: &Ctx<'_>,
    object: &mut K,
    own: Option<K::Id>,
) -> Result<(), ServiceError> {
    *object.name_mut() = validate::name("name", object.name())?;
    object.check(ctx, own).await?;
    match names::holder(ctx, K::KIND, object.name()).await? {
        Some(holder) if Some(holder) != own.map(ObjectId::number) => {
            Err(names::taken(object.name(), Some(holder)))
        }
        _ => Ok(()),
    }
}
