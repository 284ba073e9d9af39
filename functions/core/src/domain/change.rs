//! Changes an agent makes to a ticket, as pure functions: apply a [`Change`]
//! to a [`Ticket`] and get the event [`Entry`] that records it (who, what,
//! from and to). The services load, check permissions and store; this module
//! only decides what the ticket becomes and what the thread says about it.
//!
//! A change that changes nothing (the same priority again, a link that
//! exists) produces no event and leaves the ticket untouched, so callers can
//! skip the write.

use std::collections::BTreeMap;

use super::{
    AgentId, Author, Collaborator, DepartmentId, Entry, EntryId, EntryKind, PriorityId, State,
    Status, TeamId, Ticket, TicketId, TopicId, UserId,
};

/// One change to a ticket's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Give the ticket to an agent (the team, if any, is kept).
    AssignAgent(AgentId),
    /// Give the ticket to a team (the agent, if any, is kept).
    AssignTeam(TeamId),
    /// Clear the assigned agent and team.
    Release,
    /// Move the ticket to another department; `clear_assignee` when the
    /// assigned agent has no access there.
    Transfer {
        department: DepartmentId,
        clear_assignee: bool,
    },
    /// A new status; the state follows it, closing and reopening set their times.
    SetStatus(Status),
    SetPriority(PriorityId),
    SetTopic(Option<TopicId>),
    /// Epoch ms, or no due date.
    SetDue(Option<i64>),
    /// Another SLA plan (its id), or none: the due times are recomputed
    /// in the new plan when the ticket is saved.
    SetSla(Option<u32>),
    AddCollaborator(Collaborator),
    RemoveCollaborator(UserId),
    /// This ticket was merged into `target` and takes `status` (a closed one).
    MergeInto {
        target: TicketId,
        target_number: String,
        status: Status,
    },
    /// Relate this ticket to another.
    Link {
        other: TicketId,
        other_number: String,
    },
    /// Undo a [`Change::Link`].
    Unlink {
        other: TicketId,
        other_number: String,
    },
    /// Soft delete: the ticket takes `status` (a deleted-state one).
    Delete(Status),
}

/// Event names, as stored in [`Entry::event`].
pub mod event {
    pub const ASSIGNED: &str = "assigned";
    pub const RELEASED: &str = "released";
    pub const TRANSFERRED: &str = "transferred";
    pub const STATUS_CHANGED: &str = "status_changed";
    pub const PRIORITY_CHANGED: &str = "priority_changed";
    pub const TOPIC_CHANGED: &str = "topic_changed";
    pub const DUE_CHANGED: &str = "due_changed";
    pub const SLA_CHANGED: &str = "sla_changed";
    pub const COLLABORATOR_ADDED: &str = "collaborator_added";
    pub const COLLABORATOR_REMOVED: &str = "collaborator_removed";
    pub const MERGED_INTO: &str = "merged_into";
    pub const MERGED_FROM: &str = "merged_from";
    pub const LINKED: &str = "linked";
    pub const UNLINKED: &str = "unlinked";
    pub const DELETED: &str = "deleted";
}

/// Applies `changes` in order; returns one event per change that changed
/// something, and bumps `updated_at` to `now` if any did.
pub fn apply_all(ticket: &mut Ticket, changes: Vec<Change>, by: &Author, now: i64) -> Vec<Entry> {
    changes
        .into_iter()
        .filter_map(|change| apply(ticket, change, by, now))
        .collect()
}

/// Applies one change; the event recording it, or `None` if it changed
/// nothing. Bumps `updated_at` to `now` when it changes something.
pub fn apply(ticket: &mut Ticket, change: Change, by: &Author, now: i64) -> Option<Entry> {
    let was_assigned = ticket.assignee.is_some() || ticket.team.is_some();
    let (name, data) = match change {
        Change::AssignAgent(agent) => assign_agent(ticket, agent)?,
        Change::AssignTeam(team) => assign_team(ticket, team)?,
        Change::Release => release(ticket)?,
        Change::Transfer {
            department,
            clear_assignee,
        } => transfer(ticket, department, clear_assignee)?,
        Change::SetStatus(status) => set_status(ticket, &status, now)?,
        Change::SetPriority(priority) => set_priority(ticket, priority)?,
        Change::SetTopic(topic) => set_topic(ticket, topic)?,
        Change::SetDue(due) => set_due(ticket, due)?,
        Change::SetSla(sla) => set_sla(ticket, sla)?,
        Change::AddCollaborator(collaborator) => add_collaborator(ticket, collaborator)?,
        Change::RemoveCollaborator(user) => remove_collaborator(ticket, &user)?,
        Change::MergeInto {
            target,
            target_number,
            status,
        } => merge_into(ticket, target, target_number, &status, now)?,
        Change::Link {
            other,
            other_number,
        } => link(ticket, other, other_number)?,
        Change::Unlink {
            other,
            other_number,
        } => unlink(ticket, &other, other_number)?,
        Change::Delete(status) => delete(ticket, &status, now)?,
    };
    // The `unassigned` time condition counts from when assignment ended.
    if ticket.assignee.is_some() || ticket.team.is_some() {
        ticket.unassigned_since = None;
    } else if was_assigned {
        ticket.unassigned_since = Some(now);
    }
    ticket.updated_at = now;
    Some(event_entry(name, data, by, now))
}

