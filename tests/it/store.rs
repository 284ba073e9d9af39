//! The `ItemStore` conformance suite against every adapter: `store::sqlite::*`
//! on a fresh SQLite file per test, `store::dynamodb::*` on a fresh table per
//! test in the local AWS emulator.

use std::sync::Arc;

use taquilla_core::clock::Clock;
use taquilla_tests::store_suite::{Subject, suite_clock};

async fn sqlite_subject() -> Subject {
    let dir = tempfile::tempdir().unwrap();
    let clock = suite_clock();
    let store = taquilla_local::SqliteStore::open_with_clock(
        &dir.path().join("taquilla.db"),
        clock.clone() as Arc<dyn Clock>,
    )
    .unwrap();
    Subject {
        store: Arc::new(store),
        clock,
        _guard: Box::new(dir),
    }
}

async fn dynamodb_subject() -> Subject {
    use taquilla_tests::moto;
    let emulator = moto::moto();
    let settings = taquilla_aws::AwsSettings {
        region: moto::REGION.to_owned(),
        endpoint_url: Some(emulator.endpoint.clone()),
        static_credentials: Some((
            moto::ACCESS_KEY_ID.to_owned(),
            moto::SECRET_ACCESS_KEY.to_owned(),
        )),
    };
    let config = taquilla_aws::sdk_config(&settings).await;
    let clock = suite_clock();
    let store = taquilla_aws::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        moto::unique_name("taquilla"),
    )
    .with_clock(clock.clone() as Arc<dyn Clock>);
    store.ensure_table().await.unwrap();
    Subject {
        store: Arc::new(store),
        clock,
        _guard: Box::new(()),
    }
}

mod sqlite {
    taquilla_tests::store_conformance!(super::sqlite_subject);
}

mod dynamodb {
    taquilla_tests::store_conformance!(super::dynamodb_subject);
}
