//! `infra/dynamodb-table.json` is the table definition of the code
//! (`store::schema::TABLE`, through `table_definition()`), committed so the
//! infrastructure template uses exactly what `taquilla init` creates.
//! Regenerate it with `TAQUILLA_BLESS=1 cargo test -p taquilla-aws --test infra_table`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

#[test]
fn the_committed_table_definition_is_the_one_the_code_creates() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../infra/dynamodb-table.json");
    let generated = serde_json::to_string_pretty(&taquilla_aws::table_definition()).unwrap() + "\n";
    if std::env::var_os("TAQUILLA_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} differs from the code's table definition; regenerate it with \
         TAQUILLA_BLESS=1 cargo test -p taquilla-aws --test infra_table",
        path.display()
    );
}
