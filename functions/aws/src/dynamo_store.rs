//! `DynamoStore`: the [`ItemStore`] port on Amazon DynamoDB.
//!
//! Every request is checked with the core's [`validate`] rules before it
//! reaches AWS, so bad input gets the same error as from the SQLite adapter.
//! What DynamoDB does not do for us, the adapter does:
//!
//! * **TTL.** DynamoDB deletes expired items lazily (moto never), so reads
//!   drop items whose `ttl` has passed (queries with a filter, reading on
//!   until the page is full), conditions treat them as absent, and an update
//!   of an expired item replaces it instead of merging into it.
//! * **Exact errors.** When an update's condition fails, the old item comes
//!   back with the failure (`ReturnValuesOnConditionCheckFailure`) and the
//!   core's [`apply::update`] says why: a failed condition, an ADD on a
//!   non-number or one that would overflow (both guarded in the condition),
//!   or an expired item to replace.
//!
//! Submodules: [`convert`] (values), [`expr`] (expressions), [`errors`]
//! (error mapping), [`table`] (the table definition and `ensure_table`).

mod convert;
mod errors;
mod expr;
mod table;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    self as ddb, AttributeValue, KeysAndAttributes, ReturnValue,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use taquilla_core::clock::{Clock, SystemClock};
use taquilla_core::store::cursor::{self, Position};
use taquilla_core::store::validate::{self, item_size, value_size};
use taquilla_core::store::{
    Condition, Index, Item, ItemStore, Key, Order, PK, Page, Query, SK, StoreError, Update,
    WriteOp, apply,
};

use self::convert::{from_attrs, key_attrs, key_of, to_attrs};
use self::errors::{Reason, from_sdk};
use self::expr::Expr;
pub use self::table::table_definition;

/// How often a write is retried when the item changed under it (an expired
/// item replaced meanwhile); each round is a fresh, consistent attempt.
const WRITE_ROUNDS: usize = 4;
/// How often a batch get asks again for keys DynamoDB left unprocessed.
const BATCH_ROUNDS: u32 = 8;
/// Backoff before the first new request for unprocessed keys; it doubles.
const BATCH_BACKOFF: Duration = Duration::from_millis(25);

/// The [`ItemStore`] on a DynamoDB table made by [`DynamoStore::ensure_table`]
/// (or from [`table_definition`] by `infra/`).
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

impl DynamoStore {
    /// The store on `table`, with the system clock.
    pub fn new(client: Client, table: impl Into<String>) -> DynamoStore {
        Self {
            client,
            table: table.into(),
            clock: Arc::new(SystemClock),
        }
    }

    /// The same store with another clock (tests move time to expire items).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same store with another retry configuration (tests use a short
    /// backoff; see [`crate::sdk::retry_config_with_backoff`]).
    #[must_use]
    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        let config = self
            .client
            .config()
            .to_builder()
            .retry_config(retry)
            .build();
        self.client = Client::from_conf(config);
        self
    }

    /// The table's name.
    #[must_use]
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table if it does not exist (from the core's `TABLE`:
    /// on-demand, `pk`/`sk`, every GSI projecting all attributes), waits until
    /// it is active and enables TTL on `ttl`. A second call is a no-op.
    pub async fn ensure_table(&self) -> Result<(), StoreError> {
        table::ensure(&self.client, &self.table).await
    }

    fn live(&self, item: Item) -> Option<Item> {
        (!item.is_expired(self.clock.now_secs())).then_some(item)
    }

    /// Writes `item` if what is stored under its key is absent or expired.
    async fn replace_expired(&self, item: &Item, now: i64) -> Result<(), StoreError> {
        let mut e = Expr::default();
        let condition = e.condition(Some(&Condition::Absent), now);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attrs(item)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .send()
            .await
            .map_err(|err| from_sdk(&err, item_size(item)))?;
        Ok(())
    }

    /// Why an update failed, now that DynamoDB has said "condition failed".
    async fn update_failed(&self, update: &Update, err: StoreError) -> StoreError {
        match err {
            StoreError::ItemTooLarge { size, limit } => {
                // The size depends on what is stored; work it out as the core would.
                match self.get(&update.key).await {
                    Ok(current) => match apply::update(current, update) {
                        Err(err) => err,
                        Ok(item) => StoreError::ItemTooLarge {
                            size: item_size(&item).max(size),
                            limit,
                        },
                    },
                    Err(_) => StoreError::ItemTooLarge { size, limit },
                }
            }
            other => other,
        }
    }

    fn transact_item(
        &self,
        op: &WriteOp,
        replacement: Option<&Item>,
        now: i64,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expr::default();
        let item = match (op, replacement) {
            (_, Some(item)) | (WriteOp::Put { item, .. }, None) => {
                let condition = match (op, replacement) {
                    (WriteOp::Put { condition, .. }, None) => condition.as_ref(),
                    _ => Some(&Condition::Absent),
                };
                let condition = e.condition(condition, now);
                let put = ddb::Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(to_attrs(item)))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(built)?;
                TransactWriteItem::builder().put(put)
            }
            (WriteOp::Update(update), None) => {
                let condition = e.update_condition(update, now);
                let expression = e.update(update);
                let update = ddb::Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attrs(&update.key)))
                    .update_expression(expression)
                    .condition_expression(condition)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build()
                    .map_err(built)?;
                TransactWriteItem::builder().update(update)
            }
            (WriteOp::Delete { key, condition }, None) => {
                let condition = e.condition(condition.as_ref(), now);
                let delete = ddb::Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attrs(key)))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(built)?;
                TransactWriteItem::builder().delete(delete)
            }
            (WriteOp::Check { key, condition }, None) => {
                let condition = e.condition(Some(condition), now).unwrap_or_default();
                let check = ddb::ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attrs(key)))
                    .condition_expression(condition)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(built)?;
                TransactWriteItem::builder().condition_check(check)
            }
        };
        Ok(item.build())
    }
}

