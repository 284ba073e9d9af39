//! Taquilla's AWS Lambda functions. Each function is a module here, with
//! its logic tested without a runtime, and a thin binary in `src/bin/`
//! that only wires configuration and adapters and hands the module's
//! handler to `lambda_runtime`:
//!
//! - [`api`]: API Gateway's HTTP API in front of the one router
//!   (`taquilla_web::router`).
//! - [`inbound_mail`]: an SES receipt rule stored a received message in S3
//!   and invokes it; the message goes through the inbound pipeline of each
//!   help desk it was sent to.
//! - [`sla_tick`]: an EventBridge schedule invokes it every minute; it runs
//!   the escalation tick in every instance.
//! - [`mail_feedback`]: SES's bounce and complaint notifications, through
//!   SNS; the addresses are suppressed and the tickets say why their mail
//!   did not arrive.
//!
//! [`config`] reads the functions' configuration from the environment
//! (the `TAQUILLA_*` variables of `taquilla_core::config`, plus the few
//! only a function needs) and builds the AWS adapters once per cold start.
//! [`logging`] writes JSON lines carrying the request id, instance and
//! ticket of the spans they were logged in. [`startup`] is the start every
//! binary shares: logging, configuration, adapters, and a failed start
//! reported to Lambda.

pub mod api;
pub mod config;
pub mod inbound_mail;
pub mod logging;
pub mod mail_feedback;
pub mod sla_tick;
pub mod startup;

/// Logs as JSON lines (what CloudWatch Logs Insights reads), each with
/// the fields of its spans (see [`logging`]), filtered by `TAQUILLA_LOG`
/// (e.g. `info,taquilla_mail=debug`), `info` by default.
pub fn init_logging() {
    logging::init();
}
