//! What an inbound message costs in store operations (SQLite store wrapped
//! in `CountingStore`, demo instance, the pipeline as `tickets.email` and
//! `taquilla pipe` run it): a few reads and exactly one write, a
//! transaction, so a message is stored whole or not at all, and the same
//! cost with 1 or 301 tickets in the help desk.
//!
//! Measured: a new ticket from a known sender 4 gets, 1 batch get and 2
//! queries; a reply matched by `In-Reply-To` 8 gets and 1 query. The test
//! holds them to at most 7 and 9 reads.

use std::sync::Arc;

use taquilla_core::clock::{Clock, SystemClock};
use taquilla_core::domain::InstanceId;
use taquilla_core::secrets::{MasterKey, Purpose};
use taquilla_core::services::{Ctx, provision};
use taquilla_local::{FsBlobs, SqliteStore};
use taquilla_mail::pipeline::{self, Envelope, Outcome};
use taquilla_mail::reply_token::ReplyTokens;
use taquilla_tests::counting::CountingStore;

fn message(id: &str, subject: &str, extra: &str) -> Vec<u8> {
    message_from("ana@uni.example", id, subject, extra)
}

fn message_from(sender: &str, id: &str, subject: &str, extra: &str) -> Vec<u8> {
    format!(
        "From: <{sender}>\r\nTo: support@demo.taquilla.test\r\n\
         Subject: {subject}\r\nMessage-ID: <{id}@uni.example>\r\n{extra}\
         Date: Mon, 2 Nov 2026 10:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         The projector in room 12 does not turn on.\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn an_inbound_message_costs_a_fixed_handful_of_operations() {
    let dir = tempfile::tempdir().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let sqlite =
        Arc::new(SqliteStore::open_with_clock(&dir.path().join("t.db"), clock.clone()).unwrap());
    let store = Arc::new(CountingStore::new(sqlite));
    let blobs = Arc::new(FsBlobs::new(
        dir.path().join("blobs"),
        "http://127.0.0.1:9".into(),
        b"test key".to_vec(),
        clock.clone(),
    ));
    provision::ensure_demo(store.as_ref(), clock.as_ref())
        .await
        .unwrap();
    let demo = InstanceId::parse("demo").unwrap();
    let ctx = Ctx {
        store: store.as_ref(),
        blobs: blobs.as_ref(),
        clock: clock.as_ref(),
        instance: &demo,
    };
    let tokens = ReplyTokens::new(MasterKey::generate().unwrap().derive(Purpose::ReplyTokens));
    let envelope = Envelope::default();
    let mut costs = Vec::new();
    for round in 0..2 {
        if round == 1 {
            // 300 more tickets, from as many senders.
            for n in 0..300 {
                let raw = message_from(
                    &format!("user{n}@uni.example"),
                    &format!("fill{n}"),
                    "Filler",
                    "",
                );
                pipeline::ingest(&ctx, &tokens, &raw, &envelope)
                    .await
                    .unwrap();
            }
        }
        // The sender is known (a first message made her user).
        pipeline::ingest(
            &ctx,
            &tokens,
            &message(&format!("warm{round}"), "Warm", ""),
            &envelope,
        )
        .await
        .unwrap();
        store.reset();
        let id = format!("new{round}");
        let opened = pipeline::ingest(&ctx, &tokens, &message(&id, "Projector", ""), &envelope)
            .await
            .unwrap();
        assert!(matches!(opened, Outcome::Opened { .. }), "{opened:?}");
        let new = store.counts();
        store.reset();
        let reply = message(
            &format!("re{round}"),
            "Re: Projector",
            &format!("In-Reply-To: <{id}@uni.example>\r\n"),
        );
        let threaded = pipeline::ingest(&ctx, &tokens, &reply, &envelope)
            .await
            .unwrap();
        assert!(matches!(threaded, Outcome::Threaded { .. }), "{threaded:?}");
        costs.push((new, store.counts()));
    }
    let (new, reply) = costs[0];
    println!("a new ticket: {new:?}\na reply: {reply:?}");
    for counts in [new, reply] {
        assert_eq!(
            (counts.put, counts.update, counts.delete, counts.transact),
            (0, 0, 0, 1),
            "one transaction and no other write: {counts:?}"
        );
    }
    assert!(new.get + new.batch_get + new.query <= 7, "{new:?}");
    assert!(reply.get + reply.batch_get + reply.query <= 9, "{reply:?}");
    assert_eq!(
        costs[0], costs[1],
        "the cost does not grow with the tickets"
    );
}
