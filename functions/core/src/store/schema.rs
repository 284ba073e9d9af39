//! The one table definition: key attributes, global secondary indexes, TTL.
//!
//! Both adapters build their storage from [`TABLE`]: the SQLite adapter makes
//! one partial index per GSI, the DynamoDB adapter (and `infra/`) creates the
//! table with these indexes. The GSIs are generic ("overloaded"): what each
//! one holds is decided by the key design in [`crate::keys`], not here.

use super::item::{PK, SK, TTL};

/// A global secondary index: its name and the two string attributes that key it.
///
/// An item appears in an index only when it carries the index's partition-key
/// attribute (sparse indexes); every index projects all attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IndexDef {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
}

/// The table: key attribute names, TTL attribute and indexes.
#[derive(Debug, Clone, Copy)]
pub struct TableDef {
    pub pk: &'static str,
    pub sk: &'static str,
    pub ttl: &'static str,
    pub indexes: &'static [IndexDef],
}

/// A global secondary index of [`TABLE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Index {
    Gsi1,
    Gsi2,
    Gsi3,
    Gsi4,
    Gsi5,
}

impl Index {
    pub const ALL: [Index; 5] = [
        Index::Gsi1,
        Index::Gsi2,
        Index::Gsi3,
        Index::Gsi4,
        Index::Gsi5,
    ];

    /// The index's definition in [`TABLE`].
    #[must_use]
    pub fn def(self) -> &'static IndexDef {
        &TABLE.indexes[self as usize]
    }

    /// The index with this name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Index> {
        Index::ALL.into_iter().find(|i| i.def().name == name)
    }
}

/// The single table every instance lives in.
pub const TABLE: TableDef = TableDef {
    pk: PK,
    sk: SK,
    ttl: TTL,
    indexes: &[
        IndexDef {
            name: "gsi1",
            pk: "gsi1pk",
            sk: "gsi1sk",
        },
        IndexDef {
            name: "gsi2",
            pk: "gsi2pk",
            sk: "gsi2sk",
        },
        IndexDef {
            name: "gsi3",
            pk: "gsi3pk",
            sk: "gsi3sk",
        },
        IndexDef {
            name: "gsi4",
            pk: "gsi4pk",
            sk: "gsi4sk",
        },
        IndexDef {
            name: "gsi5",
            pk: "gsi5pk",
            sk: "gsi5sk",
        },
    ],
};

impl TableDef {
    /// Whether `attr` is a key attribute of the table or of an index.
    #[must_use]
    pub fn is_key_attr(&self, attr: &str) -> bool {
        attr == self.pk || attr == self.sk || self.is_index_attr(attr)
    }

    /// Whether `attr` keys one of the indexes.
    #[must_use]
    pub fn is_index_attr(&self, attr: &str) -> bool {
        self.indexes.iter().any(|i| i.pk == attr || i.sk == attr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_index_variant_points_at_its_own_definition() {
        for (n, index) in Index::ALL.into_iter().enumerate() {
            assert_eq!(index.def().name, format!("gsi{}", n + 1));
            assert_eq!(Index::from_name(index.def().name), Some(index));
        }
        assert_eq!(TABLE.indexes.len(), Index::ALL.len());
    }
}
