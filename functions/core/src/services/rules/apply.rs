//! Carrying out what rules decide, at creation and after updates.
//!
//! At creation the rules run before anything is written
//! ([`Creation::decide`]): a rejection writes nothing (not even the
//! user); the other actions then shape the ticket before it is stored
//! ([`Creation::apply`]), so the ticket, its first entry, the rules' events
//! and notes, and the auto-response permit land in one transaction.
//!
//! After an update (a message, a response, a note, a change of status,
//! priority or assignment, a collaborator added) the update rules run on
//! the ticket as saved and their effects are a follow-up versioned write
//! ([`after_entry`], [`after_events`]). That write never runs rules again,
//! so rules cannot trigger each other endlessly; and since the update
//! itself is already saved, a failure here is logged, never returned.

use std::collections::BTreeMap;

use super::{AUTHOR, RULE_FIRED, enabled};
use crate::domain::change::{self, Change, event, event_entry};
use crate::domain::rules::{
    Action, CompiledRule, Field, Fired, Happening, Outcome, Rule, TicketView, UpdateEvent, evaluate,
};
use crate::domain::{Agent, AgentId, TeamId};
use crate::domain::{
    Author, Collaborator, CopyKind, Department, DepartmentId, Entry, EntryId, EntryKind, HelpTopic,
    PriorityId, State, Status, StatusId, Ticket, TopicId,
};
use crate::sanitize::Body;
use crate::services::messages::MailRef;
use crate::services::outbox::rule::RuleSend;
use crate::services::outbox::{self, Permits};
use crate::services::tickets::open::OpenTicket;
use crate::services::tickets::{config, store};
use crate::services::{Actor, Ctx, ServiceError, organisations, users};
use crate::store::WriteOp;

fn by() -> Author {
    Author::System(AUTHOR.to_owned())
}

/// The event recording that `fired` fired, what it asked for and, under
/// `skipped`, the actions not carried out and why.
pub(crate) fn fired_event(fired: &Fired, skipped: &[String], now: i64) -> Entry {
    let actions: Vec<String> = fired.actions.iter().map(Action::describe).collect();
    let mut data = BTreeMap::from([
        ("rule".to_owned(), fired.rule.to_string()),
        ("name".to_owned(), fired.name.clone()),
        ("actions".to_owned(), actions.join("; ")),
    ]);
    if !skipped.is_empty() {
        data.insert(SKIPPED.to_owned(), skipped.join("; "));
    }
    event_entry(RULE_FIRED, data, &by(), now)
}

/// The `rule_fired` data naming the actions not carried out, and why.
pub const SKIPPED: &str = "skipped";

/// Why a rule's mail is not sent for an automatic message: answering one
/// is how two robots answer each other forever.
const AUTOMATIC: &str = "not sent for an automatic message";

/// What a rule's send action asks for, or why it is not carried out.
fn send_of(fired: &Fired, action: &Action, automatic: bool) -> Option<Result<RuleSend, String>> {
    let send = match action {
        Action::SendCanned { canned } => RuleSend::SendCanned {
            rule: fired.rule,
            canned: *canned,
        },
        Action::SendMail { to, subject, body } => RuleSend::SendMail {
            rule: fired.rule,
            to: to.clone(),
            subject: subject.clone(),
            body: body.clone(),
        },
        _ => return None,
    };
    Some(if automatic {
        Err(format!("{}: {AUTOMATIC}", action.describe()))
    } else {
        Ok(send)
    })
}

/// The outbox items of the rules' `sends`, each about the `rule_fired`
/// event at its index in `entries`.
fn send_ops(
    ctx: &Ctx<'_>,
    ticket: &Ticket,
    entries: &[Entry],
    sends: &[(usize, RuleSend)],
) -> Result<Vec<WriteOp>, ServiceError> {
    sends
        .iter()
        .filter_map(|(at, send)| entries.get(*at).map(|e| (e, send)))
        .map(|(entry, send)| outbox::rule::item_op(ctx, ticket, entry, send.clone()))
        .collect()
}

