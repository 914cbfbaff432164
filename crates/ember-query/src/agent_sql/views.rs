//! The views an agent's SQL reads: their documentation, and their definitions over the tables
//! as `WITH` parts for each dialect, limited to the caller's projects.

use super::ALLOWED_FUNCTIONS;
use crate::schema::{Dialect, SQLITE_SPAN_ATTRIBUTES_JSON};

/// A view an agent reads: its name, what a row is, its columns.
pub struct View {
    pub name: &'static str,
    pub row: &'static str,
    /// (column, type, meaning)
    pub columns: &'static [(&'static str, &'static str, &'static str)],
}

const TIME: &str = "text, ISO 8601 UTC (2026-12-01T09:30:00.000Z): compare with such text";

pub const VIEWS: &[View] = &[
    View {
        name: "projects",
        row: "a project the caller may read",
        columns: &[("id", "integer", "the project's row id"), ("name", "text", ""), ("description", "text", ""), ("created_at", TIME, "")],
    },
    View {
        name: "spans",
        row: "a span of those projects",
        columns: &[
            ("id", "integer", "the span's row id"),
            ("span_id", "text", "OpenTelemetry span id"),
            ("trace_id", "text", "OpenTelemetry trace id"),
            ("parent_id", "text", "the parent's span id; NULL for a root span"),
            ("project_id", "integer", "projects.id"),
            ("name", "text", ""),
            ("span_kind", "text", "LLM, CHAIN, TOOL, RETRIEVER, EMBEDDING, AGENT, RERANKER, GUARDRAIL, EVALUATOR, UNKNOWN"),
            ("status_code", "text", "OK, ERROR or UNSET"),
            ("status_message", "text", ""),
            ("start_time", TIME, ""),
            ("end_time", TIME, ""),
            ("latency_ms", "real", ""),
            ("llm_token_count_prompt", "integer", "LLM spans"),
            ("llm_token_count_completion", "integer", "LLM spans"),
            ("attributes", "JSON (text on SQLite, jsonb on PostgreSQL)", "nested OpenInference attributes: SQLite `json_extract(attributes, '$.llm.model_name')` or `attributes ->> '$.llm.model_name'`, PostgreSQL `attributes #>> '{llm,model_name}'`"),
        ],
    },
    View {
        name: "traces",
        row: "a trace of those projects",
        columns: &[
            ("id", "integer", "the trace's row id"),
            ("trace_id", "text", "OpenTelemetry trace id"),
            ("project_id", "integer", "projects.id"),
            ("session_id", "integer", "sessions.id; NULL outside a session"),
            ("start_time", TIME, ""),
            ("end_time", TIME, ""),
            ("latency_ms", "real", ""),
        ],
    },
    View {
        name: "sessions",
        row: "a session (the traces sharing a `session.id`) of those projects",
        columns: &[
            ("id", "integer", "the session's row id"),
            ("session_id", "text", "the `session.id` attribute"),
            ("project_id", "integer", "projects.id"),
            ("start_time", TIME, ""),
            ("end_time", TIME, ""),
        ],
    },
    View {
        name: "span_annotations",
        row: "an annotation (evaluation, label, note) of one of those spans",
        columns: &ANNOTATION_COLUMNS_SPAN,
    },
    View { name: "trace_annotations", row: "an annotation of one of those traces", columns: &ANNOTATION_COLUMNS_TRACE },
    View { name: "session_annotations", row: "an annotation of one of those sessions", columns: &ANNOTATION_COLUMNS_SESSION },
];

const fn annotation_columns(target: (&'static str, &'static str, &'static str)) -> [(&'static str, &'static str, &'static str); 9] {
    [
        ("id", "integer", "the annotation's row id"),
        target,
        ("name", "text", "e.g. correctness"),
        ("label", "text", ""),
        ("score", "real", ""),
        ("explanation", "text", ""),
        ("annotator_kind", "text", "HUMAN, LLM or CODE"),
        ("identifier", "text", "annotations are unique per (target, name, identifier)"),
        ("created_at", TIME, ""),
    ]
}

const ANNOTATION_COLUMNS_SPAN: [(&str, &str, &str); 9] = annotation_columns(("span_id", "text", "spans.span_id"));
const ANNOTATION_COLUMNS_TRACE: [(&str, &str, &str); 9] = annotation_columns(("trace_id", "text", "traces.trace_id"));
const ANNOTATION_COLUMNS_SESSION: [(&str, &str, &str); 9] = annotation_columns(("session_id", "integer", "sessions.id"));

/// A table of the database itself, never a view of the same name (on SQLite a `WITH`
/// part would otherwise read itself; PostgreSQL's non-recursive `WITH` parts never do).
fn table(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!("main.{name}"),
        Dialect::Postgres => name.to_string(),
    }
}

