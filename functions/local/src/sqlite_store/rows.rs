//! Items to rows and back: the statements both the writer and the readers run.

use rusqlite::types::ToSql;
use rusqlite::{Connection, OptionalExtension as _, params};
use taquilla_core::store::{Item, Key, StoreError, TABLE};

use super::error::{SqliteResultExt as _, corrupt_item};
use super::schema::SQL;

/// The item stored as `json`.
pub(crate) fn decode(json: &str) -> Result<Item, StoreError> {
    serde_json::from_str(json).map_err(|e| corrupt_item(&e))
}

/// The JSON an item is stored as.
fn encode(item: &Item) -> Result<String, StoreError> {
    // Serialising a map of plain values cannot fail; report it as a bad
    // request rather than panic if it ever does.
    serde_json::to_string(item)
        .map_err(|e| StoreError::InvalidRequest(format!("the item cannot be serialised: {e}")))
}

/// The live item with `key` at `now` (epoch seconds): `None` when missing or expired.
pub(crate) fn read_live(
    conn: &Connection,
    key: &Key,
    now: i64,
) -> Result<Option<Item>, StoreError> {
    let mut statement = conn.prepare_cached(&SQL.select_live).store_err()?;
    let json: Option<String> = statement
        .query_row(params![key.pk, key.sk, now], |row| row.get(0))
        .optional()
        .store_err()?;
    json.as_deref().map(decode).transpose()
}

/// The values of an index's key columns for `item`: both present only when
/// the item carries both attributes (sparse index).
fn index_pair<'a>(item: &'a Item, pk: &str, sk: &str) -> (Option<&'a str>, Option<&'a str>) {
    match (item.get_str(pk), item.get_str(sk)) {
        (Some(p), Some(s)) => (Some(p), Some(s)),
        _ => (None, None),
    }
}

/// Inserts `item`, replacing any row with its key.
pub(crate) fn write(conn: &Connection, item: &Item) -> Result<(), StoreError> {
    let json = encode(item)?;
    let (pk, sk, ttl) = (item.pk(), item.sk(), item.ttl());
    let pairs: Vec<(Option<&str>, Option<&str>)> = TABLE
        .indexes
        .iter()
        .map(|def| index_pair(item, def.pk, def.sk))
        .collect();
    let mut values: Vec<&dyn ToSql> = vec![&pk, &sk, &json, &ttl];
    for (ipk, isk) in &pairs {
        values.push(ipk);
        values.push(isk);
    }
    let mut statement = conn.prepare_cached(&SQL.upsert).store_err()?;
    statement.execute(values.as_slice()).store_err()?;
    Ok(())
}

/// Deletes the row with `key`, live or expired; a missing row is fine.
pub(crate) fn delete(conn: &Connection, key: &Key) -> Result<(), StoreError> {
    let mut statement = conn.prepare_cached(&SQL.delete).store_err()?;
    statement.execute(params![key.pk, key.sk]).store_err()?;
    Ok(())
}

/// Deletes every row expired at `now`; returns how many.
pub(crate) fn purge(conn: &Connection, now: i64) -> Result<usize, StoreError> {
    let mut statement = conn.prepare_cached(&SQL.purge).store_err()?;
    statement.execute(params![now]).store_err()
}
