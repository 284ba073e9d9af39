//! `cargo bench -p taquilla-tests --bench api`: tickets over HTTP on the
//! local server, with 100,000 tickets loaded.
//!
//! The real router is served by `axum::serve` on a loopback port (with the
//! peer address, as `taquilla serve` does) over a fresh data directory:
//! SQLite with its durable default (WAL, `synchronous=FULL`: a ticket is
//! acknowledged only once its commit is fsynced; concurrent commits share
//! one fsync), folder blobs, the outbox mailer, the demo instance, an API
//! key and a token of the demo's administrator.
//!
//! 100,000 tickets are first opened through `services::tickets::open`
//! directly by many concurrent tasks (spread over the demo's departments
//! and help topics, from a pool of 1,000 users); then [`CLIENTS`] clients,
//! each on its own keep-alive connection, measure for a fixed window each:
//!
//! - `GET /healthz`: the HTTP stack alone, the baseline of the ratios;
//! - ticket creation, `POST /demo/api/tickets.json` with an osTicket payload;
//! - an agent response, `POST /api/v1/demo/tickets/{number}/responses`;
//! - the first page of the open queue, `GET /api/v1/demo/tickets?limit=50`;
//! - inbound mail, `POST /demo/api/tickets.email`: a mix of the real mail
//!   corpus (`tests/fixtures/mail-corpus`, the messages with a sender), each
//!   request with a Message-ID of its own so none is a duplicate, through
//!   the whole pipeline (parse, match, open or thread, attachments).
//!
//! If a JSON route is not served (404), that case is measured through the
//! service function instead, and the output says so. Results go in
//! `docs/performance.md`.
//!
//! `TAQUILLA_BENCH_CASES` runs only some cases: a comma-separated list of
//! `create`, `respond`, `queue` and `email` (the `/healthz` baseline always
//! runs), e.g. `TAQUILLA_BENCH_CASES=email cargo bench -p taquilla-tests
//! --bench api`. Each case also prints the process's CPU time per request
//! (user and system, from `/proc/self/stat`, the clients included), which
//! other work on the machine does not inflate as it does the rates.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use std::collections::BTreeSet;

/// The allocator of the `taquilla` binary, whose server this bench runs in
/// process.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use taquilla_core::clock::{Clock, SystemClock};
use taquilla_core::domain::{AgentId, DepartmentId, InstanceId, Permission, Source, TopicId};
use taquilla_core::secrets::{MasterKey, Purpose};
use taquilla_core::services::agents_access::load_agent_access;
use taquilla_core::services::tickets::{self, Body, NewResponse, OpenTicket, QueueFilter};
use taquilla_core::services::{Actor, Ctx, apikeys, provision, tokens};
use taquilla_local::{FsBlobs, OutboxMailer, SqliteStore};

/// Tickets loaded before measuring.
const LOADED: usize = 100_000;
/// Concurrent tasks opening the loaded tickets.
const LOADERS: usize = 64;
/// Distinct users the tickets come from.
const USERS: usize = 1_000;
/// Concurrent HTTP clients, each with its own keep-alive connection.
const CLIENTS: usize = 8;
/// Unmeasured time before each case.
const WARMUP: Duration = Duration::from_secs(1);
/// Measured time of each case.
const HEALTH_RUN: Duration = Duration::from_secs(5);
const CREATE_RUN: Duration = Duration::from_secs(20);
const RESPOND_RUN: Duration = Duration::from_secs(15);
const QUEUE_RUN: Duration = Duration::from_secs(10);
const EMAIL_RUN: Duration = Duration::from_secs(15);

const DEMO: &str = "demo";

/// Where the benchmark talks to: the server, and the store behind it for
/// loading and for cases measured through the services.
struct Bench {
    url: String,
    store: Arc<SqliteStore>,
    blobs: Arc<FsBlobs>,
    instance: InstanceId,
    api_key: String,
    token: String,
    _dir: tempfile::TempDir,
}

