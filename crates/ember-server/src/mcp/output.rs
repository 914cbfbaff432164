//! What the MCP tools answer with, sized for a model's context window: spans as short summaries
//! with the attributes asked for, every long value cut to a budget of characters (and said so),
//! traces as trees of those summaries.

use ember_core::time::format_nanos;
use ember_core::{GlobalId, GlobalType};
use ember_store::SpanRecord;
use serde::Serialize;
use serde_json::{Map, Value};

/// The attributes a span summary shows unless the caller names others.
pub const DEFAULT_COLUMNS: &[&str] =
    &["input.value", "output.value", "llm.model_name", "llm.token_count.total", "tool.name", "session.id", "metadata"];

/// Characters of a value shown unless the caller asks for another budget.
pub const DEFAULT_VALUE_CHARS: usize = 400;

/// A span in a few lines.
#[derive(Debug, Serialize)]
pub struct SpanSummary {
    /// GlobalID (what other tools take).
    pub id: String,
    pub span_id: String,
    pub trace_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    pub name: String,
    pub span_kind: &'static str,
    pub status_code: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status_message: String,
    pub start_time: String,
    pub latency_ms: f64,
    /// The attributes asked for (dotted keys), present ones only.
    pub attributes: Map<String, Value>,
    /// Exception events' messages.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<String>,
}

