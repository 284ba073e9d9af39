//! An instance's own mail templates: for any kind and language, a subject,
//! HTML and text that replace the built-in ones (`templates/mail/`).
//!
//! A text is checked when it is saved ([`validate_template`]: only the
//! variables the kind may use, no unsafe HTML, no tags or functions that
//! reach outside the template, and a trial render), so a saved template
//! cannot fail when a mail is sent. Saving only the subject keeps the
//! built-in bodies; deleting the instance's texts goes back to the
//! built-in ones. Administrators only.

use serde::Serialize;
use taquilla_core::domain::Language;
use taquilla_core::keys;
use taquilla_core::services::admin::access;
use taquilla_core::services::{Actor, Ctx, ServiceError};
use taquilla_core::store::codec;
use thiserror::Error;

use crate::outbound::{
    Part, TemplateError, TemplateKind, TemplateTexts, builtin_text, language_tag, registry,
    validate_template,
};

/// A template as an administrator edits it: the instance's own texts, the
/// built-in ones they replace, and the variables it may use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateView {
    pub kind: &'static str,
    pub language: Language,
    /// The instance's own texts (parts not given keep the built-in).
    pub own: TemplateTexts,
    pub builtin: BuiltinTexts,
    pub variables: Vec<VariableDoc>,
}

/// The built-in texts of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuiltinTexts {
    pub subject: &'static str,
    pub html: &'static str,
    pub text: &'static str,
}

/// One variable a template may use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VariableDoc {
    pub name: &'static str,
    pub description: &'static str,
    pub example: &'static str,
}

/// Why a template was not saved.
#[derive(Debug, Error)]
pub enum SaveError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The text itself is refused; [`TemplateError::code`] says why.
    #[error(transparent)]
    Template(#[from] TemplateError),
}

/// The template kind named `name` (`new_ticket_autoresponse`, ...).
pub fn kind(name: &str) -> Result<TemplateKind, ServiceError> {
    name.parse()
        .map_err(|_| ServiceError::NotFound(format!("mail template {name}")))
}

/// The language `tag` (`ca`, `es`, `en`).
pub fn language(tag: &str) -> Result<Language, ServiceError> {
    match tag {
        "ca" => Ok(Language::Ca),
        "es" => Ok(Language::Es),
        "en" => Ok(Language::En),
        other => Err(ServiceError::NotFound(format!("language {other}"))),
    }
}

/// The instance's own texts for `kind` in `language`, for sending (no
/// permission check: the mail dispatcher reads them).
pub async fn own_texts(
    ctx: &Ctx<'_>,
    kind: TemplateKind,
    language: Language,
) -> Result<TemplateTexts, ServiceError> {
    let key = keys::mail::template(ctx.instance, kind.as_str(), language_tag(language));
    match ctx.store.get(&key).await? {
        Some(item) => Ok(codec::decode(&item)?),
        None => Ok(TemplateTexts::default()),
    }
}

/// The template as an administrator sees it.
pub async fn get(
    ctx: &Ctx<'_>,
    actor: &Actor,
    kind: TemplateKind,
    language: Language,
) -> Result<TemplateView, ServiceError> {
    access::require_admin(ctx, actor).await?;
    let own = own_texts(ctx, kind, language).await?;
    Ok(view(kind, language, own))
}

/// Saves the instance's own texts for `kind` in `language`, once checked.
pub async fn save(
    ctx: &Ctx<'_>,
    actor: &Actor,
    kind: TemplateKind,
    language: Language,
    texts: TemplateTexts,
) -> Result<TemplateView, SaveError> {
    access::require_admin(ctx, actor).await?;
    validate_template(kind, &texts)?;
    let key = keys::mail::template(ctx.instance, kind.as_str(), language_tag(language));
    let item = codec::encode(key, &texts).map_err(ServiceError::from)?;
    ctx.store
        .put(item, None)
        .await
        .map_err(ServiceError::from)?;
    tracing::info!(instance = %ctx.instance, kind = kind.as_str(), language = language_tag(language), "mail template saved");
    Ok(view(kind, language, texts))
}

/// Goes back to the built-in texts.
pub async fn reset(
    ctx: &Ctx<'_>,
    actor: &Actor,
    kind: TemplateKind,
    language: Language,
) -> Result<TemplateView, ServiceError> {
    access::require_admin(ctx, actor).await?;
    let key = keys::mail::template(ctx.instance, kind.as_str(), language_tag(language));
    ctx.store.delete(&key, None).await?;
    Ok(view(kind, language, TemplateTexts::default()))
}

fn view(kind: TemplateKind, language: Language, own: TemplateTexts) -> TemplateView {
    TemplateView {
        kind: kind.as_str(),
        language,
        own,
        builtin: BuiltinTexts {
            subject: builtin_text(kind, language, Part::Subject),
            html: builtin_text(kind, language, Part::Html),
            text: builtin_text(kind, language, Part::Text),
        },
        variables: registry::variables(kind)
            .into_iter()
            .map(|v| VariableDoc {
                name: v.name,
                description: v.description,
                example: v.example,
            })
            .collect(),
    }
}
