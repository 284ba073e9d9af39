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
//! | department, topic, role, agent | `I#{instance}` | `{KIND}#{id:010}` |
//! | sequence of a kind | `I#{instance}` | `SEQ#{KIND}` |
//! | agent e-mail (unique) | `I#{instance}#EMAIL#{email}` | `AGENT` |

use crate::domain::InstanceId;
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

#[cfg(test)]
mod tests {
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
    fn object_keys_sort_numerically() {
        let demo = InstanceId::parse("demo").unwrap();
        assert!(object(&demo, "DEPT", 9).sk < object(&demo, "DEPT", 10).sk);
    }
}
