//! ember's ingest and query benchmark. See README "Benchmark".

mod arize;
mod database;
mod datasets;
mod experiments;
mod generate;
mod large_upload;
mod ml;
mod prompts;
mod retention;
mod server;
mod ui;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use ember_core::time::format_nanos;
use ember_core::GlobalId;
use ember_store::PreparedSpan;
use prost::Message;

use crate::database::Database;
use crate::generate::Generator;
use crate::server::EmberProcess;

/// The server's allocator, so the stages measured here in-process cost what they cost in `ember`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
struct Args {
    /// Spans to ingest end to end.
    #[arg(long, default_value_t = 1_000_000)]
    spans: usize,
    /// Spans per OTLP request (whole traces, so slightly more).
    #[arg(long, default_value_t = 500)]
    spans_per_request: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Readers fetching the first page of spans over and over while spans are ingested (their
    /// latency is reported; their requests count in the server's CPU per span).
    #[arg(long, default_value_t = 0)]
    ingest_readers: usize,
    /// Requests per query latency measurement.
    #[arg(long, default_value_t = 300)]
    query_samples: usize,
    /// Requests per filter latency measurement.
    #[arg(long, default_value_t = 30)]
    filter_samples: usize,
    /// Spans for the raw store ceiling (0 skips it).
    #[arg(long, default_value_t = 200_000)]
    raw_spans: usize,
    /// Examples of the dataset upload and fetch (0 skips them).
    #[arg(long, default_value_t = 100_000)]
    dataset_examples: usize,
    /// Megabytes of CSV streamed as one dataset upload, with the server's peak memory (0 skips it).
    #[arg(long, default_value_t = 0)]
    large_upload_mb: usize,
    /// Spans logged through the `arize` SDK's upload (`spans.log`) and then updated through Flight
    /// (`update_metadata`); 0 skips the SDK paths.
    #[arg(long, default_value_t = 0)]
    arize_spans: usize,
    /// Spans exported through Flight (`export_to_df`) after the SDK paths, logged first as needed.
    #[arg(long, default_value_t = 1_000_000)]
    arize_export_spans: usize,
    /// Records of 20 features logged through the `arize` SDK's `ml.log` upload, then exported
    /// through Flight (`ml.export_to_df`); single `/v1/log` records are sent too (0: skip).
    #[arg(long, default_value_t = 0)]
    ml_records: usize,
    /// Experiment runs recorded with two evaluations each (0 skips them).
    #[arg(long, default_value_t = 10_000)]
    experiment_runs: usize,
    /// Spans a month old that a retention policy then sweeps while live ingest goes on and first
    /// pages are sampled (0: skip).
    #[arg(long, default_value_t = 0)]
    retention_spans: usize,
    /// Experiment run and evaluation requests in flight at once (an experiment runner's
    /// concurrency; each SQLite commit waits for the disk, so throughput follows it).
    #[arg(long, default_value_t = 32)]
    experiment_concurrency: usize,
    /// Prompts pushed with `--prompt-versions` versions each, then read by tag (0 skips them).
    #[arg(long, default_value_t = 1_000)]
    prompts: usize,
    /// Versions of each benchmark prompt.
    #[arg(long, default_value_t = 10)]
    prompt_versions: usize,
    /// The ember binary; defaults to the one beside this benchmark.
    #[arg(long)]
    ember_bin: Option<PathBuf>,
    /// Requests per web UI page timing (0 skips the pages).
    #[arg(long, default_value_t = 30)]
    page_samples: usize,
    /// Run against this PostgreSQL server (each run in a fresh schema) instead of SQLite.
    #[arg(long)]
    postgres_url: Option<String>,
    /// `ember serve` processes sharing the database (PostgreSQL only); requests are spread
    /// over them round-robin.
    #[arg(long, default_value_t = 1)]
    replicas: usize,
    /// Keep the SQLite database of the end-to-end run in this directory (created if missing)
    /// instead of a temporary one, e.g. to study query plans afterwards.
    #[arg(long)]
    keep_data: Option<PathBuf>,
    /// Run with authentication on (`PHOENIX_ENABLE_AUTH`): every request carries an API key
    /// (see `--auth-as`), so the figures include checking it.
    #[arg(long)]
    auth: bool,
    /// Whose key the requests carry with `--auth`: a system key (which reaches every project
    /// without a lookup), or a MEMBER's (whose project rights are looked up per request).
    #[arg(long, value_enum, default_value_t = KeyOwner::System)]
    auth_as: KeyOwner,
    /// Whether the server prices LLM spans at ingest (`EMBER_COST_TRACKING`); run with both to
    /// see what cost tracking adds to the server's CPU per span.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    cost_tracking: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum KeyOwner {
    System,
    Member,
}

/// The secrets of a run with `--auth`.
const BENCH_SECRET: &str = "bench-server-secret-0123456789abcdefgh";
const BENCH_ADMIN_SECRET: &str = "bench-admin-secret-0123456789abcdefghi";

/// A system API key, made with the admin secret.
async fn system_key(http: &str) -> anyhow::Result<String> {
    let response = reqwest::Client::new()
        .post(format!("{http}/v1/system/api_keys"))
        .bearer_auth(BENCH_ADMIN_SECRET)
        .json(&serde_json::json!({"data": {"name": "bench"}}))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("creating a system API key answered {}", response.status());
    }
    let created: serde_json::Value = response.json().await?;
    created["data"]["key"].as_str().map(str::to_string).ok_or_else(|| anyhow::anyhow!("no key in {created}"))
}

