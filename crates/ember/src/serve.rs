//! `ember serve`.

use std::process::ExitCode;

use anyhow::Context;
use ember_server::{ServeConfig, Server};
use tracing_subscriber::EnvFilter;

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    config: ServeConfig,

    /// Log level filter (e.g. `info`, `ember_store=debug`).
    #[arg(long, env = "PHOENIX_LOGGING_LEVEL", default_value = "info")]
    log_level: String,

    /// Log as JSON lines instead of text.
    #[arg(long, env = "EMBER_LOG_JSON", default_value_t = false)]
    log_json: bool,
}

pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    // rmcp logs every stateless MCP request's start and end at info; kept to warnings unless
    // the level names it.
    let directives = match args.log_level.contains("rmcp") {
        true => args.log_level.clone(),
        false => format!("{},rmcp=warn", args.log_level),
    };
    let filter = EnvFilter::try_new(&directives).context("invalid --log-level")?;
    let subscriber = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if args.log_json {
        subscriber.json().init();
    } else {
        subscriber.init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let outcome = runtime.block_on(async {
        // Signals are listened for before ember says it listens, so an early SIGTERM shuts down
        // gracefully instead of killing the process.
        let shutdown = shutdown_signal();
        let server = Server::bind(&args.config).await?;
        tracing::info!(http = %server.http_addr, grpc = %server.grpc_addr, "ember listening");
        // A stable line on stdout for scripts and tests that start ember on port 0.
        match server.metrics_addr {
            Some(metrics) => println!("ember listening http={} grpc={} metrics={metrics}", server.http_addr, server.grpc_addr),
            None => println!("ember listening http={} grpc={}", server.http_addr, server.grpc_addr),
        }
        server.run(shutdown).await?;
        anyhow::Ok(ExitCode::SUCCESS)
    });
    // A decode still running on a blocking thread (its request already dropped) must not keep
    // the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    outcome
}

/// SIGINT or SIGTERM; the handlers are installed when this is called, not when it is awaited.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|error| tracing::warn!(%error, "cannot listen for SIGTERM"))
        .ok();
    let interrupt = tokio::spawn(tokio::signal::ctrl_c());
    async move {
        #[cfg(unix)]
        if let Some(mut terminate) = terminate {
            tokio::select! {
                _ = interrupt => {}
                _ = terminate.recv() => {}
            }
            return;
        }
        let _ = interrupt.await;
    }
}
