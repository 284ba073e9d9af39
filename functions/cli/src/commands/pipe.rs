//! `taquilla pipe --instance I`: one message from standard input through
//! the inbound pipeline, for a mail server's pipe transport.
//!
//! The exit status is what the mail server acts on (sysexits): 0 when the
//! message is safe with us (a ticket, an entry, a duplicate, a recorded
//! bounce, or kept for review), 75 (`EX_TEMPFAIL`) when it was not
//! processed and must be delivered again, 67 (`EX_NOUSER`) for an unknown
//! instance, 65 (`EX_DATAERR`) for a message refused for good.

use std::io::Read as _;

use taquilla_core::config::Settings;
use taquilla_core::domain::InstanceId;
use taquilla_core::secrets::Purpose;
use taquilla_core::services::Ctx;
use taquilla_mail::dispatch::Due;
use taquilla_mail::pipeline::{self, Envelope, Outcome};
use taquilla_mail::reply_token::ReplyTokens;

use crate::Exit;
use crate::args::PipeArgs;
use crate::secrets;
use crate::wiring::Runtime;

/// `EX_DATAERR`: the message is refused for good.
pub const EXIT_REFUSED: u8 = 65;
/// `EX_NOUSER`: no such instance.
pub const EXIT_NO_INSTANCE: u8 = 67;
/// `EX_TEMPFAIL`: try again later.
pub const EXIT_TEMPORARY: u8 = 75;
/// Largest message read from standard input: 40 MiB (SES accepts 40 MB).
pub const MAX_MESSAGE_BYTES: usize = 40 * 1024 * 1024;

fn exit(code: u8, message: impl Into<String>) -> anyhow::Error {
    Exit {
        code,
        message: message.into(),
    }
    .into()
}

pub async fn run(settings: Settings, args: PipeArgs) -> anyhow::Result<()> {
    let instance = InstanceId::parse(&args.instance)
        .map_err(|e| exit(EXIT_NO_INSTANCE, format!("--instance: {e}")))?;
    let mut raw = Vec::new();
    std::io::stdin()
        .take(MAX_MESSAGE_BYTES as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|e| exit(EXIT_TEMPORARY, format!("reading the message: {e}")))?;
    if raw.len() > MAX_MESSAGE_BYTES {
        return Err(exit(
            EXIT_REFUSED,
            format!("the message is larger than {MAX_MESSAGE_BYTES} bytes"),
        ));
    }
    let (master, _) = secrets::master_key(&settings.data_dir)
        .map_err(|e| exit(EXIT_TEMPORARY, format!("{e:#}")))?;
    let runtime = Runtime::connect(settings, &master)
        .await
        .map_err(|e| exit(EXIT_TEMPORARY, format!("{e:#}")))?;
    let ctx = Ctx {
        store: runtime.store.as_ref(),
        blobs: runtime.blobs.as_ref(),
        clock: runtime.clock.as_ref(),
        instance: &instance,
    };
    let tokens = ReplyTokens::new(master.derive(Purpose::ReplyTokens));
    let envelope = Envelope {
        recipients: args.recipients,
        ..Envelope::default()
    };
    let outcome = pipeline::ingest(&ctx, &tokens, &raw, &envelope)
        .await
        .map_err(|e| exit(EXIT_TEMPORARY, e.to_string()))?;
    if args.send && !matches!(outcome, Outcome::Rejected { .. }) {
        // What the message owes (an auto-response, alerts) goes out now,
        // without a server; what cannot go stays in the outbox, and the
        // message is safe with us either way. Without `--send` the
        // server's dispatcher sends it: the mail server's delivery is not
        // held up by ours.
        let sent = super::outbound::send(&runtime, Some(vec![instance.clone()]), Due::Now).await;
        if let Err(error) = sent {
            tracing::warn!(error = %format!("{error:#}"), "pending mail not sent");
        }
    }
    match &outcome {
        Outcome::Rejected { code, .. } if *code == "unknown_instance" => {
            Err(exit(EXIT_NO_INSTANCE, outcome.summary()))
        }
        Outcome::Rejected { .. } => Err(exit(EXIT_REFUSED, outcome.summary())),
        _ => {
            println!("{}", outcome.summary());
            Ok(())
        }
    }
}
