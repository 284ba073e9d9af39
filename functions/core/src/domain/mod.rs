//! The help desk's objects, as plain data with their rules. No I/O.

pub mod agent;
pub mod canned;
pub mod change;
pub mod form;
pub mod ids;
pub mod instance;
pub mod list;
pub mod mail_settings;
pub mod number;
pub mod organisation_unit;
pub mod outbound_settings;
pub mod people;
pub mod role;
pub mod rules;
pub mod schedule;
pub mod sla;
pub mod sla_clock;
pub mod task;
pub mod thread;
pub mod ticket;

pub use agent::{Agent, AgentAccess};
pub use canned::CannedResponse;
pub use form::{Form, FormError};
pub use ids::CannedId;
pub use ids::{
    AgentId, DepartmentId, EntryId, InstanceId, OrgId, PriorityId, RoleId, StatusId, TaskId,
    TeamId, TicketId, TopicId, UserId,
};
pub use ids::{FormId, ListId};
pub use ids::{ScheduleId, SlaPlanId};
pub use instance::{Instance, Language};
pub use list::{CustomList, ListError};
pub use mail_settings::{MailSettings, VerdictPolicy};
pub use organisation_unit::{AssignmentMode, AutoAssign, Department, HelpTopic};
pub use people::{Organisation, Team, User};
pub use role::{Permission, Role};
pub use schedule::{Calendar, Schedule, ScheduleError};
pub use sla::{SlaError, SlaPlan};
pub use task::{Task, TaskState};
pub use thread::{Attachment, Author, Entry, EntryKind};
pub use ticket::{Collaborator, CopyKind, Priority, Source, State, Status, Ticket};
