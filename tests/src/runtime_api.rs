//! The Lambda Runtime API, served locally, to run a function binary as
//! Lambda runs it: the process is started with `AWS_LAMBDA_RUNTIME_API`
//! pointing here, asks for the next invocation (`GET
//! /2018-06-01/runtime/invocation/next`, a long poll), and posts the
//! handler's answer (`.../{request id}/response` or `.../error`). The
//! request id, deadline and function ARN travel in the headers AWS uses, so
//! `lambda_runtime` builds the same `Context` it gets on AWS.
//!
//! [`Function::start`] starts the server on a free loopback port and the
//! binary with a clean environment (the Lambda variables and the ones
//! given); [`Function::invoke`] queues an event and waits for its answer.
//! The process's output (its log lines) is kept ([`Function::logs`]), and
//! the process is killed when the [`Function`] is dropped.
//!
//! A function that cannot start is answered as Lambda answers it: the
//! error it posted to `/runtime/init/error` ([`Function::init_error`]) is
//! the answer of every invocation waiting and to come, and a process that
//! ends without one fails them with `Runtime.ExitError` and its exit
//! status. No invocation waits for a process that is gone.
//!
//! [`lambda_binary`] builds the functions of `taquilla-lambda` once per
//! test process, with the profile and target directory of the running
//! test, and gives the path of one.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// How long a handler may take, as the deadline header says.
const TIMEOUT_MS: u64 = 30_000;

/// What a function answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The handler's result, as JSON.
    Response(Value),
    /// The handler failed: Lambda's `errorType` and `errorMessage`.
    Error { error_type: String, message: String },
}

impl Answer {
    /// The response; panics with the error otherwise.
    #[must_use]
    pub fn unwrap(self) -> Value {
        match self {
            Answer::Response(value) => value,
            Answer::Error {
                error_type,
                message,
            } => panic!("the function failed: {error_type}: {message}"),
        }
    }
}

/// One invocation: its request id and what came back.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub answer: Answer,
    /// From queuing the event to the answer.
    pub elapsed: Duration,
}

struct Pending {
    request_id: String,
    event: Value,
}

struct Shared {
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>,
    answers: Mutex<Answers>,
    name: String,
}

/// Who waits for an answer, and what they all get once the function can
/// answer nothing more.
#[derive(Default)]
struct Answers {
    waiting: HashMap<String, oneshot::Sender<Answer>>,
    /// Set when the function reported that it could not start.
    init_error: Option<Answer>,
    /// Set when the process ended.
    exit: Option<ExitStatus>,
}

impl Answers {
    /// The answer of every invocation from now on, if the function can
    /// give none: its init error, else its exit.
    fn final_answer(&self) -> Option<Answer> {
        self.init_error.clone().or_else(|| {
            self.exit.map(|status| Answer::Error {
                error_type: "Runtime.ExitError".to_owned(),
                message: format!("Runtime exited with error: {status}"),
            })
        })
    }

    /// Answers everyone waiting with the final answer.
    fn settle(&mut self) {
        if let Some(answer) = self.final_answer() {
            for (_, waiter) in self.waiting.drain() {
                let _ = waiter.send(answer.clone());
            }
        }
    }
}