fn built(err: BuildError) -> StoreError {
    StoreError::InvalidRequest(format!("the DynamoDB request is incomplete: {err}"))
}

/// What an update whose DynamoDB condition failed should become, judged by
/// the core against `old`, the item as it was when the condition was checked.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// The update fails with this error (a failed condition, an ADD on a
    /// non-number or one that overflows, an item too large).
    Fail(StoreError),
    /// The stored item is expired: write this new item in its place.
    Replace(Item),
    /// The item is live and the update applies: send it as an update again.
    Retry,
}

fn judge(old: Option<Item>, update: &Update, now: i64, replacing: bool) -> Verdict {
    let expired = old.as_ref().is_some_and(|item| item.is_expired(now));
    let live = old.filter(|item| !item.is_expired(now));
    match apply::update(live, update) {
        Err(err) => Verdict::Fail(err),
        Ok(item) if expired => Verdict::Replace(item),
        // A replacement met a live item written meanwhile.
        Ok(_) if replacing => Verdict::Retry,
        // DynamoDB refused what the core accepts; report the refusal.
        Ok(_) => Verdict::Fail(StoreError::ConditionFailed),
    }
}

fn old_item(attrs: Option<&HashMap<String, AttributeValue>>) -> Result<Option<Item>, StoreError> {
    attrs
        .filter(|attrs| !attrs.is_empty())
        .map(from_attrs)
        .transpose()
}

/// The `ExclusiveStartKey` of the page after `position`.
fn start_key(position: &Position, index: Option<Index>) -> HashMap<String, AttributeValue> {
    let mut key = HashMap::from([
        (PK.to_owned(), AttributeValue::S(position.pk.clone())),
        (SK.to_owned(), AttributeValue::S(position.sk.clone())),
    ]);
    if let Some(index) = index {
        let def = index.def();
        for (attr, value) in [(def.pk, &position.index_pk), (def.sk, &position.index_sk)] {
            if let Some(value) = value {
                key.insert(attr.to_owned(), AttributeValue::S(value.clone()));
            }
        }
    }
    key
}

