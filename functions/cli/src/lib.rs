//! The `taquilla` command: argument parsing, configuration, adapters, and
//! one module per subcommand.

pub mod args;
pub mod commands;
pub mod secrets;
pub mod settings;
pub mod wiring;

use std::process::ExitCode;

use clap::Parser as _;
use taquilla_core::config::{ConfigError, LogFormat};
use tracing_subscriber::EnvFilter;

use crate::args::{Cli, Command};

/// Exit status for a configuration error (sysexits' `EX_CONFIG`).
const EXIT_CONFIG: u8 = 78;

/// A command's failure with the exit status it must end with (a mail
/// server reads `pipe`'s: 75 retries, 65 and 67 bounce).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

/// Runs the command line of this process.
#[must_use]
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if let Some(exit) = e.downcast_ref::<Exit>() {
                ExitCode::from(exit.code)
            } else if e.downcast_ref::<ConfigError>().is_some() {
                ExitCode::from(EXIT_CONFIG)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let serve_args = match &cli.command {
        Command::Serve(args) => Some(args),
        Command::Init(_) => None,
        Command::Instance(_) | Command::Agent(_) => None,
        Command::Apikey(_) | Command::Token(_) | Command::Ticket(_) => None,
        Command::Pipe(_) | Command::Mail(_) | Command::Sla(_) => None,
    };
    let (settings, unknown) = settings::load(&cli.config, serve_args)?;
    init_logging(settings.log_format);
    for name in unknown {
        tracing::warn!(variable = %name, "unknown TAQUILLA_ environment variable ignored");
    }
    match cli.command {
        Command::Serve(_) => commands::serve::run(settings).await,
        Command::Init(args) => commands::init::run(settings, &args).await,
        Command::Instance(args) => commands::instance::run(settings, args).await,
        Command::Agent(args) => commands::agent::run(settings, args).await,
        Command::Apikey(args) => commands::apikey::run(settings, args).await,
        Command::Token(args) => commands::token::run(settings, args).await,
        Command::Ticket(args) => commands::ticket::run(settings, args).await,
        Command::Pipe(args) => commands::pipe::run(settings, args).await,
        Command::Mail(args) => commands::mail::run(settings, args).await,
        Command::Sla(args) => commands::sla::run(settings, args).await,
    }
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env("TAQUILLA_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    // A second initialisation (only possible in tests) keeps the first.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
