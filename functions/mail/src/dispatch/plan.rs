//! Who an outbox item writes to, with which template and values: pure
//! over the [`Subject`] the core loaded and the instance's settings.

use taquilla_core::domain::mail_settings::base_address;
use taquilla_core::domain::outbound_settings::{AlertTargets, Members};
use taquilla_core::domain::{
    Agent, AgentId, Author, CopyKind, DepartmentId, Language, MailSettings, Team, User,
};
use taquilla_core::services::outbox::{Occasion, Subject, TicketMail};

use crate::outbound::{
    Audience, EntryVars, InstanceVars, Mailbox, PersonVars, TeamVars, TemplateKind, TicketVars,
    TransferVars, UserVars, Variables,
};

/// One mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub kind: TemplateKind,
    pub to: Mailbox,
    pub cc: Vec<Mailbox>,
    pub bcc: Vec<Mailbox>,
    pub language: Language,
    pub variables: Variables,
}

impl Planned {
    /// What the item's `done` list records once this mail went out.
    #[must_use]
    pub fn done_key(&self) -> String {
        format!("{}:{}", self.kind, self.to.address.to_ascii_lowercase())
    }
}

/// Local parts that belong to machines: automatic mail never goes there.
const MACHINE_LOCAL_PARTS: [&str; 6] = [
    "mailer-daemon",
    "postmaster",
    "noreply",
    "no-reply",
    "donotreply",
    "do-not-reply",
];

/// Whether `address` may receive a mail of `kind` from this instance: a
/// plain address, not one of ours, not suppressed, and not a machine's
/// when the mail is automatic.
#[must_use]
pub fn deliverable(subject: &Subject, kind: TemplateKind, address: &str) -> bool {
    deliverable_to(&subject.instance.mail, kind, address)
}

/// [`deliverable`] under an instance's mail settings, whatever the mail is
/// about.
#[must_use]
pub fn deliverable_to(settings: &MailSettings, kind: TemplateKind, address: &str) -> bool {
    let Some(base) = base_address(address) else {
        return false;
    };
    let plain = address.len() <= 254
        && address
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"<>,;\"()[]\\".contains(&b))
        && address
            .rsplit_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    let local = base.split('@').next().unwrap_or_default();
    let machine = MACHINE_LOCAL_PARTS.contains(&local);
    let automatic = kind.auto_submitted().header_value().is_some();
    let refused = settings.is_own(address)
        || settings.outbound.is_suppressed(address)
        || (automatic && machine);
    plain && !refused
}

