//! `taquilla token issue`: an agent API token (bearer JWT), printed once.

use std::collections::BTreeSet;

use anyhow::Context as _;
use taquilla_core::config::Settings;
use taquilla_core::domain::InstanceId;
use taquilla_core::services::{Ctx, agents_access, apikeys, tokens};

use crate::args::{TokenArgs, TokenCommand};
use crate::secrets;
use crate::wiring::Runtime;

pub async fn run(settings: Settings, args: TokenArgs) -> anyhow::Result<()> {
    let (master, _) = secrets::master_key(&settings.data_dir)?;
    let runtime = Runtime::connect(settings, &master).await?;
    let TokenCommand::Issue {
        instance,
        agent,
        ttl,
        scope,
    } = args.command;
    let instance = InstanceId::parse(instance).context("--instance")?;
    let ctx = Ctx {
        store: runtime.store.as_ref(),
        blobs: runtime.blobs.as_ref(),
        clock: runtime.clock.as_ref(),
        instance: &instance,
    };
    let agent_id = agents_access::agent_by_email(&ctx, &agent).await?;
    let scope = if scope.is_empty() {
        None
    } else {
        Some(
            scope
                .iter()
                .map(|p| apikeys::parse_permission(p))
                .collect::<Result<BTreeSet<_>, _>>()?,
        )
    };
    let ttl = tokens::parse_ttl(&ttl)?;
    let token = tokens::issue(
        &runtime.token_key,
        &instance,
        agent_id,
        scope,
        runtime.clock.now_secs(),
        ttl,
    )?;
    eprintln!("Token for {agent} of {instance}, valid {ttl} s:");
    println!("{token}");
    Ok(())
}
