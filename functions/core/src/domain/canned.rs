//! Canned responses: texts an agent inserts in a response instead of
//! writing the same answer again, with variables expanded for the ticket at
//! hand (`{{ ticket.number }}`, `{{ user.name }}`) and files attached to
//! every response that uses them.
//!
//! A canned response belongs to one department or to all of them, may be
//! meant for one language, and may be put aside (`active: false`) without
//! being deleted. Its body is stored as tickets store theirs: sanitised HTML
//! and the same text in plain form. Which variables it may name and how they
//! are expanded belong to the mail channel (`taquilla_mail::canned`), which
//! has the templates; this is only the record.

use serde::{Deserialize, Serialize};

use super::ids::{CannedId, DepartmentId};
use super::instance::Language;
use super::thread::Attachment;

/// A canned response as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedResponse {
    pub id: CannedId,
    /// What agents pick it by; unique among the instance's canned responses.
    pub title: String,
    /// The department whose agents use it; `None`: every department.
    pub department: Option<DepartmentId>,
    /// The language it is written in; `None`: any.
    #[serde(default)]
    pub language: Option<Language>,
    /// Inactive ones are kept for their managers but offered to nobody.
    pub active: bool,
    /// Sanitised HTML, a template over the variables of
    /// `taquilla_mail::canned::VOCABULARY`.
    pub body_html: String,
    /// The same body as plain text.
    pub body_text: String,
    /// Files attached to every response that uses it (blobs under
    /// `{instance}/canned/...`, copied into the response's entry).
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

impl CannedResponse {
    /// Whether it may be used on a ticket of `department`: its own
    /// department's, or any when it is for all.
    #[must_use]
    pub fn fits(&self, department: DepartmentId) -> bool {
        self.department.is_none_or(|own| own == department)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canned(department: Option<DepartmentId>) -> CannedResponse {
        CannedResponse {
            id: CannedId(1),
            title: "Hello".into(),
            department,
            language: None,
            active: true,
            body_html: "<p>Hello</p>".into(),
            body_text: "Hello".into(),
            attachments: Vec::new(),
        }
    }

    #[test]
    fn a_department_s_canned_response_fits_only_its_tickets() {
        assert!(canned(None).fits(DepartmentId(7)));
        assert!(canned(Some(DepartmentId(7))).fits(DepartmentId(7)));
        assert!(!canned(Some(DepartmentId(7))).fits(DepartmentId(8)));
    }
}
