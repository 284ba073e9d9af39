//! Tasks: work tracked in a department, optionally linked to a ticket,
//! with a thread of their own (internal notes and events).
//!
//! The same shape as [`tickets`](super::tickets): [`store`] is the one
//! place a task becomes an item (with the keys of the task queues, see
//! [`crate::keys`]) and where the version is enforced; every change is
//! saved with `Equals("version", n)` together with the event entry that
//! records it, in one transaction. Permissions are those of the actor's
//! role in the task's department: `task.create`, `task.edit` (title,
//! description, due date), `task.assign` (assignee and team), `task.close`
//! (close, reopen) and `task.delete`. Every action on a task first loads
//! it as the actor may see it ([`access`]): a task the actor may not see is
//! `NotFound`, exactly as one that does not exist; `Forbidden` is only ever
//! about a task the actor sees. Agents of a task's team see it.
//!
//! Deleting is a hard delete (see [`write::delete`]): a task has no
//! requester to keep a record for, and osTicket deletes tasks outright.

pub(crate) mod access;
pub mod list;
pub(crate) mod store;
pub mod thread;
pub mod write;

pub use list::{TaskFilter, list};
pub use thread::{note, note_from_mail, thread};
pub use write::{NewTask, TaskChanges, close, create, delete, get, reopen, update};
