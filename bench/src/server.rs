//! Runs a release `ember serve` for the benchmark and reads its memory use.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::process::{Child, Command};

pub struct EmberProcess {
    child: Child,
    pub http: String,
    pub grpc: String,
    pub startup: Duration,
}

impl EmberProcess {
    /// Starts ember on fixed free ports with `env` naming its database, and times spawn →
    /// first `/healthz` answer.
    pub async fn start(binary: &Path, env: &[(&str, String)]) -> anyhow::Result<Self> {
        let http_port = free_port()?;
        let grpc_port = free_port()?;
        let started = Instant::now();
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .env("PHOENIX_HOST", "127.0.0.1")
            .env("PHOENIX_PORT", http_port.to_string())
            .env("PHOENIX_GRPC_PORT", grpc_port.to_string())
            .env("PHOENIX_LOGGING_LEVEL", "warn");
        for (key, value) in env {
            command.env(key, value);
        }
        let child =
            command.stdout(Stdio::null()).kill_on_drop(true).spawn().with_context(|| format!("cannot start {}", binary.display()))?;
        let http = format!("http://127.0.0.1:{http_port}");
        let client = reqwest::Client::new();
        loop {
            if let Ok(response) = client.get(format!("{http}/healthz")).send().await {
                if response.status().is_success() {
                    break;
                }
            }
            if started.elapsed() > Duration::from_secs(30) {
                bail!("ember did not answer /healthz within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Ok(EmberProcess { startup: started.elapsed(), child, http, grpc: format!("http://127.0.0.1:{grpc_port}") })
    }

    pub fn rss_mb(&self) -> anyhow::Result<f64> {
        (self.rss_reader()?)()
    }

    /// A reader of the process's resident memory in MB, for sampling from another task.
    pub fn rss_reader(&self) -> anyhow::Result<impl Fn() -> anyhow::Result<f64> + Send + 'static> {
        let pid = self.child.id().context("ember exited")?;
        Ok(move || {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
            let kb: f64 = status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kb| kb.parse().ok())
                .context("no VmRSS")?;
            Ok(kb / 1024.0)
        })
    }

    /// The CPU time the process has used, in seconds (user and system, at Linux's 100 ticks/s).
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        let pid = self.child.id().context("ember exited")?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // Fields after the command name (which may hold spaces) start at the state, field 3.
        let fields: Vec<&str> = stat.rsplit_once(')').context("no command in /proc stat")?.1.split_whitespace().collect();
        let ticks = |field: usize| -> anyhow::Result<f64> { Ok(fields.get(field - 3).context("short /proc stat")?.parse::<f64>()?) };
        Ok((ticks(14)? + ticks(15)?) / 100.0)
    }

    /// Starts sampling the process's resident memory every 20 ms on another task.
    pub fn sample_peak_rss(&self) -> anyhow::Result<PeakRss> {
        let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (flag, rss) = (sampling.clone(), self.rss_reader()?);
        let sampler = tokio::spawn(async move {
            let mut peak = 0.0f64;
            while flag.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(rss().unwrap_or(0.0));
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            peak
        });
        Ok(PeakRss { sampling, sampler })
    }

    /// SIGTERM and wait: ember commits what it accepted and checkpoints the database.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let pid = self.child.id().context("ember exited")?;
        std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status()?;
        let status = self.child.wait().await?;
        if !status.success() {
            bail!("ember exited with {status}");
        }
        Ok(())
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A running sample of a process's resident memory (see [`EmberProcess::sample_peak_rss`]).
pub struct PeakRss {
    sampling: std::sync::Arc<std::sync::atomic::AtomicBool>,
    sampler: tokio::task::JoinHandle<f64>,
}

impl PeakRss {
    /// Stops sampling; the peak in MB.
    pub async fn stop(self) -> anyhow::Result<f64> {
        self.sampling.store(false, std::sync::atomic::Ordering::Relaxed);
        Ok(self.sampler.await?)
    }
}
