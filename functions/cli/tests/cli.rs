//! The `taquilla` binary as an operator meets it: a process started with
//! flags and environment, read through its output, stopped with a signal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use taquilla_tests::{http, moto};

const BIN: &str = env!("CARGO_BIN_EXE_taquilla");

/// `taquilla` with a clean `TAQUILLA_*` environment.
fn taquilla() -> Command {
    let mut cmd = Command::new(BIN);
    for (name, _) in std::env::vars() {
        if name.starts_with("TAQUILLA_") {
            cmd.env_remove(name);
        }
    }
    cmd
}

/// A running `taquilla serve`: its URL, what it printed before that, and its stderr.
struct Server {
    child: Child,
    url: String,
    printed: Vec<String>,
    stderr: mpsc::Receiver<String>,
}

impl Drop for Server {
    /// A test that fails half-way leaves no server behind.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Server {
    // The child is owned by the returned `Server`, whose `Drop` waits for it.
    #[allow(clippy::zombie_processes)]
    fn start(data_dir: &Path) -> Self {
        let mut child = taquilla()
            .args(["serve", "--port", "0", "--data-dir"])
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (err_tx, stderr) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if err_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (out_tx, out_rx) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if out_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut printed = Vec::new();
        loop {
            let line = out_rx
                .recv_timeout(Duration::from_secs(60))
                .expect("the server printed no URL within 60 s");
            if let Some(rest) = line.split("running at ").nth(1) {
                let url = rest
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .trim_end_matches('/')
                    .to_owned();
                return Self {
                    child,
                    url,
                    printed,
                    stderr,
                };
            }
            printed.push(line);
        }
    }

    fn interrupt(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let mut waited = 0;
        let exit = loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                break exit;
            }
            assert!(
                waited < 100,
                "the server did not stop within 10 s of Ctrl-C"
            );
            thread::sleep(Duration::from_millis(100));
            waited += 1;
        };
        let logs = self.stderr.try_iter().collect();
        (exit, logs)
    }
}

fn password_of(printed: &[String]) -> Option<String> {
    printed
        .iter()
        .find_map(|l| l.trim().strip_prefix("Password:"))
        .map(|p| p.trim().to_owned())
}

#[test]
fn first_run_creates_the_data_dir_provisions_the_demo_and_serves_until_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("var");
    let server = Server::start(&data);

    let password = password_of(&server.printed).expect("the admin password was not printed");
    assert_eq!(password.len(), 20);
    assert!(
        server
            .printed
            .iter()
            .any(|l| l.contains("admin@demo.taquilla.test")),
        "{:?}",
        server.printed
    );
    assert!(data.join("taquilla.db").exists());
    assert!(data.join("secrets/master.key").exists());
    assert!(data.join("blobs").is_dir() && data.join("outbox").is_dir());

    let health = http::get(&format!("{}/healthz", server.url)).unwrap();
    assert_eq!(health.status, 200);
    assert_eq!(health.text(), r#"{"status":"ok"}"#);
    assert!(health.header("x-request-id").is_some());

    let home = http::get(&format!("{}/", server.url)).unwrap();
    assert_eq!(home.status, 200);
    let page = home.text();
    for expected in [
        "Demo University",
        "IT Support",
        "Academic Office",
        "Account and password",
        "Wi-Fi and network",
        "Enrolment and certificates",
    ] {
        assert!(page.contains(expected), "the front page lacks {expected}");
    }

    let missing = http::get(&format!("{}/no/such/page", server.url)).unwrap();
    assert_eq!(missing.status, 404);
    assert!(missing.text().contains(r#""code":"not_found""#));

    let (exit, logs) = server.interrupt();
    assert!(exit.success(), "exit status {exit:?}");
    assert!(
        logs.iter()
            .any(|l| l.contains("/healthz") && l.contains("200")),
        "no request log for /healthz in {logs:#?}"
    );

    // The second run finds everything in place: no new password, same data.
    let server = Server::start(&data);
    assert_eq!(password_of(&server.printed), None, "{:?}", server.printed);
    let home = http::get(&format!("{}/", server.url)).unwrap();
    assert!(home.text().contains("Demo University"));
    let (exit, _) = server.interrupt();
    assert!(exit.success());
}

#[test]
fn a_second_process_works_beside_a_running_server_on_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let out = taquilla()
        .args(["init", "--demo", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("already exists"), "{stdout}");
    let health = http::get(&format!("{}/healthz", server.url)).unwrap();
    assert_eq!(health.status, 200);
    let (exit, _) = server.interrupt();
    assert!(exit.success());
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

#[test]
fn a_bad_setting_stops_the_command_with_an_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(taquilla()
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .env("TAQUILLA_STORE", "mysql://db/taquilla"));
    assert_eq!(out.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("TAQUILLA_STORE"), "{stderr}");
    assert!(stderr.contains("mysql"), "{stderr}");

    let config = dir.path().join("taquilla.toml");
    std::fs::write(&config, "port = 8080\nprot = 9\n").unwrap();
    let out = run(taquilla().arg("--config").arg(&config).arg("init"));
    assert_eq!(out.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("prot") && stderr.contains("unknown key"),
        "{stderr}"
    );

    let out = run(taquilla()
        .args(["init", "--data-dir"])
        .arg(dir.path())
        .env("TAQUILLA_PORT", "http"));
    assert_eq!(out.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TAQUILLA_PORT"));
}

#[test]
fn init_prepares_a_dynamodb_table_in_the_emulator_and_provisions_the_demo_once() {
    let emulator = moto::moto();
    let dir = tempfile::tempdir().unwrap();
    let table = moto::unique_name("cli");
    let init = || {
        run(taquilla()
            .args(["init", "--demo", "--data-dir"])
            .arg(dir.path())
            .env(
                "TAQUILLA_STORE",
                format!("dynamodb://{table}?endpoint={}", emulator.endpoint),
            )
            .env("TAQUILLA_AWS_REGION", moto::REGION)
            .env("AWS_ACCESS_KEY_ID", moto::ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", moto::SECRET_ACCESS_KEY))
    };
    let out = init();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&format!("dynamodb://{table}")), "{stdout}");
    assert!(stdout.contains("Password:"), "{stdout}");

    let out = init();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.contains("already exists"), "{stdout}");
    assert!(!stdout.contains("Password:"));
}