/// An internal note written by a rule.
fn note(fired: &Fired, text: &str, now: i64) -> Entry {
    let (body_html, body_text) = Body::Text(text.to_owned()).render();
    Entry {
        id: EntryId::generate(),
        kind: EntryKind::Note,
        author: by(),
        body_html,
        body_text,
        attachments: Vec::new(),
        event: None,
        data: BTreeMap::from([("rule".to_owned(), fired.rule.to_string())]),
        created_at: now,
    }
}

/// Whether a rule of `rules` looks at a field `wanted` accepts.
fn any_looks_at(rules: &[CompiledRule], wanted: impl Fn(&Field) -> bool + Copy) -> bool {
    rules.iter().any(|c| Rule::looks_at(&c.rule, wanted))
}

/// The name of the organisation of the user with address `email` (an
/// existing user's, else the one its domain belongs to).
async fn organisation_of(ctx: &Ctx<'_>, email: &str) -> Result<Option<String>, ServiceError> {
    let org = match users::by_email(ctx, email).await? {
        Some(user) => match user.organisation {
            Some(id) => match organisations::get(ctx, id).await {
                Ok(org) => Some(org),
                Err(ServiceError::NotFound(_)) => None,
                Err(other) => return Err(other),
            },
            None => None,
        },
        None => match email.rsplit_once('@') {
            Some((_, domain)) => organisations::by_domain(ctx, domain).await?,
            None => None,
        },
    };
    Ok(org.map(|o| o.name))
}

/// What a ticket about to be opened looks like to creation rules.
pub(crate) struct Draft<'a> {
    pub subject: &'a str,
    pub body: &'a str,
    pub department: DepartmentId,
    pub topic: Option<TopicId>,
    pub priority: PriorityId,
    pub fields: &'a BTreeMap<String, String>,
}

/// What creation rules decided for a ticket about to be opened.
#[derive(Debug, Default)]
pub(crate) struct Creation {
    outcome: Outcome,
    /// The message is automatic (an auto-reply, bulk mail, a bounce): the
    /// rules send nothing for it.
    automatic: bool,
    /// The instance's enabled rules, read once for the whole opening (the
    /// time rules' first moment is computed from them).
    rules: Vec<CompiledRule>,
}

/// What [`Creation::apply`] leaves for the opening to write.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// The department a rule moved the ticket to (round robin assigns
    /// within it).
    pub department: Option<Department>,
    /// The rules' events and notes, for the ticket's thread.
    pub entries: Vec<Entry>,
    /// The instance's enabled rules (see [`Creation`]).
    pub rules: Vec<CompiledRule>,
    /// What the rules asked to send, each with the index in `entries` of
    /// its `rule_fired` event.
    sends: Vec<(usize, RuleSend)>,
}

impl Applied {
    /// The outbox items of what the rules asked to send, for the
    /// opening's transaction.
    pub(crate) fn send_ops(
        &self,
        ctx: &Ctx<'_>,
        ticket: &Ticket,
    ) -> Result<Vec<WriteOp>, ServiceError> {
        send_ops(ctx, ticket, &self.entries, &self.sends)
    }
}