impl Bench {
    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            store: self.store.as_ref(),
            blobs: self.blobs.as_ref(),
            clock: &SystemClock,
            instance: &self.instance,
        }
    }
}

/// Starts the server on `server_rt` and provisions what the cases need.
fn start(server_rt: &tokio::runtime::Runtime) -> Bench {
    let dir = tempfile::tempdir().expect("a temporary data directory");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let master = MasterKey::generate().expect("randomness for the master key");
    let token_key = master.derive(Purpose::AgentTokens);
    let instance = InstanceId::parse(DEMO).expect("the demo slug");
    server_rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("bound address"));
        let store = Arc::new(
            SqliteStore::open_with_clock(&dir.path().join("taquilla.db"), clock.clone())
                .expect("a fresh SQLite store"),
        );
        let blobs = Arc::new(FsBlobs::new(
            dir.path().join("blobs"),
            url.clone(),
            master.derive(Purpose::BlobUrls).expose().to_vec(),
            clock.clone(),
        ));
        provision::ensure_demo(store.as_ref(), clock.as_ref())
            .await
            .expect("the demo instance");
        let api_key = apikeys::create(
            store.as_ref(),
            clock.as_ref(),
            &instance,
            apikeys::NewApiKey {
                networks: vec!["127.0.0.0/8".into()],
                permissions: BTreeSet::from([Permission::TicketCreate]),
                description: Some("api bench".into()),
            },
        )
        .await
        .expect("an API key")
        .key;
        let token = tokens::issue(
            &token_key,
            &instance,
            AgentId(1),
            None,
            clock.now_secs(),
            24 * 3600,
        )
        .expect("an admin token");
        let state = taquilla_web::AppState {
            store: store.clone(),
            blobs: blobs.clone(),
            mailer: Arc::new(OutboxMailer::new(dir.path().join("outbox"))),
            clock: clock.clone(),
            signed_blobs: Some(blobs.clone()),
            pages: Arc::new(taquilla_web::Pages::embedded().expect("embedded pages")),
            token_key: Arc::new(token_key.clone()),
            reply_key: Arc::new(master.derive(Purpose::ReplyTokens)),
        };
        let app = taquilla_web::router(state).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Bench {
            url,
            store,
            blobs,
            instance: instance.clone(),
            api_key,
            token,
            _dir: dir,
        }
    })
}

// ------------------------------------------------------------------ loading

/// Ticket `n`: its user, help topic (or department) and text.
fn open_input(n: usize) -> OpenTicket {
    let user = n % USERS;
    // Topics 1 and 2 route to IT Support, 3 to the Academic Office; every
    // fourth ticket names the Academic Office without a topic.
    let (topic, department) = match n % 4 {
        3 => (None, Some(DepartmentId(2))),
        k => (Some(TopicId(u32::try_from(k).expect("small") + 1)), None),
    };
    OpenTicket {
        name: format!("User {user}"),
        email: format!("user{user}@example.org"),
        phone: None,
        subject: format!("Loaded ticket {n}: cannot reach the campus VPN"),
        body: Body::Text(format!(
            "Since this morning the VPN client says the certificate is invalid.\n\nTicket {n}."
        )),
        topic,
        department,
        priority: None,
        source: Source::Api,
        fields: std::collections::BTreeMap::new(),
        attachments: Vec::new(),
        collaborators: Vec::new(),
        autorespond: false,
        alert: false,
        ip: Some("192.0.2.10".into()),
    }
}