/// A MEMBER's API key: the user is made with the admin secret, signs in and makes the key.
async fn member_key(http: &str) -> anyhow::Result<String> {
    let client = reqwest::Client::new();
    let password = "bench-member-password-1";
    let user = serde_json::json!({"user": {"email": "member@bench", "username": "member", "role": "MEMBER", "auth_method": "LOCAL", "password": password}});
    let created = client.post(format!("{http}/v1/users")).bearer_auth(BENCH_ADMIN_SECRET).json(&user).send().await?;
    if !created.status().is_success() {
        bail!("creating a member answered {}", created.status());
    }
    let login =
        client.post(format!("{http}/auth/login")).json(&serde_json::json!({"email": "member@bench", "password": password})).send().await?;
    let token = login
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok()?.split(';').next()?.strip_prefix("phoenix-access-token=").map(str::to_string))
        .next()
        .ok_or_else(|| anyhow::anyhow!("signing in answered {} without an access token", login.status()))?;
    let response = client
        .post(format!("{http}/v1/user/api_keys"))
        .bearer_auth(token)
        .json(&serde_json::json!({"data": {"name": "bench"}}))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("creating the member's API key answered {}", response.status());
    }
    let created: serde_json::Value = response.json().await?;
    created["data"]["key"].as_str().map(str::to_string).ok_or_else(|| anyhow::anyhow!("no key in {created}"))
}

const PROJECT: &str = "bench";

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(run(args))
}

/// The largest size the file at `wal` reaches while `running`, sampled every 20 ms.
async fn largest_wal(wal: PathBuf, running: Arc<std::sync::atomic::AtomicBool>) -> u64 {
    let mut largest = 0;
    while running.load(Ordering::Relaxed) {
        largest = largest.max(std::fs::metadata(&wal).map_or(0, |meta| meta.len()));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    largest
}

fn report_rate(label: &str, spans: usize, elapsed: Duration) {
    println!("{label}: {spans} spans in {:.2} s = {:.0} spans/s", elapsed.as_secs_f64(), spans as f64 / elapsed.as_secs_f64());
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1e3
}

async fn latency(client: &reqwest::Client, url: &str, samples: usize) -> anyhow::Result<(f64, f64)> {
    let mut timings = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        let response = client.get(url).send().await?;
        if !response.status().is_success() {
            bail!("GET {url}: {}", response.status());
        }
        response.bytes().await?;
        timings.push(started.elapsed());
    }
    timings.sort();
    Ok((percentile(&timings, 0.5), percentile(&timings, 0.99)))
}

