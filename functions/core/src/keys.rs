//! The key design: every partition and sort key Taquilla stores, in one place.
//!
//! One table serves every instance. Every key of an instance's data starts
//! with `I#{instance}`, so no query can reach another instance's items; the
//! one deployment-wide partition is the instance directory, read by admin
//! commands only. `docs/store.md` has the same design as a table.
//!
//! | item | pk | sk |
//! | --- | --- | --- |
//! | instance directory entry | `INSTANCES` | `I#{instance}` |
//! | instance settings | `I#{instance}` | `CONFIG` |
//! | department, topic, role, agent, schedule, SLA plan | `I#{instance}` | `{KIND}#{id:010}` |
//! | sequence of a kind | `I#{instance}` | `SEQ#{KIND}` |
//! | agent e-mail (unique) | `I#{instance}#EMAIL#{email}` | `AGENT` |
//! | user e-mail (unique) | `I#{instance}#EMAIL#{email}` | `USER` |
//! | configuration object name (unique per kind) | `I#{instance}#NAME#{name}` | `{KIND}` |
//! | user | `I#{instance}#USERS` | `{user}` |
//! | organisation | `I#{instance}` | `ORG#{id:010}` |
//! | ticket | `I#{instance}#T#{ticket}` | `TICKET` |
//! | thread entry | `I#{instance}#T#{ticket}` | `E#{created_ms:013}#{entry}` |
//! | ticket lock | `I#{instance}#T#{ticket}` | `LOCK` (TTL) |
//! | ticket number (unique) | `I#{instance}#NUM#{number}` | `TICKET` |
//! | API key (by its SHA-256, hex; deployment-wide) | `APIKEY#{hash}` | `KEY` |
//! | API key of an instance (listing) | `I#{instance}` | `APIKEY#{key id}` |
//! | task | `I#{instance}#K#{task}` | `TASK` |
//! | task thread entry | `I#{instance}#K#{task}` | `E#{created_ms:013}#{entry}` |
//! | mail message received or sent (by Message-ID or content hash) | `I#{instance}#MSG#{sha256}` | `MSG` |
//! | mail kept for review (could not be processed) | `I#{instance}#MAILKEPT` | `{received_ms:013}#{id}` |
//! | mailbox address (unique; deployment-wide) | `MAILBOX#{address}` | `ROUTE` |
//! | an instance's own mail template | `I#{instance}` | `TEMPLATE#{kind}#{language}` |
//! | outbox item: mail a ticket change still has to send | `I#{instance}#OUTBOX` | `{created_ms:013}#{id}` |
//! | an agent's password link (one at a time) | `I#{instance}#AGENT#{agent:010}` | `PWLINK` |
//! | an address no mail goes to (it bounced for good, or its owner complained) | `I#{instance}#SUPPRESSED` | `{address}` |
//! | a bounce or complaint notification handled (by SES's feedbackId) | `I#{instance}#FEEDBACK#{sha256}` | `FEEDBACK` (TTL) |
//! | a request API Gateway delivered, and its answer (by its request id) | `I#{instance}#REQ#{sha256}` | `REQ` (TTL) |
//!
//! Ticket queues are the GSIs; every ticket item carries the keys of the
//! queues it is in (an absent key takes it out: the indexes are sparse):
//!
//! | index | partition | sort | serves |
//! | --- | --- | --- | --- |
//! | `gsi1` | `I#{instance}#DQ#{department}#{state}` | `{activity_ms:013}#{ticket}` | a department's queue by state |
//! | `gsi2` | `I#{instance}#AQ#{agent}#{state}` | `{activity_ms:013}#{ticket}` | an agent's tickets |
//! | `gsi3` | `I#{instance}#UQ#{user}` | `{created_ms:013}#{ticket}` | a user's tickets |
//! | `gsi4` | `I#{instance}#TQ#{team}#{state}` | `{activity_ms:013}#{ticket}` | a team's tickets |
//! | `gsi5` | `I#{instance}#DUE` | `{next_fire_ms:013}#{ticket}` | open tickets by the next moment time-driven work is owed (SLA tick; due-ordered queue) |
//! | `gsi5` | `I#{instance}#LATE` | `{due_ms:013}#{ticket}` | open tickets overdue with nothing more owed (due-ordered queue) |
//!
//! Task items share the first four indexes under partition prefixes of
//! their own (`K…`), so no ticket query ever meets a task:
//!
//! | index | partition | sort | serves |
//! | --- | --- | --- | --- |
//! | `gsi1` | `I#{instance}#KQ#{department}#{state}` | `{activity_ms:013}#{task}` | a department's tasks by state |
//! | `gsi2` | `I#{instance}#KA#{agent}#{state}` | `{activity_ms:013}#{task}` | an agent's tasks by state |
//! | `gsi3` | `I#{instance}#KT#{ticket}` | `{created_ms:013}#{task}` | the tasks of a ticket |
//! | `gsi4` | `I#{instance}#KM#{team}#{state}` | `{activity_ms:013}#{task}` | a team's tasks by state |

