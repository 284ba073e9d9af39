//! `taquilla instance create|list`: instances, for operators.

use taquilla_core::config::Settings;
use taquilla_core::domain::Language;
use taquilla_core::services::admin::instances::{self, CreateInstance};

use crate::args::{InstanceArgs, InstanceCommand};
use crate::secrets;
use crate::wiring::Runtime;

/// Parses a language code as the command line spells it.
pub fn language(value: &str) -> Result<Language, String> {
    match value.to_ascii_lowercase().as_str() {
        "ca" => Ok(Language::Ca),
        "es" => Ok(Language::Es),
        "en" => Ok(Language::En),
        other => Err(format!("unknown language {other:?}: use ca, es or en")),
    }
}

pub async fn run(settings: Settings, args: InstanceArgs) -> anyhow::Result<()> {
    let (master, _) = secrets::master_key(&settings.data_dir)?;
    let runtime = Runtime::connect(settings, &master).await?;
    let store = runtime.store.as_ref();
    match args.command {
        InstanceCommand::Create {
            slug,
            name,
            language,
            timezone,
            number_format,
            admin_email,
            admin_name,
        } => {
            runtime.prepare().await?;
            let done = instances::create(
                store,
                runtime.clock.as_ref(),
                CreateInstance {
                    slug,
                    name,
                    language,
                    timezone,
                    number_format,
                    admin_name: admin_name.unwrap_or_else(|| "Administrator".into()),
                    admin_email,
                },
            )
            .await?;
            super::announce_credentials(&done);
        }
        InstanceCommand::List => {
            for instance in instances::list(store).await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    instance.id,
                    instance.name,
                    if instance.online { "online" } else { "offline" },
                    instance.timezone
                );
            }
        }
    }
    Ok(())
}