/// A function binary running under the local Runtime API.
#[derive(Debug)]
pub struct Function {
    sender: mpsc::UnboundedSender<Pending>,
    shared: Arc<Shared>,
    child: Arc<Mutex<Child>>,
    pid: u32,
    logs: Arc<Mutex<Vec<String>>>,
    /// The process's output streams still being read.
    open_streams: Arc<AtomicU64>,
    /// When the process was started.
    pub started: Instant,
    server: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Function {
    /// Serves the Runtime API on a free loopback port (on the current
    /// Tokio runtime) and starts `binary` with `env` beside the variables
    /// Lambda sets.
    pub async fn start(binary: &Path, env: &[(String, String)]) -> Self {
        let name = binary
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (sender, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            queue: tokio::sync::Mutex::new(receiver),
            answers: Mutex::new(Answers::default()),
            name: name.clone(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the Runtime API");
        let address = listener.local_addr().expect("the Runtime API's address");
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });

        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/10/19/[$LATEST]local")
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let started = Instant::now();
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        let pid = child.id();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let open_streams = Arc::new(AtomicU64::new(0));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let (logs, open_streams) = (logs.clone(), open_streams.clone());
            open_streams.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    logs.lock().unwrap().push(line);
                }
                open_streams.fetch_sub(1, Ordering::SeqCst);
            });
        }
        let child = Arc::new(Mutex::new(child));
        watch_exit(&child, &shared);
        Self {
            sender,
            shared,
            child,
            pid,
            logs,
            open_streams,
            started,
            server,
        }
    }

    /// Invokes the function with `event` and waits for its answer (at
    /// most the deadline, plus a margin).
    pub async fn invoke(&self, event: Value) -> Invocation {
        let request_id = request_id();
        let (tx, rx) = oneshot::channel();
        {
            let mut answers = self.shared.answers.lock().unwrap();
            answers.waiting.insert(request_id.clone(), tx);
            answers.settle();
        }
        let queued = Instant::now();
        self.sender
            .send(Pending {
                request_id: request_id.clone(),
                event,
            })
            .expect("the Runtime API is running");
        let answer = tokio::time::timeout(Duration::from_millis(TIMEOUT_MS + 5_000), rx).await;
        let answer = match answer {
            Ok(Ok(answer)) => answer,
            _ => panic!(
                "{} gave no answer to {request_id} within {} ms; its output:\n{}",
                self.shared.name,
                TIMEOUT_MS + 5_000,
                self.logs().join("\n")
            ),
        };
        Invocation {
            request_id,
            answer,
            elapsed: queued.elapsed(),
        }
    }

    /// Every line the process wrote so far (stdout and stderr).
    #[must_use]
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// The process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// How the process ended, once it has.
    #[must_use]
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.shared.answers.lock().unwrap().exit
    }

    /// Waits, at most `within`, for the process to end and its output to
    /// be read to the last line ([`Function::logs`] is then complete); how
    /// it ended, or `None` if it still runs.
    pub async fn wait_exit(&self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            let status = self.exit_status();
            let read = self.open_streams.load(Ordering::SeqCst) == 0;
            if (status.is_some() && read) || Instant::now() >= deadline {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The process's peak resident memory so far (`VmHWM`), in KiB.
    #[must_use]
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// The error the function reported when it could not start, if any.
    #[must_use]
    pub fn init_error(&self) -> Option<Answer> {
        self.shared.answers.lock().unwrap().init_error.clone()
    }

    /// Invokes `event` on a function that cannot start: the answer must be
    /// the init error it reported (`function_config_invalid`), and the
    /// process must end with a failure (it does not wait for events it
    /// cannot handle). Returns the error's message.
    pub async fn expect_init_error(&self, event: Value) -> String {
        let answer = self.invoke(event).await.answer;
        let Answer::Error {
            error_type,
            message,
        } = &answer
        else {
            panic!("an init error was expected: {answer:?}");
        };
        assert_eq!(error_type, "function_config_invalid");
        let status = self.wait_exit(Duration::from_secs(10)).await;
        assert!(status.is_some_and(|s| !s.success()), "{status:?}");
        assert_eq!(self.init_error(), Some(answer.clone()));
        message.clone()
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap();
        let _ = child.kill();
        let _ = child.wait();
        self.server.abort();
    }
}

/// Records the process's end when it comes (a thread looking every few
/// milliseconds, which ends with it) and settles who waits.
fn watch_exit(child: &Arc<Mutex<Child>>, shared: &Arc<Shared>) {
    let (child, shared) = (Arc::downgrade(child), shared.clone());
    std::thread::spawn(move || {
        loop {
            // Gone: the Function was dropped and killed it.
            let Some(child) = child.upgrade() else { return };
            let status = child.lock().unwrap().try_wait();
            match status {
                Ok(Some(status)) => {
                    let mut answers = shared.answers.lock().unwrap();
                    answers.exit = Some(status);
                    answers.settle();
                    return;
                }
                Ok(None) => {}
                Err(_) => return,
            }
            drop(child);
            std::thread::sleep(Duration::from_millis(5));
        }
    });
}

fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "8f5e2a1c-{:04x}-4b6d-9e0f-{:012x}",
        std::process::id() & 0xffff,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let Some(pending) = shared.queue.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
        + u128::from(TIMEOUT_MS);
    let mut headers = HeaderMap::new();
    let mut header = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    header("lambda-runtime-aws-request-id", pending.request_id);
    header("lambda-runtime-deadline-ms", deadline.to_string());
    header(
        "lambda-runtime-invoked-function-arn",
        format!(
            "arn:aws:lambda:eu-west-1:123456789012:function:{}",
            shared.name
        ),
    );
    header(
        "lambda-runtime-trace-id",
        "Root=1-6714f0a2-3c1d5e7f9a0b2c4d6e8f0a1b;Parent=5e7f9a0b2c4d6e8f;Sampled=0".to_owned(),
    );
    header("content-type", "application/json".to_owned());
    (StatusCode::OK, headers, pending.event.to_string()).into_response()
}

