//! `/mcp`: ember as a Model Context Protocol server (Streamable HTTP, through `rmcp`), for coding
//! agents and assistants.
//!
//! The endpoint is a route of the API's table like any other: the request is authenticated by
//! the same middleware (an API key as `Authorization: Bearer`), needs a signed-in caller when
//! authentication is on, and each tool calls the same service as the REST route for the same
//! question with that caller, so roles and per-project access apply unchanged. Tools parse their
//! typed arguments (their input schemas are generated from the structs in [`tools`]), call a
//! service and render the answer; a service error comes back as an MCP tool error carrying the
//! error's client message.
//!
//! The server is stateless (no `Mcp-Session-Id`): every POST carries one JSON-RPC message and is
//! answered on its own, so any replica behind a load balancer can answer it.

mod output;
mod resources;
mod server;
mod tools;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::AppState;
pub use server::EmberMcp;

/// The MCP endpoint's service, built once at startup when MCP is on.
#[derive(Clone)]
pub struct McpEndpoint {
    service: Arc<StreamableHttpService<EmberMcp, NeverSessionManager>>,
}

impl McpEndpoint {
    /// The endpoint over these services, refusing bodies over `max_body_bytes`; `run_sql`
    /// queries are cancelled past `sql_budget`.
    pub fn new(services: ember_service::Services, max_body_bytes: usize, sql_budget: std::time::Duration) -> McpEndpoint {
        let server = EmberMcp::new(services, sql_budget);
        let config = StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_max_request_body_bytes(max_body_bytes)
            // ember is reached under any host name; browsers' cross-site writes are refused
            // by ember's own CSRF guard, and every request is authenticated.
            .disable_allowed_hosts();
        let service = StreamableHttpService::new(move || Ok(server.clone()), Arc::new(NeverSessionManager::default()), config);
        McpEndpoint { service: Arc::new(service) }
    }
}

/// `POST /mcp`: a JSON-RPC message, answered by the MCP server (404 when it is off).
pub async fn handle(State(state): State<AppState>, request: Request) -> Response {
    match &state.mcp {
        Some(endpoint) => endpoint.service.handle(request).await.map(axum::body::Body::new),
        None => (StatusCode::NOT_FOUND, "The MCP server is off (PHOENIX_ENABLE_MCP_SERVER=false)").into_response(),
    }
}
