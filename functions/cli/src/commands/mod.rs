//! One module per subcommand.

pub mod agent;
pub mod apikey;
pub mod init;
pub mod instance;
pub mod mail;
pub mod outbound;
pub mod pipe;
pub mod serve;
pub mod sla;
pub mod ticket;
pub mod token;

use taquilla_core::services::provision::Provisioned;

/// Tells the operator, once, how to sign in to a freshly provisioned instance.
fn announce_credentials(done: &Provisioned) {
    println!(
        "Created the instance \"{}\" ({}).\n  Admin agent: {}\n  Password:    {}\n  (shown only now: keep it somewhere safe)",
        done.instance.name, done.instance.id, done.admin_email, done.admin_password
    );
}
