//! A retention sweep under load: `spans` spans a month old are loaded into one project, live
//! ingest into another is measured for a while (idle), then a policy deleting traces older than a
//! week is applied to the first project and the same live ingest is measured while the sweeper
//! deletes, with both projects' first page of spans sampled throughout. Live requests are
//! generated on their own thread as they are sent (the same cost in both phases).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use prost::Message;
use serde_json::json;

use crate::generate::Generator;
use crate::server::EmberProcess;

const OLD: &str = "retention-old";
const LIVE: &str = "retention-live";
const DAY_NANOS: u64 = 86_400_000_000_000;
const IDLE_PHASE: Duration = Duration::from_secs(15);

/// Encoded requests with their span counts, shared by the senders.
type Requests = Arc<std::sync::Mutex<std::sync::mpsc::Receiver<(Vec<u8>, usize)>>>;

fn now_nanos() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// Sends encoded requests from `source` with `concurrency` senders until it runs dry or `stop` is
/// set; returns the spans acknowledged.
async fn send(
    client: &reqwest::Client,
    url: &str,
    source: Requests,
    concurrency: usize,
    stop: Arc<AtomicBool>,
    acknowledged: Arc<AtomicUsize>,
) -> anyhow::Result<()> {
    let mut senders = Vec::new();
    for _ in 0..concurrency {
        let (client, url, source, stop, acknowledged) =
            (client.clone(), url.to_string(), source.clone(), stop.clone(), acknowledged.clone());
        senders.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let next = source.lock().unwrap().try_recv();
                let (body, count) = match next {
                    Ok(request) => request,
                    Err(std::sync::mpsc::TryRecvError::Empty) => {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        continue;
                    }
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => return anyhow::Ok(()),
                };
                loop {
                    let response = client.post(&url).header("content-type", "application/x-protobuf").body(body.clone()).send().await?;
                    match response.status().as_u16() {
                        200 => break,
                        503 => tokio::time::sleep(Duration::from_millis(5)).await,
                        other => bail!("export answered {other}: {}", response.text().await?),
                    }
                }
                acknowledged.fetch_add(count, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    for sender in senders {
        sender.await??;
    }
    Ok(())
}

/// Requests of `total` spans for `project`, made on a thread of their own as they are taken.
fn produce(project: &'static str, seed: u64, clock: u64, first_id: u64, total: usize) -> std::sync::mpsc::Receiver<(Vec<u8>, usize)> {
    let (sender, receiver) = std::sync::mpsc::sync_channel(16);
    std::thread::spawn(move || {
        let mut generator = Generator::starting(seed, clock, first_id);
        let mut produced = 0;
        while produced < total {
            for (request, count) in generator.requests(project, 500.min(total - produced), 500) {
                produced += count;
                if sender.send((request.encode_to_vec(), count)).is_err() {
                    return;
                }
            }
        }
    });
    receiver
}

/// First-page latencies of a project's spans, sampled every 100 ms until `stop`.
async fn sample_first_page(client: reqwest::Client, url: String, stop: Arc<AtomicBool>) -> anyhow::Result<Vec<Duration>> {
    let mut timings = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let response = client.get(&url).send().await?;
        if !response.status().is_success() {
            bail!("GET {url}: {}", response.status());
        }
        response.bytes().await?;
        timings.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    timings.sort();
    Ok(timings)
}

fn p50_p99(sorted: &[Duration]) -> String {
    if sorted.is_empty() {
        return "no samples".into();
    }
    let at = |p: f64| sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3;
    format!("p50 {:.1} ms, p99 {:.1} ms ({} samples)", at(0.5), at(0.99), sorted.len())
}

/// Live ingest and first pages over one phase: until `done` says the phase is over.
async fn phase(
    client: &reqwest::Client,
    ember: &EmberProcess,
    live: &Requests,
    concurrency: usize,
    done: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<(usize, Duration, Vec<Duration>, Vec<Duration>)> {
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let url = format!("{}/v1/traces", ember.http);
    let ingest = send(client, &url, live.clone(), concurrency, stop.clone(), acknowledged.clone());
    let page = |project: &str| format!("{}/v1/projects/{project}/spans?limit=100", ember.http);
    let old_pages = tokio::spawn(sample_first_page(client.clone(), page(OLD), stop.clone()));
    let live_pages = tokio::spawn(sample_first_page(client.clone(), page(LIVE), stop.clone()));
    let started = Instant::now();
    let finish = async {
        done.await?;
        stop.store(true, Ordering::Relaxed);
        anyhow::Ok(())
    };
    let (ingested, finished) = tokio::join!(ingest, finish);
    ingested?;
    finished?;
    let elapsed = started.elapsed();
    Ok((acknowledged.load(Ordering::Relaxed), elapsed, old_pages.await??, live_pages.await??))
}

/// `wal`: SQLite's write-ahead log, whose largest size is reported.
pub async fn run(
    client: &reqwest::Client,
    ember: &EmberProcess,
    spans: usize,
    concurrency: usize,
    wal: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let wal_bytes = || wal.as_ref().and_then(|path| std::fs::metadata(path).ok()).map_or(0, |meta| meta.len());
    // The database file beside its WAL (`ember.db-wal` → `ember.db`).
    let database = wal.as_ref().map(|path| path.with_extension("db"));
    let database_bytes = || database.as_ref().and_then(|path| std::fs::metadata(path).ok()).map_or(0, |meta| meta.len());
    let mut peak_wal = 0;
    let now = now_nanos();
    println!("retention: loading {spans} spans 30 days old into {OLD} ...");
    let old = Arc::new(std::sync::Mutex::new(produce(OLD, 11, now - 30 * DAY_NANOS, 1 << 40, spans)));
    let stop = Arc::new(AtomicBool::new(false));
    let loaded = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    send(client, &format!("{}/v1/traces", ember.http), old, concurrency, stop, loaded.clone()).await?;
    crate::report_rate("retention: old spans loaded", loaded.load(Ordering::Relaxed), started.elapsed());
    let loaded_file = database_bytes();

    // Live ingest without a sweep, then during one (the same stream of requests).
    client.post(format!("{}/v1/projects", ember.http)).json(&json!({"name": LIVE})).send().await?.error_for_status()?;
    let live = Arc::new(std::sync::Mutex::new(produce(LIVE, 12, now - 3_600_000_000_000, 2 << 40, usize::MAX)));
    let idle = phase(client, ember, &live, concurrency, async {
        tokio::time::sleep(IDLE_PHASE).await;
        Ok(())
    })
    .await?;
    let idle_rate = idle.0 as f64 / idle.1.as_secs_f64();
    println!("retention: idle live ingest {idle_rate:.0} spans/s; first page {OLD}: {}; {LIVE}: {}", p50_p99(&idle.2), p50_p99(&idle.3));

    let policy =
        json!({"name": "a week", "cron_expression": "0 0 * * 0", "rule": {"type": "max_days", "max_days": 7}, "project_ids": [OLD]});
    let created: serde_json::Value =
        client.post(format!("{}/v1/retention_policies", ember.http)).json(&policy).send().await?.json().await?;
    let id = created["data"]["id"].as_str().ok_or_else(|| anyhow::anyhow!("no policy in {created}"))?.to_string();
    let cpu_before = ember.cpu_seconds()?;
    let mut peak_rss: f64 = ember.rss_mb()?;
    let swept = async {
        let applied = client.post(format!("{}/v1/retention_policies/{id}/apply", ember.http)).send().await?;
        if applied.status() != reqwest::StatusCode::ACCEPTED {
            bail!("apply answered {}", applied.status());
        }
        loop {
            let page: serde_json::Value =
                client.get(format!("{}/v1/projects/{OLD}/traces?limit=1", ember.http)).send().await?.json().await?;
            peak_rss = peak_rss.max(ember.rss_mb()?);
            peak_wal = peak_wal.max(wal_bytes());
            if page["data"].as_array().is_some_and(Vec::is_empty) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let sweep = phase(client, ember, &live, concurrency, swept).await?;
    let sweep_rate = sweep.0 as f64 / sweep.1.as_secs_f64();
    println!(
        "retention: swept {} spans in {:.1} s ({:.0} spans/s, {:.1} s of server CPU, peak RSS {peak_rss:.0} MB, largest WAL {:.0} MB)",
        loaded.load(Ordering::Relaxed),
        sweep.1.as_secs_f64(),
        loaded.load(Ordering::Relaxed) as f64 / sweep.1.as_secs_f64(),
        ember.cpu_seconds()? - cpu_before,
        peak_wal as f64 / 1e6
    );
    println!(
        "retention: live ingest during the sweep {sweep_rate:.0} spans/s = {:.0} % of idle; first page {OLD}: {}; {LIVE}: {}",
        100.0 * sweep_rate / idle_rate,
        p50_p99(&sweep.2),
        p50_p99(&sweep.3)
    );
    if database.is_some() {
        // The guard gives the freed pages back after the sweep, paced: watch the file shrink
        // until it has stayed the same size for 5 s (or a minute has passed).
        let (mut smallest, mut since_change, watching) = (database_bytes(), Instant::now(), Instant::now());
        while since_change.elapsed() < Duration::from_secs(5) && watching.elapsed() < Duration::from_secs(60) {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let now = database_bytes();
            if now < smallest {
                (smallest, since_change) = (now, Instant::now());
            }
        }
        let (old_spans, live_spans) = (loaded.load(Ordering::Relaxed), idle.0 + sweep.0);
        println!(
            "retention: database file {:.0} MB holding {old_spans} old spans ({:.2} KB each) after loading; {:.0} MB holding the {live_spans} live spans \
             ({:.2} KB each) once the sweep's free pages were returned ({:.1} s after it)",
            loaded_file as f64 / 1e6,
            loaded_file as f64 / 1e3 / old_spans.max(1) as f64,
            smallest as f64 / 1e6,
            smallest as f64 / 1e3 / live_spans.max(1) as f64,
            (watching.elapsed().saturating_sub(Duration::from_secs(5))).as_secs_f64()
        );
    }
    Ok(())
}
