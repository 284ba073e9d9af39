//! Canned responses as a named kind of [`objects`]: versioned, their titles
//! unique in the instance (the title is the name a claim holds), listed,
//! read, created, changed and deleted through the generic life — with who
//! may do what of their own:
//!
//! - reading: an active agent of the instance sees the canned responses of
//!   every department it works in and those for all departments, and the
//!   inactive ones only where it may manage them; administrators see all.
//!   One the actor may not see is `NotFound`, as for tickets.
//! - writing: `canned.manage` in the canned response's department (before
//!   and after a change); one for all departments needs an administrator.
//!
//! The body arrives checked: which variables it may name and how they are
//! expanded are the mail channel's (`taquilla_mail::canned`, which saves
//! through [`create`] and [`update`]). Attachments are put to `Blobs` under
//! `{instance}/canned/{fresh id}/{n}-{safe name}` before the record is
//! written, and deleted when the record no longer names them.

use serde::Deserialize;

use super::objects::{self, Deletable, Object, ObjectId, Readers, Record, Touch, set};
use super::{access, records, validate};
use crate::blobs::BlobKey;
use crate::domain::{
    Attachment, CannedId, CannedResponse, DepartmentId, EntryId, Language, Permission,
};
use crate::services::tickets::NewAttachment;
use crate::services::tickets::attachments::{self, safe_name};
use crate::services::{Actor, Ctx, ServiceError};

/// Longest body (HTML), in bytes: as long as a mail template's body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

impl ObjectId for CannedId {
    type Record = CannedResponse;
    fn from_number(n: u32) -> Self {
        Self(n)
    }
    fn number(self) -> u32 {
        self.0
    }
}

impl Record for CannedResponse {
    type Id = CannedId;
    const KIND: &'static str = CannedId::KIND;
    const WHAT: &'static str = "canned response";
    const READERS: Readers = Readers::Agents;
    fn id(&self) -> CannedId {
        self.id
    }
    fn set_id(&mut self, id: CannedId) {
        self.id = id;
    }
    fn name(&self) -> &str {
        &self.title
    }
    fn name_mut(&mut self) -> &mut String {
        &mut self.title
    }
}

/// A new canned response, its body already checked (see the module docs).
#[derive(Debug, Clone)]
pub struct NewCanned {
    pub title: String,
    /// `None`: every department.
    pub department: Option<DepartmentId>,
    pub language: Option<Language>,
    pub active: bool,
    /// Sanitised HTML and its plain text.
    pub body: (String, String),
    pub files: Vec<NewAttachment>,
}

/// Changes made from `version`; absent fields stay, `null` clears an
/// optional one (a `null` department is every department). Files replace
/// the attachments whole.
#[derive(Debug, Clone, Default)]
pub struct CannedChanges {
    pub version: i64,
    pub title: Option<String>,
    pub department: Option<Option<DepartmentId>>,
    pub language: Option<Option<Language>>,
    pub active: Option<bool>,
    /// Sanitised HTML and its plain text.
    pub body: Option<(String, String)>,
    /// What the files became once put; set by [`update`].
    pub attachments: Option<Vec<Attachment>>,
}

/// Which canned responses a list holds: those usable on a ticket of
/// `department` (its own and those for all), in `language` (and those for
/// any language).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct CannedFilter {
    pub department: Option<DepartmentId>,
    pub language: Option<Language>,
}

impl Object for CannedResponse {
    type Changes = CannedChanges;

    fn base_version(changes: &CannedChanges) -> i64 {
        changes.version
    }

    fn apply(&mut self, changes: CannedChanges) {
        set(&mut self.title, changes.title);
        set(&mut self.department, changes.department);
        set(&mut self.language, changes.language);
        set(&mut self.active, changes.active);
        if let Some((html, text)) = changes.body {
            self.body_html = html;
            self.body_text = text;
        }
        set(&mut self.attachments, changes.attachments);
    }

    /// A body that is not empty nor too long, and an existing department.
    async fn check(&mut self, ctx: &Ctx<'_>, _own: Option<CannedId>) -> Result<(), ServiceError> {
        if self.body_html.trim().is_empty() && self.body_text.trim().is_empty() {
            return Err(validate::invalid("body", "must not be empty"));
        }
        if self.body_html.len() > MAX_BODY_BYTES {
            return Err(validate::invalid(
                "body",
                format!("must be at most {MAX_BODY_BYTES} bytes"),
            ));
        }
        if let Some(department) = self.department
            && !records::exists(ctx, DepartmentId::KIND, department.0).await?
        {
            return Err(validate::invalid(
                "department",
                format!("department {department} does not exist"),
            ));
        }
        Ok(())
    }

