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
    /// The permission's name, as roles and API keys spell it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::TicketCreate => "ticket.create",
            Permission::TicketEdit => "ticket.edit",
            Permission::TicketAssign => "ticket.assign",
            Permission::TicketTransfer => "ticket.transfer",
            Permission::TicketReply => "ticket.reply",
            Permission::TicketClose => "ticket.close",
            Permission::TicketDelete => "ticket.delete",
            Permission::TicketNote => "ticket.note",
            Permission::TicketRelease => "ticket.release",
            Permission::TicketMerge => "ticket.merge",
            Permission::TaskCreate => "task.create",
            Permission::TaskEdit => "task.edit",
            Permission::TaskAssign => "task.assign",
            Permission::TaskClose => "task.close",
            Permission::TaskDelete => "task.delete",
            Permission::CannedManage => "canned.manage",
            Permission::FaqManage => "faq.manage",
            Permission::StatsView => "stats.view",
            Permission::UserManage => "user.manage",
            Permission::OrgManage => "org.manage",
        }
    }

    /// Whether this is one of the `ticket.*` permissions (what makes an API
    /// key a ticket integration).
    #[must_use]
    pub fn is_ticket(self) -> bool {
        self.as_str().starts_with("ticket.")
    }

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
    #[serde(default)]
    pub permissions: BTreeSet<Permission>,
}

impl Role {
    #[must_use]
    pub fn allows(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_permissions_are_ticket_permissions() {
        let ticket: Vec<_> = Permission::ALL
            .into_iter()
            .filter(|p| p.is_ticket())
            .collect();
        assert_eq!(ticket.len(), 10);
        assert!(ticket.contains(&Permission::TicketMerge));
        assert!(!Permission::TaskCreate.is_ticket());
    }

    #[test]
    fn names_match_their_serialised_form() {
        for p in Permission::ALL {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
    }
}
