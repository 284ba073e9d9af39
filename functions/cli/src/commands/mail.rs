//! `taquilla mail kept|replay`: the messages the inbound pipeline could not
//! process, kept whole, and processing them again once the cause is fixed.

use anyhow::Context as _;
use taquilla_core::config::Settings;
use taquilla_core::domain::InstanceId;
use taquilla_core::secrets::Purpose;
use taquilla_core::services::Ctx;
use taquilla_mail::pipeline::kept::{self, KeptMail};
use taquilla_mail::pipeline::{self, Envelope, Outcome};
use taquilla_mail::reply_token::ReplyTokens;

use crate::args::{MailArgs, MailCommand};
use crate::secrets;
use crate::wiring::Runtime;

pub async fn run(settings: Settings, args: MailArgs) -> anyhow::Result<()> {
    let (master, _) = secrets::master_key(&settings.data_dir)?;
    let runtime = Runtime::connect(settings, &master).await?;
    let instance = match &args.command {
        MailCommand::Kept { instance, .. } | MailCommand::Replay { instance, .. } => instance,
        MailCommand::SendPending { instance, all } => {
            return super::outbound::run_send_pending(&runtime, instance.as_deref(), *all).await;
        }
    };
    let instance = InstanceId::parse(instance).context("--instance")?;
    let ctx = Ctx {
        store: runtime.store.as_ref(),
        blobs: runtime.blobs.as_ref(),
        clock: runtime.clock.as_ref(),
        instance: &instance,
    };
    let all = all_kept(&ctx).await?;
    match args.command {
        MailCommand::Kept { json, .. } => {
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else if all.is_empty() {
                println!("no mail kept for review");
            } else {
                for k in &all {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        k.id,
                        k.code,
                        k.from.as_deref().unwrap_or("-"),
                        k.subject.as_deref().unwrap_or("-"),
                        k.reason
                    );
                }
            }
        }
        MailCommand::Replay { id, .. } => {
            let chosen: Vec<&KeptMail> = match &id {
                Some(id) => {
                    let found: Vec<&KeptMail> = all.iter().filter(|k| &k.id == id).collect();
                    anyhow::ensure!(!found.is_empty(), "no kept message {id}");
                    found
                }
                None => all.iter().collect(),
            };
            let tokens = ReplyTokens::new(master.derive(Purpose::ReplyTokens));
            let mut still_kept = 0;
            for record in chosen {
                let raw = kept::raw(&ctx, record).await?;
                let outcome = pipeline::ingest(&ctx, &tokens, &raw, &Envelope::default())
                    .await
                    .map_err(|e| anyhow::anyhow!("{}: {e}", record.id))?;
                // Kept again under a new id: the old record goes either way.
                if matches!(outcome, Outcome::Kept { .. }) {
                    still_kept += 1;
                }
                kept::forget(&ctx, record).await?;
                println!("{}\t{}", record.id, outcome.summary());
            }
            anyhow::ensure!(
                still_kept == 0,
                "{still_kept} message(s) could still not be processed and are kept again"
            );
        }
        MailCommand::SendPending { .. } => {}
    }
    Ok(())
}

async fn all_kept(ctx: &Ctx<'_>) -> anyhow::Result<Vec<KeptMail>> {
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = kept::list(ctx, cursor, 100).await?;
        all.extend(page.items);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
}
