//! Queries: one partition of the table or of a GSI, by sort-key range, with
//! a cursor.
//!
//! Table queries order by `sk`; index queries order by `(gNsk, pk, sk)`, so
//! that items sharing an index sort key still have one total order and a
//! cursor can resume strictly after the last item with a row-value
//! comparison. Strings compare by their UTF-8 bytes (SQLite's `BINARY`
//! collation). `BeginsWith` is a range `[prefix, successor(prefix))`, never
//! `LIKE`, so `%` and `_` in keys mean nothing special and the index is used.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};
use taquilla_core::store::cursor::{self, Position};
use taquilla_core::store::{Order, Page, Query, SkCondition, StoreError};

use super::error::SqliteResultExt as _;
use super::rows::decode;
use super::schema::{alive, index_columns, items};

/// SQL text and its bound values, numbered as they are added.
#[derive(Debug, Default)]
struct Statement {
    clauses: Vec<String>,
    values: Vec<SqlValue>,
}

impl Statement {
    /// Binds `value` and returns its placeholder.
    fn bind(&mut self, value: impl Into<SqlValue>) -> String {
        self.values.push(value.into());
        format!("?{}", self.values.len())
    }

    /// Adds `column op value` to the WHERE clause.
    fn compare(&mut self, column: &str, op: &str, value: &str) {
        let p = self.bind(value.to_owned());
        self.clauses.push(format!("{column} {op} {p}"));
    }
}

