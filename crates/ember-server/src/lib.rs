//! ember's transports: HTTP (Phoenix's REST API v1, OTLP/HTTP, GraphQL, MCP, the web UI, health
//! and version) and gRPC (OTLP `TraceService/Export`).
//!
//! Every transport is a thin adapter over `ember-service`: it establishes the caller, parses the
//! request, calls the service for the resource, and renders the answer or the error (through its
//! [`ErrorCode`](ember_core::ErrorCode)). No handler holds a rule of its own or reaches the store.

pub mod app;
/// The `arize` SDK's wire formats (public so tests can build its messages).
pub mod arize;
pub mod auth_rate_limit;
pub mod authentication;
mod body;
mod body_budget;
pub mod config;
mod csrf;
mod error;
#[cfg(feature = "flight")]
mod flight;
#[cfg(feature = "graphql")]
mod graphql;
/// Who may run each GraphQL root field (for the role matrix).
#[cfg(feature = "graphql")]
pub use graphql::access as graphql_access;
#[cfg(feature = "arrow")]
mod arrow_framing;
mod grpc;
mod legacy_evaluations;
mod listener;
/// `/mcp`: the Model Context Protocol server (public so tests can build its endpoint).
pub mod mcp;
mod openapi;
mod params;
mod root_path;
mod routes;
mod rows;
mod secret_rules;
mod serve;
pub mod session_cookies;
mod span_frame;
#[cfg(feature = "arrow")]
mod span_frame_arrow;
mod spool;
mod state;
pub mod tls;
mod tls_client_verifier;
mod tls_legacy_pem;
#[cfg(all(test, feature = "ui", feature = "graphql"))]
mod transport_errors;
#[cfg(feature = "ui")]
mod ui;
/// The web UI's pages and forms with their access (for the role matrix).
#[cfg(feature = "ui")]
pub use ui::ui_routes;
mod untrusted;
mod wire;

pub use app::app;
pub use body_budget::BodyBudget;
pub use config::ServeConfig;
pub use serve::{BoundServer, Server};
pub use state::AppState;

/// The Phoenix version whose API ember implements; clients gate features on it.
pub const PHOENIX_COMPATIBLE_VERSION: &str = "20.26.1";