/// Runs larger than this encode their requests while they are sent instead of all beforehand
/// (1M spans take about 3.2 GB encoded).
const ENCODE_AHEAD_LIMIT: usize = 2_000_000;

/// The request bodies the senders send: all encoded before the clock starts, or, for runs too
/// large to hold in memory, encoded by a thread of their own (on the same cores as the server)
/// a few requests ahead of the senders.
enum Bodies {
    Encoded { bodies: Vec<(Vec<u8>, usize)>, next: AtomicUsize },
    Streamed { receiver: tokio::sync::Mutex<tokio::sync::mpsc::Receiver<Vec<u8>>>, spans: Arc<AtomicUsize> },
}

impl Bodies {
    fn new(spans: usize, spans_per_request: usize) -> Bodies {
        let mut generator = Generator::for_spans(42, spans);
        if spans > ENCODE_AHEAD_LIMIT {
            println!("generating {spans} spans of OpenInference traces while sending ...");
            let (sender, receiver) = tokio::sync::mpsc::channel(64);
            let counted = Arc::new(AtomicUsize::new(0));
            let produced = counted.clone();
            std::thread::spawn(move || {
                while produced.load(Ordering::Relaxed) < spans {
                    let remaining = spans - produced.load(Ordering::Relaxed);
                    let (request, count) = generator.request(PROJECT, spans_per_request.min(remaining));
                    produced.fetch_add(count, Ordering::Relaxed);
                    if sender.blocking_send(request.encode_to_vec()).is_err() {
                        return;
                    }
                }
            });
            return Bodies::Streamed { receiver: tokio::sync::Mutex::new(receiver), spans: counted };
        }
        println!("generating {spans} spans of OpenInference traces ...");
        let bodies: Vec<(Vec<u8>, usize)> = generator
            .requests(PROJECT, spans, spans_per_request)
            .into_iter()
            .map(|(request, count)| (request.encode_to_vec(), count))
            .collect();
        let total_spans: usize = bodies.iter().map(|(_, count)| count).sum();
        let payload_bytes: usize = bodies.iter().map(|(body, _)| body.len()).sum();
        println!(
            "{} requests, {total_spans} spans, {:.0} bytes of protobuf per span",
            bodies.len(),
            payload_bytes as f64 / total_spans as f64
        );
        Bodies::Encoded { bodies, next: AtomicUsize::new(0) }
    }

    async fn next(&self) -> Option<Vec<u8>> {
        match self {
            Bodies::Encoded { bodies, next } => bodies.get(next.fetch_add(1, Ordering::Relaxed)).map(|(body, _)| body.clone()),
            Bodies::Streamed { receiver, .. } => receiver.lock().await.recv().await,
        }
    }

