//! `taquilla apikey create|list|deactivate`: integration API keys of an
//! instance. The key is printed once, at creation; only its hash is kept.

use std::collections::BTreeSet;

use anyhow::Context as _;
use taquilla_core::config::Settings;
use taquilla_core::domain::InstanceId;
use taquilla_core::services::apikeys::{self, NewApiKey};

use crate::args::{ApiKeyArgs, ApiKeyCommand};
use crate::secrets;
use crate::wiring::Runtime;

/// Networks a key is allowed from when `--ip` is not given: this machine.
const LOOPBACK: [&str; 2] = ["127.0.0.0/8", "::1/128"];

pub async fn run(settings: Settings, args: ApiKeyArgs) -> anyhow::Result<()> {
    let (master, _) = secrets::master_key(&settings.data_dir)?;
    let runtime = Runtime::connect(settings, &master).await?;
    let store = runtime.store.as_ref();
    match args.command {
        ApiKeyCommand::Create {
            instance,
            ip,
            permission,
            description,
        } => {
            let instance = InstanceId::parse(instance).context("--instance")?;
            let networks = if ip.is_empty() {
                LOOPBACK.iter().map(|n| (*n).to_owned()).collect()
            } else {
                ip
            };
            let permissions = permission
                .iter()
                .map(|p| apikeys::parse_permission(p))
                .collect::<Result<BTreeSet<_>, _>>()?;
            let created = apikeys::create(
                store,
                runtime.clock.as_ref(),
                &instance,
                NewApiKey {
                    networks,
                    permissions,
                    description,
                },
            )
            .await?;
            let r = &created.record;
            eprintln!(
                "Created API key {} for {} (allowed from {}; may {}). It is shown only now:",
                r.id,
                r.instance,
                r.networks.join(", "),
                r.permissions
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            println!("{}", created.key);
        }
        ApiKeyCommand::List { instance } => {
            let instance = InstanceId::parse(instance).context("--instance")?;
            for k in apikeys::list(store, &instance).await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    k.id,
                    if k.active { "active" } else { "inactive" },
                    k.networks.join(","),
                    k.permissions
                        .iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                );
            }
        }
        ApiKeyCommand::Deactivate { instance, id } => {
            let instance = InstanceId::parse(instance).context("--instance")?;
            apikeys::deactivate(store, &instance, &id).await?;
            println!("Deactivated API key {id}");
        }
    }
    Ok(())
}