impl Creation {
    /// Runs the instance's creation rules on the ticket `input` is about
    /// to become. A rejection is [`ServiceError::RejectedByRule`]; nothing
    /// is written either way.
    pub(crate) async fn decide(
        ctx: &Ctx<'_>,
        actor: &Actor,
        input: &OpenTicket,
        mail: Option<&MailRef>,
        draft: Draft<'_>,
    ) -> Result<Self, ServiceError> {
        let rules = enabled(ctx).await?;
        if rules.is_empty() {
            return Ok(Self::default());
        }
        let (email, name) = match actor {
            Actor::User(id) => {
                let user = users::get(ctx, id).await?;
                (
                    user.primary_email().unwrap_or_default().to_owned(),
                    user.name,
                )
            }
            _ => (input.email.trim().to_lowercase(), input.name.clone()),
        };
        let organisation = if any_looks_at(&rules, |f| *f == Field::Organisation) {
            organisation_of(ctx, &email).await?
        } else {
            None
        };
        let status = if any_looks_at(&rules, |f| *f == Field::Status) {
            config::first_status(ctx, State::Open).await?.id
        } else {
            StatusId(0)
        };
        let now = ctx.clock.now_ms();
        let no_headers: &[(String, String)] = &[];
        let view = TicketView {
            email: &email,
            name: &name,
            organisation: organisation.as_deref(),
            subject: draft.subject,
            body: draft.body,
            headers: mail.map_or(no_headers, |m| m.headers.as_slice()),
            recipient: mail.and_then(|m| m.recipient.as_deref()),
            source: input.source,
            topic: draft.topic,
            department: draft.department,
            status,
            state: State::Open,
            priority: draft.priority,
            assignee: None,
            team: None,
            unassigned_since: None,
            fields: draft.fields,
            created_at: now,
            updated_at: now,
            last_message_at: Some(now),
            last_response_at: None,
            answered: false,
            due_at: None,
            now,
            calendar: None,
        };
        let happening = Happening::Creation {
            source: input.source,
            mailbox: view.recipient,
        };
        let outcome = evaluate(&rules, happening, &view);
        if let Some((fired, notice)) = outcome.rejection() {
            tracing::info!(instance = %ctx.instance, rule = %fired.rule, quietly = notice.is_none(), "ticket rejected by a rule");
            return Err(ServiceError::RejectedByRule {
                rule: fired.name.clone(),
                notice: notice.map(str::to_owned),
            });
        }
        Ok(Self {
            outcome,
            automatic: mail.is_some_and(|m| !m.auto_respond),
            rules,
        })
    }

    /// Carries out the decided actions on `ticket` (not yet stored) and
    /// on the opening's mail `permits`.
    pub(crate) async fn apply(
        self,
        ctx: &Ctx<'_>,
        ticket: &mut Ticket,
        permits: &mut Permits,
    ) -> Result<Applied, ServiceError> {
        let mut applied = Applied {
            rules: self.rules,
            ..Applied::default()
        };
        if self.outcome.fired.is_empty() {
            return Ok(applied);
        }
        let now = ticket.created_at;
        let mut sla_given = false;
        let mut routed = false;
        let mut notes = Vec::new();
        let mut skipped: Vec<Vec<String>> = vec![Vec::new(); self.outcome.fired.len()];
        for (at, fired) in self.outcome.fired.iter().enumerate() {
            for action in &fired.actions {
                if let Some(send) = send_of(fired, action, self.automatic) {
                    match send {
                        Ok(send) => applied.sends.push((at, send)),
                        Err(why) => skipped[at].push(why),
                    }
                    continue;
                }
                match action {
                    Action::SetDepartment { department } => {
                        if let Some(found) =
                            lookup::<Department>(ctx, DepartmentId::KIND, department.0).await?
                        {
                            ticket.department = found.id;
                            applied.department = Some(found);
                            routed = true;
                        }
                    }
                    Action::SetTopic { topic } => {
                        if lookup::<HelpTopic>(ctx, TopicId::KIND, topic.0)
                            .await?
                            .is_some()
                        {
                            ticket.topic = Some(*topic);
                            routed = true;
                        }
                    }
                    Action::SetSla { sla } => {
                        ticket.sla = Some(sla.0);
                        sla_given = true;
                    }
                    Action::DisableAutoResponse => permits.auto_respond = false,
                    Action::AddNote { body } => notes.push(note(fired, body, now)),
                    Action::AddCollaborators { addresses } => {
                        for change in collaborators(ctx, ticket, addresses).await? {
                            change::apply(ticket, change, &by(), now);
                        }
                    }
                    other => match change_for(ctx, other, ticket.department).await? {
                        Effect::Change(change) => {
                            change::apply(ticket, change, &by(), now);
                        }
                        Effect::Skipped(why) => skipped[at].push(why),
                        Effect::Nothing => {}
                    },
                }
            }
        }
        if routed && !sla_given {
            ticket.sla = plan_of(ctx, ticket, applied.department.as_ref()).await?;
        }
        ticket.updated_at = now;
        applied.entries = self
            .outcome
            .fired
            .iter()
            .zip(&skipped)
            .map(|(fired, skipped)| fired_event(fired, skipped, now))
            .chain(notes)
            .collect();
        Ok(applied)
    }
}

