//! Rules in the mail channel: the texts of a mail a rule sends are
//! templates, checked when the rule is saved as an instance's own
//! templates are ([`validate_in`]), before the core checks the rest.
//!
//! A `send_mail` action's subject and body may name the variables of the
//! `rule_mail` template, less the rule's own texts
//! ([`dispatch::rule::TEXTS`](crate::dispatch::rule::TEXTS)); a text naming
//! anything else, calling a function or failing to render is refused with
//! the template error's stable code (`unknown_variable`,
//! `template_syntax`, ...).

use taquilla_core::domain::rules::Action;

use crate::dispatch::rule::TEXTS;
use crate::outbound::{TemplateError, TemplateTexts, validate_in};

/// Checks the texts of every mail `actions` send.
pub fn check_texts(actions: &[Action]) -> Result<(), TemplateError> {
    for action in actions {
        if let Action::SendMail { subject, body, .. } = action {
            validate_in(
                TEXTS,
                &TemplateTexts {
                    subject: Some(subject.clone()),
                    html: None,
                    text: Some(body.clone()),
                },
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(subject: &str, body: &str) -> Vec<Action> {
        vec![Action::SendMail {
            to: vec!["dean@uni.example".into()],
            subject: subject.into(),
            body: body.into(),
        }]
    }

    #[test]
    fn a_rules_mail_names_the_ticket_and_the_user_but_not_its_own_texts() {
        assert_eq!(
            check_texts(&mail(
                "Ticket {{ ticket.number }} waits",
                "{{ user.name }} ({{ user.email }}) asked: {{ ticket.subject }}.\n{{ ticket.agent_link }}"
            )),
            Ok(())
        );
        for (subject, body, code) in [
            ("{{ ticket.link }}", "x", "unknown_variable"),
            ("x", "{{ rule.body_text }}", "unknown_variable"),
            ("x", "{{ message.body_text }}", "unknown_variable"),
            ("{{ ticket.number", "x", "template_syntax"),
            ("x", "{{ now() }}", "function_not_allowed"),
        ] {
            assert_eq!(
                check_texts(&mail(subject, body)).map_err(|e| e.code()),
                Err(code),
                "{subject} / {body}"
            );
        }
    }
}
