//! What the binary's mail tests share: the `taquilla` process on a data
//! directory, a fresh demo instance, `pipe` with a message on standard
//! input, and the demo's tickets and reply tokens read back.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use taquilla_core::domain::{InstanceId, TicketId};
use taquilla_core::secrets::{MasterKey, Purpose};
use taquilla_mail::reply_token::ReplyTokens;

pub const BIN: &str = env!("CARGO_BIN_EXE_taquilla");

/// `taquilla --data-dir DATA` with a clean `TAQUILLA_*` environment.
pub fn taquilla(data: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    for (name, _) in std::env::vars() {
        if name.starts_with("TAQUILLA_") {
            cmd.env_remove(name);
        }
    }
    cmd.arg("--data-dir").arg(data);
    cmd
}

/// Runs `taquilla ARGS`, which must succeed.
pub fn run(data: &Path, args: &[&str]) -> Output {
    let out = taquilla(data).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "taquilla {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A data directory with the demo instance.
pub fn demo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &["init", "--demo"]);
    dir
}

/// What `pipe` did with a message: its exit status and what it printed.
pub struct Piped {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `taquilla pipe ARGS` with `raw` on standard input.
pub fn pipe_with(data: &Path, args: &[&str], raw: &[u8]) -> Piped {
    let mut child = taquilla(data)
        .arg("pipe")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(raw).unwrap();
    let out = child.wait_with_output().unwrap();
    Piped {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    }
}

/// The ticket number in "opened ticket N" or "... to ticket N ...".
pub fn number_in(line: &str) -> String {
    line.split("ticket ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// `taquilla ticket show N --json` of the demo.
pub fn ticket_json(data: &Path, number: &str) -> serde_json::Value {
    let out = run(
        data,
        &["ticket", "show", "--instance", "demo", number, "--json"],
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The id of the demo's ticket `number`.
pub fn ticket_id(data: &Path, number: &str) -> TicketId {
    TicketId::parse(ticket_json(data, number)["ticket"]["id"].as_str().unwrap()).unwrap()
}

/// The reply tokens of the data directory's master key.
pub fn tokens(data: &Path) -> ReplyTokens {
    let hex = std::fs::read_to_string(data.join("secrets/master.key")).unwrap();
    let master = MasterKey::from_hex(hex.trim()).unwrap();
    ReplyTokens::new(master.derive(Purpose::ReplyTokens))
}

pub fn demo_id() -> InstanceId {
    InstanceId::parse("demo").unwrap()
}