/// Opens [`LOADED`] tickets from [`LOADERS`] tasks; their numbers.
async fn load(bench: &Arc<Bench>) -> Vec<String> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..LOADERS)
        .map(|_| {
            let (bench, next) = (Arc::clone(bench), Arc::clone(&next));
            tokio::spawn(async move {
                let actor = Actor::System("api bench loader".into());
                let mut numbers = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= LOADED {
                        return numbers;
                    }
                    let ticket = tickets::open(&bench.ctx(), &actor, open_input(n))
                        .await
                        .unwrap_or_else(|e| panic!("loading ticket {n}: {e}"));
                    numbers.push(ticket.number);
                    if (n + 1) % 10_000 == 0 {
                        println!(
                            "  loaded {:>7} tickets, {:5.1} s",
                            n + 1,
                            start.elapsed().as_secs_f64()
                        );
                    }
                }
            })
        })
        .collect();
    let mut numbers = Vec::with_capacity(LOADED);
    for task in tasks {
        numbers.extend(task.await.expect("a loader task"));
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "loaded {} tickets in {secs:.1} s ({:.0} tickets/s, {LOADERS} tasks, group commit)",
        numbers.len(),
        numbers.len() as f64 / secs
    );
    numbers
}

// ---------------------------------------------------------------- measuring

/// What a case measured: requests completed, their latencies and the
/// process's CPU time over the window.
struct Measured {
    name: String,
    secs: f64,
    latencies_us: Vec<u64>,
    cpu_secs: f64,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.latencies_us.len() as f64 / self.secs
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        let n = self.latencies_us.len();
        if n == 0 {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        self.latencies_us[rank.clamp(1, n) - 1] as f64 / 1000.0
    }

    /// The process's CPU time per measured request, in microseconds.
    fn cpu_us_per_request(&self) -> f64 {
        self.cpu_secs * 1e6 / self.latencies_us.len().max(1) as f64
    }
}

/// CPU time (user and system) this process has used, in seconds: fields 14
/// and 15 of `/proc/self/stat`, in the `/proc` ABI's fixed 100 ticks a second.
fn process_cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // The command name (field 2) may hold spaces: count after its ')'.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    // Field 3 (state) is the first after the name: utime is field 14, stime 15.
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) as f64 / 100.0,
        _ => f64::NAN,
    }
}

/// One client's request number `n`; the time it took is what is measured.
trait Case: Send + Sync + 'static {
    fn call(
        &self,
        client: usize,
        http: &reqwest::Client,
        n: usize,
    ) -> impl Future<Output = ()> + Send;
}