/// An event entry of `name` with `data`, by `by`, at `now`.
#[must_use]
pub fn event_entry(name: &str, data: Data, by: &Author, now: i64) -> Entry {
    Entry {
        id: EntryId::generate(),
        kind: EntryKind::Event,
        author: by.clone(),
        body_html: String::new(),
        body_text: String::new(),
        attachments: Vec::new(),
        event: Some(name.to_owned()),
        data,
        created_at: now,
    }
}

/// The event the target of a merge records: `source` moved its thread here.
#[must_use]
pub fn merged_from_event(source: &Ticket, by: &Author, now: i64) -> Entry {
    let data = pairs([
        ("ticket", source.id.to_string()),
        ("number", source.number.clone()),
    ]);
    event_entry(event::MERGED_FROM, data, by, now)
}

/// The details of an event.
pub type Data = BTreeMap<String, String>;

type Outcome = Option<(&'static str, Data)>;

fn pairs<const N: usize>(list: [(&str, String); N]) -> Data {
    list.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// An optional id as event data: the id, or empty for none.
fn text<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn assign_agent(ticket: &mut Ticket, agent: AgentId) -> Outcome {
    if ticket.assignee == Some(agent) {
        return None;
    }
    let from = ticket.assignee.replace(agent);
    let data = pairs([
        ("kind", "agent".into()),
        ("from", text(from)),
        ("to", agent.to_string()),
    ]);
    Some((event::ASSIGNED, data))
}

fn assign_team(ticket: &mut Ticket, team: TeamId) -> Outcome {
    if ticket.team == Some(team) {
        return None;
    }
    let from = ticket.team.replace(team);
    let data = pairs([
        ("kind", "team".into()),
        ("from", text(from)),
        ("to", team.to_string()),
    ]);
    Some((event::ASSIGNED, data))
}

fn release(ticket: &mut Ticket) -> Outcome {
    if ticket.assignee.is_none() && ticket.team.is_none() {
        return None;
    }
    let data = pairs([
        ("agent", text(ticket.assignee.take())),
        ("team", text(ticket.team.take())),
    ]);
    Some((event::RELEASED, data))
}

fn transfer(ticket: &mut Ticket, department: DepartmentId, clear_assignee: bool) -> Outcome {
    if ticket.department == department {
        return None;
    }
    let from = std::mem::replace(&mut ticket.department, department);
    let mut data = pairs([("from", from.to_string()), ("to", department.to_string())]);
    if clear_assignee && let Some(agent) = ticket.assignee.take() {
        data.insert("assignee_cleared".into(), agent.to_string());
    }
    Some((event::TRANSFERRED, data))
}

/// Moves the ticket to `status`, keeping `state` in step and the closed /
/// reopened times true.
fn take_status(ticket: &mut Ticket, status: &Status, now: i64) {
    let was = ticket.state;
    ticket.status = status.id;
    ticket.state = status.state;
    match (was, status.state) {
        (State::Open, State::Closed) => ticket.closed_at = Some(now),
        (State::Closed | State::Archived | State::Deleted, State::Open) => {
            ticket.reopened_at = Some(now);
            ticket.closed_at = None;
        }
        _ => {}
    }
}

fn set_status(ticket: &mut Ticket, status: &Status, now: i64) -> Outcome {
    if ticket.status == status.id && ticket.state == status.state {
        return None;
    }
    let data = pairs([
        ("from", ticket.status.to_string()),
        ("from_state", ticket.state.as_str().into()),
        ("to", status.id.to_string()),
        ("to_name", status.name.clone()),
        ("to_state", status.state.as_str().into()),
    ]);
    take_status(ticket, status, now);
    Some((event::STATUS_CHANGED, data))
}

fn set_priority(ticket: &mut Ticket, priority: PriorityId) -> Outcome {
    if ticket.priority == priority {
        return None;
    }
    let from = std::mem::replace(&mut ticket.priority, priority);
    let data = pairs([("from", from.to_string()), ("to", priority.to_string())]);
    Some((event::PRIORITY_CHANGED, data))
}

fn set_topic(ticket: &mut Ticket, topic: Option<TopicId>) -> Outcome {
    if ticket.topic == topic {
        return None;
    }
    let from = std::mem::replace(&mut ticket.topic, topic);
    let data = pairs([("from", text(from)), ("to", text(topic))]);
    Some((event::TOPIC_CHANGED, data))
}

fn set_due(ticket: &mut Ticket, due: Option<i64>) -> Outcome {
    if ticket.due_at == due {
        return None;
    }
    let from = std::mem::replace(&mut ticket.due_at, due);
    let data = pairs([("from", text(from)), ("to", text(due))]);
    Some((event::DUE_CHANGED, data))
}

fn set_sla(ticket: &mut Ticket, sla: Option<u32>) -> Outcome {
    if ticket.sla == sla {
        return None;
    }
    let from = std::mem::replace(&mut ticket.sla, sla);
    let data = pairs([("from", text(from)), ("to", text(sla))]);
    Some((event::SLA_CHANGED, data))
}

fn copy_name(collaborator: &Collaborator) -> String {
    match collaborator.kind {
        super::CopyKind::Cc => "cc".into(),
        super::CopyKind::Bcc => "bcc".into(),
    }
}

fn add_collaborator(ticket: &mut Ticket, collaborator: Collaborator) -> Outcome {
    if ticket.user == collaborator.user
        || ticket
            .collaborators
            .iter()
            .any(|c| c.user == collaborator.user)
    {
        return None;
    }
    let data = pairs([
        ("user", collaborator.user.to_string()),
        ("kind", copy_name(&collaborator)),
    ]);
    ticket.collaborators.push(collaborator);
    Some((event::COLLABORATOR_ADDED, data))
}

fn remove_collaborator(ticket: &mut Ticket, user: &UserId) -> Outcome {
    let at = ticket.collaborators.iter().position(|c| &c.user == user)?;
    let removed = ticket.collaborators.remove(at);
    let data = pairs([
        ("user", removed.user.to_string()),
        ("kind", copy_name(&removed)),
    ]);
    Some((event::COLLABORATOR_REMOVED, data))
}

fn merge_into(
    ticket: &mut Ticket,
    target: TicketId,
    target_number: String,
    status: &Status,
    now: i64,
) -> Outcome {
    if ticket.merged_into.as_ref() == Some(&target) {
        return None;
    }
    let data = pairs([
        ("ticket", target.to_string()),
        ("number", target_number),
        ("from_status", ticket.status.to_string()),
        ("to_status", status.id.to_string()),
    ]);
    ticket.merged_into = Some(target);
    take_status(ticket, status, now);
    Some((event::MERGED_INTO, data))
}

fn link(ticket: &mut Ticket, other: TicketId, other_number: String) -> Outcome {
    if ticket.id == other || ticket.links.contains(&other) {
        return None;
    }
    let data = pairs([("ticket", other.to_string()), ("number", other_number)]);
    ticket.links.push(other);
    Some((event::LINKED, data))
}

fn unlink(ticket: &mut Ticket, other: &TicketId, other_number: String) -> Outcome {
    let at = ticket.links.iter().position(|t| t == other)?;
    ticket.links.remove(at);
    let data = pairs([("ticket", other.to_string()), ("number", other_number)]);
    Some((event::UNLINKED, data))
}

fn delete(ticket: &mut Ticket, status: &Status, now: i64) -> Outcome {
    if ticket.state == State::Deleted {
        return None;
    }
    let data = pairs([
        ("from", ticket.status.to_string()),
        ("from_state", ticket.state.as_str().into()),
        ("to", status.id.to_string()),
    ]);
    take_status(ticket, status, now);
    Some((event::DELETED, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CopyKind, Source, StatusId};

    fn ticket() -> Ticket {
        Ticket {
            id: TicketId::generate(),
            number: "100001".into(),
            subject: "Printer".into(),
            user: UserId::generate(),
            collaborators: Vec::new(),
            source: Source::Web,
            topic: None,
            department: DepartmentId(1),
            priority: PriorityId(3),
            status: StatusId(1),
            state: State::Open,
            assignee: None,
            team: None,
            sla: None,
            due_at: None,
            overdue: false,
            answered: false,
            fields: BTreeMap::new(),
            created_at: 1_000,
            updated_at: 1_000,
            last_message_at: None,
            last_response_at: None,
            closed_at: None,
            reopened_at: None,
            merged_into: None,
            sla_clock: Default::default(),
            unassigned_since: None,
            rule_timer: Default::default(),
            opening_mail: None,
            links: Vec::new(),
            version: 1,
        }
    }

    fn status(id: u32, state: State) -> Status {
        Status {
            id: StatusId(id),
            name: format!("status {id}"),
            state,
        }
    }

    const BY: Author = Author::Agent(AgentId(7));

    #[test]
    fn assigning_records_who_from_and_to_and_bumps_activity() {
        let mut t = ticket();
        let entry = apply(&mut t, Change::AssignAgent(AgentId(2)), &BY, 5_000).unwrap();
        assert_eq!(t.assignee, Some(AgentId(2)));
        assert_eq!(t.updated_at, 5_000);
        assert_eq!(entry.kind, EntryKind::Event);
        assert_eq!(entry.event.as_deref(), Some(event::ASSIGNED));
        assert_eq!(entry.author, BY);
        assert_eq!(entry.created_at, 5_000);
        assert_eq!(entry.data["from"], "");
        assert_eq!(entry.data["to"], "2");
        assert_eq!(entry.data["kind"], "agent");
    }

    #[test]
    fn a_change_to_the_same_value_records_nothing() {
        let mut t = ticket();
        let before = t.clone();
        assert!(apply(&mut t, Change::SetPriority(PriorityId(3)), &BY, 9).is_none());
        assert!(apply(&mut t, Change::Release, &BY, 9).is_none());
        assert!(apply(&mut t, Change::SetStatus(status(1, State::Open)), &BY, 9).is_none());
        assert_eq!(t, before);
    }

    #[test]
    fn team_and_agent_assignments_are_independent_and_release_clears_both() {
        let mut t = ticket();
        let events = apply_all(
            &mut t,
            vec![
                Change::AssignAgent(AgentId(2)),
                Change::AssignTeam(TeamId(4)),
            ],
            &BY,
            10,
        );
        assert_eq!(events.len(), 2);
        assert_eq!((t.assignee, t.team), (Some(AgentId(2)), Some(TeamId(4))));
        assert_eq!(t.unassigned_since, None);
        let e = apply(&mut t, Change::Release, &BY, 11).unwrap();
        assert_eq!((t.assignee, t.team), (None, None));
        assert_eq!(e.data["agent"], "2");
        assert_eq!(e.data["team"], "4");
        assert_eq!(t.unassigned_since, Some(11), "unassigned since the release");
        apply(&mut t, Change::AssignTeam(TeamId(4)), &BY, 12).unwrap();
        assert_eq!(t.unassigned_since, None);
    }

    #[test]
    fn transfer_clears_the_assignee_only_when_told() {
        let mut t = ticket();
        t.assignee = Some(AgentId(2));
        let e = apply(
            &mut t,
            Change::Transfer {
                department: DepartmentId(2),
                clear_assignee: false,
            },
            &BY,
            10,
        )
        .unwrap();
        assert_eq!(t.assignee, Some(AgentId(2)));
        assert!(!e.data.contains_key("assignee_cleared"));
        let e = apply(
            &mut t,
            Change::Transfer {
                department: DepartmentId(3),
                clear_assignee: true,
            },
            &BY,
            11,
        )
        .unwrap();
        assert_eq!(t.department, DepartmentId(3));
        assert_eq!(t.assignee, None);
        assert_eq!(e.data["from"], "2");
        assert_eq!(e.data["assignee_cleared"], "2");
    }

    #[test]
    fn closing_and_reopening_keep_state_and_times_in_step() {
        let mut t = ticket();
        let e = apply(&mut t, Change::SetStatus(status(3, State::Closed)), &BY, 50).unwrap();
        assert_eq!(
            (t.status, t.state, t.closed_at),
            (StatusId(3), State::Closed, Some(50))
        );
        assert_eq!(e.data["from_state"], "open");
        assert_eq!(e.data["to_state"], "closed");
        // Closed to another closed status: the closing time stays.
        apply(&mut t, Change::SetStatus(status(2, State::Closed)), &BY, 60).unwrap();
        assert_eq!(t.closed_at, Some(50));
        apply(&mut t, Change::SetStatus(status(1, State::Open)), &BY, 70).unwrap();
        assert_eq!(t.state, State::Open);
        assert_eq!(t.closed_at, None);
        assert_eq!(t.reopened_at, Some(70));
    }

    #[test]
    fn collaborators_are_added_once_and_never_the_ticket_user() {
        let mut t = ticket();
        let u = UserId::generate();
        let cc = Collaborator {
            user: u.clone(),
            kind: CopyKind::Cc,
        };
        let e = apply(&mut t, Change::AddCollaborator(cc.clone()), &BY, 1).unwrap();
        assert_eq!(e.data["kind"], "cc");
        assert!(apply(&mut t, Change::AddCollaborator(cc), &BY, 2).is_none());
        let own = Collaborator {
            user: t.user.clone(),
            kind: CopyKind::Bcc,
        };
        assert!(apply(&mut t, Change::AddCollaborator(own), &BY, 3).is_none());
        assert_eq!(t.collaborators.len(), 1);
        assert!(apply(&mut t, Change::RemoveCollaborator(u.clone()), &BY, 4).is_some());
        assert!(apply(&mut t, Change::RemoveCollaborator(u), &BY, 5).is_none());
        assert!(t.collaborators.is_empty());
    }

    #[test]
    fn merging_points_to_the_target_and_closes() {
        let mut t = ticket();
        let target = TicketId::generate();
        let change = Change::MergeInto {
            target: target.clone(),
            target_number: "200002".into(),
            status: status(3, State::Closed),
        };
        let e = apply(&mut t, change.clone(), &BY, 8).unwrap();
        assert_eq!(t.merged_into, Some(target));
        assert_eq!(t.state, State::Closed);
        assert_eq!(t.closed_at, Some(8));
        assert_eq!(e.data["number"], "200002");
        assert!(apply(&mut t, change, &BY, 9).is_none(), "merging twice");
        let from = merged_from_event(&t, &BY, 9);
        assert_eq!(from.event.as_deref(), Some(event::MERGED_FROM));
        assert_eq!(from.data["number"], "100001");
    }

    #[test]
    fn links_are_kept_once_and_never_to_itself() {
        let mut t = ticket();
        let other = TicketId::generate();
        let link = Change::Link {
            other: other.clone(),
            other_number: "9".into(),
        };
        assert!(apply(&mut t, link.clone(), &BY, 1).is_some());
        assert!(apply(&mut t, link, &BY, 2).is_none());
        let own = Change::Link {
            other: t.id.clone(),
            other_number: "1".into(),
        };
        assert!(apply(&mut t, own, &BY, 3).is_none());
        assert_eq!(t.links, vec![other.clone()]);
        let unlink = Change::Unlink {
            other,
            other_number: "9".into(),
        };
        assert!(apply(&mut t, unlink.clone(), &BY, 4).is_some());
        assert!(apply(&mut t, unlink, &BY, 5).is_none());
    }

    #[test]
    fn deleting_takes_the_deleted_status_once() {
        let mut t = ticket();
        let e = apply(&mut t, Change::Delete(status(5, State::Deleted)), &BY, 4).unwrap();
        assert_eq!((t.status, t.state), (StatusId(5), State::Deleted));
        assert_eq!(e.event.as_deref(), Some(event::DELETED));
        assert!(apply(&mut t, Change::Delete(status(5, State::Deleted)), &BY, 5).is_none());
    }

    #[test]
    fn due_dates_and_topics_record_none_as_empty() {
        let mut t = ticket();
        let e = apply(&mut t, Change::SetDue(Some(99)), &BY, 1).unwrap();
        assert_eq!((e.data["from"].as_str(), e.data["to"].as_str()), ("", "99"));
        let e = apply(&mut t, Change::SetDue(None), &BY, 2).unwrap();
        assert_eq!(e.data["to"], "");
        let e = apply(&mut t, Change::SetTopic(Some(TopicId(2))), &BY, 3).unwrap();
        assert_eq!(e.data["to"], "2");
        assert_eq!(t.topic, Some(TopicId(2)));
    }
}
