//! The span as ember stores it: OpenInference attributes as a nested JSON object,
//! times in Unix nanoseconds, ids as lowercase hex.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub trace_id: String,
    pub span_id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub span_kind: SpanKind,
    pub start_time: i64,
    pub end_time: i64,
    /// Nested attributes (dotted keys unflattened), as Phoenix stores them.
    pub attributes: Map<String, Value>,
    pub events: Vec<SpanEvent>,
    pub status_code: StatusCode,
    pub status_message: String,
}

/// The deepest attribute nesting ember stores; deeper spans are rejected at ingest, so every
/// stored span can be read back (JSON readers stop at 128 levels).
pub const MAX_ATTRIBUTE_DEPTH: usize = 96;

/// How many levels of objects and arrays a JSON value nests (a scalar is 0).
pub fn json_depth(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(json_depth).max().unwrap_or(0),
        Value::Array(items) => 1 + items.iter().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
}

impl Span {
    /// Why the span cannot be stored, if it cannot.
    pub fn storage_problem(&self) -> Option<String> {
        let depth = 1 + self.attributes.values().map(json_depth).max().unwrap_or(0);
        (depth > MAX_ATTRIBUTE_DEPTH).then(|| format!("attributes nest {depth} levels deep; at most {MAX_ATTRIBUTE_DEPTH} are stored"))
    }

    /// The value at a dotted path of the nested attributes, e.g. `session.id`.
    pub fn attribute(&self, dotted_path: &str) -> Option<&Value> {
        let mut segments = dotted_path.split('.');
        let mut current = self.attributes.get(segments.next()?)?;
        for segment in segments {
            current = current.as_object()?.get(segment)?;
        }
        Some(current)
    }

    /// The session id (`session.id`, stringified and trimmed), when the span carries one.
    pub fn session_id(&self) -> Option<String> {
        let text = match self.attribute(crate::semconv::SESSION_ID)? {
            Value::String(text) => text.trim().to_string(),
            Value::Null => return None,
            other => other.to_string(),
        };
        (!text.is_empty()).then_some(text)
    }

    /// Token count attribute coerced to an integer; 0 when absent or unparsable, as Phoenix does.
    pub fn token_count(&self, dotted_path: &str) -> i64 {
        match self.attribute(dotted_path) {
            Some(Value::Number(number)) => number.as_i64().or_else(|| number.as_f64().map(|f| f as i64)).unwrap_or(0),
            Some(Value::String(text)) => text.trim().parse::<f64>().map(|f| f as i64).unwrap_or(0),
            _ => 0,
        }
    }
}

/// A span with the project it is routed to. The project applies when the span starts a new
/// trace; a span of an existing trace joins that trace's project.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutedSpan {
    pub project_name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanEvent {
    pub name: String,
    /// Unix nanoseconds.
    pub timestamp: i64,
    /// Flat dotted keys, as Phoenix keeps event attributes.
    pub attributes: Map<String, Value>,
}

/// OpenInference span kinds; anything else is `UNKNOWN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpanKind {
    Tool,
    Chain,
    Llm,
    Prompt,
    Retriever,
    Embedding,
    Agent,
    Reranker,
    Evaluator,
    Guardrail,
    Unknown,
}

impl SpanKind {
    pub const ALL: [SpanKind; 11] = [
        SpanKind::Tool,
        SpanKind::Chain,
        SpanKind::Llm,
        SpanKind::Prompt,
        SpanKind::Retriever,
        SpanKind::Embedding,
        SpanKind::Agent,
        SpanKind::Reranker,
        SpanKind::Evaluator,
        SpanKind::Guardrail,
        SpanKind::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Tool => "TOOL",
            SpanKind::Chain => "CHAIN",
            SpanKind::Llm => "LLM",
            SpanKind::Prompt => "PROMPT",
            SpanKind::Retriever => "RETRIEVER",
            SpanKind::Embedding => "EMBEDDING",
            SpanKind::Agent => "AGENT",
            SpanKind::Reranker => "RERANKER",
            SpanKind::Evaluator => "EVALUATOR",
            SpanKind::Guardrail => "GUARDRAIL",
            SpanKind::Unknown => "UNKNOWN",
        }
    }

    /// Case-insensitive parse; unknown names become `UNKNOWN`.
    pub fn parse(text: &str) -> SpanKind {
        let upper = text.trim().to_ascii_uppercase();
        Self::ALL.into_iter().find(|kind| kind.as_str() == upper).unwrap_or(SpanKind::Unknown)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusCode {
    Unset,
    Ok,
    Error,
}

impl StatusCode {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusCode::Unset => "UNSET",
            StatusCode::Ok => "OK",
            StatusCode::Error => "ERROR",
        }
    }

    pub fn parse(text: &str) -> Option<StatusCode> {
        match text.trim().to_ascii_uppercase().as_str() {
            "UNSET" => Some(StatusCode::Unset),
            "OK" => Some(StatusCode::Ok),
            "ERROR" => Some(StatusCode::Error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn span_with(attributes: Value) -> Span {
        Span {
            trace_id: "0".repeat(32),
            span_id: "0".repeat(16),
            parent_id: None,
            name: "s".into(),
            span_kind: SpanKind::Llm,
            start_time: 0,
            end_time: 0,
            attributes: attributes.as_object().cloned().unwrap(),
            events: vec![],
            status_code: StatusCode::Unset,
            status_message: String::new(),
        }
    }

    #[test]
    fn reads_session_and_token_counts_from_nested_attributes() {
        let span = span_with(json!({"session": {"id": " s-1 "}, "llm": {"token_count": {"prompt": 12, "completion": "7"}}}));
        assert_eq!(span.session_id().as_deref(), Some("s-1"));
        assert_eq!(span.token_count("llm.token_count.prompt"), 12);
        assert_eq!(span.token_count("llm.token_count.completion"), 7);
        assert_eq!(span.token_count("llm.token_count.total"), 0);
        assert_eq!(span_with(json!({"session": {"id": 42}})).session_id().as_deref(), Some("42"));
        assert_eq!(span_with(json!({"session": {"id": "  "}})).session_id(), None);
    }

    #[test]
    fn span_kind_parsing_is_case_insensitive_with_unknown_fallback() {
        assert_eq!(SpanKind::parse("llm"), SpanKind::Llm);
        assert_eq!(SpanKind::parse("Retriever"), SpanKind::Retriever);
        assert_eq!(SpanKind::parse("banana"), SpanKind::Unknown);
    }
}