/// Whether `agent` may be given tickets of `department` (administrators
/// work everywhere).
pub(crate) fn works_in(agent: &Agent, department: DepartmentId) -> bool {
    agent.admin || agent.role_in(department).is_some()
}

/// What an action comes to on a ticket.
enum Effect {
    Change(Change),
    /// Not carried out, and why (recorded in the rule's `rule_fired`).
    Skipped(String),
    /// Nothing to change (what it names is gone, or it is no change).
    Nothing,
}

impl From<Option<Change>> for Effect {
    fn from(change: Option<Change>) -> Self {
        change.map_or(Effect::Nothing, Effect::Change)
    }
}

/// Object `id` of `kind`, or `None` (with a warning) when it was deleted
/// since the rule naming it was saved: the rest of the rule still applies.
async fn lookup<T: serde::de::DeserializeOwned>(
    ctx: &Ctx<'_>,
    kind: &str,
    id: u32,
) -> Result<Option<T>, ServiceError> {
    let found = config::object::<T>(ctx, kind, id).await?;
    if found.is_none() {
        tracing::warn!(instance = %ctx.instance, kind, id, "a rule names a missing object; action skipped");
    }
    Ok(found)
}

/// The SLA plan of a ticket whose department or topic a rule changed: the
/// topic's, else the department's.
async fn plan_of(
    ctx: &Ctx<'_>,
    ticket: &Ticket,
    department: Option<&Department>,
) -> Result<Option<u32>, ServiceError> {
    if let Some(topic) = ticket.topic
        && let Some(topic) = config::object::<HelpTopic>(ctx, TopicId::KIND, topic.0).await?
        && topic.sla.is_some()
    {
        return Ok(topic.sla);
    }
    Ok(match department {
        Some(d) => d.sla,
        None => config::object::<Department>(ctx, DepartmentId::KIND, ticket.department.0)
            .await?
            .and_then(|d| d.sla),
    })
}

/// The collaborators `addresses` add to `ticket` (users created if new;
/// the ticket's user and those already copied are skipped).
async fn collaborators(
    ctx: &Ctx<'_>,
    ticket: &Ticket,
    addresses: &[String],
) -> Result<Vec<Change>, ServiceError> {
    let mut out = Vec::new();
    for address in addresses {
        let user = match users::find_or_create(ctx, "", address).await {
            Ok(user) => user,
            Err(ServiceError::Invalid { .. }) => continue,
            Err(other) => return Err(other),
        };
        if user.id != ticket.user {
            out.push(Change::AddCollaborator(Collaborator {
                user: user.id,
                kind: CopyKind::Cc,
            }));
        }
    }
    Ok(out)
}

