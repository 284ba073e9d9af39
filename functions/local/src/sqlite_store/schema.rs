//! The SQLite schema, derived from [`TABLE`], and the connection settings.
//!
//! One `WITHOUT ROWID` table keyed `(pk, sk)` holds every item as
//! DynamoDB-typed JSON, its TTL as an integer column, and one pair of
//! columns per GSI, named after the index's key attributes. Each GSI is a
//! partial index on `(gNpk, gNsk, pk, sk) WHERE gNpk IS NOT NULL`: an item
//! gets values in a pair only when it carries both key attributes of that
//! index, so the index is sparse as in DynamoDB. `PRAGMA user_version`
//! records [`SCHEMA_VERSION`].

use std::path::Path;
use std::sync::LazyLock;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use taquilla_core::store::{StoreError, TABLE};

use super::error::SqliteResultExt as _;

/// The version of the schema this adapter writes and reads.
pub(crate) const SCHEMA_VERSION: i64 = 1;

/// How long a connection waits for a lock held by another process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Statements cached per connection (query shapes vary with index, sort-key
/// condition, order and cursor).
const STATEMENT_CACHE: usize = 128;

/// The table's name.
const ITEMS: &str = "items";

/// A quoted SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The SQL text the adapter runs, built once from [`TABLE`].
#[derive(Debug)]
pub(crate) struct Sql {
    /// `CREATE TABLE` and `CREATE INDEX` statements, idempotent.
    pub create: Vec<String>,
    /// Inserts or replaces a row: `pk, sk, item, ttl`, then each index's pair.
    pub upsert: String,
    /// The JSON of the live item `(?1, ?2)` at time `?3`.
    pub select_live: String,
    /// Deletes the row `(?1, ?2)`.
    pub delete: String,
    /// Deletes the rows expired at `?1`.
    pub purge: String,
}

/// The one [`Sql`] of this process.
pub(crate) static SQL: LazyLock<Sql> = LazyLock::new(build_sql);

/// The SQL expression that keeps only rows alive at the time bound to `param`.
pub(crate) fn alive(param: &str) -> String {
    format!("(ttl IS NULL OR ttl > {param})")
}

/// The table name, quoted.
pub(crate) fn items() -> String {
    ident(ITEMS)
}

/// The quoted column names of an index's partition and sort key.
pub(crate) fn index_columns(def: &taquilla_core::store::IndexDef) -> (String, String) {
    (ident(def.pk), ident(def.sk))
}

fn build_sql() -> Sql {
    let table = items();
    let mut columns = vec![
        "pk TEXT NOT NULL".to_owned(),
        "sk TEXT NOT NULL".to_owned(),
        "item TEXT NOT NULL".to_owned(),
        "ttl INTEGER".to_owned(),
    ];
    let mut names = vec!["pk".to_owned(), "sk".into(), "item".into(), "ttl".into()];
    let mut create_indexes = Vec::new();
    for def in TABLE.indexes {
        let (ipk, isk) = index_columns(def);
        columns.push(format!("{ipk} TEXT"));
        columns.push(format!("{isk} TEXT"));
        create_indexes.push(format!(
            "CREATE INDEX IF NOT EXISTS {} ON {table} ({ipk}, {isk}, pk, sk) WHERE {ipk} IS NOT NULL",
            ident(&format!("{ITEMS}_{}", def.name)),
        ));
        names.push(ipk);
        names.push(isk);
    }
    let mut create = vec![format!(
        "CREATE TABLE IF NOT EXISTS {table} ({}, PRIMARY KEY (pk, sk)) WITHOUT ROWID",
        columns.join(", ")
    )];
    create.extend(create_indexes);
    create.push(format!(
        "CREATE INDEX IF NOT EXISTS {} ON {table} (ttl) WHERE ttl IS NOT NULL",
        ident(&format!("{ITEMS}_ttl"))
    ));
    let placeholders: Vec<String> = (1..=names.len()).map(|n| format!("?{n}")).collect();
    Sql {
        create,
        upsert: format!(
            "INSERT OR REPLACE INTO {table} ({}) VALUES ({})",
            names.join(", "),
            placeholders.join(", ")
        ),
        select_live: format!(
            "SELECT item FROM {table} WHERE pk = ?1 AND sk = ?2 AND {}",
            alive("?3")
        ),
        delete: format!("DELETE FROM {table} WHERE pk = ?1 AND sk = ?2"),
        purge: format!("DELETE FROM {table} WHERE ttl IS NOT NULL AND ttl <= ?1"),
    }
}

/// Settings every connection gets.
fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT).store_err()?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Query-planner stability: plans never depend on bound values. Without
    // it SQLite marks parameters whose value might change the plan (here,
    // every query, because of the partial indexes), and re-binding them,
    // which the statement cache does on every use, compiles the statement
    // again: a re-prepare per query, measured at a tenth of the request
    // path's CPU. The plans are the same (`query::tests`).
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .store_err()?;
    Ok(())
}

/// Opens the read-write connection of the writer thread: creates the file
/// and the schema if missing, turns on WAL and `synchronous=FULL`.
pub(crate) fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
        })?;
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).store_err()?;
    configure(&conn)?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .store_err()?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Unavailable(format!(
            "{} cannot use WAL (journal mode is {mode})",
            path.display()
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .store_err()?;
    // The checkpoint thread copies the WAL back (see `checkpoint`).
    conn.pragma_update(None, "wal_autocheckpoint", 0)
        .store_err()?;
    // Each job of a group commit runs in a savepoint, whose sub-journal
    // holds the pages the job changed. Past 64 KiB (a ticket opened from
    // mail with its entry, claims and outbox items) SQLite moved it to a
    // temporary file, created and written per job; in memory it is not.
    conn.pragma_update(None, "temp_store", "MEMORY")
        .store_err()?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Opens the read-write connection of the checkpoint thread, on a
/// database [`open_writer`] has already set up.
pub(crate) fn open_checkpointer(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).store_err()?;
    configure(&conn)?;
    conn.pragma_update(None, "wal_autocheckpoint", 0)
        .store_err()?;
    Ok(conn)
}

/// Creates the schema in an empty database, accepts the current one, and
/// refuses one written by a newer version.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .store_err()?;
    let version: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .store_err()?;
    match version {
        0 => {
            for statement in &SQL.create {
                tx.execute(statement, []).store_err()?;
            }
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)
                .store_err()?;
        }
        SCHEMA_VERSION => {}
        newer => {
            return Err(StoreError::Unavailable(format!(
                "the database has schema version {newer}; this build knows up to {SCHEMA_VERSION}"
            )));
        }
    }
    tx.commit().store_err()
}

/// Opens a read-only connection for the reader pool.
pub(crate) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).store_err()?;
    configure(&conn)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_index_gets_a_partial_index_and_a_column_pair() {
        let sql = &*SQL;
        assert_eq!(sql.create.len(), 1 + TABLE.indexes.len() + 1);
        for def in TABLE.indexes {
            assert!(sql.create[0].contains(&format!("\"{}\" TEXT", def.pk)));
            assert!(
                sql.create
                    .iter()
                    .any(|s| s.contains(&format!("WHERE \"{}\" IS NOT NULL", def.pk)))
            );
        }
        assert!(sql.create[0].ends_with("WITHOUT ROWID"));
    }

    #[test]
    fn opening_twice_is_idempotent_and_sets_wal_and_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("t.db");
        drop(open_writer(&path).unwrap());
        let conn = open_writer(&path).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let sync: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = open_writer(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        assert!(matches!(
            open_writer(&path),
            Err(StoreError::Unavailable(_))
        ));
    }
}
