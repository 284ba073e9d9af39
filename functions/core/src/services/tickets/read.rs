//! Reading a ticket and its thread, as the actor may see them.

use super::access::{can_see, load_visible};
use super::open::CLAIM_TICKET_ATTR;
use super::store;
use crate::domain::{Entry, EntryKind, Ticket, TicketId};
use crate::keys;
use crate::services::{Actor, Ctx, Page, ServiceError};
use crate::store::{MAX_QUERY_LIMIT, Query, codec};

/// The ticket, if `actor` may see it; `NotFound` otherwise (existence is
/// not revealed).
/// Users see only the answers to fields visible to them.
pub async fn get(ctx: &Ctx<'_>, actor: &Actor, id: &TicketId) -> Result<Ticket, ServiceError> {
    let ticket = load_visible(ctx, actor, id).await?;
    let ticket = crate::services::sla::for_reader(ctx, actor, ticket);
    super::fields::for_reader(ctx, actor, ticket).await
}

/// The ticket with this number, if `actor` may see it (users see only the
/// answers to fields visible to them).
pub async fn by_number(ctx: &Ctx<'_>, actor: &Actor, number: &str) -> Result<Ticket, ServiceError> {
    let not_found = || ServiceError::NotFound(format!("ticket {number}"));
    if number.is_empty() || number.len() > crate::domain::number::MAX_NUMBER_LEN {
        return Err(not_found());
    }
    let claim = ctx
        .store
        .get(&keys::ticket_number(ctx.instance, number))
        .await?
        .ok_or_else(not_found)?;
    let id = claim
        .get_str(CLAIM_TICKET_ATTR)
        .and_then(|id| TicketId::parse(id).ok())
        .ok_or_else(not_found)?;
    let ticket = store::load(ctx, &id).await?;
    if can_see(actor, &ticket) {
        let ticket = crate::services::sla::for_reader(ctx, actor, ticket);
        super::fields::for_reader(ctx, actor, ticket).await
    } else {
        Err(not_found())
    }
}

/// One page of the ticket's thread, oldest first. Users never see internal
/// notes: for them notes are skipped while paging, so a page may be short
/// only when the thread ends.
pub async fn thread(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TicketId,
    cursor: Option<String>,
    limit: u32,
) -> Result<Page<Entry>, ServiceError> {
    let ticket = load_visible(ctx, actor, id).await?;
    let hide_notes = matches!(actor, Actor::User(_));
    let limit = limit.clamp(1, MAX_QUERY_LIMIT);
    let mut items = Vec::new();
    let mut cursor = cursor;
    loop {
        let remaining = limit - u32::try_from(items.len()).unwrap_or(limit);
        let query = Query::table(keys::ticket_pk(ctx.instance, &ticket.id))
            .sk(keys::entries())
            .limit(remaining)
            .after(cursor);
        let page = ctx.store.query(&query).await?;
        for item in &page.items {
            let entry: Entry = codec::decode(item)?;
            if !(hide_notes && entry.kind == EntryKind::Note) {
                items.push(entry);
            }
        }
        cursor = page.cursor;
        if cursor.is_none() || items.len() >= limit as usize {
            return Ok(Page { items, cursor });
        }
    }
}
