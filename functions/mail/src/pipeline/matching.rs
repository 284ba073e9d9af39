//! Which ticket a received message answers, and whether its sender may
//! join that ticket's thread.
//!
//! The clues are tried in order of strength: the signed reply token in an
//! address it was delivered to, In-Reply-To/References against every
//! Message-ID we received or sent, the reference marker in the body, the
//! ticket number in the subject. A token (in an address or in the marker)
//! must verify for the sender; the other clues only count when the sender
//! takes part in the ticket (its user, a collaborator, or an agent who may
//! see it). A clue that names a ticket but fails its check is remembered:
//! the message then opens a new ticket linked to it as possibly related,
//! and never joins it silently.

use taquilla_core::domain::{AgentAccess, Ticket, TicketId, UserId};
use taquilla_core::services::{Actor, Ctx, ServiceError, agents_access, messages, tickets, users};

use super::outcome::MatchedBy;
use crate::inbound::{ParsedMail, body_marker, plus_tag, subject_ticket_number};
use crate::reply_token::{ReadToken, ReplyTokens};

/// Who the sender is to a ticket.
#[derive(Debug, Clone)]
pub enum Participant {
    /// The ticket's user or a collaborator.
    User(UserId),
    /// An agent of the instance who may see the ticket.
    Agent(Box<AgentAccess>),
}

/// The result of matching: the ticket to join, or one to point at.
#[derive(Debug, Clone)]
pub enum Match {
    Join {
        ticket: Ticket,
        by: MatchedBy,
        sender: Participant,
    },
    /// Named by a clue the sender could not back.
    Related(Ticket),
    None,
}

const SYSTEM: &str = "mail";

/// Finds the ticket `mail` answers; see the module docs.
pub async fn find(
    ctx: &Ctx<'_>,
    tokens: &ReplyTokens,
    mail: &ParsedMail,
    recipients: &[String],
) -> Result<Match, ServiceError> {
    let sender = &mail.from.address;
    let mut related: Option<Ticket> = None;

    // 1. The signed token of an address it was delivered to.
    let addresses = recipients
        .iter()
        .chain(&mail.delivered_to)
        .chain(mail.to.iter().map(|m| &m.address))
        .chain(mail.cc.iter().map(|m| &m.address));
    for address in addresses {
        let Some((_, tag)) = plus_tag(address) else {
            continue;
        };
        if let Some(found) = by_token(ctx, tokens, &tag, sender, MatchedBy::Token).await? {
            match found {
                Match::Join { .. } => return Ok(found),
                Match::Related(ticket) => {
                    related.get_or_insert(ticket);
                }
                Match::None => {}
            }
        }
    }

    // 2. In-Reply-To, then References from the newest.
    let ids = mail.in_reply_to.iter().chain(mail.references.iter().rev());
    for id in ids {
        let Some(record) = messages::find(ctx, id).await? else {
            continue;
        };
        let Some(ticket) = load(ctx, &record.ticket).await? else {
            continue;
        };
        match participant(ctx, &ticket, sender).await? {
            Some(sender) => {
                return Ok(Match::Join {
                    ticket,
                    by: MatchedBy::Header,
                    sender,
                });
            }
            None => {
                related.get_or_insert(ticket);
            }
        }
    }

    // 3. The reference marker in the body.
    let marker = body_marker(&mail.text).or_else(|| mail.html.as_deref().and_then(body_marker));
    if let Some(token) = marker {
        match by_token(ctx, tokens, &token, sender, MatchedBy::Marker).await? {
            Some(found @ Match::Join { .. }) => return Ok(found),
            Some(Match::Related(ticket)) => {
                related.get_or_insert(ticket);
            }
            _ => {}
        }
    }

    // 4. The ticket number in the subject, from a participant only.
    if let Some(number) = subject_ticket_number(&mail.subject) {
        match tickets::by_number(ctx, &Actor::System(SYSTEM.into()), &number).await {
            Ok(ticket) => match participant(ctx, &ticket, sender).await? {
                Some(sender) => {
                    return Ok(Match::Join {
                        ticket,
                        by: MatchedBy::Subject,
                        sender,
                    });
                }
                None => {
                    related.get_or_insert(ticket);
                }
            },
            Err(ServiceError::NotFound(_)) => {}
            Err(other) => return Err(other),
        }
    }

    Ok(related.map_or(Match::None, Match::Related))
}

/// The ticket a token names, joined if it verifies for `sender`.
async fn by_token(
    ctx: &Ctx<'_>,
    tokens: &ReplyTokens,
    token: &str,
    sender: &str,
    by: MatchedBy,
) -> Result<Option<Match>, ServiceError> {
    let Some(read): Option<ReadToken> = ReplyTokens::read(token) else {
        return Ok(None);
    };
    let Some(ticket) = load(ctx, &read.ticket).await? else {
        return Ok(None);
    };
    if tokens.verify(ctx.instance, &read, sender)
        && let Some(sender) = participant(ctx, &ticket, sender).await?
    {
        return Ok(Some(Match::Join { ticket, by, sender }));
    }
    Ok(Some(Match::Related(ticket)))
}

/// The ticket `id` of this instance, if it exists.
async fn load(ctx: &Ctx<'_>, id: &TicketId) -> Result<Option<Ticket>, ServiceError> {
    match tickets::get(ctx, &Actor::System(SYSTEM.into()), id).await {
        Ok(ticket) => Ok(Some(ticket)),
        Err(ServiceError::NotFound(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Who `address` is to `ticket`, if anyone: an agent who may see it, the
/// user, or a collaborator.
pub async fn participant(
    ctx: &Ctx<'_>,
    ticket: &Ticket,
    address: &str,
) -> Result<Option<Participant>, ServiceError> {
    if let Some(access) = agent(ctx, address).await? {
        let actor = Actor::Agent(access.clone());
        return match tickets::get(ctx, &actor, &ticket.id).await {
            Ok(_) => Ok(Some(Participant::Agent(Box::new(access)))),
            Err(ServiceError::NotFound(_)) => Ok(None),
            Err(other) => Err(other),
        };
    }
    let Some(user) = users::by_email(ctx, address).await? else {
        return Ok(None);
    };
    let takes_part =
        ticket.user == user.id || ticket.collaborators.iter().any(|c| c.user == user.id);
    Ok(takes_part.then_some(Participant::User(user.id)))
}

/// The active agent with this address, with its roles resolved.
pub async fn agent(ctx: &Ctx<'_>, address: &str) -> Result<Option<AgentAccess>, ServiceError> {
    let id = match agents_access::agent_by_email(ctx, address).await {
        Ok(id) => id,
        Err(ServiceError::NotFound(_) | ServiceError::Unauthorized { .. }) => return Ok(None),
        Err(other) => return Err(other),
    };
    let access = agents_access::load_agent_access(ctx, id).await?;
    Ok(access.agent.active.then_some(access))
}