/// Runs `case` from [`CLIENTS`] clients: [`WARMUP`] unmeasured, then `run`.
async fn measure<C: Case>(name: &str, case: Arc<C>, run: Duration) -> Measured {
    println!("measuring {name} for {} s ...", run.as_secs());
    let begin = Instant::now();
    let measure_from = begin + WARMUP;
    let until = measure_from + run;
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let case = Arc::clone(&case);
            tokio::spawn(async move {
                // One connection per client, kept alive between requests.
                let http = reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .build()
                    .expect("an HTTP client");
                let mut latencies = Vec::new();
                let mut n = 0;
                loop {
                    let sent = Instant::now();
                    if sent >= until {
                        return latencies;
                    }
                    case.call(client, &http, n).await;
                    n += 1;
                    if sent >= measure_from {
                        latencies.push(sent.elapsed().as_micros() as u64);
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep_until(measure_from.into()).await;
    let cpu_from = process_cpu_secs();
    let mut latencies_us = Vec::new();
    for task in tasks {
        latencies_us.extend(task.await.expect("a client task"));
    }
    let cpu_secs = process_cpu_secs() - cpu_from;
    // Requests started within the window, per second of the window.
    let secs = run.as_secs_f64();
    latencies_us.sort_unstable();
    Measured {
        name: name.to_owned(),
        secs,
        latencies_us,
        cpu_secs,
    }
}

struct Health {
    url: String,
}

impl Case for Health {
    async fn call(&self, _: usize, http: &reqwest::Client, _: usize) {
        let r = http.get(&self.url).send().await.expect("GET /healthz");
        assert!(r.status().is_success(), "GET /healthz: {}", r.status());
        r.bytes().await.expect("the health body");
    }
}

struct Create {
    url: String,
    api_key: String,
}

impl Case for Create {
    async fn call(&self, client: usize, http: &reqwest::Client, n: usize) {
        let user = (client * 7919 + n) % USERS;
        let payload = serde_json::json!({
            "name": format!("User {user}"),
            "email": format!("user{user}@example.org"),
            "phone": "555-1234",
            "subject": format!("Printer on floor 3 jams (client {client}, request {n})"),
            "message": "The printer on the third floor jams on every page.",
            "ip": "192.0.2.10",
            "topicId": 1 + (n % 3),
        });
        let r = http
            .post(&self.url)
            .header("X-API-Key", &self.api_key)
            .header("Content-Type", "application/json")
            .body(serde_json::to_vec(&payload).expect("JSON"))
            .send()
            .await
            .expect("POST tickets.json");
        let status = r.status();
        let body = r.text().await.expect("the created number");
        assert_eq!(status.as_u16(), 201, "POST tickets.json: {body}");
    }
}

/// Responses to distinct loaded tickets: client `c` takes every
/// [`CLIENTS`]th ticket from `c`, so no two clients race on one ticket.
struct Respond {
    base: String,
    token: String,
    numbers: Arc<Vec<String>>,
}

fn response_target(numbers: &[String], client: usize, n: usize) -> &str {
    &numbers[(client + n * CLIENTS) * 7 % numbers.len()]
}

impl Case for Respond {
    async fn call(&self, client: usize, http: &reqwest::Client, n: usize) {
        let number = response_target(&self.numbers, client, n);
        let body = serde_json::json!({
            "body": "Hello,\n\nPlease try again now: the certificate has been renewed.",
        });
        let r = http
            .post(format!("{}/tickets/{number}/responses", self.base))
            .bearer_auth(&self.token)
            .header("Content-Type", "application/json")
            .body(serde_json::to_vec(&body).expect("JSON"))
            .send()
            .await
            .expect("POST responses");
        let status = r.status();
        let text = r.text().await.expect("the response body");
        assert!(status.is_success(), "POST responses: {status} {text}");
    }
}

/// The same response through `services::tickets::respond` (with the
/// agent's access loaded per call, as the route would).
struct RespondDirect {
    bench: Arc<Bench>,
    numbers: Arc<Vec<String>>,
}

impl Case for RespondDirect {
    async fn call(&self, client: usize, _: &reqwest::Client, n: usize) {
        let number = response_target(&self.numbers, client, n);
        let ctx = self.bench.ctx();
        let actor = Actor::Agent(
            load_agent_access(&ctx, AgentId(1))
                .await
                .expect("the admin's access"),
        );
        let ticket = tickets::by_number(&ctx, &actor, number)
            .await
            .expect("a loaded ticket");
        tickets::respond(
            &ctx,
            &actor,
            &ticket.id,
            NewResponse {
                body: Body::Text(
                    "Hello,\n\nPlease try again now: the certificate has been renewed.".into(),
                ),
                attachments: Vec::new(),
                status: None,
            },
        )
        .await
        .expect("a response");
    }
}

/// The corpus messages that have a sender, for the inbound-mail case.
fn mail_corpus() -> Vec<Vec<u8>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mail-corpus");
    let mut mails = Vec::new();
    for folder in ["rfc", "legacy", "thirdparty"] {
        let Ok(entries) = std::fs::read_dir(root.join(folder)) else {
            continue;
        };
        for entry in entries.flatten() {
            let raw = std::fs::read(entry.path()).expect("a corpus message");
            if taquilla_mail::inbound::parse(&raw).is_ok() {
                mails.push(raw);
            }
        }
    }
    assert!(
        mails.len() > 50,
        "the mail corpus is missing from {}",
        root.display()
    );
    mails
}

struct Email {
    url: String,
    api_key: String,
    mails: Arc<Vec<Vec<u8>>>,
}

impl Case for Email {
    async fn call(&self, client: usize, http: &reqwest::Client, n: usize) {
        let raw = &self.mails[(client * 31 + n) % self.mails.len()];
        // The first Message-ID counts: each request is a new message.
        let mut body = format!("Message-ID: <bench-{client}-{n}@bench.example>\r\n").into_bytes();
        body.extend_from_slice(raw);
        let r = http
            .post(&self.url)
            .header("X-API-Key", &self.api_key)
            .header("Content-Type", "message/rfc822")
            .body(body)
            .send()
            .await
            .expect("POST tickets.email");
        let status = r.status();
        let text = r.text().await.expect("the answer");
        assert!(status.is_success(), "POST tickets.email: {status} {text}");
    }
}

struct Queue {
    url: String,
    token: String,
}

impl Case for Queue {
    async fn call(&self, _: usize, http: &reqwest::Client, _: usize) {
        let r = http
            .get(&self.url)
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("GET tickets");
        let status = r.status();
        let body = r.bytes().await.expect("the queue page");
        assert!(status.is_success(), "GET tickets: {status}");
        assert!(body.len() > 1000, "a page of 50 tickets");
    }
}

/// The first queue page through `services::tickets::queue`.
struct QueueDirect {
    bench: Arc<Bench>,
}

impl Case for QueueDirect {
    async fn call(&self, _: usize, _: &reqwest::Client, _: usize) {
        let ctx = self.bench.ctx();
        let actor = Actor::Agent(
            load_agent_access(&ctx, AgentId(1))
                .await
                .expect("the admin's access"),
        );
        let page = tickets::queue(&ctx, &actor, &QueueFilter::default())
            .await
            .expect("the open queue");
        assert_eq!(page.items.len(), 50);
    }
}

/// Whether the server serves the request's route (anything but 404 or 405).
async fn served(request: reqwest::RequestBuilder) -> bool {
    let r = request.send().await.expect("a probe request");
    !matches!(r.status().as_u16(), 404 | 405)
}

fn report(m: &Measured, baseline: &Measured, durability: &str) {
    println!(
        "| {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} / {:.2} / {:.2} | {durability} |",
        m.name,
        m.rate(),
        m.percentile_ms(50.0),
        m.percentile_ms(99.0),
        m.cpu_us_per_request(),
        baseline.rate() / m.rate(),
        m.percentile_ms(50.0) / baseline.percentile_ms(50.0),
        m.percentile_ms(99.0) / baseline.percentile_ms(99.0),
    );
}

/// The machine's load average, printed so a run disturbed by other work shows.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() {
    let cases = Cases::from_env().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let started = Instant::now();
    println!("load average at start: {}", load_average());
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("server")
        .enable_all()
        .build()
        .expect("the server runtime");
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("clients")
        .enable_all()
        .build()
        .expect("the client runtime");
    println!(
        "Taquilla API over HTTP: SQLite (WAL, synchronous=FULL), {} cores, {CLIENTS} clients",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );
    let bench = Arc::new(start(&server_rt));
    let numbers = Arc::new(server_rt.block_on(load(&bench)));

    let base = format!("{}/api/v1/{DEMO}", bench.url);
    let (respond_over_http, queue_over_http) = client_rt.block_on(async {
        let http = reqwest::Client::new();
        let respond = served(
            http.post(format!("{base}/tickets/{}/responses", numbers[0]))
                .bearer_auth(&bench.token)
                .header("Content-Type", "application/json")
                .body("{}"),
        )
        .await;
        let queue = served(
            http.get(format!("{base}/tickets?limit=50"))
                .bearer_auth(&bench.token),
        )
        .await;
        (respond, queue)
    });

    let results = client_rt.block_on(async {
        let health = measure(
            "GET /healthz (baseline)",
            Arc::new(Health {
                url: format!("{}/healthz", bench.url),
            }),
            HEALTH_RUN,
        )
        .await;
        let create = if cases.create {
            Some(
                measure(
                    "POST /demo/api/tickets.json",
                    Arc::new(Create {
                        url: format!("{}/{DEMO}/api/tickets.json", bench.url),
                        api_key: bench.api_key.clone(),
                    }),
                    CREATE_RUN,
                )
                .await,
            )
        } else {
            None
        };
        let respond = if !cases.respond {
            None
        } else if respond_over_http {
            Some(
                measure(
                    "POST /api/v1/demo/tickets/{number}/responses",
                    Arc::new(Respond {
                        base: base.clone(),
                        token: bench.token.clone(),
                        numbers: Arc::clone(&numbers),
                    }),
                    RESPOND_RUN,
                )
                .await,
            )
        } else {
            println!("  (no response route served: measuring tickets::respond directly)");
            Some(
                measure(
                    "tickets::respond (service, no HTTP)",
                    Arc::new(RespondDirect {
                        bench: Arc::clone(&bench),
                        numbers: Arc::clone(&numbers),
                    }),
                    RESPOND_RUN,
                )
                .await,
            )
        };
        let queue = if !cases.queue {
            None
        } else if queue_over_http {
            Some(
                measure(
                    "GET /api/v1/demo/tickets?limit=50",
                    Arc::new(Queue {
                        url: format!("{base}/tickets?limit=50"),
                        token: bench.token.clone(),
                    }),
                    QUEUE_RUN,
                )
                .await,
            )
        } else {
            println!("  (no queue route served: measuring tickets::queue directly)");
            Some(
                measure(
                    "tickets::queue first page (service, no HTTP)",
                    Arc::new(QueueDirect {
                        bench: Arc::clone(&bench),
                    }),
                    QUEUE_RUN,
                )
                .await,
            )
        };
        let email = if cases.email {
            Some(
                measure(
                    "POST /demo/api/tickets.email (corpus mix)",
                    Arc::new(Email {
                        url: format!("{}/{DEMO}/api/tickets.email", bench.url),
                        api_key: bench.api_key.clone(),
                        mails: Arc::new(mail_corpus()),
                    }),
                    EMAIL_RUN,
                )
                .await,
            )
        } else {
            None
        };
        (health, create, respond, queue, email)
    });
    let (health, create, respond, queue, email) = &results;
    let created = create.as_ref().map_or(0, |c| c.latencies_us.len());
    let visible = LOADED + created;
    let durable = "fsync per commit (synchronous=FULL), group commit";
    println!();
    println!(
        "| case ({CLIENTS} clients) | req/s | p50 ms | p99 ms | CPU µs/req | vs /healthz: time per req / p50 / p99 | durability |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
    report(health, health, "none (no store)");
    for (measured, durability) in [
        (create, durable.to_owned()),
        (respond, durable.to_owned()),
        (queue, format!("read; {visible}+ tickets visible")),
        (email, format!("{durable}; attachments fsynced")),
    ] {
        if let Some(m) = measured {
            report(m, health, &durability);
        }
    }
    println!("load average at end: {}", load_average());
    let count = |m: &Option<Measured>| m.as_ref().map_or(0, |m| m.latencies_us.len());
    println!(
        "whole bench: {:.0} s (measured request counts: {} / {} / {} / {} / {})",
        started.elapsed().as_secs_f64(),
        health.latencies_us.len(),
        created,
        count(respond),
        count(queue),
        count(email)
    );
}

/// The cases `TAQUILLA_BENCH_CASES` asks for (all when it is unset or empty).
struct Cases {
    create: bool,
    respond: bool,
    queue: bool,
    email: bool,
}

impl Cases {
    const NAMES: [&str; 4] = ["create", "respond", "queue", "email"];

    fn from_env() -> Result<Self, String> {
        let wanted = std::env::var("TAQUILLA_BENCH_CASES").unwrap_or_default();
        let names: Vec<&str> = wanted
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        if let Some(unknown) = names.iter().find(|n| !Self::NAMES.contains(n)) {
            return Err(format!(
                "TAQUILLA_BENCH_CASES: unknown case {unknown:?} (known: {})",
                Self::NAMES.join(", ")
            ));
        }
        let on = |name: &str| names.is_empty() || names.contains(&name);
        Ok(Self {
            create: on("create"),
            respond: on("respond"),
            queue: on("queue"),
            email: on("email"),
        })
    }
}
