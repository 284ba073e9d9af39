//! The DynamoDB table, made from the core's one definition ([`TABLE`]): for
//! `ensure_table` (tests, first runs against an emulator) and as a
//! CloudFormation resource for `infra/`.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};
use serde_json::{Value as Json, json};
use taquilla_core::store::{StoreError, TABLE};

use super::errors::from_sdk;

/// How long `ensure_table` waits for a new table to become active.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);
const POLL: Duration = Duration::from_millis(100);

/// Every attribute that keys the table or an index, once, in order.
fn key_attributes() -> Vec<&'static str> {
    let mut attrs = vec![TABLE.pk, TABLE.sk];
    for index in TABLE.indexes {
        attrs.extend([index.pk, index.sk]);
    }
    attrs
}

/// The `AWS::DynamoDB::Table` resource properties of [`TABLE`] (without
/// `TableName`, which the template chooses): on-demand billing, every key
/// attribute a string, one GSI per index with all attributes projected, TTL
/// on `ttl`, point-in-time recovery and deletion protection on.
#[must_use]
pub fn table_definition() -> Json {
    let key = |pk: &str, sk: &str| {
        json!([
            { "AttributeName": pk, "KeyType": "HASH" },
            { "AttributeName": sk, "KeyType": "RANGE" },
        ])
    };
    json!({
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": key_attributes()
            .into_iter()
            .map(|name| json!({ "AttributeName": name, "AttributeType": "S" }))
            .collect::<Vec<_>>(),
        "KeySchema": key(TABLE.pk, TABLE.sk),
        "GlobalSecondaryIndexes": TABLE.indexes
            .iter()
            .map(|index| json!({
                "IndexName": index.name,
                "KeySchema": key(index.pk, index.sk),
                "Projection": { "ProjectionType": "ALL" },
            }))
            .collect::<Vec<_>>(),
        "TimeToLiveSpecification": { "AttributeName": TABLE.ttl, "Enabled": true },
        "PointInTimeRecoverySpecification": { "PointInTimeRecoveryEnabled": true },
        "DeletionProtectionEnabled": true,
    })
}

fn built(err: BuildError) -> StoreError {
    StoreError::InvalidRequest(format!("the table definition is incomplete: {err}"))
}

fn key_schema(pk: &str, sk: &str) -> Result<Vec<KeySchemaElement>, StoreError> {
    [(pk, KeyType::Hash), (sk, KeyType::Range)]
        .into_iter()
        .map(|(name, key_type)| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(key_type)
                .build()
                .map_err(built)
        })
        .collect()
}

/// Creates the table `name` unless it exists, waits until it is active, and
/// enables TTL on it. Calling it again is a no-op.
pub async fn ensure(client: &Client, name: &str) -> Result<(), StoreError> {
    if !exists(client, name).await? {
        create(client, name).await?;
    }
    wait_until_active(client, name).await?;
    enable_ttl(client, name).await
}

async fn exists(client: &Client, name: &str) -> Result<bool, StoreError> {
    match client.describe_table().table_name(name).send().await {
        Ok(_) => Ok(true),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(false)
        }
        Err(err) => Err(from_sdk(&err, 0)),
    }
}

async fn create(client: &Client, name: &str) -> Result<(), StoreError> {
    let definitions = key_attributes()
        .into_iter()
        .map(|attr| {
            AttributeDefinition::builder()
                .attribute_name(attr)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(built)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let indexes = TABLE
        .indexes
        .iter()
        .map(|index| {
            GlobalSecondaryIndex::builder()
                .index_name(index.name)
                .set_key_schema(Some(key_schema(index.pk, index.sk)?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .map_err(built)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(definitions))
        .set_key_schema(Some(key_schema(TABLE.pk, TABLE.sk)?))
        .set_global_secondary_indexes(Some(indexes))
        .send()
        .await;
    match created {
        Ok(_) => Ok(()),
        // Someone else created it meanwhile.
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            Ok(())
        }
        Err(err) => Err(from_sdk(&err, 0)),
    }
}

async fn wait_until_active(client: &Client, name: &str) -> Result<(), StoreError> {
    let deadline = tokio::time::Instant::now() + ACTIVE_TIMEOUT;
    loop {
        let described = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|err| from_sdk(&err, 0))?;
        let table = described.table();
        let table_active = table.and_then(|t| t.table_status()) == Some(&TableStatus::Active);
        let indexes_active = table.is_some_and(|t| {
            t.global_secondary_indexes().iter().all(|i| {
                i.index_status()
                    .is_none_or(|s| *s == aws_sdk_dynamodb::types::IndexStatus::Active)
            })
        });
        if table_active && indexes_active {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StoreError::Unavailable(format!(
                "the table {name} did not become active within {ACTIVE_TIMEOUT:?}"
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn enable_ttl(client: &Client, name: &str) -> Result<(), StoreError> {
    let described = client
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(|err| from_sdk(&err, 0))?;
    let status = described
        .time_to_live_description()
        .and_then(|d| d.time_to_live_status());
    if matches!(
        status,
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    ) {
        return Ok(());
    }
    let specification = TimeToLiveSpecification::builder()
        .attribute_name(TABLE.ttl)
        .enabled(true)
        .build()
        .map_err(built)?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(specification)
        .send()
        .await
        .map_err(|err| from_sdk(&err, 0))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definition_has_every_index_and_key_attribute() {
        let def = table_definition();
        assert!(def.get("TableName").is_none());
        assert_eq!(def["BillingMode"], "PAY_PER_REQUEST");
        assert_eq!(
            def["AttributeDefinitions"].as_array().unwrap().len(),
            2 + 2 * TABLE.indexes.len()
        );
        let indexes = def["GlobalSecondaryIndexes"].as_array().unwrap();
        assert_eq!(indexes.len(), TABLE.indexes.len());
        assert_eq!(indexes[0]["IndexName"], "gsi1");
        assert_eq!(indexes[0]["KeySchema"][1]["AttributeName"], "gsi1sk");
        assert_eq!(def["TimeToLiveSpecification"]["AttributeName"], "ttl");
        assert_eq!(def["DeletionProtectionEnabled"], true);
        assert_eq!(
            def["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
            true
        );
    }
}
