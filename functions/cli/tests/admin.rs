//! Admin commands as an operator scripts them: an API key created with
//! `taquilla apikey create` works against a running server; a token is
//! issued; tickets are listed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use taquilla_tests::http;

const BIN: &str = env!("CARGO_BIN_EXE_taquilla");

fn taquilla(data_dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    for (name, _) in std::env::vars() {
        if name.starts_with("TAQUILLA_") {
            cmd.env_remove(name);
        }
    }
    cmd.arg("--data-dir").arg(data_dir);
    cmd
}

fn run(data_dir: &Path, args: &[&str]) -> Output {
    let out = taquilla(data_dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "taquilla {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `taquilla serve` on a free port; its URL.
#[allow(clippy::zombie_processes)]
fn serve(data_dir: &Path) -> (Server, String) {
    let mut child = taquilla(data_dir)
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let server = Server(child);
    for line in BufReader::new(out).lines().map_while(Result::ok) {
        if let Some(rest) = line.split("running at ").nth(1) {
            let url = rest
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches('/');
            return (server, url.to_owned());
        }
    }
    panic!("the server printed no URL");
}

#[test]
fn an_api_key_created_on_the_command_line_opens_tickets_on_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    run(data, &["init", "--demo"]);
    let out = run(
        data,
        &[
            "apikey",
            "create",
            "--instance",
            "demo",
            "--ip",
            "127.0.0.1",
        ],
    );
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(key.starts_with("tq_demo_"), "{key}");
    let listed =
        String::from_utf8(run(data, &["apikey", "list", "--instance", "demo"]).stdout).unwrap();
    assert!(listed.contains("active\t127.0.0.1/32"), "{listed}");
    assert!(!listed.contains(&key), "the key itself is never listed");

    let (_server, url) = serve(data);
    let body =
        br#"{"name":"Ann","email":"ann@example.org","subject":"From a script","message":"Hello"}"#;
    let r = http::request(
        "POST",
        &format!("{url}/demo/api/tickets.json"),
        &[("X-API-Key", &key), ("Content-Type", "application/json")],
        body,
    )
    .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let number = r.text();

    let listed =
        String::from_utf8(run(data, &["ticket", "list", "--instance", "demo"]).stdout).unwrap();
    assert!(
        listed.contains(&number) && listed.contains("From a script"),
        "{listed}"
    );
    let shown = run(
        data,
        &["ticket", "show", "--instance", "demo", &number, "--json"],
    );
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["ticket"]["number"], number.as_str());

    let token = run(
        data,
        &[
            "token",
            "issue",
            "--instance",
            "demo",
            "--agent",
            "admin@demo.taquilla.test",
            "--ttl",
            "1h",
        ],
    );
    let token = String::from_utf8(token.stdout).unwrap();
    assert_eq!(token.trim().split('.').count(), 3, "a JWT: {token}");
}

#[test]
fn a_token_for_an_unknown_agent_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &["init", "--demo"]);
    let out = taquilla(dir.path())
        .args([
            "token",
            "issue",
            "--instance",
            "demo",
            "--agent",
            "nobody@example.org",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
}
