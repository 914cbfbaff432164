//! Starts the real `ember` binary on OS-assigned loopback ports.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use ember_otlp::collector::ExportTraceServiceRequest;
use prost::Message;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Ember {
    pub child: Child,
    pub http: String,
    pub grpc: String,
    /// The Prometheus metrics' base URL, when they are on.
    pub metrics: Option<String>,
    pub client: reqwest::Client,
}

impl Ember {
    /// Starts `ember serve` with its data in `dir` and waits for its listening line. With
    /// `EMBER_TEST_BACKEND=postgresql` (and no database URL in `extra_env`) the data goes to a
    /// PostgreSQL schema named after `dir` instead, so a restart on `dir` finds it again.
    pub async fn start(dir: &Path, extra_env: &[(&str, &str)]) -> Ember {
        Self::start_with(dir, &Self::backend_env(dir, extra_env)).await
    }

    /// `extra_env`, after the database settings of the test backend.
    fn backend_env(dir: &Path, extra_env: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = Vec::new();
        let sets_url = extra_env.iter().any(|(key, _)| *key == "PHOENIX_SQL_DATABASE_URL");
        if std::env::var("EMBER_TEST_BACKEND").as_deref() == Ok("postgresql") && !sets_url {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            dir.hash(&mut hasher);
            env.push(("PHOENIX_SQL_DATABASE_URL".into(), ember_store::testing::postgres_url()));
            env.push(("PHOENIX_SQL_DATABASE_SCHEMA".into(), format!("e2e_{}_{:016x}", std::process::id(), hasher.finish())));
        }
        env.extend(extra_env.iter().map(|(key, value)| (key.to_string(), value.to_string())));
        env
    }

    /// Starts `ember serve` with exactly these extra variables.
    pub async fn start_with(dir: &Path, extra_env: &[(String, String)]) -> Ember {
        Self::start_with_stderr(dir, extra_env, Stdio::inherit()).await
    }

    /// As [`Ember::start`], with the server's log (its stderr) written to `log`.
    pub async fn start_logging_to(dir: &Path, extra_env: &[(&str, &str)], log: &Path) -> Ember {
        Self::start_with_stderr(dir, &Self::backend_env(dir, extra_env), Stdio::from(std::fs::File::create(log).expect("log file"))).await
    }

    async fn start_with_stderr(dir: &Path, extra_env: &[(String, String)], stderr: Stdio) -> Ember {
        // `EMBER_BIN` runs another build (e.g. release, to time pages) through the same tests.
        let binary = std::env::var("EMBER_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_ember").to_string());
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .env("PHOENIX_HOST", "127.0.0.1")
            .env("PHOENIX_PORT", "0")
            .env("PHOENIX_GRPC_PORT", "0")
            .env("PHOENIX_WORKING_DIR", dir)
            .env_remove("PHOENIX_SQL_DATABASE_URL")
            .env_remove("PHOENIX_SQL_DATABASE_SCHEMA")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true);
        for (key, value) in extra_env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start ember");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("ember printed its listening line in time")
            .unwrap()
            .expect("ember exited before listening");
        let mut http = None;
        let mut grpc = None;
        let mut metrics = None;
        for word in line.split_whitespace() {
            if let Some(address) = word.strip_prefix("metrics=") {
                metrics = Some(format!("http://{address}"));
            }
            if let Some(address) = word.strip_prefix("http=") {
                http = Some(format!("http://{address}"));
            }
            if let Some(address) = word.strip_prefix("grpc=") {
                grpc = Some(format!("http://{address}"));
            }
        }
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ember { child, http: http.expect("http address"), grpc: grpc.expect("grpc address"), metrics, client: reqwest::Client::new() }
    }

    pub async fn export(&self, request: &ExportTraceServiceRequest) -> reqwest::Response {
        self.client
            .post(format!("{}/v1/traces", self.http))
            .header("content-type", "application/x-protobuf")
            .body(request.encode_to_vec())
            .send()
            .await
            .expect("export request")
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.client.get(format!("{}{path}", self.http)).send().await.expect("GET");
        assert!(response.status().is_success(), "GET {path}: {}", response.status());
        response.json().await.expect("JSON body")
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub async fn terminate(mut self) {
        let pid = self.child.id().expect("running");
        let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
        assert!(status.success());
        let exit = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await.expect("exits after SIGTERM").unwrap();
        assert!(exit.success(), "ember exited with {exit}");
    }

    pub async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }
}

/// Every span id stored in a project, following cursors.
pub async fn all_span_ids(ember: &Ember, project: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/v1/projects/{project}/spans?limit=1000&cursor={cursor}"),
            None => format!("/v1/projects/{project}/spans?limit=1000"),
        };
        let page = ember.get_json(&path).await;
        ids.extend(page["data"].as_array().unwrap().iter().map(|s| s["context"]["span_id"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return ids,
        }
    }
}