/// The smallest string greater than every string that starts with `prefix`,
/// if there is one. UTF-8 preserves code-point order in byte order, so
/// incrementing the last code point that can be incremented (and dropping
/// what follows it) gives the bound.
pub(crate) fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match u32::from(last) + 1 {
            0xD800 => Some('\u{E000}'),
            n => char::from_u32(n),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// One page of `query` at `now`, after `after` if it continues a previous page.
pub(crate) fn page(
    conn: &Connection,
    query: &Query,
    after: Option<&Position>,
    now: i64,
) -> Result<Page, StoreError> {
    let (sql, values) = statement(query, after, now)?;
    let mut statement = conn.prepare_cached(&sql).store_err()?;
    let mut rows = statement
        .query(params_from_iter(values.iter()))
        .store_err()?;
    let mut found = Vec::new();
    while let Some(row) = rows.next().store_err()? {
        let json: String = row.get(0).store_err()?;
        found.push(decode(&json)?);
    }
    let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
    let cursor = if found.len() > limit {
        found.truncate(limit);
        found
            .last()
            .map(|last| cursor::encode(&Position::of(last, query.index)))
    } else {
        None
    };
    Ok(Page {
        items: found,
        cursor,
    })
}

/// The SQL text of a page of `query` and the values it binds.
fn statement(
    query: &Query,
    after: Option<&Position>,
    now: i64,
) -> Result<(String, Vec<SqlValue>), StoreError> {
    let (partition, sort, order_by) = match query.index {
        None => ("pk".to_owned(), "sk".to_owned(), vec!["sk".to_owned()]),
        Some(index) => {
            let (ipk, isk) = index_columns(index.def());
            (ipk, isk.clone(), vec![isk, "pk".into(), "sk".into()])
        }
    };
    let mut st = Statement::default();
    st.compare(&partition, "=", &query.pk);
    let now_p = st.bind(now);
    st.clauses.push(alive(&now_p));
    // When resuming, the cursor is a bound on the side the query travels
    // towards, tighter than the condition's own bound on that side (the
    // cursor's row met the condition). Leaving that bound out matters:
    // given two lower bounds, SQLite seeks from one and filters by the
    // other, and seeking from the condition's would read every earlier
    // page again on each page (quadratic paging through a long range).
    let resuming = after.is_some();
    let lower = !(resuming && query.order == Order::Ascending);
    let upper = !(resuming && query.order == Order::Descending);
    match &query.sk {
        None => {}
        Some(SkCondition::Eq(v)) => st.compare(&sort, "=", v),
        Some(SkCondition::BeginsWith(prefix)) => {
            if lower {
                st.compare(&sort, ">=", prefix);
            }
            if let Some(end) = successor(prefix).filter(|_| upper) {
                st.compare(&sort, "<", &end);
            }
        }
        Some(SkCondition::Between(low, high)) => {
            if lower {
                st.compare(&sort, ">=", low);
            }
            if upper {
                st.compare(&sort, "<=", high);
            }
        }
        Some(SkCondition::Lt(v)) if upper => st.compare(&sort, "<", v),
        Some(SkCondition::Le(v)) if upper => st.compare(&sort, "<=", v),
        Some(SkCondition::Gt(v)) if lower => st.compare(&sort, ">", v),
        Some(SkCondition::Ge(v)) if lower => st.compare(&sort, ">=", v),
        Some(_) => {}
    }
    let (cmp, dir) = match query.order {
        Order::Ascending => (">", "ASC"),
        Order::Descending => ("<", "DESC"),
    };
    if let Some(position) = after {
        resume_after(&mut st, query, position, &order_by, cmp)?;
    }
    let limit = st.bind(i64::from(query.limit) + 1);
    let sql = format!(
        "SELECT item FROM {} WHERE {} ORDER BY {} LIMIT {limit}",
        items(),
        st.clauses.join(" AND "),
        order_by
            .iter()
            .map(|c| format!("{c} {dir}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    Ok((sql, st.values))
}

/// Adds "strictly after `position` in the query's order".
fn resume_after(
    st: &mut Statement,
    query: &Query,
    position: &Position,
    order_by: &[String],
    cmp: &str,
) -> Result<(), StoreError> {
    let mut at = Vec::with_capacity(3);
    if query.index.is_some() {
        let index_sk = position.index_sk.clone().ok_or(StoreError::InvalidCursor)?;
        at.push(st.bind(index_sk));
        at.push(st.bind(position.pk.clone()));
    }
    at.push(st.bind(position.sk.clone()));
    st.clauses.push(format!(
        "({}) {cmp} ({})",
        order_by.join(", "),
        at.join(", ")
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::StatementStatus;
    use taquilla_core::store::Index;

    use super::*;

    /// Each page of a query shape runs the statement compiled for the first
    /// one (binding other values does not make SQLite compile it again), and
    /// that plan seeks the primary key or the partial index.
    #[test]
    fn a_query_shape_is_compiled_once() {
        let dir = tempfile::tempdir().unwrap();
        let conn = super::super::schema::open_writer(&dir.path().join("q.db")).unwrap();
        let shapes = [
            Query::table("P#1")
                .sk(SkCondition::BeginsWith("T#".into()))
                .limit(50),
            Query::index(Index::Gsi1, "G#1")
                .sk(SkCondition::Between("a".into(), "m".into()))
                .descending()
                .limit(1),
            // A queue: newest first, no sort-key condition.
            Query::index(Index::Gsi1, "G#1").descending().limit(50),
        ];
        for query in shapes {
            for n in 0..5_i64 {
                let query = Query {
                    pk: format!("{}{n}", query.pk),
                    ..query.clone()
                };
                page(&conn, &query, None, 1_000 + n).unwrap();
            }
            let (sql, values) = statement(&query, None, 0).unwrap();
            let mut explain = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let plan: Vec<String> = explain
                .query_map(params_from_iter(values.iter()), |row| row.get(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let seek = match (query.index, &query.sk) {
                (Some(_), Some(_)) => "USING INDEX items_gsi1 (gsi1pk=? AND gsi1sk>? AND gsi1sk<?)",
                (Some(_), None) => "USING INDEX items_gsi1 (gsi1pk=?)",
                (None, _) => "USING PRIMARY KEY (pk=? AND sk>? AND sk<?)",
            };
            assert_eq!(plan, [format!("SEARCH items {seek}")], "{sql}");
            let statement = conn.prepare_cached(&sql).unwrap();
            assert_eq!(statement.get_status(StatementStatus::RePrepare), 0, "{sql}");
            assert_eq!(statement.get_status(StatementStatus::Run), 5, "{sql}");
        }
    }

    #[test]
    fn successor_bounds_every_string_with_the_prefix() {
        assert_eq!(successor("abc").as_deref(), Some("abd"));
        assert_eq!(successor("a%").as_deref(), Some("a&"));
        assert_eq!(successor("").as_deref(), None);
        assert_eq!(successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(successor("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(successor("\u{7F}").as_deref(), Some("\u{80}"));
        let end = successor("E#\u{7F}").unwrap();
        for s in ["E#\u{7F}", "E#\u{7F}\u{10FFFF}\u{10FFFF}", "E#\u{7F}zzz"] {
            assert!(s.as_bytes() < end.as_bytes(), "{s:?}");
        }
        assert!("E#\u{80}".as_bytes() >= end.as_bytes());
    }
}
