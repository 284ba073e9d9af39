//! Who a mail about a task goes to, with which template and values: pure
//! over the [`TaskSubject`] the core loaded and the instance's (or the
//! task's department's) outbound policy.
//!
//! - A new task alerts whom `alerts.new_task` names: by default its
//!   assignee and its team's members, else (nobody named) the agents of
//!   its department.
//! - An assignment alerts the agent, or the team's lead and members, it
//!   was just given to, plus whom `alerts.task_assigned` adds.
//!
//! As for tickets: never the agent who acted, nor agents inactive or on
//! vacation; never an undeliverable address.
//!
//! Each alert is Reply-To its sender mailbox with a task token signed for
//! its recipient ([`reply_to`]): the agent's answer by mail becomes a note
//! in the task's thread (`pipeline::task_reply`).

use taquilla_core::domain::{AgentId, InstanceId, TaskId};
use taquilla_core::services::outbox::{TaskMail, TaskOccasion, TaskSubject};

use super::plan::{AlertScope, Planned, alert_recipients, deliverable_to, local_time};
use crate::outbound::{
    InstanceVars, Mailbox, PersonVars, SafeHtml, TaskVars, TeamVars, TemplateKind, Variables,
};
use crate::reply_token::ReplyTokens;

/// Where a reply to an alert about `task` sent from `from` to `recipient`
/// goes: `from`'s mailbox with the task token signed for `recipient`.
#[must_use]
pub fn reply_to(
    tokens: &ReplyTokens,
    instance: &InstanceId,
    from: &Mailbox,
    task: &TaskId,
    recipient: &str,
) -> Mailbox {
    Mailbox::address(tokens.task_address(&from.address, instance, task, recipient))
}

/// Every mail `item` asks for, before any was sent.
#[must_use]
pub fn plan_task(subject: &TaskSubject, item: &TaskMail, public_url: &str) -> Vec<Planned> {
    let outbound = subject
        .department
        .as_ref()
        .and_then(|d| d.outbound.as_ref())
        .unwrap_or(&subject.instance.mail.outbound);
    let alerts = &outbound.alerts;
    let (kind, targets, named, assignee) = match item.occasion {
        TaskOccasion::TaskCreated => (
            TemplateKind::TaskAlertNew,
            &alerts.new_task,
            None,
            subject.task.assignee,
        ),
        TaskOccasion::TaskAssignedAgent => {
            let Some(agent) = subject.assigned_agent() else {
                return Vec::new();
            };
            (
                TemplateKind::TaskAlertAssigned,
                &alerts.task_assigned,
                Some(vec![agent]),
                Some(agent),
            )
        }
        TaskOccasion::TaskAssignedTeam => {
            let Some(team) = subject.assigned_team() else {
                return Vec::new();
            };
            let members: Vec<AgentId> = team
                .lead
                .into_iter()
                .chain(team.members.iter().copied())
                .collect();
            (
                TemplateKind::TaskAlertAssigned,
                &alerts.task_assigned,
                Some(members),
                None,
            )
        }
    };
    let scope = AlertScope {
        agents: &subject.agents,
        department: subject.task.department,
        manager: subject.department.as_ref().and_then(|d| d.manager),
        assignee: subject.task.assignee,
        team: subject.team.as_ref(),
        actor: subject.actor(),
        admin_address: subject.instance.mail.outbound.admin_address.as_deref(),
    };
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (name, email) in alert_recipients(&scope, targets, named) {
        let address = email.to_ascii_lowercase();
        if seen.contains(&address) || !deliverable_to(&subject.instance.mail, kind, &address) {
            continue;
        }
        seen.push(address.clone());
        out.push(Planned {
            kind,
            to: Mailbox::new(name.clone(), address.clone()),
            cc: Vec::new(),
            bcc: Vec::new(),
            language: subject.instance.language,
            variables: variables(
                subject,
                PersonVars::new(name, address),
                assignee,
                public_url,
            ),
        });
    }
    out
}

/// The values of a task alert to `recipient`; `assignee` is the agent the
/// alert says the task is assigned to (none for a team assignment, whose
/// template then names the team).
fn variables(
    subject: &TaskSubject,
    recipient: PersonVars,
    assignee: Option<AgentId>,
    public_url: &str,
) -> Variables {
    let task = &subject.task;
    let person = |id: AgentId| {
        subject
            .agents
            .iter()
            .find(|a| a.id == id)
            .map(|a| PersonVars::new(a.name.clone(), a.email.clone()))
    };
    Variables {
        instance: InstanceVars {
            name: subject.instance.name.clone(),
            url: public_url.to_owned(),
        },
        recipient,
        task: Some(TaskVars {
            number: task.label(),
            title: task.title.clone(),
            department: subject
                .department
                .as_ref()
                .map(|d| d.name.clone())
                .unwrap_or_default(),
            due: task
                .due_at
                .map(|ms| local_time(ms, &subject.instance.timezone)),
            ticket_number: subject.ticket_number.clone(),
            agent_link: public_url.to_owned(),
            description_html: SafeHtml::clean(&task.description_html),
            description_text: task.description_text.clone(),
        }),
        agent: subject.actor().and_then(person),
        assignee: assignee.and_then(person),
        team: subject.team.as_ref().map(|t| TeamVars {
            name: t.name.clone(),
        }),
        ..Variables::default()
    }
}