/// Every mail `item` asks for, before any was sent.
#[must_use]
pub fn plan(subject: &Subject, item: &TicketMail, public_url: &str) -> Vec<Planned> {
    // The department's own policy when it has one, else the instance's.
    let outbound = subject
        .department
        .as_ref()
        .and_then(|d| d.outbound.as_ref())
        .unwrap_or(&subject.instance.mail.outbound);
    let alerts = &outbound.alerts;
    let topic_answers = subject.topic.as_ref().is_none_or(|t| t.auto_response);
    let mut out = Vec::new();
    match item.occasion {
        Occasion::TicketOpened => {
            if item.auto_respond && outbound.new_ticket_autoresponse && topic_answers {
                out.extend(to_user(
                    subject,
                    TemplateKind::NewTicketAutoresponse,
                    &subject.user,
                    false,
                    public_url,
                ));
            }
            if item.alert {
                out.extend(alert(
                    subject,
                    TemplateKind::AlertNewTicket,
                    &alerts.new_ticket,
                    None,
                    public_url,
                ));
            }
        }
        Occasion::UserMessage => {
            if item.auto_respond && outbound.new_message_autoresponse && topic_answers {
                let author = subject.author_user.as_ref().unwrap_or(&subject.user);
                out.extend(to_user(
                    subject,
                    TemplateKind::NewMessageAutoresponse,
                    author,
                    false,
                    public_url,
                ));
            }
            if item.alert {
                out.extend(alert(
                    subject,
                    TemplateKind::AlertNewMessage,
                    &alerts.new_message,
                    None,
                    public_url,
                ));
            }
        }
        Occasion::AgentResponse => {
            out.extend(to_user(
                subject,
                TemplateKind::Response,
                &subject.user,
                true,
                public_url,
            ));
        }
        Occasion::InternalNote => {
            if item.alert {
                out.extend(alert(
                    subject,
                    TemplateKind::AlertInternalNote,
                    &alerts.internal_note,
                    None,
                    public_url,
                ));
            }
        }
        Occasion::AssignedAgent => {
            let assigned = subject
                .entry
                .data
                .get("to")
                .and_then(|to| to.parse::<u32>().ok())
                .map(AgentId);
            out.extend(alert(
                subject,
                TemplateKind::AlertAssignedAgent,
                &alerts.assigned,
                assigned.map(|a| vec![a]),
                public_url,
            ));
        }
        Occasion::AssignedTeam => {
            let team: Vec<AgentId> = subject
                .team
                .as_ref()
                .map(|t| {
                    t.lead
                        .into_iter()
                        .chain(t.members.iter().copied())
                        .collect()
                })
                .unwrap_or_default();
            out.extend(alert(
                subject,
                TemplateKind::AlertAssignedTeam,
                &alerts.assigned,
                Some(team),
                public_url,
            ));
        }
        Occasion::Transferred => {
            out.extend(alert(
                subject,
                TemplateKind::AlertTransfer,
                &alerts.transfer,
                None,
                public_url,
            ));
        }
        Occasion::SlaWarning => {
            out.extend(alert(
                subject,
                TemplateKind::AlertSlaWarning,
                &alerts.sla_warning,
                None,
                public_url,
            ));
        }
        Occasion::Overdue => {
            out.extend(alert(
                subject,
                TemplateKind::AlertOverdue,
                &alerts.overdue,
                None,
                public_url,
            ));
        }
        Occasion::RuleSend => out.extend(super::rule::plan(subject, item, public_url)),
        Occasion::Closed => {
            if outbound.closed_notice {
                out.extend(to_user(
                    subject,
                    TemplateKind::TicketClosed,
                    &subject.user,
                    false,
                    public_url,
                ));
            }
        }
    }
    out
}

/// A mail to `user` (with the collaborators copied when `copies`).
fn to_user(
    subject: &Subject,
    kind: TemplateKind,
    user: &User,
    copies: bool,
    public_url: &str,
) -> Option<Planned> {
    let address = user.primary_email()?;
    if !deliverable(subject, kind, address) {
        tracing::info!(%address, template = %kind, "not written to: undeliverable address");
        return None;
    }
    let (mut cc, mut bcc) = (Vec::new(), Vec::new());
    if copies {
        for (collaborator, how) in &subject.collaborators {
            let Some(copy) = collaborator.primary_email() else {
                continue;
            };
            if collaborator.id == user.id || !deliverable(subject, kind, copy) {
                continue;
            }
            let mailbox = Mailbox::new(collaborator.name.clone(), copy);
            match how {
                CopyKind::Cc => cc.push(mailbox),
                CopyKind::Bcc => bcc.push(mailbox),
            }
        }
    }
    let language = user.language.unwrap_or(subject.instance.language);
    let recipient = PersonVars::new(user.name.clone(), address);
    Some(Planned {
        kind,
        to: Mailbox::new(user.name.clone(), address),
        cc,
        bcc,
        language,
        variables: variables(subject, kind, recipient, public_url),
    })
}

/// One alert per agent the targets name (and the administrator's address),
/// never to the agent who caused it. `named` replaces the assignee and team
/// rules for assignment alerts (the agent or team just given the ticket).
fn alert(
    subject: &Subject,
    kind: TemplateKind,
    targets: &AlertTargets,
    named: Option<Vec<AgentId>>,
    public_url: &str,
) -> Vec<Planned> {
    let scope = AlertScope {
        agents: &subject.agents,
        department: subject.ticket.department,
        manager: subject.department.as_ref().and_then(|d| d.manager),
        assignee: subject.ticket.assignee,
        team: subject.team.as_ref(),
        actor: match &subject.entry.author {
            Author::Agent(id) => Some(*id),
            _ => None,
        },
        admin_address: subject.instance.mail.outbound.admin_address.as_deref(),
    };
    let mut out: Vec<Planned> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (name, email) in alert_recipients(&scope, targets, named) {
        push_agent(
            subject, kind, &name, &email, public_url, &mut seen, &mut out,
        );
    }
    out
}