    /// The spans of every request (once all are sent).
    fn total_spans(&self) -> usize {
        match self {
            Bodies::Encoded { bodies, .. } => bodies.iter().map(|(_, count)| count).sum(),
            Bodies::Streamed { spans, .. } => spans.load(Ordering::Relaxed),
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let ember_bin = match args.ember_bin {
        Some(path) => path,
        None => std::env::current_exe()?.with_file_name("ember"),
    };
    let bodies = Bodies::new(args.spans, args.spans_per_request);

    if args.replicas > 1 && args.postgres_url.is_none() {
        bail!("--replicas needs --postgres-url: one SQLite database serves one ember process");
    }
    let database = Database::new(args.postgres_url.as_deref(), "ember.db", args.keep_data.as_deref())?;
    let mut env = database.serve_env();
    if let Some(dir) = database.working_dir() {
        env.push(("PHOENIX_WORKING_DIR", dir.display().to_string()));
    }
    env.push(("EMBER_COST_TRACKING", args.cost_tracking.to_string()));
    if args.auth {
        env.push(("PHOENIX_ENABLE_AUTH", "true".into()));
        env.push(("PHOENIX_SECRET", BENCH_SECRET.into()));
        env.push(("PHOENIX_ADMIN_SECRET", BENCH_ADMIN_SECRET.into()));
    }
    println!("backend: {}, {} replica(s)", if args.postgres_url.is_some() { "postgresql" } else { "sqlite" }, args.replicas);
    let mut replicas = Vec::new();
    for _ in 0..args.replicas.max(1) {
        let ember = EmberProcess::start(&ember_bin, &env).await?;
        println!("startup to /healthz: {:.1} ms", ember.startup.as_secs_f64() * 1e3);
        replicas.push(ember);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!("idle RSS: {:.1} MB", replicas[0].rss_mb()?);

    let mut headers = reqwest::header::HeaderMap::new();
    if args.auth {
        let key = match args.auth_as {
            KeyOwner::System => system_key(&replicas[0].http).await?,
            KeyOwner::Member => member_key(&replicas[0].http).await?,
        };
        headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {key}").parse()?);
        let owner = if args.auth_as == KeyOwner::System { "a system" } else { "a MEMBER's" };
        println!("authentication on: every request carries {owner} API key");
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).default_headers(headers).build()?;
    let bodies = Arc::new(bodies);
    let ingesting = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let wal_watch = database.working_dir().map(|dir| tokio::spawn(largest_wal(dir.join("ember.db-wal"), ingesting.clone())));
    let mut readers = Vec::new();
    for _ in 0..args.ingest_readers {
        let (client, ingesting) = (client.clone(), ingesting.clone());
        let url = format!("{}/v1/projects/{PROJECT}/spans?limit=100", replicas[0].http);
        readers.push(tokio::spawn(async move {
            let mut timings = Vec::new();
            while ingesting.load(Ordering::Relaxed) {
                let started = Instant::now();
                let response = client.get(&url).send().await?;
                // The project does not exist until the first spans are committed.
                if response.status().is_success() {
                    response.bytes().await?;
                    timings.push(started.elapsed());
                }
            }
            anyhow::Ok(timings)
        }));
    }
    let retries = Arc::new(AtomicUsize::new(0));
    let cpu_before: f64 = replicas.iter().map(EmberProcess::cpu_seconds).sum::<anyhow::Result<f64>>()?;
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..args.concurrency {
        let url = format!("{}/v1/traces", replicas[worker % replicas.len()].http);
        let (client, bodies, retries) = (client.clone(), bodies.clone(), retries.clone());
        workers.push(tokio::spawn(async move {
            while let Some(body) = bodies.next().await {
                loop {
                    let response = client.post(&url).header("content-type", "application/x-protobuf").body(body.clone()).send().await?;
                    match response.status().as_u16() {
                        200 => break,
                        503 => {
                            retries.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        other => bail!("export answered {other}: {}", response.text().await?),
                    }
                }
            }
            anyhow::Ok(())
        }));
    }
    for worker in workers {
        worker.await??;
    }
    let total_spans = bodies.total_spans();
    ingesting.store(false, Ordering::Relaxed);
    let mut read_timings = Vec::new();
    for reader in readers {
        read_timings.extend(reader.await??);
    }
    if !read_timings.is_empty() {
        read_timings.sort();
        println!(
            "GET spans?limit=100 during ingest ({} readers): {} reads, p50 {:.2} ms, p99 {:.2} ms",
            args.ingest_readers,
            read_timings.len(),
            percentile(&read_timings, 0.5),
            percentile(&read_timings, 0.99)
        );
    }
    if let Some(watch) = wal_watch {
        println!("largest WAL during ingest: {:.1} MB", watch.await? as f64 / 1e6);
    }
    let elapsed = started.elapsed();
    println!(
        "ingest end to end (acknowledged = committed): {total_spans} spans in {:.2} s = {:.0} spans/s ({} retries after 503)",
        elapsed.as_secs_f64(),
        total_spans as f64 / elapsed.as_secs_f64(),
        retries.load(Ordering::Relaxed)
    );
    let cpu: f64 = replicas.iter().map(EmberProcess::cpu_seconds).sum::<anyhow::Result<f64>>()? - cpu_before;
    let cpu_per_span = cpu * 1e6 / total_spans as f64;
    println!(
        "server CPU during ingest: {cpu:.2} s = {cpu_per_span:.1} µs per span (cost tracking {})",
        if args.cost_tracking { "on" } else { "off" }
    );
    for ember in &replicas {
        println!("RSS after load: {:.1} MB", ember.rss_mb()?);
    }
    let ember = &replicas[0];

    let base = format!("{}/v1/projects/{PROJECT}", ember.http);
    let first_page = latency(&client, &format!("{base}/spans?limit=100"), args.query_samples).await?;
    let deep_cursor = GlobalId::encode(ember_core::GlobalType::Span, (total_spans / 10) as i64);
    let deep_page = latency(&client, &format!("{base}/spans?limit=100&cursor={deep_cursor}"), args.query_samples).await?;
    let traces_page = latency(&client, &format!("{base}/traces?limit=100"), args.query_samples).await?;
    let deep_trace = GlobalId::encode(ember_core::GlobalType::Trace, (total_spans / 70) as i64);
    let traces_deep = latency(&client, &format!("{base}/traces?limit=100&cursor={deep_trace}"), args.query_samples).await?;
    println!("GET spans?limit=100 first page: p50 {:.2} ms, p99 {:.2} ms", first_page.0, first_page.1);
    println!("GET spans?limit=100 deep cursor: p50 {:.2} ms, p99 {:.2} ms", deep_page.0, deep_page.1);
    println!("GET traces?limit=100 first page: p50 {:.2} ms, p99 {:.2} ms", traces_page.0, traces_page.1);
    println!("GET traces?limit=100 deep cursor: p50 {:.2} ms, p99 {:.2} ms", traces_deep.0, traces_deep.1);
    annotations_and_filters(&client, &base, &database, args.filter_samples).await?;
    if args.page_samples > 0 {
        ui::run(&client, ember, PROJECT, args.page_samples).await?;
    }
    if args.dataset_examples > 0 {
        datasets::run(&client, ember, args.dataset_examples, 5).await?;
    }
    if args.large_upload_mb > 0 {
        large_upload::run(&client, ember, args.large_upload_mb).await?;
    }
    if args.arize_spans > 0 {
        arize::run(&client, ember, args.arize_spans, args.arize_export_spans.max(args.arize_spans)).await?;
    }
    if args.ml_records > 0 {
        ml::run(&client, ember, args.ml_records).await?;
    }
    if args.experiment_runs > 0 {
        let (dataset, experiment) = experiments::run(&client, ember, args.experiment_runs, args.experiment_concurrency).await?;
        if args.page_samples > 0 {
            ui::experiment_pages(&client, ember, &dataset, &experiment, args.page_samples).await?;
        }
    }
    if args.prompts > 0 {
        prompts::run(&client, ember, args.prompts, args.prompt_versions, args.query_samples).await?;
    }
    if args.retention_spans > 0 {
        let wal = database.working_dir().map(|dir| dir.join("ember.db-wal"));
        retention::run(&client, ember, args.retention_spans, 4, wal).await?;
    }
    println!("RSS after queries: {:.1} MB", ember.rss_mb()?);

    for ember in replicas {
        ember.stop().await?;
    }
    let store = database.open().await?;
    let project = store.get_project_by_name(PROJECT).await?.context("bench project exists")?;
    let stored = store.count_spans(project.id).await?;
    store.close().await;
    if stored as usize != total_spans {
        bail!("{stored} spans stored, {total_spans} acknowledged");
    }
    let db_bytes = database.size_bytes().await?;
    println!(
        "database: {:.1} MB, {:.0} bytes per span (all {stored} spans verified)",
        db_bytes as f64 / 1e6,
        db_bytes as f64 / stored as f64
    );

    if args.raw_spans > 0 {
        raw_ceiling(args.raw_spans, &Database::new(args.postgres_url.as_deref(), "raw.db", None)?, cpu_per_span).await?;
    }
    Ok(())
}

/// Annotates through `POST /v1/span_annotations` (requests of 1,000, 4 in flight): every other
/// LLM span `correctness` (a third of those incorrect), and every LLM span `helpfulness`,
/// `toxicity` and `relevance`, about 3.7 annotations per LLM span; times reading the annotations
/// of 100 spans, then the filters of the query-language targets, first page of 100.
async fn annotations_and_filters(client: &reqwest::Client, base: &str, database: &Database, samples: usize) -> anyhow::Result<()> {
    let store = database.open().await?;
    let project = store.get_project_by_name(PROJECT).await?.context("bench project exists")?;
    // Serialised a thousand at a time as they are made: a 10M-span run annotates millions.
    let mut annotations = Vec::new();
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    let mut annotation_count = 0;
    let mut llm_span_ids = Vec::new();
    let mut cursor = None;
    let llm = ember_store::SpanFilters { span_kinds: vec!["LLM".into()], ..Default::default() };
    loop {
        let page = store.list_spans(project.id, &llm, cursor, 1000).await?;
        for record in &page.items {
            let span_id = &record.span.span_id;
            llm_span_ids.push(span_id.clone());
            if record.rowid % 2 == 0 {
                let incorrect = record.rowid % 3 == 0;
                annotations.push(serde_json::json!({
                    "span_id": span_id, "name": "correctness", "annotator_kind": "LLM",
                    "result": {"label": if incorrect { "incorrect" } else { "correct" }, "score": if incorrect { 0.0 } else { 1.0 }},
                }));
            }
            for name in ["helpfulness", "toxicity", "relevance"] {
                annotations.push(serde_json::json!({
                    "span_id": span_id, "name": name, "annotator_kind": "CODE",
                    "result": {"score": (record.rowid % 10) as f64 / 10.0, "explanation": "scored by the benchmark"},
                }));
            }
        }
        while annotations.len() >= 1000 || (page.next_cursor.is_none() && !annotations.is_empty()) {
            let chunk: Vec<serde_json::Value> = annotations.drain(..annotations.len().min(1000)).collect();
            annotation_count += chunk.len();
            bodies.push(serde_json::to_vec(&serde_json::json!({ "data": chunk }))?);
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let oldest = ember_store::TraceFilters::default();
    let first = store.list_traces(project.id, &oldest, ember_store::TraceSort::StartTime, ember_store::TraceOrder::Asc, None, 1).await?;
    let first_start = first.items.first().map(|trace| trace.start_time);
    store.close().await;
    let url = format!("{}/v1/span_annotations?sync=true", base.split("/v1/").next().unwrap_or(base));
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let bodies = Arc::new(bodies);
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (client, url, next, bodies) = (client.clone(), url.clone(), next.clone(), bodies.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(index) else { return anyhow::Ok(()) };
                let response = client.post(&url).header("content-type", "application/json").body(body.clone()).send().await?;
                if !response.status().is_success() {
                    bail!("POST span_annotations: {}", response.status());
                }
                response.bytes().await?;
            }
        }));
    }
    for worker in workers {
        worker.await??;
    }
    let elapsed = started.elapsed();
    println!(
        "POST /v1/span_annotations (1,000 per request, 4 in flight): {} annotations in {:.1} s = {:.0}/s",
        annotation_count,
        elapsed.as_secs_f64(),
        annotation_count as f64 / elapsed.as_secs_f64()
    );
    metadata_update(client, base, &llm_span_ids).await?;
    let step = (llm_span_ids.len() / 100).max(1);
    let hundred: Vec<(&str, &str)> = llm_span_ids.iter().step_by(step).take(100).map(|id| ("span_ids", id.as_str())).collect();
    let query = serde_urlencoded::to_string(&hundred)?;
    let (p50, p99) = latency(client, &format!("{base}/span_annotations?limit=1000&{query}"), samples).await?;
    println!("GET span_annotations for 100 span ids ({} annotations stored): p50 {p50:.2} ms, p99 {p99:.2} ms", annotation_count);
    let encode = |text: &str| serde_urlencoded::to_string([("q", text)]).map(|s| s[2..].to_string());
    const HOUR: i64 = 3_600_000_000_000;
    let now = ember_core::time::now_nanos();
    let last_day = format!("&start_time={}&end_time={}", encode(&format_nanos(now - 24 * HOUR))?, encode(&format_nanos(now))?);
    let filters: [(&str, &str, String); 7] = [
        ("filter_condition", "span_kind == 'LLM'", String::new()),
        ("filter_condition", "span_kind == 'LLM' and latency_ms > 1000 and evals['correctness'].label == 'incorrect'", String::new()),
        ("filter_condition", "metadata['customer_id'] == 'c-42'", String::new()),
        // The same question through the REST attribute filter.
        ("attribute", "metadata.customer_id:c-42", String::new()),
        ("filter_condition", "'refund' in input.value", last_day),
        ("filter", "status_code = 'ERROR' AND eval.correctness.label = 'correct'", String::new()),
        ("filter_condition", "status_code == 'ERROR' and evals['correctness'].label == 'correct'", String::new()),
    ];
    for (parameter, filter, extra) in filters {
        let url = format!("{base}/spans?limit=100&{parameter}={}{extra}", encode(filter)?);
        let window = if extra.is_empty() { "" } else { " (24 h window)" };
        match latency(client, &url, samples).await {
            Ok((p50, p99)) => println!("{parameter}: {filter}{window}: p50 {p50:.2} ms, p99 {p99:.2} ms"),
            // Past EMBER_QUERY_TIMEOUT_MS the server cancels the query: a figure in itself.
            Err(error) if error.to_string().contains("503") => {
                println!("{parameter}: {filter}{window}: cancelled past the time budget (503)")
            }
            Err(error) => return Err(error),
        }
    }
    // A zoom into the past: the first hour of the data, with every later span newer than it.
    if let Some(first_start) = first_start {
        let window = format!("start_time={}&end_time={}", encode(&format_nanos(first_start))?, encode(&format_nanos(first_start + HOUR))?);
        let (p50, p99) = latency(client, &format!("{base}/spans?limit=100&{window}"), samples).await?;
        println!("GET spans?limit=100 of the data's first hour (a window in the past): p50 {p50:.2} ms, p99 {p99:.2} ms");
    }
    Ok(())
}

/// Sets two metadata keys on 100k LLM spans through `POST .../spans/metadata`, JSON rows in
/// requests of 10,000.
async fn metadata_update(client: &reqwest::Client, base: &str, span_ids: &[String]) -> anyhow::Result<()> {
    let span_ids = &span_ids[..span_ids.len().min(100_000)];
    let started = Instant::now();
    let mut updated = 0;
    for chunk in span_ids.chunks(10_000) {
        let rows: Vec<serde_json::Value> = chunk
            .iter()
            .map(|id| serde_json::json!({"context.span_id": id, "attributes.metadata.reviewed": "yes", "attributes.metadata.batch": 7}))
            .collect();
        let response = client.post(format!("{base}/spans/metadata")).json(&rows).send().await?;
        if !response.status().is_success() {
            bail!("POST spans/metadata: {}", response.status());
        }
        let report: serde_json::Value = response.json().await?;
        updated += report["spans_updated"].as_u64().unwrap_or(0);
    }
    let elapsed = started.elapsed();
    if updated as usize != span_ids.len() {
        bail!("{updated} of {} spans' metadata updated", span_ids.len());
    }
    println!("POST spans/metadata: {updated} spans updated in {:.2} s", elapsed.as_secs_f64());
    Ok(())
}

/// The machine's ceiling for the same spans, each stage alone on one thread (no HTTP), request by
/// request as the server meets them: protobuf decoding, the OpenInference mapping (ids,
/// attributes unflattened, limits), the attributes' JSON text, zstd alone on that text, the
/// store's preparation (JSON, compression, index values, prices); then the store's writes of the
/// prepared rows with every index; then the sum of the parts beside the server's CPU per span
/// measured end to end.
async fn raw_ceiling(spans: usize, database: &Database, end_to_end_cpu_us: f64) -> anyhow::Result<()> {
    let mut generator = Generator::new(7);
    let bodies: Vec<Vec<u8>> = generator.requests(PROJECT, spans, 500).into_iter().map(|(request, _)| request.encode_to_vec()).collect();
    let store = database.open().await?;
    let mut compressor = zstd::bulk::Compressor::new(1)?;
    let mut prepared: Vec<PreparedSpan> = Vec::with_capacity(spans);
    let (mut decode, mut map, mut json, mut zstd, mut prepare) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let (mut json_bytes, mut zstd_bytes) = (0, 0);
    for body in &bodies {
        let started = Instant::now();
        let request = ember_otlp::decode_protobuf(body)?;
        decode += started.elapsed();
        let started = Instant::now();
        let decoded = ember_otlp::decode_export(request, None).spans;
        map += started.elapsed();
        let started = Instant::now();
        let texts: Vec<Vec<u8>> = decoded.iter().map(|routed| serde_json::to_vec(&routed.span.attributes)).collect::<Result<_, _>>()?;
        json += started.elapsed();
        let started = Instant::now();
        for text in &texts {
            zstd_bytes += compressor.compress(text)?.len();
        }
        zstd += started.elapsed();
        json_bytes += texts.iter().map(Vec::len).sum::<usize>();
        let started = Instant::now();
        prepared.extend(store.prepare_spans(decoded));
        prepare += started.elapsed();
    }
    let spans = prepared.len();
    let decode = stage("protobuf decode alone", spans, decode);
    let map = stage("OpenInference mapping alone (ids, nested attributes, limits)", spans, map);
    stage("attributes to JSON text alone", spans, json);
    stage("zstd level 1 alone (no dictionary)", spans, zstd);
    println!(
        "  attributes: {:.0} bytes of JSON per span, {:.0} compressed",
        json_bytes as f64 / spans as f64,
        zstd_bytes as f64 / spans as f64
    );
    let prepare = stage("store preparation (JSON text, zstd, index values, prices)", spans, prepare);
    report_rate(
        "decode + prepare ceiling (one thread, no HTTP, no store)",
        spans,
        Duration::from_secs_f64((decode + map + prepare) * 1e-6 * spans as f64),
    );
    let started = Instant::now();
    for chunk in prepared.chunks(10_000) {
        let batch: Vec<&PreparedSpan> = chunk.iter().collect();
        store.write_spans(&batch).await?;
    }
    let write = stage("raw store ceiling (writes of prepared rows, every index, one writer)", spans, started.elapsed());
    store.close().await;
    println!(
        "physical limit: decode, mapping, preparation and writes alone, one after another: {:.1} µs per span; \
         the server end to end: {end_to_end_cpu_us:.1} µs of CPU per span",
        decode + map + prepare + write
    );
    Ok(())
}

/// Prints a stage's rate; returns its µs per span.
fn stage(label: &str, spans: usize, elapsed: Duration) -> f64 {
    let per_span = elapsed.as_secs_f64() * 1e6 / spans as f64;
    println!("{label}: {per_span:.1} µs per span = {:.0} spans/s", spans as f64 / elapsed.as_secs_f64());
    per_span
}
