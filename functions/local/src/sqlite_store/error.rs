//! Translation of SQLite's errors into the port's [`StoreError`].

use rusqlite::ErrorCode;
use taquilla_core::store::StoreError;

/// The port's error for a SQLite error.
///
/// A damaged file is [`StoreError::Corrupt`]; everything else SQLite can
/// report to a correct program (busy, locked, I/O, full disk, cannot open)
/// is [`StoreError::Unavailable`], which callers may retry.
pub(crate) fn from_sqlite(err: &rusqlite::Error) -> StoreError {
    match err.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            StoreError::Corrupt(err.to_string())
        }
        _ => StoreError::Unavailable(format!("sqlite: {err}")),
    }
}

/// The error for stored JSON that is not an item.
pub(crate) fn corrupt_item(err: &serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("an item is not valid typed JSON: {err}"))
}

/// The error when the writer thread is gone (it stopped or panicked).
pub(crate) fn writer_gone() -> StoreError {
    StoreError::Unavailable("the SQLite writer thread has stopped".into())
}

/// Lets `?` turn SQLite errors into [`StoreError`] inside this adapter.
pub(crate) trait SqliteResultExt<T> {
    fn store_err(self) -> Result<T, StoreError>;
}

impl<T> SqliteResultExt<T> for rusqlite::Result<T> {
    fn store_err(self) -> Result<T, StoreError> {
        self.map_err(|e| from_sqlite(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_is_retryable_and_corruption_is_not() {
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert!(from_sqlite(&busy).is_retryable());
        let corrupt = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
            None,
        );
        assert!(matches!(from_sqlite(&corrupt), StoreError::Corrupt(_)));
    }
}