    /// Any active agent may try; then `canned.manage` in the object's
    /// department (administrators for all departments), and a stored one
    /// the actor may not see is not found.
    async fn require_writer(
        ctx: &Ctx<'_>,
        actor: &Actor,
        touch: Touch<'_, Self>,
    ) -> Result<(), ServiceError> {
        match touch {
            Touch::Kind => access::require_member(ctx, actor).await,
            Touch::Stored(canned) if !visible(actor, canned) => Err(not_found(canned.id)),
            Touch::Stored(canned) | Touch::Written(canned) => require_manager(actor, canned),
        }
    }
}

impl Deletable for CannedResponse {
    /// Nothing refers to a canned response: responses copied its text and
    /// files when they were written.
    async fn used_by(_ctx: &Ctx<'_>, _id: CannedId) -> Result<Option<String>, ServiceError> {
        Ok(None)
    }
}

fn not_found(id: CannedId) -> ServiceError {
    ServiceError::NotFound(format!("{} {id}", CannedResponse::WHAT))
}

/// Whether `actor` may change `canned`.
fn may_manage(actor: &Actor, canned: &CannedResponse) -> bool {
    match canned.department {
        Some(department) => actor.can(Permission::CannedManage, department),
        None => actor.is_admin(),
    }
}

fn require_manager(actor: &Actor, canned: &CannedResponse) -> Result<(), ServiceError> {
    if may_manage(actor, canned) {
        return Ok(());
    }
    Err(ServiceError::Forbidden(match canned.department {
        Some(department) => format!(
            "{} in department {department}",
            Permission::CannedManage.as_str()
        ),
        None => "canned responses for all departments are an administrator's".to_owned(),
    }))
}

/// Whether `actor` sees `canned` (see the module docs). API keys and
/// Taquilla itself act for the whole instance.
#[must_use]
pub fn visible(actor: &Actor, canned: &CannedResponse) -> bool {
    let works_there = match actor {
        Actor::Agent(access) => {
            access.agent.active
                && (access.agent.admin
                    || canned
                        .department
                        .is_none_or(|d| access.agent.role_in(d).is_some()))
        }
        Actor::ApiKey { .. } | Actor::System(_) => true,
        Actor::User(_) => false,
    };
    works_there && (canned.active || may_manage(actor, canned))
}

/// The canned responses `actor` sees that pass `filter`, by id.
pub async fn list(
    ctx: Ctx<'_>,
    actor: &Actor,
    filter: CannedFilter,
) -> Result<Vec<records::Versioned<CannedResponse>>, ServiceError> {
    let all = objects::list::<CannedResponse>(ctx, actor).await?;
    Ok(all
        .into_iter()
        .filter(|c| visible(actor, &c.record))
        .filter(|c| filter.department.is_none_or(|d| c.record.fits(d)))
        .filter(|c| {
            filter
                .language
                .is_none_or(|l| c.record.language.is_none_or(|own| own == l))
        })
        .collect())
}

/// Canned response `id`, if `actor` sees it.
pub async fn get(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: CannedId,
) -> Result<records::Versioned<CannedResponse>, ServiceError> {
    let found = objects::get(ctx, actor, id).await?;
    if visible(actor, &found.record) {
        Ok(found)
    } else {
        Err(not_found(id))
    }
}

/// Canned response `id` for a response on a ticket of `department`: one
/// `actor` sees, active, of that department or of all. Anything else is
/// `NotFound`, as the actor may not use it there.
pub async fn usable(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: CannedId,
    department: DepartmentId,
) -> Result<CannedResponse, ServiceError> {
    let found = match actor {
        Actor::Agent(_) => get(ctx, actor, id).await?.record,
        // Integrations and Taquilla itself act for the whole instance
        // (whether they may respond is the respond service's question).
        _ => {
            records::load::<CannedResponse>(&ctx, CannedId::KIND, id.0, CannedResponse::WHAT)
                .await?
                .record
        }
    };
    if visible(actor, &found) && found.active && found.fits(department) {
        Ok(found)
    } else {
        Err(not_found(id))
    }
}

/// The canned response's files, read from `Blobs`, to attach to a response.
pub async fn files(
    ctx: &Ctx<'_>,
    canned: &CannedResponse,
) -> Result<Vec<NewAttachment>, ServiceError> {
    let mut out = Vec::with_capacity(canned.attachments.len());
    for attachment in &canned.attachments {
        let blob = ctx.blobs.get(&attachment.blob).await.map_err(|e| {
            ServiceError::Store(crate::store::StoreError::Unavailable(format!(
                "canned response {} attachment {}: {e}",
                canned.id, attachment.name
            )))
        })?;
        out.push(NewAttachment {
            name: attachment.name.clone(),
            content_type: attachment.content_type.clone(),
            bytes: blob.bytes,
        });
    }
    Ok(out)
}

