//! The no-reply address of account mail.
//!
//! An agent's welcome and password-reset mails carry a one-time password
//! link. A reply to one, quoting it, must not become a ticket that other
//! agents read: whoever read the link could choose the account's password.
//! So account mail is sent Reply-To the instance's administrator address
//! when it has one (a person who manages accounts), and otherwise to its
//! mailbox with the plus tag `noreply` (`support+noreply@unit.example`),
//! which the inbound pipeline refuses with [`REFUSED`]: the sender's server
//! bounces the reply with [`REASON`], and nothing is written.

use taquilla_core::domain::MailSettings;

use crate::inbound::{ParsedMail, plus_tag};

/// The plus tag of the no-reply address.
pub const TAG: &str = "noreply";
/// The code of a message refused for being sent to the no-reply address.
pub const REFUSED: &str = "mail_no_reply";
/// What the sender is told.
pub const REASON: &str = "this address takes no mail: it only sends account messages \
    (welcome, password reset); write to the help desk's administrator instead";

/// The no-reply address of `mailbox` (`local@domain`).
#[must_use]
pub fn address(mailbox: &str) -> String {
    crate::reply_token::with_tag(mailbox, TAG)
}

/// Whether the message was delivered to the no-reply address of one of
/// the instance's mailboxes.
#[must_use]
pub fn is_addressed(settings: &MailSettings, mail: &ParsedMail, recipients: &[String]) -> bool {
    recipients
        .iter()
        .chain(&mail.delivered_to)
        .chain(mail.to.iter().map(|m| &m.address))
        .chain(mail.cc.iter().map(|m| &m.address))
        .filter(|address| settings.mailbox_for(address).is_some())
        .any(|address| plus_tag(address).is_some_and(|(_, tag)| tag.eq_ignore_ascii_case(TAG)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_is_the_mailbox_with_the_tag() {
        assert_eq!(
            address("support@it.uni.example"),
            "support+noreply@it.uni.example"
        );
        assert_eq!(
            address("support+x@it.uni.example"),
            "support+noreply@it.uni.example"
        );
    }
}