/// What an alert's recipients are chosen from, whatever it is about (a
/// ticket, a task).
#[derive(Debug, Clone, Copy)]
pub struct AlertScope<'a> {
    /// Every agent of the instance.
    pub agents: &'a [Agent],
    /// The department of the ticket or task.
    pub department: DepartmentId,
    /// That department's manager.
    pub manager: Option<AgentId>,
    pub assignee: Option<AgentId>,
    pub team: Option<&'a Team>,
    /// The agent who caused the alert: never alerted of it.
    pub actor: Option<AgentId>,
    /// The instance's administrator address.
    pub admin_address: Option<&'a str>,
}

/// The (name, address) of everyone `targets` names in `scope`, in order:
/// `named` (the agent or team just assigned) or else the assignee and the
/// team, the department's manager, its members (always, never or when no
/// one else is named), then the administrator's address. Never the agent
/// who acted, nor agents inactive or on vacation; nobody when the alert is
/// disabled. Duplicates are left to the caller.
#[must_use]
pub fn alert_recipients(
    scope: &AlertScope<'_>,
    targets: &AlertTargets,
    named: Option<Vec<AgentId>>,
) -> Vec<(String, String)> {
    if !targets.enabled {
        return Vec::new();
    }
    let mut ids: Vec<AgentId> = Vec::new();
    match named {
        Some(named) => ids.extend(named),
        None => {
            if targets.assignee {
                ids.extend(scope.assignee);
            }
            if let Some(team) = scope.team {
                if targets.team_lead {
                    ids.extend(team.lead);
                }
                if targets.team_members {
                    ids.extend(team.members.iter().copied());
                }
            }
        }
    }
    if targets.department_manager {
        ids.extend(scope.manager);
    }
    let members = match targets.department_members {
        Members::Always => true,
        Members::WhenUnassigned => ids.is_empty(),
        Members::Never => false,
    };
    if members {
        ids.extend(
            scope
                .agents
                .iter()
                .filter(|a| a.departments().any(|d| d == scope.department))
                .map(|a| a.id),
        );
    }
    let mut out = Vec::new();
    for id in ids {
        if Some(id) == scope.actor {
            continue;
        }
        let Some(agent) = scope.agents.iter().find(|a| a.id == id) else {
            continue;
        };
        if !agent.active || agent.on_vacation {
            continue;
        }
        out.push((agent.name.clone(), agent.email.clone()));
    }
    if targets.admin
        && let Some(admin) = scope.admin_address
    {
        out.push((String::new(), admin.to_owned()));
    }
    out
}

fn push_agent(
    subject: &Subject,
    kind: TemplateKind,
    name: &str,
    email: &str,
    public_url: &str,
    seen: &mut Vec<String>,
    out: &mut Vec<Planned>,
) {
    let address = email.to_ascii_lowercase();
    if seen.contains(&address) || !deliverable(subject, kind, &address) {
        return;
    }
    seen.push(address.clone());
    let recipient = PersonVars::new(name, address.clone());
    out.push(Planned {
        kind,
        to: Mailbox::new(name, address),
        cc: Vec::new(),
        bcc: Vec::new(),
        language: subject.instance.language,
        variables: variables(subject, kind, recipient, public_url),
    });
}