/// The ticket change an action makes on a ticket of `department`, if it
/// is one and what it names still exists; an agent is assigned only a
/// ticket of a department it works in.
async fn change_for(
    ctx: &Ctx<'_>,
    action: &Action,
    department: DepartmentId,
) -> Result<Effect, ServiceError> {
    if let Action::AssignAgent { agent } = action {
        let found = lookup::<Agent>(ctx, AgentId::KIND, agent.0).await?;
        return Ok(match found.filter(|a| a.active) {
            Some(a) if works_in(&a, department) => Effect::Change(Change::AssignAgent(a.id)),
            Some(_) => Effect::Skipped(format!(
                "{}: agent {agent} has no access to department {department}",
                action.describe()
            )),
            None => Effect::Nothing,
        });
    }
    Ok(Effect::from(match action {
        Action::SetPriority { priority } => {
            lookup::<crate::domain::Priority>(ctx, PriorityId::KIND, priority.0)
                .await?
                .map(|p| Change::SetPriority(p.id))
        }
        Action::SetStatus { status } => lookup::<Status>(ctx, StatusId::KIND, status.0)
            .await?
            .map(Change::SetStatus),
        Action::Close => Some(Change::SetStatus(
            config::first_status(ctx, State::Closed).await?,
        )),
        Action::AssignTeam { team } => lookup::<crate::domain::Team>(ctx, TeamId::KIND, team.0)
            .await?
            .map(|t| Change::AssignTeam(t.id)),
        Action::SetDepartment { department } => {
            lookup::<Department>(ctx, DepartmentId::KIND, department.0)
                .await?
                .map(|d| Change::Transfer {
                    department: d.id,
                    clear_assignee: false,
                })
        }
        Action::SetTopic { topic } => lookup::<HelpTopic>(ctx, TopicId::KIND, topic.0)
            .await?
            .map(|t| Change::SetTopic(Some(t.id))),
        Action::SendCanned { .. }
        | Action::SendMail { .. }
        | Action::Reject { .. }
        | Action::SetSla { .. }
        | Action::AddCollaborators { .. }
        | Action::DisableAutoResponse
        | Action::AssignAgent { .. }
        | Action::AddNote { .. } => None,
    }))
}

/// The update event an entry of the conversation is.
fn entry_event(entry: &Entry) -> Option<UpdateEvent> {
    match entry.kind {
        EntryKind::Message => Some(UpdateEvent::UserMessage),
        EntryKind::Response => Some(UpdateEvent::AgentResponse),
        EntryKind::Note => Some(UpdateEvent::Note),
        EntryKind::Event => None,
    }
}

/// The update event a change's event entry is.
fn change_event(entry: &Entry) -> Option<UpdateEvent> {
    match entry.event.as_deref()? {
        event::STATUS_CHANGED => Some(UpdateEvent::StatusChanged),
        event::PRIORITY_CHANGED => Some(UpdateEvent::PriorityChanged),
        event::ASSIGNED | event::RELEASED => Some(UpdateEvent::AssignmentChanged),
        event::COLLABORATOR_ADDED => Some(UpdateEvent::CollaboratorAdded),
        _ => None,
    }
}

/// Runs the update rules after `entry` (and the changes it made, whose
/// `events` were saved with it: a message reopening a closed ticket, a
/// response changing the status) was added to `ticket` (as saved); the
/// ticket as it is afterwards. `rules` are the instance's enabled rules,
/// read before the write. An entry the rules wrote themselves runs none.
///
/// `mail` is the mail that brought the entry, if it came by mail: rules
/// see its header fields and the address it was received at (the message
/// at hand's, not the opening mail's), and when it is an automatic message
/// (an auto-reply, bulk mail, a bounce) they send no mail for it.
pub(crate) async fn after_entry(
    ctx: &Ctx<'_>,
    rules: &[CompiledRule],
    ticket: Ticket,
    entry: &Entry,
    events: &[Entry],
    mail: Option<&MailRef>,
) -> Ticket {
    if entry.author == by() {
        return ticket;
    }
    let happened = happenings(entry_event(entry), events);
    if happened.is_empty() {
        return ticket;
    }
    let at_hand = At {
        body: &entry.body_text,
        mail,
    };
    after(ctx, rules, ticket, &happened, at_hand).await
}

