//! Taquilla's integration tests: one binary, one module per concern.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account_mail;
mod admin;
mod api;
mod api_v1;
mod blobs;
mod canned;
mod durability;
mod dynamo_flow;
mod forms;
mod infra;
mod lambda_api;
mod lambda_mail_feedback;
mod lambda_sla_tick;
mod mail_api;
mod mail_cost;
mod mail_policy;
mod mailboxes;
mod mailer;
mod permissions;
mod queue_cost;
mod replays;
mod rule_mail;
mod rules;
mod ses_inbound;
mod sla;
mod store;
mod task_mail;
mod tasks;
mod templates_api;
mod ticket_actions;
mod tickets;
mod time_rules;
