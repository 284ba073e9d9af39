//! Newtype identifiers, so a department id is never passed where a topic id
//! is expected. Numeric ids are allocated per instance and per kind from a
//! sequence (see [`crate::keys`]), as osTicket numbers its objects, which
//! keeps `topicId` in osTicket-compatible API calls meaningful.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// An instance's slug: 2 to 40 lower-case letters, digits and inner hyphens.
/// It appears in URLs (`/api/v1/{instance}/...`) and in every store key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InstanceId(String);

/// A slug that breaks the rules.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("invalid instance slug {0:?}: use 2 to 40 lower-case letters, digits and inner hyphens")]
pub struct BadInstanceId(pub String);

impl InstanceId {
    pub fn parse(slug: impl Into<String>) -> Result<Self, BadInstanceId> {
        let slug = slug.into();
        let ok = (2..=40).contains(&slug.len())
            && slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !slug.starts_with('-')
            && !slug.ends_with('-');
        if ok {
            Ok(Self(slug))
        } else {
            Err(BadInstanceId(slug))
        }
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for InstanceId {
    type Error = BadInstanceId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<InstanceId> for String {
    fn from(id: InstanceId) -> Self {
        id.0
    }
}

impl FromStr for InstanceId {
    type Err = BadInstanceId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u32);

        impl $name {
            /// The kind's name in store keys and sequences.
            pub const KIND: &'static str = $kind;
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

numeric_id!(
    /// A department of an instance.
    DepartmentId,
    "DEPT"
);
numeric_id!(
    /// A help topic of an instance.
    TopicId,
    "TOPIC"
);
numeric_id!(
    /// A role of an instance.
    RoleId,
    "ROLE"
);
numeric_id!(
    /// An agent of an instance.
    AgentId,
    "AGENT"
);

numeric_id!(
    /// A team of agents of an instance.
    TeamId,
    "TEAM"
);
numeric_id!(
    /// A ticket status of an instance.
    StatusId,
    "STATUS"
);
numeric_id!(
    /// A ticket priority of an instance.
    PriorityId,
    "PRIORITY"
);
numeric_id!(
    /// An organisation of an instance.
    OrgId,
    "ORG"
);
numeric_id!(
    /// A canned response of an instance.
    CannedId,
    "CANNED"
);
numeric_id!(
    /// A business-hours schedule of an instance.
    ScheduleId,
    "SCHED"
);
numeric_id!(
    /// An SLA plan of an instance.
    SlaPlanId,
    "SLA"
);
numeric_id!(
    /// A custom form of an instance.
    FormId,
    "FORM"
);
numeric_id!(
    /// A custom list of an instance (what choice fields choose from).
    ListId,
    "LIST"
);

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// 32 lower-case hex digits of a UUIDv7, so ids sort by creation time
        /// and need no counter.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// A new id for an object created now.
            #[must_use]
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().simple().to_string())
            }

            /// An id read from outside (a URL, a key).
            pub fn parse(text: &str) -> Result<Self, BadId> {
                if text.len() == 32 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                    Ok(Self(text.to_owned()))
                } else {
                    Err(BadId(text.to_owned()))
                }
            }

            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = BadId;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

/// An id that is not 32 lower-case hex digits.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("invalid id {0:?}")]
pub struct BadId(pub String);

opaque_id!(
    /// A ticket (its internal id; users and agents see its number).
    TicketId
);
opaque_id!(
    /// A thread entry.
    EntryId
);
opaque_id!(
    /// A user (requester).
    UserId
);
opaque_id!(
    /// A task.
    TaskId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_ids_are_time_ordered_hex() {
        let a = TicketId::generate();
        let b = TicketId::generate();
        assert!(a < b);
        assert_eq!(TicketId::parse(a.as_str()), Ok(a));
        assert!(TicketId::parse("XYZ").is_err());
    }

    #[test]
    fn instance_slugs_are_url_and_key_safe() {
        for good in ["demo", "it-support", "lab2"] {
            assert!(InstanceId::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "a", "Demo", "it_support", "-it", "it-", "a#b", "a/b"] {
            assert!(InstanceId::parse(bad).is_err(), "{bad}");
        }
    }
}
