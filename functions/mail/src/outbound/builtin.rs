//! The built-in templates, compiled into the binary so a Lambda function
//! needs no files: `templates/mail/{language}/{kind}.{subject,html,txt}`
//! for every kind and language, and the HTML layout
//! `templates/mail/layout.html` that wraps every HTML body.

use taquilla_core::domain::instance::Language;

use super::kind::{Part, TemplateKind};

/// One template's three parts in one language.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BuiltinTexts {
    pub subject: &'static str,
    pub html: &'static str,
    pub text: &'static str,
}

impl BuiltinTexts {
    pub(crate) fn get(&self, part: Part) -> &'static str {
        match part {
            Part::Subject => self.subject,
            Part::Html => self.html,
            Part::Text => self.text,
        }
    }
}

/// The layout around every HTML body.
pub(crate) const LAYOUT: &str = include_str!("../../../../templates/mail/layout.html");

macro_rules! texts {
    ($lang:literal, $kind:literal) => {
        BuiltinTexts {
            subject: include_str!(concat!(
                "../../../../templates/mail/",
                $lang,
                "/",
                $kind,
                ".subject"
            )),
            html: include_str!(concat!(
                "../../../../templates/mail/",
                $lang,
                "/",
                $kind,
                ".html"
            )),
            text: include_str!(concat!(
                "../../../../templates/mail/",
                $lang,
                "/",
                $kind,
                ".txt"
            )),
        }
    };
}

/// The languages in the order of each entry's array.
pub(crate) const LANGUAGES: [Language; 3] = [Language::En, Language::Es, Language::Ca];

macro_rules! builtin {
    ($($kind:ident => $name:literal),* $(,)?) => {
        /// Every kind, with its file name and its texts in [`LANGUAGES`] order.
        pub(crate) const BUILTIN: &[(TemplateKind, &str, [BuiltinTexts; 3])] = &[
            $((
                TemplateKind::$kind,
                $name,
                [texts!("en", $name), texts!("es", $name), texts!("ca", $name)],
            )),*
        ];
    };
}

builtin! {
    NewTicketAutoresponse => "new_ticket_autoresponse",
    NewMessageAutoresponse => "new_message_autoresponse",
    OverLimitNotice => "over_limit_notice",
    Response => "response",
    TicketClosed => "ticket_closed",
    AlertNewTicket => "alert_new_ticket",
    AlertNewMessage => "alert_new_message",
    AlertInternalNote => "alert_internal_note",
    AlertAssignedAgent => "alert_assigned_agent",
    AlertAssignedTeam => "alert_assigned_team",
    AlertTransfer => "alert_transfer",
    AlertOverdue => "alert_overdue",
    AlertSlaWarning => "alert_sla_warning",
    TaskAlertNew => "task_alert_new",
    TaskAlertAssigned => "task_alert_assigned",
    AgentWelcome => "agent_welcome",
    PasswordReset => "password_reset",
    RuleMail => "rule_mail",
}

/// The built-in texts of `kind` in `language`.
pub(crate) fn texts(kind: TemplateKind, language: Language) -> Option<&'static BuiltinTexts> {
    let index = LANGUAGES.iter().position(|l| *l == language)?;
    BUILTIN
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map(|(_, _, texts)| &texts[index])
}

/// The built-in text of one part, e.g. to show an administrator what an
/// instance's own text would replace. Every kind has every part in every
/// language (a test checks it), so this is empty only if that is broken.
#[must_use]
pub fn builtin_text(kind: TemplateKind, language: Language, part: Part) -> &'static str {
    texts(kind, language).map_or("", |texts| texts.get(part))
}

#[cfg(test)]
mod tests {
    use super::super::kind::language_tag;
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path;

    #[test]
    fn every_kind_has_every_part_in_every_language() {
        assert_eq!(BUILTIN.len(), TemplateKind::ALL.len());
        for kind in TemplateKind::ALL {
            let (_, name, _) = BUILTIN
                .iter()
                .find(|(k, _, _)| *k == kind)
                .unwrap_or_else(|| panic!("{kind} has no built-in template"));
            assert_eq!(*name, kind.as_str());
            for language in LANGUAGES {
                for part in Part::ALL {
                    assert!(
                        !builtin_text(kind, language, part).trim().is_empty(),
                        "{}/{kind}.{} is empty",
                        language_tag(language),
                        part.extension()
                    );
                }
            }
        }
    }

    #[test]
    fn the_folder_holds_exactly_the_compiled_templates() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates/mail");
        let mut on_disk = BTreeSet::new();
        for language in std::fs::read_dir(&root).unwrap() {
            let language = language.unwrap();
            if language.file_type().unwrap().is_dir() {
                for file in std::fs::read_dir(language.path()).unwrap() {
                    let file = file.unwrap().file_name().into_string().unwrap();
                    on_disk.insert(format!("{}/{file}", language.file_name().to_string_lossy()));
                }
            } else {
                on_disk.insert(language.file_name().to_string_lossy().into_owned());
            }
        }
        let mut compiled = BTreeSet::from(["layout.html".to_owned()]);
        for (_, name, _) in BUILTIN {
            for language in LANGUAGES {
                for part in Part::ALL {
                    compiled.insert(format!(
                        "{}/{name}.{}",
                        language_tag(language),
                        part.extension()
                    ));
                }
            }
        }
        assert_eq!(on_disk, compiled);
    }
}
