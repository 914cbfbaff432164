//! The HTTP listener (HTTP/1.1, as Phoenix serves, and HTTP/2 with prior knowledge, so gRPC
//! clients told to use one port — the `arize` SDK's `ARIZE_SINGLE_PORT` — reach the gRPC services
//! here too): hyper with a timer, so a client that does not send a request head within
//! the header timeout is disconnected (idle keep-alive connections included), at most
//! `max_connections` connections at once (past that, a new connection is closed at once rather
//! than costing memory and a file descriptor), accept errors such as file-descriptor exhaustion
//! logged and retried after a pause, and a graceful shutdown that lets requests in flight finish.
//! A request body that stops arriving for as long is cut off too. With TLS, each connection's
//! handshake must finish within the header timeout as well.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// How long the listener waits after a failed accept (e.g. no file descriptor left).
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// The connection limits of the HTTP listener.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
}

/// Serves `router` on `listener` (over TLS with `tls`) until `shutdown` resolves, then waits for
/// open connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    builder.http2().timer(TokioTimer::new());
    // Over TLS, HTTP/1.1 only (gRPC over TLS has its own port).
    let tls_builder = Arc::new(builder.clone().http1_only());
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed; retrying shortly");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = stream;
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            tracing::warn!(max = limits.max_connections, "connection refused: at the connection limit");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(
            tower::ServiceBuilder::new()
                .map_request(move |mut request: axum::http::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(crate::auth_rate_limit::PeerAddress(peer));
                    request
                })
                .layer(RequestBodyTimeoutLayer::new(limits.header_timeout))
                .service(router.clone()),
        );
        let watcher = graceful.watcher();
        let Some(acceptor) = tls.clone() else {
            let builder = Arc::clone(&builder);
            tokio::spawn(async move {
                // Which protocol a connection speaks is known from its first bytes, which are
                // awaited no longer than a request head.
                let mut first = [0_u8; 1];
                if !matches!(tokio::time::timeout(limits.header_timeout, stream.peek(&mut first)).await, Ok(Ok(1..))) {
                    drop(permit);
                    return;
                }
                if let Err(error) = watcher.watch(builder.serve_connection(TokioIo::new(stream), service)).await {
                    tracing::debug!(%error, "connection ended with an error");
                }
                drop(permit);
            });
            continue;
        };
        let builder = Arc::clone(&tls_builder);
        tokio::spawn(async move {
            match tokio::time::timeout(limits.header_timeout, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => {
                    if let Err(error) = watcher.watch(builder.serve_connection(TokioIo::new(stream), service)).await {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                }
                Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The TLS connections of `listener`, for the gRPC server: each handshake runs in its own task
/// and must finish within `handshake_timeout`, so a slow or silent client delays no one else.
/// Accepting stops when the returned stream is dropped.
pub fn tls_connections(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    handshake_timeout: Duration,
) -> tokio_stream::wrappers::ReceiverStream<Result<tokio_rustls::server::TlsStream<tokio::net::TcpStream>, std::io::Error>> {
    // Handshakes finished but not yet taken by the server; more wait in their own tasks.
    const READY: usize = 64;
    let (ready, connections) = tokio::sync::mpsc::channel(READY);
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        tracing::warn!(%error, "accepting a gRPC connection failed; retrying shortly");
                        tokio::time::sleep(ACCEPT_RETRY).await;
                        continue;
                    }
                },
                () = ready.closed() => return,
            };
            let _ = stream.set_nodelay(true);
            let (acceptor, ready) = (acceptor.clone(), ready.clone());
            tokio::spawn(async move {
                match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => {
                        let _ = ready.send(Ok(stream)).await;
                    }
                    Ok(Err(error)) => tracing::debug!(%error, "gRPC TLS handshake failed"),
                    Err(_) => tracing::debug!("gRPC TLS handshake timed out"),
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(connections)
}