/// The values of a mail of `kind` to `recipient` (also what a canned
/// response is expanded with, `crate::canned`).
#[must_use]
pub fn variables(
    subject: &Subject,
    kind: TemplateKind,
    recipient: PersonVars,
    public_url: &str,
) -> Variables {
    let ticket = &subject.ticket;
    let name_of = |id: AgentId| {
        subject
            .agents
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.name.clone())
    };
    let entry = &subject.entry;
    let author = match &entry.author {
        Author::Agent(id) => name_of(*id).unwrap_or_default(),
        Author::User(id) if *id == subject.user.id => subject.user.name.clone(),
        Author::User(_) => subject
            .author_user
            .as_ref()
            .map(|u| u.name.clone())
            .unwrap_or_default(),
        Author::System(_) => subject.instance.name.clone(),
    };
    let body = EntryVars::stored(author.clone(), &entry.body_html, entry.body_text.clone());
    let mut vars = Variables {
        instance: InstanceVars {
            name: subject.instance.name.clone(),
            url: public_url.to_owned(),
        },
        recipient,
        ticket: Some(TicketVars {
            number: ticket.number.clone(),
            subject: ticket.subject.clone(),
            status: subject
                .status
                .as_ref()
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            priority: subject
                .priority
                .as_ref()
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            department: subject
                .department
                .as_ref()
                .map(|d| d.name.clone())
                .unwrap_or_default(),
            topic: subject.topic.as_ref().map(|t| t.name.clone()),
            due: ticket
                .due_at
                .map(|ms| local_time(ms, &subject.instance.timezone)),
            created: local_time(ticket.created_at, &subject.instance.timezone),
            link: None,
            agent_link: (kind.audience() == Audience::Agent).then(|| public_url.to_owned()),
            assignee: ticket.assignee.and_then(name_of),
            team: subject.team.as_ref().map(|t| t.name.clone()),
        }),
        user: Some(UserVars {
            name: subject.user.name.clone(),
            email: subject.user.primary_email().unwrap_or_default().to_owned(),
            organisation: None,
        }),
        team: subject.team.as_ref().map(|t| TeamVars {
            name: t.name.clone(),
        }),
        ..Variables::default()
    };
    if let Author::Agent(id) = &entry.author {
        vars.agent = Some(PersonVars::new(
            author.clone(),
            subject
                .agents
                .iter()
                .find(|a| a.id == *id)
                .map(|a| a.email.clone())
                .unwrap_or_default(),
        ));
    }
    match kind {
        TemplateKind::NewTicketAutoresponse
        | TemplateKind::NewMessageAutoresponse
        | TemplateKind::AlertNewTicket
        | TemplateKind::AlertNewMessage => vars.message = Some(body),
        TemplateKind::Response => vars.response = Some(body),
        TemplateKind::AlertInternalNote => vars.note = Some(body),
        TemplateKind::AlertAssignedAgent => {
            vars.assignee = ticket
                .assignee
                .and_then(|id| subject.agents.iter().find(|a| a.id == id))
                .map(|a| PersonVars::new(a.name.clone(), a.email.clone()));
        }
        TemplateKind::AlertTransfer => {
            vars.transfer = Some(TransferVars {
                from_department: subject
                    .previous_department
                    .as_ref()
                    .map(|d| d.name.clone())
                    .unwrap_or_default(),
            });
        }
        _ => {}
    }
    vars
}

/// An epoch-millisecond time as the instance's clock shows it:
/// `YYYY-MM-DD HH:MM` and the zone's abbreviation (`CET`, `CEST`). A zone
/// the database does not know (settings are checked when saved, so only
/// an older one) prints in UTC rather than failing the mail.
#[must_use]
pub fn local_time(ms: i64, timezone: &str) -> String {
    use chrono::TimeZone as _;
    let Some(utc) = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms) else {
        return String::new();
    };
    match timezone.parse::<chrono_tz::Tz>() {
        Ok(zone) => zone
            .from_utc_datetime(&utc.naive_utc())
            .format("%Y-%m-%d %H:%M %Z")
            .to_string(),
        Err(_) => utc.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_on_the_instances_clock() {
        assert_eq!(local_time(0, "UTC"), "1970-01-01 00:00 UTC");
        assert_eq!(
            local_time(1_767_225_600_000, "Europe/Madrid"),
            "2026-01-01 01:00 CET"
        );
        assert_eq!(
            local_time(1_785_499_200_000, "Europe/Madrid"),
            "2026-07-31 14:00 CEST"
        );
        assert_eq!(
            local_time(951_825_600_000, "Atlantic/Canary"),
            "2000-02-29 12:00 WET"
        );
        assert_eq!(
            local_time(951_825_600_000, "Not/AZone"),
            "2000-02-29 12:00 UTC"
        );
    }
}
