//! `taquilla serve`: the local server on the configured adapters. The first
//! run creates the data directory and its secrets and provisions the demo
//! instance; every run prints where to open it and stops cleanly on Ctrl-C.

use anyhow::Context as _;
use taquilla_core::config::Settings;
use taquilla_core::services::{directory, provision};
use tokio::net::TcpListener;

use crate::secrets;
use crate::wiring::Runtime;

pub async fn run(mut settings: Settings) -> anyhow::Result<()> {
    let addr = (settings.bind, settings.port);
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {}:{}", addr.0, addr.1))?;
    let local = listener.local_addr()?;
    if settings.port == 0 {
        // The port was picked just now: links must carry the real one.
        settings.public_url = format!("http://{local}");
    }

    let (master, _) = secrets::master_key(&settings.data_dir)?;
    let runtime = Runtime::connect(settings, &master).await?;
    runtime.prepare().await?;
    if directory::list_instances(runtime.store.as_ref())
        .await?
        .is_empty()
        && let Some(done) =
            provision::ensure_demo(runtime.store.as_ref(), runtime.clock.as_ref()).await?
    {
        super::announce_credentials(&done);
    }

    tracing::info!(
        %local,
        store = %runtime.settings.store,
        blobs = %runtime.settings.blobs,
        mail = %runtime.settings.mail,
        "serving"
    );
    println!(
        "Taquilla is running at {}/  (Ctrl-C stops it)",
        runtime.settings.public_url
    );

    let app = taquilla_web::router(runtime.app_state()?);
    // The outbox's mail goes out within a second of the change that owes it.
    let runtime = std::sync::Arc::new(runtime);
    let ticker = super::outbound::spawn_ticker(runtime.clone());
    // SLA warnings and breaches, every minute.
    let escalation = super::sla::spawn_ticker(runtime.clone());
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("serving")?;
    ticker.abort();
    escalation.abort();
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
