//! `taquilla ticket list|show`: tickets of an instance, for operators.

use anyhow::Context as _;
use taquilla_core::config::Settings;
use taquilla_core::domain::{InstanceId, State};
use taquilla_core::services::tickets::{self, QueueFilter};
use taquilla_core::services::{Actor, Ctx};

use crate::args::{TicketArgs, TicketCommand};
use crate::secrets;
use crate::wiring::Runtime;

pub async fn run(settings: Settings, args: TicketArgs) -> anyhow::Result<()> {
    let (master, _) = secrets::master_key(&settings.data_dir)?;
    let runtime = Runtime::connect(settings, &master).await?;
    let (instance, json) = match &args.command {
        TicketCommand::List { instance, json, .. } | TicketCommand::Show { instance, json, .. } => {
            (instance.clone(), *json)
        }
    };
    let instance = InstanceId::parse(instance).context("--instance")?;
    let ctx = Ctx {
        store: runtime.store.as_ref(),
        blobs: runtime.blobs.as_ref(),
        clock: runtime.clock.as_ref(),
        instance: &instance,
    };
    let actor = Actor::System("taquilla ticket".into());
    match args.command {
        TicketCommand::List { closed, .. } => {
            let filter = QueueFilter {
                state: Some(if closed { State::Closed } else { State::Open }),
                limit: 1000,
                ..QueueFilter::default()
            };
            let page = tickets::queue(&ctx, &actor, &filter).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&page)?);
            } else {
                for t in &page.items {
                    println!("{}\t{}\t{}", t.number, t.state.as_str(), t.subject);
                }
            }
        }
        TicketCommand::Show { number, .. } => {
            let ticket = tickets::by_number(&ctx, &actor, &number).await?;
            let thread = tickets::thread(&ctx, &actor, &ticket.id, None, 1000).await?;
            if json {
                let value = serde_json::json!({ "ticket": ticket, "thread": thread.items });
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                println!(
                    "#{} {} [{}]",
                    ticket.number,
                    ticket.subject,
                    ticket.state.as_str()
                );
                for e in &thread.items {
                    println!("--- {:?} at {}\n{}", e.kind, e.created_at, e.body_text);
                }
            }
        }
    }
    Ok(())
}
