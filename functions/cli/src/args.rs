//! The command line.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Taquilla: a help desk for service units.
#[derive(Debug, Parser)]
#[command(name = "taquilla", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data is: shared by every subcommand that touches data.
#[derive(Debug, Args, Clone, Default)]
pub struct ConfigArgs {
    /// Data directory of the embedded default (SQLite file, blobs, outbox, secrets).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// A TOML configuration file (keys as in `TAQUILLA_*`, lower case, without the prefix).
    #[arg(long, global = true, value_name = "FILE", env = "TAQUILLA_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: the API, the pages and the ticker.
    Serve(ServeArgs),
    /// Prepare the configured store, blob storage and outbox (idempotent).
    Init(InitArgs),
}

#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to listen on.
    #[arg(long)]
    pub bind: Option<IpAddr>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct InitArgs {
    /// Also create the demo instance, if it does not exist.
    #[arg(long)]
    pub demo: bool,
}
