//! Opaque query cursors, shared by every adapter.
//!
//! A cursor records the position of the last item of a page (its table key,
//! and its index key for index queries) together with the index and the
//! partition it was issued for, and a checksum. A cursor that was altered, or
//! that is presented with another query, is refused with
//! [`StoreError::InvalidCursor`]. Because a cursor only ever positions a query
//! inside the partition the caller already asked for, a forged one cannot
//! reach another partition (and so never another instance).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Index, Item, Query, StoreError};

const DOMAIN: &[u8] = b"taquilla-cursor/1\0";
const CHECKSUM_BYTES: usize = 16;

/// Where a page ended: the key of its last item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The index queried, `None` for the table.
    #[serde(rename = "i", default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    #[serde(rename = "p")]
    pub pk: String,
    #[serde(rename = "s")]
    pub sk: String,
    /// The index partition key of the last item (index queries only).
    #[serde(rename = "ip", default, skip_serializing_if = "Option::is_none")]
    pub index_pk: Option<String>,
    /// The index sort key of the last item (index queries only).
    #[serde(rename = "is", default, skip_serializing_if = "Option::is_none")]
    pub index_sk: Option<String>,
}

impl Position {
    /// The position of `item` in the results of a query of `index`.
    ///
    /// Every item a query returns carries the keys of what was queried, so
    /// the position of a returned item is always complete.
    #[must_use]
    pub fn of(item: &Item, index: Option<Index>) -> Self {
        let index_key = |attr: &str| item.get_str(attr).map(str::to_owned);
        Self {
            index: index.map(|i| i.def().name.to_owned()),
            pk: item.pk().to_owned(),
            sk: item.sk().to_owned(),
            index_pk: index.and_then(|i| index_key(i.def().pk)),
            index_sk: index.and_then(|i| index_key(i.def().sk)),
        }
    }
}

fn checksum(payload: &[u8]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN);
    hasher.update(payload);
    hasher.finalize()[..CHECKSUM_BYTES].to_vec()
}

/// The cursor for a page that ended at `position`.
#[must_use]
pub fn encode(position: &Position) -> String {
    // Serialising a struct of strings cannot fail.
    let payload = serde_json::to_vec(position).unwrap_or_default();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&payload),
        URL_SAFE_NO_PAD.encode(checksum(&payload))
    )
}

/// The position a cursor of `query` records, if the cursor is genuine and was
/// issued for this query's index and partition.
pub fn decode(cursor: &str, query: &Query) -> Result<Position, StoreError> {
    let (payload, sum) = cursor.split_once('.').ok_or(StoreError::InvalidCursor)?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| StoreError::InvalidCursor)?;
    let sum = URL_SAFE_NO_PAD
        .decode(sum)
        .map_err(|_| StoreError::InvalidCursor)?;
    if sum != checksum(&payload) {
        return Err(StoreError::InvalidCursor);
    }
    let position: Position =
        serde_json::from_slice(&payload).map_err(|_| StoreError::InvalidCursor)?;
    let expected_index = query.index.map(|i| i.def().name);
    if position.index.as_deref() != expected_index {
        return Err(StoreError::InvalidCursor);
    }
    let partition = match query.index {
        None => Some(&position.pk),
        Some(_) => {
            if position.index_sk.is_none() {
                return Err(StoreError::InvalidCursor);
            }
            position.index_pk.as_ref()
        }
    };
    if partition != Some(&query.pk) {
        return Err(StoreError::InvalidCursor);
    }
    Ok(position)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Key, Query};

    #[test]
    fn a_cursor_round_trips_for_its_own_query() {
        let item = Item::new(Key::new("P", "S1"))
            .with("gsi1pk", "G")
            .with("gsi1sk", "x");
        let query = Query::index(Index::Gsi1, "G");
        let cursor = encode(&Position::of(&item, Some(Index::Gsi1)));
        let pos = decode(&cursor, &query).unwrap();
        assert_eq!(pos.sk, "S1");
        assert_eq!(pos.index_sk.as_deref(), Some("x"));
    }

    #[test]
    fn a_cursor_is_refused_by_another_partition_or_index() {
        let item = Item::new(Key::new("P", "S1"));
        let cursor = encode(&Position::of(&item, None));
        assert!(decode(&cursor, &Query::table("P")).is_ok());
        assert_eq!(
            decode(&cursor, &Query::table("Q")),
            Err(StoreError::InvalidCursor)
        );
        assert_eq!(
            decode(&cursor, &Query::index(Index::Gsi1, "P")),
            Err(StoreError::InvalidCursor)
        );
    }

    #[test]
    fn an_altered_cursor_is_refused() {
        let item = Item::new(Key::new("P", "S1"));
        let cursor = encode(&Position::of(&item, None));
        let (payload, sum) = cursor.split_once('.').unwrap();
        let mut raw = URL_SAFE_NO_PAD.decode(payload).unwrap();
        let last = raw.len() - 3;
        raw[last] ^= 1;
        let forged = format!("{}.{sum}", URL_SAFE_NO_PAD.encode(raw));
        assert_eq!(
            decode(&forged, &Query::table("P")),
            Err(StoreError::InvalidCursor)
        );
        assert_eq!(
            decode("garbage", &Query::table("P")),
            Err(StoreError::InvalidCursor)
        );
    }
}
