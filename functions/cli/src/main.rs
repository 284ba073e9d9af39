//! `taquilla`: one binary, many subcommands. This file only hands over to the
//! library, where each command is tested without a process.

use std::process::ExitCode;

fn main() -> ExitCode {
    taquilla_cli::main()
}
