//! Read-only SQL over ember's views, for questions the other tools do not answer.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, RoleServer};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{limit, value_chars};
use crate::mcp::output::cut_leaves;
use crate::mcp::EmberMcp;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RunSql {
    /// One SELECT over the views projects, spans, traces, sessions, span_annotations,
    /// trace_annotations and session_annotations (read ember://docs/sql-views for their columns
    /// and the engine's SQL dialect), e.g. `SELECT name, count(*) AS n, avg(latency_ms) FROM
    /// spans WHERE status_code = 'ERROR' GROUP BY name ORDER BY n DESC`.
    pub sql: String,
    /// At most this many rows (default 100, at most 1000).
    pub max_rows: Option<u32>,
    /// Longer strings are cut to this many characters (default 400).
    pub max_value_chars: Option<u32>,
}

/// A query's answer.
#[derive(Debug, Serialize)]
pub struct SqlRows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    /// More rows matched than were returned.
    pub truncated: bool,
}

#[tool_router(router = sql_tools, vis = "pub(in crate::mcp)")]
impl EmberMcp {
    /// Runs one read-only SQL query over ember's views of the projects you may read (nothing
    /// else is reachable; writes, other tables and unsafe functions are refused), within a time
    /// budget and a row cap.
    #[tool(annotations(read_only_hint = true))]
    async fn run_sql(&self, Parameters(args): Parameters<RunSql>, context: RequestContext<RoleServer>) -> CallToolResult {
        let budget = self.sql_budget;
        self.run(&context, async |services, caller| {
            let (max_rows, chars) = (limit(args.max_rows, 100, 1000)?, value_chars(args.max_value_chars));
            let answer = services.agent_sql().query(caller, &args.sql, max_rows, budget).await?;
            Ok(SqlRows {
                columns: answer.columns,
                rows: answer.rows.iter().map(|row| row.iter().map(|value| cut_leaves(value, chars)).collect()).collect(),
                truncated: answer.truncated,
            })
        })
        .await
    }
}
