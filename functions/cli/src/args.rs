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
    /// Create and list instances.
    Instance(InstanceArgs),
    /// Create and list the agents of an instance; reset their passwords.
    Agent(AgentArgs),
    /// Create, list and deactivate integration API keys.
    Apikey(ApiKeyArgs),
    /// Issue agent API tokens.
    Token(TokenArgs),
    /// List and show tickets.
    Ticket(TicketArgs),
    /// Receive one message from standard input (a Postfix or Exim pipe
    /// target). Exits 0 when the message is safe with us, 75 on a
    /// temporary failure (the mail server retries), 67 for an unknown
    /// instance and 65 for a message refused for good.
    Pipe(PipeArgs),
    /// Mail kept for review: list it, process it again.
    Mail(MailArgs),
    /// SLA escalation: run the tick now (`serve` runs it every minute).
    Sla(SlaArgs),
}

#[derive(Debug, Args, Clone)]
pub struct SlaArgs {
    #[command(subcommand)]
    pub command: SlaCommand,
}

#[derive(Debug, Subcommand, Clone)]
pub enum SlaCommand {
    /// Send the due warnings and mark the breached tickets overdue, once.
    Tick {
        /// Only this instance; every instance without it.
        #[arg(long)]
        instance: Option<String>,
    },
}

#[derive(Debug, Args, Clone)]
pub struct PipeArgs {
    /// The instance the message is for.
    #[arg(long)]
    pub instance: String,
    /// An envelope recipient (the mail server's RCPT TO, e.g. Postfix's
    /// `${recipient}`); repeat for several.
    #[arg(long = "recipient")]
    pub recipients: Vec<String>,
    /// Also send what the message owes (auto-response, alerts) before
    /// exiting, for installations without `taquilla serve`, whose
    /// dispatcher otherwise sends it within a second.
    #[arg(long)]
    pub send: bool,
}

#[derive(Debug, Args, Clone)]
pub struct MailArgs {
    #[command(subcommand)]
    pub command: MailCommand,
}

#[derive(Debug, Subcommand, Clone)]
pub enum MailCommand {
    /// List the messages kept for review.
    Kept {
        #[arg(long)]
        instance: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Process kept messages again: one by its id, or all of them.
    Replay {
        #[arg(long)]
        instance: String,
        /// The id `taquilla mail kept` shows; every kept message without it.
        id: Option<String>,
    },
    /// Send the outbox's pending mail now (`serve` does so every second).
    /// Exits non-zero when some mail could not be sent.
    SendPending {
        /// Only this instance's; every instance's without it.
        #[arg(long)]
        instance: Option<String>,
        /// Also the mail waiting for its next retry.
        #[arg(long)]
        all: bool,
    },
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

#[derive(Debug, Args, Clone)]
pub struct InstanceArgs {
    #[command(subcommand)]
    pub command: InstanceCommand,
}

#[derive(Debug, Subcommand, Clone)]
pub enum InstanceCommand {
    /// Create an instance with its first administrator (prints the password once).
    Create {
        /// URL and key name: 2 to 40 lower-case letters, digits and inner hyphens.
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        /// Default language: ca, es or en.
        #[arg(long, default_value = "ca", value_parser = crate::commands::instance::language)]
        language: taquilla_core::domain::Language,
        /// IANA time zone.
        #[arg(long, default_value = "Europe/Madrid")]
        timezone: String,
        /// Ticket-number format: `#` is a random digit, `{seq:N}` the next
        /// number of a sequence padded to N digits (e.g. `IT-{seq:6}`).
        #[arg(long, default_value = "######")]
        number_format: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long)]
        admin_name: Option<String>,
    },
    /// List the instances of this deployment.
    List,
}

#[derive(Debug, Args, Clone)]
pub struct AgentArgs {
    #[command(subcommand)]
    pub command: AgentCommand,
}

#[derive(Debug, Subcommand, Clone)]
pub enum AgentCommand {
    /// Create an agent (prints the generated password once).
    Create {
        #[arg(long)]
        instance: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Primary department, by id or name.
        #[arg(long)]
        department: String,
        /// Role in that department, by id or name (default: the first role).
        #[arg(long)]
        role: Option<String>,
        /// Make the agent an administrator of the instance.
        #[arg(long)]
        admin: bool,
    },
    /// List the agents of an instance.
    List {
        #[arg(long)]
        instance: String,
    },
    /// Give an agent a new generated password (printed once).
    ResetPassword {
        #[arg(long)]
        instance: String,
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Args, Clone)]
pub struct ApiKeyArgs {
    #[command(subcommand)]
    pub command: ApiKeyCommand,
}

#[derive(Debug, Subcommand, Clone)]
pub enum ApiKeyCommand {
    /// Create a key (printed once, on standard output).
    Create {
        #[arg(long)]
        instance: String,
        /// An allowed source network (CIDR or address), repeatable; default: loopback.
        #[arg(long)]
        ip: Vec<String>,
        /// A permission (e.g. ticket.create), repeatable; default: ticket.create.
        #[arg(long)]
        permission: Vec<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// List the keys of an instance (never the keys themselves).
    List {
        #[arg(long)]
        instance: String,
    },
    /// Deactivate a key by its id.
    Deactivate {
        #[arg(long)]
        instance: String,
        #[arg(long)]
        id: String,
    },
}

#[derive(Debug, Args, Clone)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Subcommand, Clone)]
pub enum TokenCommand {
    /// Issue a token for an agent (printed on standard output).
    Issue {
        #[arg(long)]
        instance: String,
        /// The agent's e-mail address.
        #[arg(long)]
        agent: String,
        /// Lifetime: 30d, 12h, 90m or seconds.
        #[arg(long, default_value = "30d")]
        ttl: String,
        /// Limit the token to a permission, repeatable.
        #[arg(long)]
        scope: Vec<String>,
    },
}

#[derive(Debug, Args, Clone)]
pub struct TicketArgs {
    #[command(subcommand)]
    pub command: TicketCommand,
}

#[derive(Debug, Subcommand, Clone)]
pub enum TicketCommand {
    /// List the open (or closed) tickets of an instance.
    List {
        #[arg(long)]
        instance: String,
        #[arg(long)]
        closed: bool,
        #[arg(long)]
        json: bool,
    },
    /// Show a ticket and its thread by number.
    Show {
        #[arg(long)]
        instance: String,
        number: String,
        #[arg(long)]
        json: bool,
    },
}
