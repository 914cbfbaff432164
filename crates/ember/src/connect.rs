//! How the client commands find the server: the settings the Phoenix clients read.

use std::future::Future;
use std::process::ExitCode;

use anyhow::Context;
use ember_client::{Client, ClientConfig};
use tracing_subscriber::EnvFilter;

const DEFAULT_ENDPOINT: &str = "http://localhost:6006";

#[derive(clap::Args, Debug)]
pub struct ConnectArgs {
    /// The server's base URL. Without it, PHOENIX_COLLECTOR_ENDPOINT and then PHOENIX_BASE_URL
    /// are read, as the Phoenix clients do, and then http://localhost:6006.
    #[arg(long, env = "PHOENIX_ENDPOINT")]
    endpoint: Option<String>,

    /// An API key, sent as `Authorization: Bearer <key>`.
    #[arg(long, env = "PHOENIX_API_KEY", hide_env_values = true)]
    api_key: Option<String>,

    /// Extra headers on every request, as `name=value` pairs separated by commas.
    #[arg(long, env = "PHOENIX_CLIENT_HEADERS", hide_env_values = true)]
    headers: Option<String>,
}

impl ConnectArgs {
    pub fn client(&self) -> anyhow::Result<Client> {
        let endpoint = self
            .endpoint
            .clone()
            .or_else(|| std::env::var("PHOENIX_COLLECTOR_ENDPOINT").ok())
            .or_else(|| std::env::var("PHOENIX_BASE_URL").ok())
            .filter(|endpoint| !endpoint.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        // A collector endpoint may name the traces path; the API lives at its root.
        let endpoint = endpoint.trim().trim_end_matches('/').trim_end_matches("/v1/traces").to_string();
        let config =
            ClientConfig { endpoint, api_key: self.api_key.clone(), headers: parse_headers(self.headers.as_deref())?, timeout: None };
        Ok(Client::new(&config)?)
    }
}

/// `name=value,name2=value2`, values percent-decoded as in OTEL_EXPORTER_OTLP_HEADERS.
fn parse_headers(headers: Option<&str>) -> anyhow::Result<Vec<(String, String)>> {
    let Some(headers) = headers else { return Ok(Vec::new()) };
    headers
        .split(',')
        .filter(|pair| !pair.trim().is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').with_context(|| format!("the header `{pair}` is not `name=value`"))?;
            let value = percent_encoding::percent_decode_str(value.trim())
                .decode_utf8()
                .with_context(|| format!("the header `{name}` is not UTF-8"))?;
            Ok((name.trim().to_string(), value.into_owned()))
        })
        .collect()
}

/// Runs a client command on a small runtime, logging warnings to stderr.
pub fn run_client<F, Fut>(command: F) -> anyhow::Result<ExitCode>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<ExitCode>>,
{
    let filter = EnvFilter::try_from_env("EMBER_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(command())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_comma_separated_and_percent_decoded() {
        let headers = parse_headers(Some("x-team=evals, x-note=a%20b%2Cc")).unwrap();
        assert_eq!(headers, vec![("x-team".to_string(), "evals".to_string()), ("x-note".to_string(), "a b,c".to_string())]);
        assert!(parse_headers(Some("broken")).unwrap_err().to_string().contains("`broken` is not `name=value`"));
    }
}
