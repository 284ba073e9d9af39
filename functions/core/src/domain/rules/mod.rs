//! Rules: what osTicket calls ticket filters, for three moments instead of
//! one. A [`Rule`] runs when a ticket is opened (before it is stored),
//! after something happens to a ticket ([`UpdateEvent`]), or when the
//! escalation tick finds its time conditions true; it looks at the ticket
//! and the message at hand ([`Condition`]s, all or any), and asks for
//! [`Action`]s in order. Everything here is pure: the services read the
//! rules, build the [`TicketView`], apply what [`evaluate`] decides and
//! record it in the thread.

pub mod action;
pub mod condition;
pub mod evaluate;
pub mod opening_mail;
pub mod rule;
pub mod timer;

pub use action::Action;
pub use condition::{Clock, Condition, Field, Op};
pub use evaluate::{
    CompiledRule, Fired, Happening, Outcome, TicketView, evaluate, matches, next_moment, prepare,
    stretch,
};
pub use opening_mail::OpeningMail;
pub use rule::{Matching, Moment, Rule, RuleError, RuleId, UpdateEvent};
pub use timer::{RuleTimer, TimeFired};

#[cfg(test)]
mod tests;
