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

/// The most JSON text a span's attributes and events may take. Stored values are read back only
/// up to twice this (the SQLite codec's cap; PostgreSQL's JSONB stops at 255 MiB), and JSON
/// escaping can make a value six times its size (`\u0001`), so the check is on the JSON text.
pub const MAX_ATTRIBUTES_JSON_BYTES: usize = 128 << 20;

/// How many levels of objects and arrays a JSON value nests (a scalar is 0), and an upper bound
/// of its JSON text length, in one walk (it runs for every ingested span).
fn json_depth_and_length_bound(value: &Value) -> (usize, usize) {
    // Six bytes per byte covers the longest escape (`\u00XX`); numbers are at most 24 bytes.
    let text = |text: &str| 2 + 6 * text.len();
    let nested = |items: &mut dyn Iterator<Item = (usize, &Value)>| {
        let (mut depth, mut bound) = (0, 2);
        for (overhead, item) in items {
            let (item_depth, item_bound) = json_depth_and_length_bound(item);
            depth = depth.max(item_depth);
            bound += overhead + item_bound;
        }
        (1 + depth, bound)
    };
    match value {
        Value::Null | Value::Bool(_) => (0, 5),
        Value::Number(_) => (0, 24),
        Value::String(string) => (0, text(string)),
        Value::Array(items) => nested(&mut items.iter().map(|item| (1, item))),
        Value::Object(map) => nested(&mut map.iter().map(|(key, item)| (text(key) + 2, item))),
    }
}

/// The exact JSON text length of `value`.
fn json_length(value: &impl Serialize) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

impl Span {
    /// Why the span cannot be stored (so that it could not be read back whole), if it cannot.
    pub fn storage_problem(&self) -> Option<String> {
        let (mut depth, mut bound) = (1, 0);
        for (key, value) in &self.attributes {
            let (value_depth, value_bound) = json_depth_and_length_bound(value);
            depth = depth.max(1 + value_depth);
            bound += 8 + 6 * key.len() + value_bound;
        }
        if depth > MAX_ATTRIBUTE_DEPTH {
            return Some(format!("attributes nest {depth} levels deep; at most {MAX_ATTRIBUTE_DEPTH} are stored"));
        }
        let event_attributes = self.events.iter().flat_map(|event| &event.attributes);
        bound += event_attributes.map(|(key, value)| 8 + 6 * key.len() + json_depth_and_length_bound(value).1).sum::<usize>();
        let values = || std::iter::once(&self.attributes).chain(self.events.iter().map(|event| &event.attributes));
        if bound <= MAX_ATTRIBUTES_JSON_BYTES {
            return None;
        }
        // Only large spans get here; they are measured exactly.
        let length: usize = values().map(json_length).sum();
        (length > MAX_ATTRIBUTES_JSON_BYTES)
            .then(|| format!("its attributes take {length} bytes as JSON; at most {MAX_ATTRIBUTES_JSON_BYTES} are stored"))
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

    /// D4: 22 MiB of control characters is 132 MiB of JSON, which could not be read back.
    #[test]
    fn spans_whose_json_would_be_too_large_to_read_back_are_refused() {
        let escaped = span_with(json!({"input": {"value": "\u{1}".repeat(22 << 20)}}));
        assert!(escaped.storage_problem().is_some_and(|problem| problem.contains("bytes as JSON; at most 134217728")));
        // The same length of plain text fits (the bound is exceeded, the exact length is not).
        assert_eq!(span_with(json!({"input": {"value": "a".repeat(22 << 20)}})).storage_problem(), None);
        let mut with_event = span_with(json!({}));
        with_event.events.push(SpanEvent {
            name: "e".into(),
            timestamp: 0,
            attributes: json!({"x": "\u{1}".repeat(22 << 20)}).as_object().cloned().unwrap(),
        });
        assert!(with_event.storage_problem().is_some());
    }
}
