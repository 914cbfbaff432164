//! Spans, traces and sessions: search with a filter, a span whole, a trace as a tree.

use ember_core::time::{format_nanos, parse_timestamp};
use ember_core::GlobalType;
use ember_service::{ProjectRef, ServiceError};
use ember_store::{Filter, Grain, SpanFilters};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, RoleServer};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{cursor, limit, value_chars};
use crate::mcp::output::{self, Columns, SpanPage, TraceTree};
use crate::mcp::EmberMcp;
use crate::wire;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchSpans {
    /// The project's name or GlobalID.
    pub project: String,
    /// A Phoenix filter condition, e.g. `span_kind == 'LLM' and status_code == 'ERROR'`,
    /// `metadata['customer_id'] == 'c-42'`, `latency_ms > 2000`, `'refund' in input.value`,
    /// `evals['correctness'].label == 'incorrect'`.
    pub filter: Option<String>,
    /// An Arize AX filter instead, e.g. `status_code = 'ERROR' AND attributes.llm.model_name = 'gpt-4o'`.
    pub ax_filter: Option<String>,
    /// Spans starting at or after this time (ISO 8601, e.g. 2026-12-01T00:00:00Z).
    pub start_time: Option<String>,
    /// Spans starting before this time (ISO 8601).
    pub end_time: Option<String>,
    /// Spans starting in the last this many hours (instead of start_time).
    pub last_hours: Option<f64>,
    /// Only root spans (the top span of each trace).
    #[serde(default)]
    pub root_spans_only: bool,
    /// At most this many spans, newest first (default 20, at most 200).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Attributes to show (dotted paths such as `llm.model_name`, or `*` for all); by default
    /// input and output values, model, total tokens, tool name, session id and metadata.
    pub columns: Option<Vec<String>>,
    /// Longer values are cut to this many characters (default 400).
    pub max_value_chars: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetSpan {
    /// The span's GlobalID or OpenTelemetry span id.
    pub span: String,
    /// Longer values are cut to this many characters (default 400).
    pub max_value_chars: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetTrace {
    /// The trace's GlobalID or OpenTelemetry trace id.
    pub trace: String,
    /// Attributes to show for each span (dotted paths, or `*`); the defaults of search_spans.
    pub columns: Option<Vec<String>>,
    /// Longer values are cut to this many characters (default 400).
    pub max_value_chars: Option<u32>,
    /// At most this many spans, earliest first (default 200, at most 2000).
    pub max_spans: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListSessions {
    /// The project's name or GlobalID.
    pub project: String,
    /// At most this many sessions, newest first (default 20, at most 200).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetSession {
    /// The session's GlobalID or its `session.id`.
    pub session: String,
}

/// The filters of a search: its condition and its time window.
fn span_filters(args: &SearchSpans) -> Result<SpanFilters, ServiceError> {
    let invalid = |error: ember_store::QueryError| ServiceError::invalid(format!("Invalid filter: {error}"));
    let condition =
        match (args.filter.as_deref().filter(|f| !f.trim().is_empty()), args.ax_filter.as_deref().filter(|f| !f.trim().is_empty())) {
            (Some(_), Some(_)) => return Err(ServiceError::invalid("Give either filter (Phoenix) or ax_filter (Arize AX), not both")),
            (Some(phoenix), None) => Some(Filter::phoenix(phoenix, Grain::Span).map_err(invalid)?),
            (None, Some(arize)) => Some(Filter::arize(arize).map_err(invalid)?),
            (None, None) => None,
        };
    let time = |name: &str, raw: Option<&str>| {
        raw.map(|raw| parse_timestamp(raw).ok_or_else(|| ServiceError::invalid(format!("{name} {raw:?} is not an ISO 8601 time"))))
            .transpose()
    };
    let mut start_time = time("start_time", args.start_time.as_deref())?;
    if let Some(hours) = args.last_hours {
        if !(hours > 0.0 && hours.is_finite()) {
            return Err(ServiceError::invalid("last_hours must be a positive number"));
        }
        let now = ember_core::time::now_nanos();
        start_time = Some(now.saturating_sub((hours * 3.6e12) as i64));
    }
    Ok(SpanFilters {
        parent_id: args.root_spans_only.then_some(None),
        start_time,
        end_time: time("end_time", args.end_time.as_deref())?,
        condition,
        ..SpanFilters::default()
    })
}

#[tool_router(router = span_tools, vis = "pub(in crate::mcp)")]
impl EmberMcp {
    /// Finds a project's spans, newest first, with a Phoenix (or Arize AX) filter and a time
    /// window. Each span comes as a short summary with the attributes asked for.
    #[tool(annotations(read_only_hint = true))]
    async fn search_spans(&self, Parameters(args): Parameters<SearchSpans>, context: RequestContext<RoleServer>) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let filters = span_filters(&args)?;
            let (limit, cursor) = (limit(args.limit, 20, 200)?, cursor(args.cursor.as_deref(), GlobalType::Span)?);
            let page = services.spans().list(caller, ProjectRef::Identifier(&args.project), &filters, cursor, limit).await?;
            let (columns, chars) = (Columns::new(&args.columns)?, value_chars(args.max_value_chars));
            Ok(SpanPage {
                spans: page.items.iter().map(|record| output::span_summary(record, &columns, chars)).collect(),
                next_cursor: page.next_cursor.map(|rowid| ember_core::GlobalId::encode(GlobalType::Span, rowid)),
            })
        })
        .await
    }

    /// One span whole: every attribute (long values cut), its events and its annotations.
    #[tool(annotations(read_only_hint = true))]
    async fn get_span(&self, Parameters(args): Parameters<GetSpan>, context: RequestContext<RoleServer>) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let record = services.spans().resolve(caller, &args.span).await?;
            let chars = value_chars(args.max_value_chars);
            let annotations = services.annotations().of_span(caller, record.rowid).await?;
            Ok(output::SpanDetail {
                summary: output::span_summary(&record, &Columns::All, chars),
                events: record
                    .span
                    .events
                    .iter()
                    .map(|event| output::SpanEventOut {
                        name: event.name.clone(),
                        timestamp: format_nanos(event.timestamp),
                        attributes: event.attributes.iter().map(|(key, value)| (key.clone(), output::cut_leaves(value, chars))).collect(),
                    })
                    .collect(),
                annotations: output::span_annotations(&annotations),
            })
        })
        .await
    }

    /// A trace as a tree: its spans depth first, each with its depth, kind, status, latency and
    /// the attributes asked for.
    #[tool(annotations(read_only_hint = true))]
    async fn get_trace(&self, Parameters(args): Parameters<GetTrace>, context: RequestContext<RoleServer>) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let trace = services.traces().resolve(caller, &args.trace).await?;
            let mut spans = services.spans().of_traces(caller, &[trace.rowid]).await?;
            let max_spans = limit(args.max_spans, 200, 2000)?;
            let span_count = spans.len();
            spans.truncate(max_spans);
            let (columns, chars) = (Columns::new(&args.columns)?, value_chars(args.max_value_chars));
            let summaries = spans.iter().map(|record| output::span_summary(record, &columns, chars)).collect();
            Ok(TraceTree {
                id: ember_core::GlobalId::encode(GlobalType::Trace, trace.rowid),
                trace_id: trace.trace_id.clone(),
                project_id: ember_core::GlobalId::encode(GlobalType::Project, trace.project_id),
                start_time: format_nanos(trace.start_time),
                latency_ms: (trace.end_time - trace.start_time) as f64 / 1e6,
                token_count_total: trace.token_count_prompt + trace.token_count_completion,
                span_count,
                spans_left_out: span_count - spans.len(),
                spans: output::depth_first(summaries),
            })
        })
        .await
    }

    /// A project's sessions (conversations grouped by `session.id`), newest first, with their
    /// traces and token counts.
    #[tool(annotations(read_only_hint = true))]
    async fn list_sessions(&self, Parameters(args): Parameters<ListSessions>, context: RequestContext<RoleServer>) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let (limit, cursor) = (limit(args.limit, 20, 200)?, cursor(args.cursor.as_deref(), GlobalType::ProjectSession)?);
            let page = services.sessions().list(caller, ProjectRef::Identifier(&args.project), None, cursor, limit, false).await?;
            Ok(wire::page(page.items.iter().map(wire::session).collect(), page.next_cursor, GlobalType::ProjectSession))
        })
        .await
    }

    /// One session by GlobalID or `session.id`, with its traces.
    #[tool(annotations(read_only_hint = true))]
    async fn get_session(&self, Parameters(args): Parameters<GetSession>, context: RequestContext<RoleServer>) -> CallToolResult {
        self.run(&context, async |services, caller| Ok(wire::session(&services.sessions().resolve(caller, &args.session).await?))).await
    }
}