use crate::domain::{EntryId, InstanceId, TaskId, TicketId, UserId};
use crate::store::{Key, SkCondition};

/// Partition of the deployment-wide instance directory.
pub const DIRECTORY_PK: &str = "INSTANCES";

/// The directory entry of an instance.
#[must_use]
pub fn directory_entry(instance: &InstanceId) -> Key {
    Key::new(DIRECTORY_PK, format!("I#{instance}"))
}

/// The partition holding an instance's settings and configuration objects.
#[must_use]
pub fn instance_pk(instance: &InstanceId) -> String {
    format!("I#{instance}")
}

/// The instance's settings.
#[must_use]
pub fn instance_config(instance: &InstanceId) -> Key {
    Key::new(instance_pk(instance), "CONFIG")
}

/// A configuration object of a kind (`DEPT`, `TOPIC`, `ROLE`, `AGENT`) by number.
/// Ids are zero-padded so that the sort key orders them numerically.
#[must_use]
pub fn object(instance: &InstanceId, kind: &str, id: u32) -> Key {
    Key::new(instance_pk(instance), format!("{kind}#{id:010}"))
}

/// Selects every object of a kind in the instance partition.
#[must_use]
pub fn objects_of(kind: &str) -> SkCondition {
    SkCondition::BeginsWith(format!("{kind}#"))
}

/// The counter from which the ids of a kind are allocated.
#[must_use]
pub fn sequence(instance: &InstanceId, kind: &str) -> Key {
    Key::new(instance_pk(instance), format!("SEQ#{kind}"))
}

/// Attribute of a sequence item holding the last id allocated.
pub const SEQUENCE_ATTR: &str = "last";

/// The uniqueness claim on an agent's e-mail address.
#[must_use]
pub fn agent_email(instance: &InstanceId, email: &str) -> Key {
    Key::new(
        format!("{}#EMAIL#{}", instance_pk(instance), email.to_lowercase()),
        "AGENT",
    )
}

/// The uniqueness claim on a user's e-mail address.
#[must_use]
pub fn user_email(instance: &InstanceId, email: &str) -> Key {
    Key::new(
        format!("{}#EMAIL#{}", instance_pk(instance), email.to_lowercase()),
        "USER",
    )
}

/// The uniqueness claim on the name of a configuration object of `kind`
/// (`DEPT`, `TOPIC`, ...), holding the object's id. Names are claimed in the
/// form [`fold_name`] gives, so names that differ only in case or white
/// space claim the same key.
#[must_use]
pub fn object_name(instance: &InstanceId, kind: &str, name: &str) -> Key {
    Key::new(
        format!("{}#NAME#{}", instance_pk(instance), fold_name(name)),
        kind,
    )
}

/// A name as its claim compares it: white space trimmed and each run of it
/// made one space, case folded (`Straße` and `STRASSE` are the same name).
#[must_use]
pub fn fold_name(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
        .to_lowercase()
}

/// The partition of every user of an instance (listing users is one query).
#[must_use]
pub fn users_pk(instance: &InstanceId) -> String {
    format!("{}#USERS", instance_pk(instance))
}

/// A user's profile.
#[must_use]
pub fn user(instance: &InstanceId, user: &UserId) -> Key {
    Key::new(users_pk(instance), user.to_string())
}

/// The partition of a ticket: the ticket, its thread, its lock.
#[must_use]
pub fn ticket_pk(instance: &InstanceId, ticket: &TicketId) -> String {
    format!("{}#T#{ticket}", instance_pk(instance))
}

/// The ticket item.
#[must_use]
pub fn ticket(instance: &InstanceId, ticket: &TicketId) -> Key {
    Key::new(ticket_pk(instance, ticket), "TICKET")
}

/// A thread entry; entries sort by creation time.
#[must_use]
pub fn entry(instance: &InstanceId, ticket: &TicketId, created_ms: i64, entry: &EntryId) -> Key {
    Key::new(
        ticket_pk(instance, ticket),
        format!("E#{created_ms:013}#{entry}"),
    )
}

/// Selects every entry of a thread.
#[must_use]
pub fn entries() -> SkCondition {
    SkCondition::BeginsWith("E#".into())
}

