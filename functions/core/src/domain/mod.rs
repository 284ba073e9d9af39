//! The help desk's objects, as plain data with their rules. No I/O.

pub mod agent;
pub mod ids;
pub mod instance;
pub mod organisation_unit;
pub mod role;

pub use agent::Agent;
pub use ids::{AgentId, DepartmentId, InstanceId, RoleId, TopicId};
pub use instance::{Instance, Language};
pub use organisation_unit::{Department, HelpTopic};
pub use role::{Permission, Role};
