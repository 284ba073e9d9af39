//! `cargo bench -p taquilla-tests --bench lambda_cold_start`: how fast each
//! Lambda function starts, and how much memory it takes, against a
//! hello-world `lambda_http` function (`functions/lambda/examples/hello.rs`)
//! built in the same run with the same profile.
//!
//! Each function binary (the `lambda` profile that `make lambda` ships,
//! for the host's architecture) is started under the local Lambda Runtime
//! API (`taquilla_tests::runtime_api`) with the event queued before the
//! process exists, as a cold start on Lambda finds it:
//!
//! - **cold**: process start to its first response (the runtime's start,
//!   the configuration, the SDK clients, the first request);
//! - **warm**: a second invocation of the same process;
//! - **peak**: the process's peak resident memory (`VmHWM`) after both.
//!
//! The functions talk to a deployment on the local AWS emulator
//! (`taquilla_tests::emulated`: moto's DynamoDB, S3, SES) with small
//! committed events: `api` GET /healthz (one read),
//! `inbound-mail` a receipt for no help desk (one read), `sla-tick` the
//! scheduled event (the demo instance's tick and outbox), `mail-feedback` a
//! permanent bounce (a few reads, one transaction); hello does no I/O.
//! Medians of `TAQUILLA_BENCH_RUNS` (5) starts each; results go in
//! `docs/performance.md`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use taquilla_tests::emulated::{Emulated, set_var};
use taquilla_tests::runtime_api::{Answer, Function, cargo_build, target_of_current_exe};

const APIGW: &str = include_str!("../fixtures/apigw/osticket-create.json");
const RECEIPT: &str = include_str!("../fixtures/ses/receipt.json");
const SCHEDULED: &str = include_str!("../fixtures/eventbridge/scheduled.json");
const BOUNCE: &str = include_str!("../fixtures/sns/ses-bounce-permanent.json");

/// The profile `make lambda` ships the functions with.
const PROFILE: &str = "lambda";

/// One function to start: its binary and the event of each invocation.
struct Case {
    name: &'static str,
    binary: PathBuf,
    event: fn(run: usize, invocation: usize) -> Value,
}

/// What one start measured.
#[derive(Debug, Clone, Copy)]
struct Start {
    cold: Duration,
    warm: Duration,
    peak_kib: u64,
}

fn http_get(path: &str) -> Value {
    let mut event: Value = serde_json::from_str(APIGW).unwrap();
    event["rawPath"] = path.into();
    event["requestContext"]["http"]["path"] = path.into();
    event["requestContext"]["http"]["method"] = "GET".into();
    event["body"] = Value::Null;
    event["headers"]
        .as_object_mut()
        .unwrap()
        .retain(|k, _| k != "content-type" && k != "x-api-key");
    event
}

fn hello_event(_: usize, _: usize) -> Value {
    http_get("/")
}

fn api_event(_: usize, _: usize) -> Value {
    http_get("/healthz")
}

fn inbound_event(_: usize, _: usize) -> Value {
    let mut event: Value = serde_json::from_str(RECEIPT).unwrap();
    event["Records"][0]["ses"]["receipt"]["recipients"] = json!(["someone@elsewhere.test"]);
    event
}

fn tick_event(_: usize, _: usize) -> Value {
    serde_json::from_str(SCHEDULED).unwrap()
}

fn bounce_event(run: usize, invocation: usize) -> Value {
    let mut event: Value = serde_json::from_str(BOUNCE).unwrap();
    let sns = &mut event["Records"][0]["Sns"];
    let mut message: Value = serde_json::from_str(sns["Message"].as_str().unwrap()).unwrap();
    // A notification of its own each time: each one does the same work.
    message["bounce"]["feedbackId"] = format!("bench-{run}-{invocation}").into();
    sns["Message"] = message.to_string().into();
    event
}