/// The collision lock of a ticket.
#[must_use]
pub fn ticket_lock(instance: &InstanceId, ticket: &TicketId) -> Key {
    Key::new(ticket_pk(instance, ticket), "LOCK")
}

/// The uniqueness claim on a ticket number, holding the ticket's id.
#[must_use]
pub fn ticket_number(instance: &InstanceId, number: &str) -> Key {
    Key::new(format!("{}#NUM#{number}", instance_pk(instance)), "TICKET")
}

/// An integration API key, found by the SHA-256 of the key (hex): the one
/// deployment-wide lookup an API request makes before it knows its instance.
#[must_use]
pub fn api_key(hash: &str) -> Key {
    Key::new(format!("APIKEY#{hash}"), "KEY")
}

/// The listing entry of an instance's API key, holding the key's hash.
#[must_use]
pub fn instance_api_key(instance: &InstanceId, key_id: &str) -> Key {
    Key::new(instance_pk(instance), format!("APIKEY#{key_id}"))
}

/// Selects every API key listing entry of an instance partition.
#[must_use]
pub fn instance_api_keys() -> SkCondition {
    SkCondition::BeginsWith("APIKEY#".into())
}

/// The partition of a task: the task and its thread.
#[must_use]
pub fn task_pk(instance: &InstanceId, task: &TaskId) -> String {
    format!("{}#K#{task}", instance_pk(instance))
}

/// The task item.
#[must_use]
pub fn task(instance: &InstanceId, task: &TaskId) -> Key {
    Key::new(task_pk(instance, task), "TASK")
}

/// An entry of a task's thread; entries sort by creation time (select them
/// with [`entries`]).
#[must_use]
pub fn task_entry(instance: &InstanceId, task: &TaskId, created_ms: i64, entry: &EntryId) -> Key {
    Key::new(
        task_pk(instance, task),
        format!("E#{created_ms:013}#{entry}"),
    )
}

/// Queue index partitions of a task, and their sort keys.
pub mod task_queue {
    use crate::domain::{AgentId, DepartmentId, InstanceId, TaskId, TaskState, TeamId, TicketId};

    use super::instance_pk;

    /// A department's tasks in one state (`gsi1`).
    #[must_use]
    pub fn department(instance: &InstanceId, department: DepartmentId, state: TaskState) -> String {
        format!(
            "{}#KQ#{department}#{}",
            instance_pk(instance),
            state.as_str()
        )
    }

    /// An agent's tasks in one state (`gsi2`).
    #[must_use]
    pub fn assignee(instance: &InstanceId, agent: AgentId, state: TaskState) -> String {
        format!("{}#KA#{agent}#{}", instance_pk(instance), state.as_str())
    }

    /// The tasks of a ticket, by creation (`gsi3`).
    #[must_use]
    pub fn ticket(instance: &InstanceId, ticket: &TicketId) -> String {
        format!("{}#KT#{ticket}", instance_pk(instance))
    }

    /// A team's tasks in one state (`gsi4`).
    #[must_use]
    pub fn team(instance: &InstanceId, team: TeamId, state: TaskState) -> String {
        format!("{}#KM#{team}#{}", instance_pk(instance), state.as_str())
    }

    /// A sort key ordering tasks by a moment, ties broken by id.
    #[must_use]
    pub fn at(ms: i64, task: &TaskId) -> String {
        format!("{ms:013}#{task}")
    }
}

/// Queue index partitions of a ticket.
pub mod queue {
    use crate::domain::{AgentId, DepartmentId, InstanceId, State, TeamId, TicketId, UserId};

    use super::instance_pk;

    /// A department's tickets in one state (`gsi1`).
    #[must_use]
    pub fn department(instance: &InstanceId, department: DepartmentId, state: State) -> String {
        format!(
            "{}#DQ#{department}#{}",
            instance_pk(instance),
            state.as_str()
        )
    }

    /// An agent's tickets in one state (`gsi2`).
    #[must_use]
    pub fn assignee(instance: &InstanceId, agent: AgentId, state: State) -> String {
        format!("{}#AQ#{agent}#{}", instance_pk(instance), state.as_str())
    }

    /// A user's tickets (`gsi3`).
    #[must_use]
    pub fn user(instance: &InstanceId, user: &UserId) -> String {
        format!("{}#UQ#{user}", instance_pk(instance))
    }

    /// A team's tickets in one state (`gsi4`).
    #[must_use]
    pub fn team(instance: &InstanceId, team: TeamId, state: State) -> String {
        format!("{}#TQ#{team}#{}", instance_pk(instance), state.as_str())
    }

