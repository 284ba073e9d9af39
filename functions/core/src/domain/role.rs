//! Roles: named sets of permissions an agent holds in a department.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::RoleId;

/// One thing an agent may do in a department.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Permission {
    #[serde(rename = "ticket.create")]
    TicketCreate,
    #[serde(rename = "ticket.edit")]
    TicketEdit,
    #[serde(rename = "ticket.assign")]
    TicketAssign,
    #[serde(rename = "ticket.transfer")]
    TicketTransfer,
    #[serde(rename = "ticket.reply")]
    TicketReply,
    #[serde(rename = "ticket.close")]
    TicketClose,
    #[serde(rename = "ticket.delete")]
    TicketDelete,
    #[serde(rename = "ticket.note")]
    TicketNote,
    #[serde(rename = "ticket.release")]
    TicketRelease,
    #[serde(rename = "ticket.merge")]
    TicketMerge,
    #[serde(rename = "task.create")]
    TaskCreate,
    #[serde(rename = "task.edit")]
    TaskEdit,
    #[serde(rename = "task.assign")]
    TaskAssign,
    #[serde(rename = "task.close")]
    TaskClose,
    #[serde(rename = "task.delete")]
    TaskDelete,
    #[serde(rename = "canned.manage")]
    CannedManage,
    #[serde(rename = "faq.manage")]
    FaqManage,
    #[serde(rename = "stats.view")]
    StatsView,
    #[serde(rename = "user.manage")]
    UserManage,
    #[serde(rename = "org.manage")]
    OrgManage,
}

impl Permission {
    pub const ALL: [Permission; 20] = [
        Permission::TicketCreate,
        Permission::TicketEdit,
        Permission::TicketAssign,
        Permission::TicketTransfer,
        Permission::TicketReply,
        Permission::TicketClose,
        Permission::TicketDelete,
        Permission::TicketNote,
        Permission::TicketRelease,
        Permission::TicketMerge,
        Permission::TaskCreate,
        Permission::TaskEdit,
        Permission::TaskAssign,
        Permission::TaskClose,
        Permission::TaskDelete,
        Permission::CannedManage,
        Permission::FaqManage,
        Permission::StatsView,
        Permission::UserManage,
        Permission::OrgManage,
    ];
}

/// A named set of permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub id: RoleId,
    pub name: String,
    pub permissions: BTreeSet<Permission>,
}

impl Role {
    #[must_use]
    pub fn allows(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }
}