/// Creates a canned response (see the module docs for who may).
pub async fn create(
    ctx: Ctx<'_>,
    actor: &Actor,
    new: NewCanned,
) -> Result<records::Versioned<CannedResponse>, ServiceError> {
    let mut canned = CannedResponse {
        id: CannedId(0),
        title: validate::name("title", &new.title)?,
        department: new.department,
        language: new.language,
        active: new.active,
        body_html: new.body.0,
        body_text: new.body.1,
        attachments: Vec::new(),
    };
    CannedResponse::require_writer(&ctx, actor, Touch::Kind).await?;
    CannedResponse::require_writer(&ctx, actor, Touch::Written(&canned)).await?;
    canned.check(&ctx, None).await?;
    canned.attachments = put_files(&ctx, new.files).await?;
    let attachments = canned.attachments.clone();
    match objects::create(ctx, actor, canned).await {
        Ok(created) => Ok(created),
        Err(error) => {
            remove_files(&ctx, &attachments).await;
            Err(title_field(error))
        }
    }
}

/// Changes canned response `id`; `files`, when given, replace its
/// attachments (the old files are deleted once the change is written).
pub async fn update(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: CannedId,
    mut changes: CannedChanges,
    files: Option<Vec<NewAttachment>>,
) -> Result<records::Versioned<CannedResponse>, ServiceError> {
    if let Some(title) = &changes.title {
        changes.title = Some(validate::name("title", title)?);
    }
    // Who may, before any file is put.
    let current = get(ctx, actor, id).await?;
    CannedResponse::require_writer(&ctx, actor, Touch::Stored(&current.record)).await?;
    let put = match files {
        Some(files) => Some(put_files(&ctx, files).await?),
        None => None,
    };
    changes.attachments.clone_from(&put);
    match objects::update(ctx, actor, id, changes).await {
        Ok(updated) => {
            if put.is_some() {
                remove_files(&ctx, &current.record.attachments).await;
            }
            Ok(updated)
        }
        Err(error) => {
            if let Some(put) = &put {
                remove_files(&ctx, put).await;
            }
            Err(title_field(error))
        }
    }
}

/// Deletes canned response `id` and its files.
pub async fn delete(ctx: Ctx<'_>, actor: &Actor, id: CannedId) -> Result<(), ServiceError> {
    let current = get(ctx, actor, id).await?;
    objects::delete(ctx, actor, id).await?;
    remove_files(&ctx, &current.record.attachments).await;
    Ok(())
}

/// The title is the name of the generic life: its errors say `title`.
fn title_field(error: ServiceError) -> ServiceError {
    match error {
        ServiceError::Invalid { field, message } if field == "name" => ServiceError::Invalid {
            field: "title".to_owned(),
            message,
        },
        other => other,
    }
}

/// Checks the files as a response's are checked, then puts them to `Blobs`.
async fn put_files(
    ctx: &Ctx<'_>,
    files: Vec<NewAttachment>,
) -> Result<Vec<Attachment>, ServiceError> {
    attachments::check(&files)?;
    let folder = EntryId::generate();
    let mut out = Vec::with_capacity(files.len());
    for (n, file) in files.into_iter().enumerate() {
        let key = BlobKey::parse(format!(
            "{}/canned/{folder}/{}-{}",
            ctx.instance,
            n + 1,
            safe_name(&file.name)
        ))
        .map_err(|e| validate::invalid("attachments", e.to_string()))?;
        // A fresh folder per save: never replaced, so added.
        let meta = ctx
            .blobs
            .add(&key, &file.content_type, file.bytes)
            .await
            .map_err(|e| {
                ServiceError::Store(crate::store::StoreError::Unavailable(format!("blobs: {e}")))
            })?;
        out.push(Attachment {
            blob: meta.key,
            name: file.name,
            content_type: meta.content_type,
            size: meta.size,
        });
    }
    Ok(out)
}

/// Deletes files no record names any more; a failure leaves an orphan
/// blob, which is logged and harms nothing.
async fn remove_files(ctx: &Ctx<'_>, attachments: &[Attachment]) {
    for attachment in attachments {
        if let Err(error) = ctx.blobs.delete(&attachment.blob).await {
            tracing::warn!(instance = %ctx.instance, blob = %attachment.blob, %error, "canned response file left behind");
        }
    }
}