/// A page of span summaries.
#[derive(Debug, Serialize)]
pub struct SpanPage {
    pub spans: Vec<SpanSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A span whole: its summary with every attribute, its events and its annotations.
#[derive(Debug, Serialize)]
pub struct SpanDetail {
    #[serde(flatten)]
    pub summary: SpanSummary,
    pub events: Vec<SpanEventOut>,
    /// In the REST API's annotation shape.
    pub annotations: Vec<Value>,
}

#[derive(Debug, Serialize)]
pub struct SpanEventOut {
    pub name: String,
    pub timestamp: String,
    pub attributes: Map<String, Value>,
}

/// Span annotations in the REST API's shape (owned, so an answer can outlive the records).
pub fn span_annotations(records: &[ember_store::AnnotationRecord]) -> Vec<Value> {
    let rendered = records.iter().map(|record| crate::wire::annotation(ember_core::AnnotationTarget::Span, record));
    rendered.filter_map(|annotation| serde_json::to_value(annotation).ok()).collect()
}

/// Which attributes a summary shows: named dotted paths, or all of them (`*`).
pub enum Columns<'a> {
    All,
    Named(Vec<&'a str>),
}

/// The most attribute paths a summary may be asked to show (each is looked up in every span).
pub const MAX_COLUMNS: usize = 200;

impl<'a> Columns<'a> {
    pub fn new(asked: &'a Option<Vec<String>>) -> Result<Columns<'a>, ember_service::ServiceError> {
        Ok(match asked {
            None => Columns::Named(DEFAULT_COLUMNS.to_vec()),
            Some(names) if names.len() > MAX_COLUMNS => {
                return Err(ember_service::ServiceError::invalid(format!("At most {MAX_COLUMNS} columns may be asked for")));
            }
            Some(names) if names.iter().any(|name| name == "*") => Columns::All,
            Some(names) => Columns::Named(names.iter().map(String::as_str).collect()),
        })
    }
}

pub fn span_summary(record: &SpanRecord, columns: &Columns<'_>, max_chars: usize) -> SpanSummary {
    let span = &record.span;
    let mut attributes = Map::new();
    match columns {
        Columns::All => {
            let _ = ember_otlp::attributes::try_for_each_flat::<()>(&span.attributes, |key, value| {
                attributes.insert(key.to_string(), cut_leaves(value, max_chars));
                Ok(())
            });
        }
        Columns::Named(paths) => {
            for path in paths {
                if let Some(value) = span.attribute(path).filter(|value| !value.is_null()) {
                    attributes.insert((*path).to_string(), cut_leaves(value, max_chars));
                }
            }
        }
    }
    let exceptions = span
        .events
        .iter()
        .filter(|event| event.name == "exception")
        .filter_map(|event| event.attributes.get("exception.message").and_then(Value::as_str))
        .map(|message| cut(message, max_chars))
        .collect();
    SpanSummary {
        id: GlobalId::encode(GlobalType::Span, record.rowid),
        span_id: span.span_id.clone(),
        trace_id: span.trace_id.clone(),
        parent_id: span.parent_id.clone(),
        name: span.name.clone(),
        span_kind: span.span_kind.as_str(),
        status_code: span.status_code.as_str(),
        status_message: cut(&span.status_message, max_chars),
        start_time: format_nanos(span.start_time),
        latency_ms: (span.end_time - span.start_time) as f64 / 1e6,
        attributes,
        exceptions,
    }
}

/// Items of an array shown by [`cut_leaves`]; the rest are counted.
const SHOWN_ITEMS: usize = 50;

/// A JSON document (an example's input, a run's output) with each string cut to `max_chars`
/// and each array to its first items, so its shape stays readable.
pub fn cut_leaves(value: &Value, max_chars: usize) -> Value {
    match value {
        Value::String(text) => Value::String(cut(text, max_chars)),
        Value::Array(items) => {
            let mut shown: Vec<Value> = items.iter().take(SHOWN_ITEMS).map(|item| cut_leaves(item, max_chars)).collect();
            if items.len() > SHOWN_ITEMS {
                shown.push(Value::String(format!("… [{} more items]", items.len() - SHOWN_ITEMS)));
            }
            Value::Array(shown)
        }
        Value::Object(map) => Value::Object(map.iter().map(|(key, item)| (key.clone(), cut_leaves(item, max_chars))).collect()),
        other => other.clone(),
    }
}

/// `text` cut to `max_chars` characters, saying how many were left out.
pub fn cut(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_string(),
        Some((end, _)) => {
            let left_out = text[end..].chars().count();
            format!("{}… [{left_out} more characters]", &text[..end])
        }
    }
}

/// A span of a trace at its depth in the tree (0 for a root).
#[derive(Debug, Serialize)]
pub struct TraceSpan {
    pub depth: usize,
    #[serde(flatten)]
    pub span: SpanSummary,
}

/// A trace: its totals and its spans depth first, each under its parent (a span whose parent is
/// not stored is a root). Flat rather than nested, so no trace is too deep to render.
#[derive(Debug, Serialize)]
pub struct TraceTree {
    pub id: String,
    pub trace_id: String,
    pub project_id: String,
    pub start_time: String,
    pub latency_ms: f64,
    pub token_count_total: i64,
    pub span_count: usize,
    /// Spans left out past the tool's span budget.
    #[serde(skip_serializing_if = "is_zero")]
    pub spans_left_out: usize,
    pub spans: Vec<TraceSpan>,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// `summaries` (in start order) depth first, children in start order under their parent.
pub fn depth_first(summaries: Vec<SpanSummary>) -> Vec<TraceSpan> {
    use std::collections::{HashMap, HashSet};
    let known: HashSet<String> = summaries.iter().map(|summary| summary.span_id.clone()).collect();
    let mut children: HashMap<String, Vec<SpanSummary>> = HashMap::new();
    let mut roots = Vec::new();
    for summary in summaries {
        match summary.parent_id.clone().filter(|parent| known.contains(parent)) {
            Some(parent) => children.entry(parent).or_default().push(summary),
            None => roots.push(summary),
        }
    }
    let mut ordered = Vec::with_capacity(known.len());
    // Reversed, so popping visits them in start order.
    let mut stack: Vec<(SpanSummary, usize)> = roots.into_iter().rev().map(|root| (root, 0)).collect();
    while let Some((span, depth)) = stack.pop() {
        if let Some(under) = children.remove(&span.span_id) {
            stack.extend(under.into_iter().rev().map(|child| (child, depth + 1)));
        }
        ordered.push(TraceSpan { depth, span });
    }
    // Spans whose parents form a cycle were never reached from a root: listed as roots.
    let mut unreached: Vec<SpanSummary> = children.into_values().flatten().collect();
    unreached.sort_by(|a, b| a.start_time.cmp(&b.start_time));
    ordered.extend(unreached.into_iter().map(|span| TraceSpan { depth: 0, span }));
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_and_say_how_much_was_left_out() {
        assert_eq!(cut("héllo wörld", 5), "héllo… [6 more characters]");
        assert_eq!(cut("short", 5), "short");
        let document = serde_json::json!({"a": ["x".repeat(12), 1], "b": (0..60).collect::<Vec<_>>()});
        let cut_document = cut_leaves(&document, 10);
        assert_eq!(cut_document["a"], serde_json::json!(["xxxxxxxxxx… [2 more characters]", 1]));
        assert_eq!(cut_document["b"].as_array().map(Vec::len), Some(51));
        assert_eq!(cut_document["b"][50], "… [10 more items]");
    }
}