fn answer(shared: &Shared, id: &str, answer: Answer) -> Response {
    let waiter = shared.answers.lock().unwrap().waiting.remove(id);
    match waiter {
        Some(waiter) => {
            let _ = waiter.send(answer);
            (StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
        }
        None => (
            StatusCode::BAD_REQUEST,
            r#"{"errorType":"InvalidRequestID"}"#,
        )
            .into_response(),
    }
}

async fn response(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Response {
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    answer(&shared, &id, Answer::Response(value))
}

fn error_of(body: &[u8]) -> Answer {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    Answer::Error {
        error_type: value["errorType"].as_str().unwrap_or_default().to_owned(),
        message: value["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    }
}

async fn error(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Response {
    answer(&shared, &id, error_of(&body))
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let mut answers = shared.answers.lock().unwrap();
    answers.init_error = Some(error_of(&body));
    answers.settle();
    (StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
}

/// The target directory and profile directory of the running test or
/// bench executable (`<target>/<profile>/deps/<name>`).
#[must_use]
pub fn target_of_current_exe() -> (PathBuf, String) {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("a test runs from <target>/<profile>/deps");
    let profile = profile_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let target = profile_dir.parent().expect("the target directory");
    (target.to_path_buf(), profile)
}

/// Runs `cargo build` with `args` in the workspace, into `target_dir`;
/// panics with cargo's output when it fails.
pub fn cargo_build(target_dir: &Path, args: &[&str]) {
    let cargo = std::env::var_os("CARGO")
        .or_else(|| option_env!("CARGO").map(Into::into))
        .unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(crate::moto::workspace_root())
        .arg("build")
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir)
        .output()
        .expect("run cargo build");
    assert!(
        out.status.success(),
        "cargo build {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The path of the `taquilla-lambda` binary `name`, built (all of them,
/// once per process) with the running test's profile and target directory.
pub fn lambda_binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<(PathBuf, String)> = OnceLock::new();
    let (target, profile) = BUILT.get_or_init(|| {
        let (target, profile) = target_of_current_exe();
        let mut args = vec!["--quiet", "-p", "taquilla-lambda", "--bins"];
        match profile.as_str() {
            "debug" => {}
            "release" => args.push("--release"),
            other => args.extend(["--profile", other]),
        }
        cargo_build(&target, &args);
        (target, profile)
    });
    let path = target.join(profile).join(name);
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// The lines of `logs` that are JSON objects.
#[must_use]
pub fn json_lines(logs: &[String]) -> Vec<Value> {
    logs.iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(Value::is_object)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_process_that_ends_without_a_word_fails_each_invocation_with_its_exit() {
        let function = Function::start(Path::new("/bin/false"), &[]).await;
        let answer = function.invoke(serde_json::json!({})).await.answer;
        assert_eq!(
            answer,
            Answer::Error {
                error_type: "Runtime.ExitError".to_owned(),
                message: "Runtime exited with error: exit status: 1".to_owned(),
            }
        );
        let status = function.wait_exit(Duration::from_secs(5)).await;
        assert_eq!(status.and_then(|s| s.code()), Some(1));
        assert_eq!(function.init_error(), None);
        // Later invocations too, at once.
        let again = function.invoke(serde_json::json!({})).await;
        assert_eq!(again.answer, answer);
        assert!(again.elapsed < Duration::from_secs(5), "{again:?}");
    }
}