/// Builds the functions and the hello example with [`PROFILE`] for the
/// host (the target `make lambda` builds for), in this bench's target
/// directory; their paths.
fn build() -> (PathBuf, String) {
    let (target, _) = target_of_current_exe();
    let triple = host_triple();
    cargo_build(
        &target,
        &[
            "--quiet",
            "--profile",
            PROFILE,
            "--target",
            &triple,
            "-p",
            "taquilla-lambda",
            "--bins",
            "--example",
            "hello",
        ],
    );
    (target.join(&triple).join(PROFILE), triple)
}

fn host_triple() -> String {
    let out = std::process::Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc -vV");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc names its host")
        .to_owned()
}

/// A fresh deployment on the emulator; the functions' environment, logging
/// warnings only.
async fn deployment() -> Vec<(String, String)> {
    let mut env = Emulated::new("coldstart").await.env();
    set_var(&mut env, "TAQUILLA_LOG", Some("warn"));
    env
}

async fn start_once(case: &Case, env: &[(String, String)], run: usize) -> Start {
    let function = Function::start(&case.binary, env).await;
    let first = function.invoke((case.event)(run, 0)).await;
    let cold = function.started.elapsed();
    check(case, &first.answer, &function);
    let second = function.invoke((case.event)(run, 1)).await;
    check(case, &second.answer, &function);
    Start {
        cold,
        warm: second.elapsed,
        peak_kib: function.peak_rss_kib().unwrap_or(0),
    }
}

/// A start that failed measures nothing: stop with the function's output.
fn check(case: &Case, answer: &Answer, function: &Function) {
    let ok = match answer {
        Answer::Response(value) => value.get("statusCode").is_none_or(|s| s == 200),
        Answer::Error { .. } => false,
    };
    assert!(
        ok,
        "{} answered {answer:?}; its output:\n{}",
        case.name,
        function.logs().join("\n")
    );
}

fn median<T: Copy + Ord>(mut values: Vec<T>) -> T {
    values.sort_unstable();
    values[values.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn main() {
    let runs: usize = std::env::var("TAQUILLA_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let (dir, triple) = build();
    let cases = [
        Case {
            name: "hello (baseline)",
            binary: dir.join("examples/hello"),
            event: hello_event,
        },
        Case {
            name: "api",
            binary: dir.join("api"),
            event: api_event,
        },
        Case {
            name: "inbound-mail",
            binary: dir.join("inbound-mail"),
            event: inbound_event,
        },
        Case {
            name: "sla-tick",
            binary: dir.join("sla-tick"),
            event: tick_event,
        },
        Case {
            name: "mail-feedback",
            binary: dir.join("mail-feedback"),
            event: bounce_event,
        },
    ];
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let results: Vec<(usize, Start)> = rt.block_on(async {
        let env = deployment().await;
        let mut results = Vec::new();
        for (i, case) in cases.iter().enumerate() {
            // One start unmeasured: the binary's pages in the file cache.
            start_once(case, &env, usize::MAX - i).await;
            let starts: Vec<Start> = {
                let mut starts = Vec::new();
                for run in 0..runs {
                    starts.push(start_once(case, &env, run).await);
                }
                starts
            };
            results.push((
                i,
                Start {
                    cold: median(starts.iter().map(|s| s.cold).collect()),
                    warm: median(starts.iter().map(|s| s.warm).collect()),
                    peak_kib: median(starts.iter().map(|s| s.peak_kib).collect()),
                },
            ));
        }
        results
    });

    let base = results[0].1;
    println!(
        "Lambda cold start under the local Runtime API ({triple}, profile {PROFILE}, median of {runs} starts)"
    );
    println!(
        "  {:<17} {:>9} {:>9} {:>9} {:>9} {:>10} {:>8}",
        "function", "binary", "cold ms", "x hello", "warm ms", "peak MiB", "x hello"
    );
    for (i, start) in &results {
        let case = &cases[*i];
        println!(
            "  {:<17} {:>7.1}MB {:>9.1} {:>8.1}x {:>9.1} {:>10.1} {:>7.1}x",
            case.name,
            size(&case.binary) as f64 / 1e6,
            ms(start.cold),
            ms(start.cold) / ms(base.cold),
            ms(start.warm),
            start.peak_kib as f64 / 1024.0,
            start.peak_kib as f64 / base.peak_kib.max(1) as f64,
        );
    }
}
