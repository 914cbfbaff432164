//! Binding the listeners, running HTTP and gRPC, and shutting down with everything accepted flushed.

use std::future::Future;
use std::net::SocketAddr;

use ember_otlp::collector::trace_service_server::TraceServiceServer;
use ember_service::{Playground, Services};
use ember_store::{IngestQueue, Store, StoreError, WriterHandle};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::codec::CompressionEncoding;

use crate::body_budget::BodyBudget;
use crate::grpc::OtlpTraceService;
use crate::{app, AppState, ServeConfig};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {address}: {source}")]
    Bind { address: String, source: std::io::Error },
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("grpc server failed: {0}")]
    Grpc(#[from] tonic::transport::Error),
    #[error("cannot set up the playground's provider client: {0}")]
    Playground(#[from] ember_evals::providers::ProviderError),
    #[error("{0}")]
    Refused(String),
}

pub struct Server;

/// Listeners bound and the store open; [`BoundServer::run`] starts serving.
pub struct BoundServer {
    pub http_addr: SocketAddr,
    pub grpc_addr: SocketAddr,
    /// The Prometheus metrics' address, when they are on.
    pub metrics_addr: Option<SocketAddr>,
    http: TcpListener,
    grpc: TcpListener,
    metrics: Option<TcpListener>,
    state: AppState,
    store: Store,
    writer: WriterHandle,
    grpc_max_message_bytes: usize,
    flight_max_message_bytes: usize,
    /// TLS of the HTTP port and of the gRPC port, when on.
    http_tls: Option<tokio_rustls::TlsAcceptor>,
    grpc_tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown_timeout: std::time::Duration,
    connection_limits: crate::listener::ConnectionLimits,
}

/// How often the rows of expired tokens are deleted.
const EXPIRED_TOKEN_SWEEP: std::time::Duration = std::time::Duration::from_secs(600);

async fn bind(host: &str, port: u16) -> Result<TcpListener, ServeError> {
    let address = format!("{host}:{port}");
    TcpListener::bind(&address).await.map_err(|source| ServeError::Bind { address, source })
}

impl Server {
    pub async fn bind(config: &ServeConfig) -> Result<BoundServer, ServeError> {
        if let Some(reason) = config.refusal() {
            return Err(ServeError::Refused(reason));
        }
        let tls = match config.tls_files().map_err(ServeError::Refused)? {
            Some(files) => Some(files.load().map_err(ServeError::Refused)?),
            None => None,
        };
        let http_tls = match (&tls, config.tls_for_http()) {
            (Some(material), true) => Some(tokio_rustls::TlsAcceptor::from(material.http_config().map_err(ServeError::Refused)?)),
            _ => None,
        };
        let grpc_tls = match (&tls, config.tls_for_grpc()) {
            (Some(material), true) => Some(tokio_rustls::TlsAcceptor::from(material.grpc_config().map_err(ServeError::Refused)?)),
            _ => None,
        };
        let store = Store::open(&config.store_options()?).await?;
        let (ingest, writer) = IngestQueue::start(store.clone(), config.queue_limits());
        let metrics = if config.enable_prometheus { ember_service::metrics::Metrics::enabled() } else { Default::default() };
        let services = Services::new(store.clone(), ingest, Playground::new(config.providers.clone(), config.phoenix_secret.as_deref())?)
            .with_auth(config.authenticator().map_err(ServeError::Refused)?)
            .with_storage(config.storage_settings())
            .with_metrics(metrics)
            .with_mailer(ember_service::mail::Mailer::new(&config.mail).map_err(|error| ServeError::Refused(error.to_string()))?)
            .with_site_url(&config.site_url().map_err(ServeError::Refused)?);
        // The default admin's first password and PHOENIX_ADMINS, before anyone can sign in.
        services.auth().prepare().await.map_err(|error| ServeError::Refused(error.to_string()))?;
        services
            .retention()
            .ensure_default(config.default_retention_policy_days)
            .await
            .map_err(|error| ServeError::Refused(error.to_string()))?;
        let http = bind(&config.host, config.port).await?;
        let grpc = bind(&config.host, config.grpc_port).await?;
        let metrics = match config.enable_prometheus {
            true => Some(bind(&config.host, config.prometheus_port).await?),
            false => None,
        };
        let sql_budget = std::time::Duration::from_millis(config.mcp_sql_timeout_ms);
        let mcp = config.enable_mcp_server.then(|| crate::mcp::McpEndpoint::new(services.clone(), config.max_body_bytes, sql_budget));
        Ok(BoundServer {
            http_addr: http.local_addr()?,
            grpc_addr: grpc.local_addr()?,
            metrics_addr: metrics.as_ref().map(TcpListener::local_addr).transpose()?,
            http,
            grpc,
            metrics,
            state: AppState {
                services,
                max_body_bytes: config.max_body_bytes,
                body_budget: BodyBudget::new(config.max_body_bytes_in_flight),
                max_upload_bytes: config.max_upload_bytes,
                origins: crate::csrf::OriginRules::new(config.allowed_origins.clone(), &config.csrf_trusted_origins)
                    .map_err(ServeError::Refused)?,
                cookies: config.cookies(),
                auth_rate_limit: (config.enable_auth && !config.disable_rate_limit).then(crate::auth_rate_limit::AuthRateLimit::new),
                root_path: crate::root_path::RootPath::new(config.host_root_path.as_deref()).map_err(ServeError::Refused)?,
                public_url: config
                    .root_url
                    .as_deref()
                    .map(str::trim)
                    .filter(|url| !url.is_empty())
                    .map(|url| url.trim_end_matches('/').to_string()),
                https: config.tls_for_http() && tls.is_some(),
                mcp,
            },
            store,
            writer,
            grpc_max_message_bytes: config.grpc_max_message_bytes,
            flight_max_message_bytes: config.flight_max_message_bytes,
            http_tls,
            grpc_tls,
            shutdown_timeout: std::time::Duration::from_secs(config.shutdown_timeout_secs),
            connection_limits: crate::listener::ConnectionLimits {
                max_connections: config.max_connections,
                header_timeout: std::time::Duration::from_secs(config.request_timeout_secs.max(1)),
            },
        })
    }
}

impl BoundServer {
    /// Serves until `shutdown` resolves, then stops accepting, lets in-flight requests finish,
    /// drains the ingest queue into the database and closes it. Each of the two waits lasts at
    /// most the shutdown timeout: a request still running then is dropped unanswered (nothing it
    /// carried was acknowledged), so a stuck client or request cannot keep the process alive.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
        let (stop, stopped) = watch::channel(false);
        let until_stopped = |mut receiver: watch::Receiver<bool>| async move {
            let _ = receiver.wait_for(|stop| *stop).await;
        };
        let trace_service = TraceServiceServer::new(OtlpTraceService { services: self.state.services.clone() })
            .max_decoding_message_size(self.grpc_max_message_bytes)
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip);
        #[cfg(feature = "flight")]
        let flight_service = crate::flight::FlightServiceServer::new(crate::flight::ArizeFlight { services: self.state.services.clone() })
            .max_decoding_message_size(self.flight_max_message_bytes)
            .max_encoding_message_size(self.flight_max_message_bytes);
        let grpc_router = tonic::transport::Server::builder()
            .layer(tower::util::MapResponseLayer::new(crate::grpc::remap_unreadable))
            .add_service(trace_service.clone());
        #[cfg(feature = "flight")]
        let grpc_router = grpc_router.add_service(flight_service.clone());
        // The same services on the HTTP port, for gRPC clients that use one port.
        let grpc_on_http = tonic::service::Routes::new(trace_service);
        #[cfg(feature = "flight")]
        let grpc_on_http = grpc_on_http.add_service(flight_service);
        let grpc_on_http = grpc_on_http.into_axum_router().layer(tower::util::MapResponseLayer::new(crate::grpc::remap_unreadable));
        let grpc_stopped = until_stopped(stopped.clone());
        let mut grpc = match self.grpc_tls {
            // TLS is ember's own acceptor (not tonic's), so the client verifier is the HTTP port's.
            Some(acceptor) => {
                let connections = crate::listener::tls_connections(self.grpc, acceptor, self.connection_limits.header_timeout);
                tokio::spawn(grpc_router.serve_with_incoming_shutdown(connections, grpc_stopped))
            }
            None => tokio::spawn(grpc_router.serve_with_incoming_shutdown(TcpListenerStream::new(self.grpc), grpc_stopped)),
        };
        if self.state.services.auth().enabled() {
            let services = self.state.services.clone();
            let mut stopping = stopped.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(EXPIRED_TOKEN_SWEEP);
                loop {
                    tokio::select! {
                        _ = every.tick() => {}
                        _ = stopping.wait_for(|stop| *stop) => return,
                    }
                    if let Err(error) = services.auth().sweep_expired().await {
                        tracing::warn!(%error, "could not delete expired tokens");
                    }
                }
            });
        }
        {
            let store = self.store.clone();
            let stopping = until_stopped(stopped.clone());
            tokio::spawn(async move { store.keep_ml_summaries(stopping).await });
        }
        {
            let services = self.state.services.clone();
            let stopping = until_stopped(stopped.clone());
            tokio::spawn(async move { services.retention().keep_swept(stopping).await });
        }
        {
            let services = self.state.services.clone();
            let stopping = until_stopped(stopped.clone());
            tokio::spawn(async move { services.storage().keep_watch(stopping).await });
        }
        {
            let services = self.state.services.clone();
            let stopping = until_stopped(stopped.clone());
            tokio::spawn(async move { services.costs().keep_prices_fresh(stopping).await });
        }
        if let Some(listener) = self.metrics {
            let services = self.state.services.clone();
            let metrics = axum::Router::new().route(
                "/metrics",
                axum::routing::get(move || {
                    let services = services.clone();
                    async move { services.encode_metrics().unwrap_or_default() }
                }),
            );
            let stopping = until_stopped(stopped.clone());
            tokio::spawn(async move {
                if let Err(error) = axum::serve(listener, metrics).with_graceful_shutdown(stopping).await {
                    tracing::warn!(%error, "the metrics listener stopped");
                }
            });
        }
        let router = crate::grpc::beside(grpc_on_http, app(self.state));
        let limits = self.connection_limits;
        let http_tls = self.http_tls;
        let mut http = tokio::spawn(async move {
            crate::listener::serve(self.http, router, limits, http_tls, until_stopped(stopped)).await;
            Ok::<(), std::io::Error>(())
        });

        // A server that stops on its own is a failure; the other one is then stopped too.
        let failure = tokio::select! {
            _ = shutdown => {
                tracing::info!("shutting down: finishing in-flight requests");
                let _ = stop.send(true);
                let finished = tokio::time::timeout(self.shutdown_timeout, async {
                    let _ = (&mut http).await;
                    let _ = (&mut grpc).await;
                });
                if finished.await.is_err() {
                    tracing::warn!(timeout = ?self.shutdown_timeout, "requests still in flight at the shutdown timeout are dropped unanswered");
                    http.abort();
                    grpc.abort();
                }
                None
            }
            result = &mut http => {
                let _ = stop.send(true);
                let _ = grpc.await;
                Some(server_exit(result, "http"))
            }
            result = &mut grpc => {
                let _ = stop.send(true);
                let _ = http.await;
                Some(server_exit(result, "grpc"))
            }
        };
        // The queue is closed (a request dropped mid-decode may still hold a clone; it gets
        // "shutting down"), and what was accepted is committed.
        if tokio::time::timeout(self.shutdown_timeout, self.writer.finished()).await.is_err() {
            tracing::warn!("the ingest writer did not drain within the shutdown timeout; unacknowledged spans are not committed");
            return failure.map_or(Ok(()), Err);
        }
        self.store.close().await;
        tracing::info!("stopped; all accepted spans are committed");
        failure.map_or(Ok(()), Err)
    }
}

fn server_exit<E: Into<ServeError>>(result: Result<Result<(), E>, tokio::task::JoinError>, which: &str) -> ServeError {
    match result {
        Ok(Ok(())) => ServeError::Io(std::io::Error::other(format!("{which} server stopped unexpectedly"))),
        Ok(Err(error)) => error.into(),
        Err(join_error) => ServeError::Io(std::io::Error::other(format!("{which} server task failed: {join_error}"))),
    }
}
