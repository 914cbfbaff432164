//! ember's network front end.
//!
//! HTTP serves Phoenix's REST API v1, OTLP/HTTP (`POST /v1/traces`, protobuf and JSON) and the
//! health and version endpoints; gRPC serves OTLP `TraceService/Export`. Both OTLP transports
//! call the one [`ingest`] path, which decodes off the async threads, queues spans in the
//! store's bounded ingest queue and answers only after they are committed. The playground
//! ([`playground`]) forwards OpenAI-style chat completions to LLM providers and traces them.

pub mod app;
mod body;
pub mod config;
mod error;
#[cfg(feature = "graphql")]
mod graphql;
mod grpc;
pub mod ingest;
mod legacy_evaluations;
mod openapi;
mod params;
pub mod playground;
mod routes;
mod rows;
pub mod secret_box;
mod serve;
mod span_frame;
#[cfg(feature = "arrow")]
mod span_frame_arrow;
mod spool;
mod state;
#[cfg(feature = "ui")]
mod ui;
mod wire;

pub use app::app;
pub use config::ServeConfig;
pub use serve::{BoundServer, Server};
pub use state::AppState;

/// The Phoenix version whose API ember implements; clients gate features on it.
pub const PHOENIX_COMPATIBLE_VERSION: &str = "20.26.1";
