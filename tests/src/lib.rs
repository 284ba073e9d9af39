//! Shared test support: the AWS emulator, the conformance suites of the
//! ports, and `TestApp`. The tests themselves are in `it/`, one
//! integration-test binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

pub mod app;
pub mod blob_suite;
pub mod counting;
pub mod emulated;
pub mod http;
pub mod mail_suite;
pub mod moto;
pub mod runtime_api;
pub mod store_suite;
