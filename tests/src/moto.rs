//! A local AWS emulator (moto's server, from PyPI) for the tests that talk to
//! DynamoDB, S3 and SES.
//!
//! One server per test process, started on a free loopback port the first
//! time a test asks for it, and stopped when the process ends: it runs under
//! a small shell that waits on a pipe from this process and kills the server
//! when the pipe closes, which happens however the process ends.
//!
//! The server is moto's application run by `tests/emulator/moto_serial.py`,
//! which answers one request at a time as DynamoDB serialises writes to an
//! item (moto's own `moto_server` loses concurrent updates). It runs on the
//! Python of `TAQUILLA_MOTO_PYTHON`, else `.venv/bin/python` at the workspace
//! root, where `make deps` installs moto. Without it the tests fail with a
//! message that says how to install it: they never skip.

use std::io::{BufRead as _, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Region every test client uses.
pub const REGION: &str = "eu-west-1";
/// Credentials the emulator accepts (it never checks signatures).
pub const ACCESS_KEY_ID: &str = "testing";
pub const SECRET_ACCESS_KEY: &str = "testing";

/// A running emulator.
#[derive(Debug)]
pub struct Moto {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    // Held open for the life of the process; the server dies when it closes.
    _lifeline: Mutex<ChildStdin>,
    _shell: Mutex<Child>,
}

/// The repository's root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// The Python with moto (and cfn-lint, which comes with it) the tests run.
pub fn python_path() -> PathBuf {
    std::env::var_os("TAQUILLA_MOTO_PYTHON")
        .map_or_else(|| workspace_root().join(".venv/bin/python"), PathBuf::from)
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    listener.local_addr().expect("local address").port()
}

impl Moto {
    fn start() -> Self {
        let python = python_path();
        assert!(
            python.exists(),
            "the AWS emulator is not installed ({} is missing): run `make deps`, \
             or point TAQUILLA_MOTO_PYTHON at a Python with moto[server]",
            python.display()
        );
        let launcher = workspace_root().join("tests/emulator/moto_serial.py");
        let port = free_port();
        let script = "\"$0\" \"$1\" -H 127.0.0.1 -p \"$2\" >/dev/null 2>&1 & pid=$!; \
                      cat >/dev/null; kill $pid 2>/dev/null; wait $pid 2>/dev/null";
        let mut shell = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(&python)
            .arg(&launcher)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the AWS emulator");
        let lifeline = shell.stdin.take().expect("stdin of the moto shell");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = shell.try_wait() {
                let mut err = String::new();
                if let Some(stderr) = shell.stderr.take() {
                    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                        err.push_str(&line);
                        err.push('\n');
                    }
                }
                panic!("moto_server exited with {status}: {err}");
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on port {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            _lifeline: Mutex::new(lifeline),
            _shell: Mutex::new(shell),
        }
    }
}

/// The emulator of this test process, started on first use.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
}

/// A name no other test of this process uses (tables, buckets).
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