/// Unix nanoseconds as ISO 8601 UTC text with milliseconds, the same on both engines.
fn iso(dialect: Dialect, nanos: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!("strftime('%Y-%m-%dT%H:%M:%fZ', {nanos} / 1000000000.0, 'unixepoch')"),
        Dialect::Postgres => {
            format!("to_char(to_timestamp({nanos} / 1000000000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")
        }
    }
}

/// A span's attributes: JSON text with the metadata patch merged on SQLite, `JSONB` on PostgreSQL.
fn span_attributes(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => SQLITE_SPAN_ATTRIBUTES_JSON,
        Dialect::Postgres => "spans.attributes",
    }
}

/// The views as `WITH` parts, each limited to the projects `visible` (a condition on
/// `projects`, or every project).
fn view_parts(dialect: Dialect, visible: Option<&str>) -> String {
    let d = dialect;
    let t = |name: &str| table(d, name);
    let annotations = |view: &str, table: &str, key: &str, target_view: &str, target_column: &str, target_name: &str| {
        format!(
            "{view} AS (SELECT a.id, {target_view}.{target_column} AS {target_name}, a.name, a.label, a.score, a.explanation, a.annotator_kind, \
             a.identifier, {} AS created_at FROM {} AS a JOIN {target_view} ON {target_view}.id = a.{key})",
            iso(d, "a.created_at"),
            t(table)
        )
    };
    [
        format!(
            "projects AS (SELECT projects.id, projects.name, projects.description, {} AS created_at FROM {} AS projects WHERE {})",
            iso(d, "projects.created_at"),
            t("projects"),
            visible.unwrap_or("1 = 1")
        ),
        format!(
            "spans AS (SELECT spans.id, spans.span_id, traces.trace_id, spans.parent_id, spans.project_id, spans.name, spans.span_kind, \
             spans.status_code, spans.status_message, {} AS start_time, {} AS end_time, (spans.end_time - spans.start_time) / 1000000.0 AS latency_ms, \
             spans.llm_token_count_prompt, spans.llm_token_count_completion, {} AS attributes \
             FROM {} AS spans JOIN {} AS traces ON traces.id = spans.trace_rowid WHERE spans.project_id IN (SELECT id FROM projects))",
            iso(d, "spans.start_time"),
            iso(d, "spans.end_time"),
            span_attributes(d),
            t("spans"),
            t("traces")
        ),
        format!(
            "traces AS (SELECT traces.id, traces.trace_id, traces.project_id, traces.session_rowid AS session_id, {} AS start_time, \
             {} AS end_time, (traces.end_time - traces.start_time) / 1000000.0 AS latency_ms FROM {} AS traces \
             WHERE traces.project_id IN (SELECT id FROM projects))",
            iso(d, "traces.start_time"),
            iso(d, "traces.end_time"),
            t("traces")
        ),
        format!(
            "sessions AS (SELECT s.id, s.session_id, s.project_id, {} AS start_time, {} AS end_time FROM {} AS s \
             WHERE s.project_id IN (SELECT id FROM projects))",
            iso(d, "s.start_time"),
            iso(d, "s.end_time"),
            t("project_sessions")
        ),
        annotations("span_annotations", "span_annotations", "span_rowid", "spans", "span_id", "span_id"),
        annotations("trace_annotations", "trace_annotations", "trace_rowid", "traces", "trace_id", "trace_id"),
        annotations("session_annotations", "project_session_annotations", "session_rowid", "sessions", "id", "session_id"),
    ]
    .join(", ")
}

/// The statement that runs `checked` (from [`checked_query`]) over the views of the projects
/// `visible`, at most `max_rows` rows. On PostgreSQL each row comes back as one JSON text
/// column (`row_to_json`, in column order), as its result types vary.
pub fn statement(dialect: Dialect, checked: &str, visible: Option<&str>, max_rows: usize) -> String {
    let rows = match dialect {
        Dialect::Sqlite => "ember_answer.*",
        Dialect::Postgres => "CAST(row_to_json(ember_answer) AS TEXT)",
    };
    format!("WITH {} SELECT {rows} FROM ({checked}) AS ember_answer LIMIT {max_rows}", view_parts(dialect, visible))
}

/// The views described for an agent, in Markdown.
pub fn reference(dialect: Dialect) -> String {
    let mut text = format!(
        "# ember's SQL views\n\nQueries run on {} over these views of the projects you may read; nothing else can be read, \
         and only SELECT runs. Functions: {}. Not allowed: WITH RECURSIVE, `||`, table functions.\n",
        match dialect {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
        },
        ALLOWED_FUNCTIONS.join(", ")
    );
    for view in VIEWS {
        text.push_str(&format!("\n## {}\n\nOne row per {}.\n\n| column | type | |\n|---|---|---|\n", view.name, view.row));
        for (column, kind, meaning) in view.columns {
            text.push_str(&format!("| {column} | {kind} | {meaning} |\n"));
        }
    }
    text
}