/// Runs the update rules after the change whose `events` were saved with
/// `ticket`; the ticket as it is afterwards.
pub(crate) async fn after_events(
    ctx: &Ctx<'_>,
    rules: &[CompiledRule],
    ticket: Ticket,
    events: &[Entry],
) -> Ticket {
    let happened = happenings(None, events);
    if happened.is_empty() {
        return ticket;
    }
    let at_hand = At {
        body: "",
        mail: None,
    };
    after(ctx, rules, ticket, &happened, at_hand).await
}

/// The update events of an entry (`first`) and of change `events`, each
/// once, in order.
fn happenings(first: Option<UpdateEvent>, events: &[Entry]) -> Vec<UpdateEvent> {
    let mut happened: Vec<UpdateEvent> = Vec::new();
    for e in first
        .into_iter()
        .chain(events.iter().filter_map(change_event))
    {
        if !happened.contains(&e) {
            happened.push(e);
        }
    }
    happened
}

/// The message at hand as update rules see it: its text, and the mail
/// that brought it, if any.
#[derive(Clone, Copy)]
struct At<'a> {
    body: &'a str,
    mail: Option<&'a MailRef>,
}

impl At<'_> {
    /// The message is automatic: rules send nothing for it.
    fn automatic(self) -> bool {
        self.mail.is_some_and(|m| !m.auto_respond)
    }
}

async fn after(
    ctx: &Ctx<'_>,
    rules: &[CompiledRule],
    ticket: Ticket,
    happened: &[UpdateEvent],
    at_hand: At<'_>,
) -> Ticket {
    match run_update(ctx, rules, &ticket, happened, at_hand).await {
        Ok(Some(changed)) => changed,
        Ok(None) => ticket,
        Err(error) => {
            tracing::warn!(instance = %ctx.instance, number = %ticket.number, code = error.code(), %error, "update rules not applied");
            ticket
        }
    }
}

/// Who asked, as rules on a stored ticket see them: address, name and
/// organisation, read only when a rule looks at them.
pub(crate) struct Requester {
    pub email: String,
    pub name: String,
    pub organisation: Option<String>,
}

impl Requester {
    /// The requester of `ticket`, read as far as `rules` need it.
    pub(crate) async fn of(
        ctx: &Ctx<'_>,
        rules: &[CompiledRule],
        ticket: &Ticket,
    ) -> Result<Self, ServiceError> {
        let needs_user = any_looks_at(rules, |f| {
            matches!(
                f,
                Field::Email | Field::Name | Field::Domain | Field::Organisation
            )
        });
        if !needs_user {
            return Ok(Self {
                email: String::new(),
                name: String::new(),
                organisation: None,
            });
        }
        let (email, name) = match users::get(ctx, &ticket.user).await {
            Ok(user) => (
                user.primary_email().unwrap_or_default().to_owned(),
                user.name,
            ),
            Err(ServiceError::NotFound(_)) => (String::new(), String::new()),
            Err(other) => return Err(other),
        };
        let organisation = if any_looks_at(rules, |f| *f == Field::Organisation) {
            organisation_of(ctx, &email).await?
        } else {
            None
        };
        Ok(Self {
            email,
            name,
            organisation,
        })
    }
}

