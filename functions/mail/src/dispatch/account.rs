//! The mail about an agent's account: the welcome or the password reset,
//! to the agent alone, in the instance's language, with the link to choose
//! a password. The link's token is made when the mail is sent
//! ([`with_link`]), never planned ahead.
//!
//! A reply never reaches a queue ([`reply_to`]): it would carry the link,
//! quoted, where other agents read it. It goes to the instance's
//! administrator address when there is one, a person who manages accounts,
//! else to the no-reply address, which refuses it (`crate::no_reply`).

use taquilla_core::domain::{InstanceId, MailSettings};
use taquilla_core::services::outbox::{AccountMail, AccountOccasion, AccountSubject};

use super::plan::{Planned, deliverable_to, local_time};
use crate::outbound::{AccountVars, InstanceVars, Mailbox, PersonVars, TemplateKind, Variables};

/// The Reply-To of an account mail sent from `from`: the administrator
/// address (unless it is one of the instance's own mailboxes, whose mail
/// becomes tickets), else `from`'s no-reply address.
#[must_use]
pub fn reply_to(settings: &MailSettings, from: &Mailbox) -> Mailbox {
    match settings.outbound.admin_address.as_deref().map(str::trim) {
        Some(admin) if !admin.is_empty() && !settings.is_own(admin) => {
            Mailbox::address(admin.to_owned())
        }
        _ => Mailbox::address(crate::no_reply::address(&from.address)),
    }
}

/// The page where an agent chooses a password with a link's token.
#[must_use]
pub fn link_url(public_url: &str, instance: &InstanceId, token: &str) -> String {
    format!(
        "{}/{instance}/agents/password?token={token}",
        public_url.trim_end_matches('/')
    )
}

/// The mail `item` asks for (none to an undeliverable address), its link
/// still empty.
#[must_use]
pub fn plan_account(
    subject: &AccountSubject,
    item: &AccountMail,
    public_url: &str,
) -> Vec<Planned> {
    let kind = match item.occasion {
        AccountOccasion::AgentWelcome => TemplateKind::AgentWelcome,
        AccountOccasion::PasswordReset => TemplateKind::PasswordReset,
    };
    let agent = &subject.agent;
    let address = agent.email.to_ascii_lowercase();
    if !deliverable_to(&subject.instance.mail, kind, &address) {
        tracing::info!(%address, template = %kind, "not written to: undeliverable address");
        return Vec::new();
    }
    let variables = Variables {
        instance: InstanceVars {
            name: subject.instance.name.clone(),
            url: public_url.to_owned(),
        },
        recipient: PersonVars::new(agent.name.clone(), address.clone()),
        account: Some(AccountVars {
            username: address.clone(),
            link: String::new(),
            expires: local_time(subject.link.expires_at, &subject.instance.timezone),
        }),
        agent: subject
            .by
            .as_ref()
            .map(|by| PersonVars::new(by.name.clone(), by.email.clone())),
        ..Variables::default()
    };
    vec![Planned {
        kind,
        to: Mailbox::new(agent.name.clone(), address),
        cc: Vec::new(),
        bcc: Vec::new(),
        language: subject.instance.language,
        variables,
    }]
}

/// `planned` with the link made from `token`.
#[must_use]
pub fn with_link(
    planned: &Planned,
    public_url: &str,
    instance: &InstanceId,
    token: &str,
) -> Planned {
    let mut out = planned.clone();
    if let Some(account) = out.variables.account.as_mut() {
        account.link = link_url(public_url, instance, token);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_go_to_the_administrator_else_nowhere() {
        let from = Mailbox::new("Help", "support@uni.example");
        let mut settings = MailSettings {
            mailboxes: vec![taquilla_core::domain::mail_settings::Mailbox {
                address: "support@uni.example".into(),
                department: taquilla_core::domain::DepartmentId(1),
                topic: None,
                priority: None,
            }],
            ..MailSettings::default()
        };
        assert_eq!(
            reply_to(&settings, &from).address,
            "support+noreply@uni.example"
        );
        settings.outbound.admin_address = Some("it-admin@uni.example".into());
        assert_eq!(reply_to(&settings, &from).address, "it-admin@uni.example");
        // An administrator address that is a mailbox would open tickets.
        settings.outbound.admin_address = Some("Support+x@uni.example".into());
        assert_eq!(
            reply_to(&settings, &from).address,
            "support+noreply@uni.example"
        );
    }

    #[test]
    fn the_link_leads_to_the_instances_password_page() {
        let demo = InstanceId::parse("demo").unwrap();
        assert_eq!(
            link_url("https://help.example.edu/", &demo, "3.ab"),
            "https://help.example.edu/demo/agents/password?token=3.ab"
        );
        assert_eq!(
            link_url("http://127.0.0.1:8080", &demo, "3.ab"),
            "http://127.0.0.1:8080/demo/agents/password?token=3.ab"
        );
    }
}
