//! Allocating ticket numbers from a [`NumberFormat`].

use crate::domain::TopicId;
use crate::domain::number::NumberFormat;
use crate::keys;
use crate::services::{Ctx, ServiceError};
use crate::store::{StoreError, Update};

/// The sequence kind of ticket numbers: the instance's, or a help topic's
/// when the topic overrides the format (`SEQ#TICKETNUM`, `SEQ#TICKETNUM-T{id}`).
fn sequence_kind(topic: Option<TopicId>) -> String {
    match topic {
        None => "TICKETNUM".into(),
        Some(id) => format!("TICKETNUM-T{id}"),
    }
}

/// `count` random digits (0-9), from the operating system's generator.
fn random_digits(count: usize) -> Result<Vec<u8>, ServiceError> {
    let mut bytes = vec![0u8; count * 2];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::Unavailable(format!("no randomness for ticket numbers: {e}")))?;
    // Two bytes a digit: the bias of 65,536 mod 10 is below 1e-4.
    Ok(bytes
        .chunks_exact(2)
        .map(|pair| {
            let n = u16::from_be_bytes([pair[0], pair[1]]);
            u8::try_from(n % 10).unwrap_or(0)
        })
        .collect())
}

/// A fresh candidate number: the next value of the format's sequence (if it
/// has one) and fresh random digits (if it has any). Sequence values are
/// taken whether or not the number is then used, so numbers may skip.
pub(crate) async fn candidate(
    ctx: &Ctx<'_>,
    format: &NumberFormat,
    topic_override: Option<TopicId>,
) -> Result<String, ServiceError> {
    let seq = if format.is_sequential() {
        let item = ctx
            .store
            .update(
                Update::new(keys::sequence(ctx.instance, &sequence_kind(topic_override)))
                    .add(keys::SEQUENCE_ATTR, 1),
            )
            .await?;
        item.get_i64(keys::SEQUENCE_ATTR)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| {
                StoreError::Corrupt("the ticket-number sequence is not a number".into())
            })?
    } else {
        0
    };
    let digits = random_digits(crate::domain::number::MAX_NUMBER_LEN)?;
    let mut next = digits.into_iter();
    Ok(format.render(seq, || next.next().unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_digits() {
        let digits = random_digits(1000).unwrap();
        assert!(digits.iter().all(|d| *d < 10));
        assert!((0..10).all(|d| digits.contains(&d)));
    }
}
