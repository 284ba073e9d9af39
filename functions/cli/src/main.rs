//! `taquilla`: one binary, many subcommands. This file only hands over to the
//! library, where each command is tested without a process.

use std::process::ExitCode;

/// mimalloc: the request path allocates many small, short-lived buffers
/// (JSON, items, MIME parts); glibc's malloc spent a fifth of a profiled
/// API run in allocation and consolidation.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    taquilla_cli::main()
}
