//! The MCP server: its description, its tools (one router per resource, in [`super::tools`]),
//! and how a tool finds its caller and renders its answer.

use axum::http::request::Parts;
use ember_service::{Caller, ServiceError, Services};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, ListResourcesResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{tool_handler, ErrorData, RoleServer, ServerHandler};
use serde::Serialize;

/// What an agent is told about ember when it connects.
const INSTRUCTIONS: &str = "ember stores the traces of LLM applications (Phoenix-compatible). \
Start with list_projects, then search_spans with a Phoenix filter (e.g. span_kind == 'LLM' and status_code == 'ERROR', \
metadata['customer_id'] == 'c-42', latency_ms > 2000, 'refund' in input.value) and a time window; get_trace shows a \
trace's spans as a tree. The resource ember://docs/filter-language describes the filters; run_sql answers other questions in SQL over the \
views ember://docs/sql-views describes. Ids returned by one tool (GlobalIDs) are accepted by the others. Long values are cut; ask \
for fewer columns or a larger max_value_chars when one matters.";

/// ember's MCP server over the services; cloned for every request (the router is shared).
#[derive(Clone)]
pub struct EmberMcp {
    pub(super) services: Services,
    /// How long a `run_sql` query may run.
    pub(super) sql_budget: std::time::Duration,
    tool_router: ToolRouter<EmberMcp>,
}

impl EmberMcp {
    pub fn new(services: Services, sql_budget: std::time::Duration) -> EmberMcp {
        let tool_router = EmberMcp::project_tools()
            + EmberMcp::span_tools()
            + EmberMcp::annotation_tools()
            + EmberMcp::dataset_tools()
            + EmberMcp::prompt_tools()
            + EmberMcp::sql_tools();
        EmberMcp { services, sql_budget, tool_router }
    }

    /// Runs a tool as the request's caller and renders its answer: the value as JSON text, or a
    /// tool error with the service error's client message.
    pub(super) async fn run<T: Serialize>(
        &self,
        context: &RequestContext<RoleServer>,
        tool: impl AsyncFnOnce(&Services, &Caller) -> Result<T, ServiceError>,
    ) -> CallToolResult {
        let outcome = match caller(context) {
            Ok(caller) => tool(&self.services, &caller).await,
            Err(error) => Err(error),
        };
        match outcome.and_then(|value| serde_json::to_string(&value).map_err(|_| ServiceError::internal("an answer could not be rendered")))
        {
            Ok(text) => CallToolResult::success(vec![ContentBlock::text(text)]),
            Err(error) => {
                if error.code() == ember_core::ErrorCode::Internal {
                    tracing::error!(%error, "an MCP tool failed");
                }
                CallToolResult::error(vec![ContentBlock::text(ember_core::ClassifiedError::client_message(&error))])
            }
        }
    }
}

/// The caller the HTTP request authenticated as (rmcp hands the request's parts to the tool).
fn caller(context: &RequestContext<RoleServer>) -> Result<Caller, ServiceError> {
    let parts = context.extensions.get::<Parts>().ok_or_else(|| ServiceError::internal("an MCP request came without its HTTP parts"))?;
    crate::authentication::caller_of(&parts.extensions)
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for EmberMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(Implementation::new("ember", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(super::resources::list()))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        match super::resources::read(&request.uri, &self.services) {
            Some(contents) => Ok(ReadResourceResult::new(vec![contents]).into()),
            None => Err(ErrorData::resource_not_found(format!("No resource {}", request.uri), None)),
        }
    }
}