/// The update rules' follow-up write, if any rule fired.
async fn run_update(
    ctx: &Ctx<'_>,
    rules: &[CompiledRule],
    ticket: &Ticket,
    happened: &[UpdateEvent],
    at_hand: At<'_>,
) -> Result<Option<Ticket>, ServiceError> {
    if !rules
        .iter()
        .any(|r| matches!(r.rule.moment, crate::domain::rules::Moment::Update { .. }))
    {
        return Ok(None);
    }
    let requester = Requester::of(ctx, rules, ticket).await?;
    let now = ctx.clock.now_ms();
    let mut view = TicketView::of(ticket, &requester.email, &requester.name, at_hand.body, now);
    if let Some(mail) = at_hand.mail {
        view = view.with_mail(&mail.headers, mail.recipient.as_deref());
    }
    view.organisation = requester.organisation.as_deref();
    let mut fired_by_event = Outcome::default();
    for event in happened {
        for fired in evaluate(rules, Happening::Update(*event), &view).fired {
            if !fired_by_event.fired.iter().any(|f| f.rule == fired.rule) {
                fired_by_event.fired.push(fired);
            }
        }
    }
    if fired_by_event.fired.is_empty() {
        return Ok(None);
    }
    let mut next = ticket.clone();
    let carried = carry_out(
        ctx,
        &mut next,
        &fired_by_event.fired,
        now,
        at_hand.automatic(),
    )
    .await?;
    // Due times follow what the rules changed (a priority, a status).
    crate::services::sla::refresh(ctx, &mut next, now, rules).await?;
    let ops = carried.ops(ctx, &next)?;
    store::save(ctx, ticket.version, &next, ops).await?;
    next.version = store::next_version(ticket.version);
    tracing::info!(instance = %ctx.instance, number = %next.number, rules = fired_by_event.fired.len(), "update rules applied");
    Ok(Some(next))
}

/// What carrying out rules' actions on a stored ticket leaves to write
/// with it: the thread's new entries (a `rule_fired` event per rule,
/// then the notes and change events in the order the actions came) and
/// what the rules asked to send.
#[derive(Debug, Default)]
pub(crate) struct Carried {
    pub entries: Vec<Entry>,
    /// Each with the index in `entries` of its rule's `rule_fired` event.
    sends: Vec<(usize, RuleSend)>,
}

impl Carried {
    /// The operations writing the entries and the mail they owe (alerts,
    /// the closed notice, what the rules asked to send), beside the
    /// ticket's save.
    pub(crate) fn ops(&self, ctx: &Ctx<'_>, ticket: &Ticket) -> Result<Vec<WriteOp>, ServiceError> {
        let mut ops = self
            .entries
            .iter()
            .map(|e| store::append_entry_op(ctx, ticket, e))
            .collect::<Result<Vec<_>, _>>()?;
        ops.extend(outbox::event_ops(ctx, ticket, &self.entries, false)?);
        ops.extend(send_ops(ctx, ticket, &self.entries, &self.sends)?);
        Ok(ops)
    }
}

/// Carries out the actions of the rules that `fired`, in order, on `next`
/// (a stored ticket about to be saved again), at `now`. Used after updates
/// and by the tick; the caller refreshes due times and saves. With
/// `automatic` (the update is an automatic message) nothing is sent.
pub(crate) async fn carry_out(
    ctx: &Ctx<'_>,
    next: &mut Ticket,
    fired: &[Fired],
    now: i64,
    automatic: bool,
) -> Result<Carried, ServiceError> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut skipped: Vec<Vec<String>> = vec![Vec::new(); fired.len()];
    let mut sends = Vec::new();
    for (at, f) in fired.iter().enumerate() {
        for action in &f.actions {
            if let Some(send) = send_of(f, action, automatic) {
                match send {
                    Ok(send) => sends.push((at, send)),
                    Err(why) => skipped[at].push(why),
                }
                continue;
            }
            let changes = match action {
                Action::AddNote { body } => {
                    entries.push(note(f, body, now));
                    continue;
                }
                Action::SetSla { sla } => {
                    next.sla = Some(sla.0);
                    continue;
                }
                Action::AddCollaborators { addresses } => {
                    collaborators(ctx, next, addresses).await?
                }
                other => match change_for(ctx, other, next.department).await? {
                    Effect::Change(change) => vec![change],
                    Effect::Skipped(why) => {
                        skipped[at].push(why);
                        continue;
                    }
                    Effect::Nothing => Vec::new(),
                },
            };
            entries.extend(change::apply_all(next, changes, &by(), now));
        }
    }
    let mut all: Vec<Entry> = fired
        .iter()
        .zip(&skipped)
        .map(|(f, skipped)| fired_event(f, skipped, now))
        .collect();
    all.extend(entries);
    Ok(Carried {
        entries: all,
        sends,
    })
}