    /// Open tickets by the next moment time-driven work is owed on them
    /// (`gsi5`, what the escalation tick reads).
    #[must_use]
    pub fn due(instance: &InstanceId) -> String {
        format!("{}#DUE", instance_pk(instance))
    }

    /// Open tickets with a due time and nothing more owed (overdue, every
    /// alert sent), by due time (`gsi5`; the due-ordered queue reads it
    /// beside [`due`]).
    #[must_use]
    pub fn late(instance: &InstanceId) -> String {
        format!("{}#LATE", instance_pk(instance))
    }

    /// A sort key ordering tickets by a moment, ties broken by id.
    #[must_use]
    pub fn at(ms: i64, ticket: &TicketId) -> String {
        format!("{ms:013}#{ticket}")
    }
}

/// Keys of the mail channel.
pub mod mail {
    use sha2::{Digest, Sha256};

    use super::instance_pk;
    use crate::domain::InstanceId;
    use crate::store::Key;

    /// A mail message the instance received or sent, by its Message-ID
    /// (without angle brackets) or, for a message without one, its content
    /// hash. Ids are hashed: they may be long and hold any printable
    /// character, and compare exactly (RFC 5322 ids are case-sensitive).
    #[must_use]
    pub fn message(instance: &InstanceId, id: &str) -> Key {
        let digest = Sha256::digest(id.trim().trim_start_matches('<').trim_end_matches('>'));
        Key::new(
            format!("{}#MSG#{}", instance_pk(instance), hex::encode(digest)),
            "MSG",
        )
    }

    /// The deployment-wide claim of a mailbox address, naming the instance
    /// it belongs to: how mail arriving through SES finds its help desk.
    #[must_use]
    pub fn mailbox_route(address: &str) -> Key {
        Key::new(
            format!("MAILBOX#{}", address.trim().to_lowercase()),
            "ROUTE",
        )
    }

    /// An instance's own texts for a mail template (`kind`, `language`),
    /// replacing the built-in ones.
    #[must_use]
    pub fn template(instance: &InstanceId, kind: &str, language: &str) -> Key {
        Key::new(instance_pk(instance), format!("TEMPLATE#{kind}#{language}"))
    }

    /// Attribute of a mailbox route naming its instance.
    pub const ROUTE_INSTANCE_ATTR: &str = "instance";

    /// The partition listing the mail kept for review.
    #[must_use]
    pub fn kept_pk(instance: &InstanceId) -> String {
        format!("{}#MAILKEPT", instance_pk(instance))
    }

    /// One message kept for review, ordered by arrival.
    #[must_use]
    pub fn kept(instance: &InstanceId, received_ms: i64, id: &str) -> Key {
        Key::new(kept_pk(instance), format!("{received_ms:013}#{id}"))
    }

    /// The partition of the instance's outbox: the mail ticket changes
    /// still have to send, written with the change (see
    /// `services::outbox`). Sent items are deleted, so it stays small.
    #[must_use]
    pub fn outbox_pk(instance: &InstanceId) -> String {
        format!("{}#OUTBOX", instance_pk(instance))
    }

    /// One outbox item, ordered by creation.
    #[must_use]
    pub fn outbox(instance: &InstanceId, created_ms: i64, id: &str) -> Key {
        Key::new(outbox_pk(instance), format!("{created_ms:013}#{id}"))
    }

    /// The partition of the instance's suppressed addresses: listing them
    /// is one query (see `services::suppressions`).
    #[must_use]
    pub fn suppressions_pk(instance: &InstanceId) -> String {
        format!("{}#SUPPRESSED", instance_pk(instance))
    }

    /// An address no mail of the instance goes to, in lower case (plus
    /// tags and all: the address as mail was sent to it).
    #[must_use]
    pub fn suppression(instance: &InstanceId, address: &str) -> Key {
        Key::new(suppressions_pk(instance), address.trim().to_lowercase())
    }

    /// The claim of a bounce or complaint notification (SES's feedbackId,
    /// hashed: any printable text), written with what it changed so a
    /// second delivery of it changes nothing. It expires (TTL) once no
    /// redelivery can come.
    #[must_use]
    pub fn feedback(instance: &InstanceId, feedback_id: &str) -> Key {
        let digest = Sha256::digest(feedback_id.trim());
        Key::new(
            format!("{}#FEEDBACK#{}", instance_pk(instance), hex::encode(digest)),
            "FEEDBACK",
        )
    }
}

