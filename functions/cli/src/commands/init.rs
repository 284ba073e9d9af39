//! `taquilla init [--demo]`: prepares the configured store (the SQLite file,
//! or the DynamoDB table on any endpoint), blob storage and outbox, and with
//! `--demo` provisions the demo instance as `serve` does on first run.

use taquilla_core::config::Settings;
use taquilla_core::services::provision;

use crate::args::InitArgs;
use crate::secrets;
use crate::wiring::Runtime;

pub async fn run(settings: Settings, args: &InitArgs) -> anyhow::Result<()> {
    let (master, created) = secrets::master_key(&settings.data_dir)?;
    if created {
        println!(
            "Generated the master key in {}/secrets/",
            settings.data_dir.display()
        );
    }
    let runtime = Runtime::connect(settings, &master).await?;
    runtime.prepare().await?;
    println!("Store ready: {}", runtime.settings.store);
    println!("Blobs ready: {}", runtime.settings.blobs);
    println!("Mail ready:  {}", runtime.settings.mail);
    if args.demo {
        match provision::ensure_demo(runtime.store.as_ref(), runtime.clock.as_ref()).await? {
            Some(done) => super::announce_credentials(&done),
            None => println!("The demo instance already exists; nothing changed."),
        }
    }
    Ok(())
}