fn update_size(update: &Update) -> usize {
    update
        .set
        .iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

#[async_trait]
impl ItemStore for DynamoStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        validate::key(key)?;
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|err| from_sdk(&err, 0))?;
        Ok(old_item(out.item())?.and_then(|item| self.live(item)))
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        validate::batch_get(keys)?;
        let mut found: HashMap<Key, Item> = HashMap::with_capacity(keys.len());
        let mut pending: Vec<HashMap<String, AttributeValue>> =
            keys.iter().map(key_attrs).collect();
        let mut backoff = BATCH_BACKOFF;
        for round in 0..=BATCH_ROUNDS {
            if pending.is_empty() {
                break;
            }
            if round == BATCH_ROUNDS {
                return Err(StoreError::Unavailable(format!(
                    "DynamoDB left {} keys unprocessed after {BATCH_ROUNDS} rounds",
                    pending.len()
                )));
            }
            if round > 0 {
                tokio::time::sleep(backoff).await;
                backoff = backoff.saturating_mul(2);
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(built)?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|err| from_sdk(&err, 0))?;
            for attrs in out
                .responses()
                .and_then(|r| r.get(&self.table))
                .into_iter()
                .flatten()
            {
                let item = from_attrs(attrs)?;
                found.insert(item.key(), item);
            }
            if let Some(unprocessed) = out.unprocessed_keys().and_then(|u| u.get(&self.table)) {
                pending = unprocessed.keys().to_vec();
            }
        }
        let now = self.clock.now_secs();
        Ok(keys
            .iter()
            .map(|key| found.remove(key).filter(|item| !item.is_expired(now)))
            .collect())
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        validate::item(&item)?;
        validate::condition(condition.as_ref())?;
        let mut e = Expr::default();
        let condition = e.condition(condition.as_ref(), self.clock.now_secs());
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&item)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .send()
            .await
            .map_err(|err| from_sdk(&err, item_size(&item)))?;
        Ok(())
    }

    async fn update(&self, update: Update) -> Result<Item, StoreError> {
        validate::update(&update)?;
        for _ in 0..WRITE_ROUNDS {
            let now = self.clock.now_secs();
            let mut e = Expr::default();
            let condition = e.update_condition(&update, now);
            let expression = e.update(&update);
            let sent = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key_attrs(&update.key)))
                .update_expression(expression)
                .condition_expression(condition)
                .set_expression_attribute_names(e.names())
                .set_expression_attribute_values(e.values())
                .return_values(ReturnValue::AllNew)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            let err = match sent {
                Ok(out) => {
                    return old_item(out.attributes())?.ok_or_else(|| {
                        StoreError::Corrupt("DynamoDB returned no item after an update".into())
                    });
                }
                Err(err) => err,
            };
            let Some(UpdateItemError::ConditionalCheckFailedException(failed)) =
                err.as_service_error()
            else {
                let mapped = from_sdk(&err, update_size(&update));
                return Err(self.update_failed(&update, mapped).await);
            };
            match judge(old_item(failed.item())?, &update, now, false) {
                Verdict::Fail(err) => return Err(err),
                Verdict::Retry => {}
                Verdict::Replace(item) => match self.replace_expired(&item, now).await {
                    Ok(()) => return Ok(item),
                    Err(StoreError::ConditionFailed) => {}
                    Err(err) => return Err(err),
                },
            }
        }
        Err(StoreError::Unavailable(format!(
            "the item kept changing during {WRITE_ROUNDS} attempts to update it"
        )))
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<(), StoreError> {
        validate::key(key)?;
        validate::condition(condition.as_ref())?;
        let mut e = Expr::default();
        let condition = e.condition(condition.as_ref(), self.clock.now_secs());
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .send()
            .await
            .map_err(|err| from_sdk(&err, 0))?;
        Ok(())
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        validate::query(query)?;
        let mut start = match &query.cursor {
            Some(cursor) => Some(start_key(&cursor::decode(cursor, query)?, query.index)),
            None => None,
        };
        let (pk_attr, sk_attr, index_name) = match query.index {
            None => (PK, SK, None),
            Some(index) => (index.def().pk, index.def().sk, Some(index.def().name)),
        };
        let now = self.clock.now_secs();
        let mut e = Expr::default();
        let Some(key_condition) = e.key_condition(pk_attr, &query.pk, sk_attr, query.sk.as_ref())
        else {
            return Ok(Page::default());
        };
        let filter = e.live(now);
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        // One more than the page, to know whether another page follows.
        let wanted = limit.saturating_add(1);
        let mut items = Vec::with_capacity(wanted);
        loop {
            let ask = i32::try_from(wanted - items.len()).unwrap_or(i32::MAX);
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index_name.map(str::to_owned))
                .key_condition_expression(&key_condition)
                .filter_expression(&filter)
                .set_expression_attribute_names(e.names())
                .set_expression_attribute_values(e.values())
                .scan_index_forward(query.order == Order::Ascending)
                // Global secondary indexes cannot be read consistently.
                .set_consistent_read(query.index.is_none().then_some(true))
                .limit(ask)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|err| from_sdk(&err, 0))?;
            for attrs in out.items() {
                let item = from_attrs(attrs)?;
                if !item.is_expired(now) && items.len() < wanted {
                    items.push(item);
                }
            }
            match out.last_evaluated_key() {
                Some(last) if items.len() < wanted && key_of(last).is_some() => {
                    start = Some(last.clone());
                }
                _ => break,
            }
        }
        let cursor = if items.len() > limit {
            items.truncate(limit);
            items
                .last()
                .map(|last| cursor::encode(&Position::of(last, query.index)))
        } else {
            None
        };
        Ok(Page { items, cursor })
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        validate::transaction(&ops)?;
        let size = ops
            .iter()
            .map(|op| match op {
                WriteOp::Put { item, .. } => item_size(item),
                WriteOp::Update(update) => update_size(update),
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        let mut replacements: Vec<Option<Item>> = vec![None; ops.len()];
        for _ in 0..WRITE_ROUNDS {
            let now = self.clock.now_secs();
            let items = ops
                .iter()
                .zip(&replacements)
                .map(|(op, replacement)| self.transact_item(op, replacement.as_ref(), now))
                .collect::<Result<Vec<_>, _>>()?;
            let err = match self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await
            {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            let Some(TransactWriteItemsError::TransactionCanceledException(canceled)) =
                err.as_service_error()
            else {
                return Err(from_sdk(&err, size));
            };
            let reasons = canceled.cancellation_reasons();
            let summary: Vec<Reason<'_>> = reasons
                .iter()
                .map(|r| Reason {
                    code: r.code(),
                    message: r.message(),
                })
                .collect();
            let failed = match errors::canceled(&summary, size) {
                StoreError::TransactionCanceled { failed } => failed,
                other => return Err(other),
            };
            // Tell failed conditions from ADD guards and expired items.
            let mut really_failed = Vec::new();
            let mut first_error = None;
            for index in failed {
                let (Some(WriteOp::Update(update)), Some(reason)) =
                    (ops.get(index), reasons.get(index))
                else {
                    really_failed.push(index);
                    continue;
                };
                let replacing = replacements.get(index).is_some_and(Option::is_some);
                match judge(old_item(reason.item())?, update, now, replacing) {
                    Verdict::Fail(StoreError::ConditionFailed) => really_failed.push(index),
                    Verdict::Fail(err) => {
                        first_error.get_or_insert(err);
                    }
                    Verdict::Replace(item) => replacements[index] = Some(item),
                    Verdict::Retry => replacements[index] = None,
                }
            }
            if !really_failed.is_empty() {
                return Err(StoreError::TransactionCanceled {
                    failed: really_failed,
                });
            }
            if let Some(err) = first_error {
                return Err(err);
            }
        }
        Err(StoreError::Unavailable(format!(
            "the items kept changing during {WRITE_ROUNDS} attempts of the transaction"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k() -> Key {
        Key::new("p", "s")
    }

    #[test]
    fn an_expired_item_is_replaced_not_merged() {
        let old = Item::new(k()).with("stale", 1).with("ttl", 5);
        let update = Update::new(k()).set("a", "x");
        assert_eq!(
            judge(Some(old), &update, 10, false),
            Verdict::Replace(Item::new(k()).with("a", "x"))
        );
    }

    #[test]
    fn an_add_on_a_string_is_an_invalid_request() {
        let old = Item::new(k()).with("n", "text");
        let verdict = judge(Some(old), &Update::new(k()).add("n", 1), 10, false);
        assert!(matches!(
            verdict,
            Verdict::Fail(StoreError::InvalidRequest(_))
        ));
    }

    #[test]
    fn an_overflowing_add_is_an_invalid_request() {
        let old = Item::new(k()).with("n", i64::MAX);
        let verdict = judge(Some(old), &Update::new(k()).add("n", 1), 10, false);
        assert!(matches!(
            verdict,
            Verdict::Fail(StoreError::InvalidRequest(_))
        ));
    }

    #[test]
    fn a_failed_condition_stays_failed() {
        let update = Update::new(k()).set("a", 1).when(Condition::Exists);
        assert_eq!(
            judge(None, &update, 10, false),
            Verdict::Fail(StoreError::ConditionFailed)
        );
        let live = Item::new(k());
        assert_eq!(judge(Some(live.clone()), &update, 10, true), Verdict::Retry);
        assert_eq!(
            judge(Some(live), &update, 10, false),
            Verdict::Fail(StoreError::ConditionFailed)
        );
    }

    #[test]
    fn index_cursors_start_after_the_index_key() {
        let item = Item::new(k()).with("gsi2pk", "G").with("gsi2sk", "t");
        let position = Position::of(&item, Some(Index::Gsi2));
        let key = start_key(&position, Some(Index::Gsi2));
        assert_eq!(key.len(), 4);
        assert_eq!(key["gsi2sk"], AttributeValue::S("t".into()));
        assert_eq!(start_key(&Position::of(&item, None), None).len(), 2);
    }
}