/// A request API Gateway delivered to the instance, by API Gateway's
/// request id (hashed: any printable text), holding the answer given so a
/// second delivery of the same event gets it again instead of acting
/// twice (see `services::replays`). It expires (TTL).
#[must_use]
pub fn gateway_request(instance: &InstanceId, request_id: &str) -> Key {
    use sha2::{Digest as _, Sha256};
    let digest = Sha256::digest(request_id.trim());
    Key::new(
        format!("{}#REQ#{}", instance_pk(instance), hex::encode(digest)),
        "REQ",
    )
}

/// Keys of agents' accounts.
pub mod account {
    use super::instance_pk;
    use crate::domain::{AgentId, InstanceId};
    use crate::store::Key;

    /// The agent's password link: the one pending "choose your password"
    /// link it may have (see `services::accounts::links`).
    #[must_use]
    pub fn password_link(instance: &InstanceId, agent: AgentId) -> Key {
        Key::new(
            format!("{}#AGENT#{:010}", instance_pk(instance), agent.0),
            "PWLINK",
        )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_instance_key_starts_with_the_instance() {
        let demo = InstanceId::parse("demo").unwrap();
        for key in [
            instance_config(&demo),
            object(&demo, "DEPT", 1),
            sequence(&demo, "TOPIC"),
            agent_email(&demo, "A@x.org"),
        ] {
            assert!(key.pk.starts_with("I#demo"), "{key:?}");
        }
        assert_eq!(agent_email(&demo, "A@X.org").pk, "I#demo#EMAIL#a@x.org");
    }

    #[test]
    fn names_that_differ_in_case_or_white_space_claim_one_key() {
        let demo = InstanceId::parse("demo").unwrap();
        let claim = object_name(&demo, "DEPT", "  IT\t Support ");
        assert_eq!(claim, Key::new("I#demo#NAME#it support", "DEPT"));
        assert_eq!(claim, object_name(&demo, "DEPT", "it SUPPORT"));
        assert_ne!(claim, object_name(&demo, "TOPIC", "IT Support"));
        assert_ne!(claim, object_name(&demo, "DEPT", "IT-Support"));
        assert_eq!(fold_name("Straße"), fold_name("STRASSE"));
    }

    #[test]
    fn object_keys_sort_numerically() {
        let demo = InstanceId::parse("demo").unwrap();
        assert!(object(&demo, "DEPT", 9).sk < object(&demo, "DEPT", 10).sk);
    }

    #[test]
    fn task_queue_partitions_never_meet_ticket_queue_partitions() {
        use crate::domain::{TaskState, TeamId};
        let demo = InstanceId::parse("demo").unwrap();
        let team = task_queue::team(&demo, TeamId(3), TaskState::Open);
        assert_eq!(team, "I#demo#KM#3#open");
        assert_ne!(
            team,
            queue::team(&demo, TeamId(3), crate::domain::State::Open)
        );
    }

    /// The first `code` span of a Markdown table cell.
    fn code(cell: &str) -> Option<&str> {
        let start = cell.find('`')? + 1;
        let len = cell[start..].find('`')?;
        Some(&cell[start..start + len])
    }

    /// The key tables of a Markdown text (each line with its prefix
    /// removed): the partition keys of the item table, and the
    /// (index, partition, sort) rows of the index tables.
    fn key_tables<'a>(
        lines: impl Iterator<Item = &'a str>,
    ) -> (BTreeSet<String>, BTreeSet<[String; 3]>) {
        let (mut pks, mut indexes) = (BTreeSet::new(), BTreeSet::new());
        for line in lines.filter(|l| l.starts_with('|')) {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let codes: Vec<Option<&str>> = cells.iter().map(|c| code(c)).collect();
            match codes.as_slice() {
                [Some(index), Some(pk), Some(sk), _] if index.starts_with("gsi") => {
                    indexes.insert([(*index).to_owned(), (*pk).to_owned(), (*sk).to_owned()]);
                }
                [None, Some(pk), Some(_)] => {
                    pks.insert((*pk).to_owned());
                }
                _ => {}
            }
        }
        (pks, indexes)
    }

    /// `docs/store.md` mirrors the key design of this file's docs: the same
    /// partitions in the item table and the same index rows.
    #[test]
    fn docs_store_md_has_the_key_design_of_this_module() {
        let here = key_tables(
            include_str!("keys.rs")
                .lines()
                .filter_map(|l| l.strip_prefix("//! ")),
        );
        let docs = key_tables(include_str!("../../../docs/store.md").lines());
        assert!(here.0.len() >= 8 && here.1.len() >= 9, "{here:?}");
        assert_eq!(here.0, docs.0, "item partitions: keys.rs vs docs/store.md");
        assert_eq!(here.1, docs.1, "index rows: keys.rs vs docs/store.md");
    }
}
