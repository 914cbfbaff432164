//! Spans prepared for writing: JSON serialized and derived columns computed before they reach
//! the single writer, by the (parallel) decoding stage of each transport.

use ember_core::cost::{self, TokenCounts};
use ember_core::semconv::{LLM_TOKEN_COUNT_COMPLETION, LLM_TOKEN_COUNT_PROMPT};
use ember_core::{RoutedSpan, SpanKind, StatusCode};

use std::sync::Arc;

use serde_json::Value;

use crate::engine::dialect::Dialect;
use crate::sqlite::attribute_index::{values_of, IndexedValue};
use crate::sqlite::codec::Codec;
use crate::write::cumulative::Counts;

#[derive(Debug, Clone)]
pub struct PreparedSpan {
    pub project_name: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub span_kind: SpanKind,
    pub start_time: i64,
    pub end_time: i64,
    pub status_code: StatusCode,
    pub status_message: String,
    /// Attributes as stored: the codec's bytes on SQLite (see `codec`), JSON text on PostgreSQL.
    pub attributes: Vec<u8>,
    pub events_json: String,
    pub session_id: Option<String>,
    /// Kept for LLM spans only, as Phoenix does.
    pub llm_token_count_prompt: Option<i64>,
    pub llm_token_count_completion: Option<i64>,
    /// SQLite: the values `span_attribute_values` keeps for this span.
    pub(crate) indexed_values: Vec<IndexedValue>,
    /// LLM spans naming a model: what the writer prices (boxed: most spans have none).
    pub(crate) usage: Option<Box<Usage>>,
}

/// The model an LLM span names and its tokens by type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Usage {
    pub model_name: String,
    /// Lower case; empty when the span names none.
    pub provider: String,
    pub tokens: TokenCounts,
}

impl PreparedSpan {
    pub(crate) fn new(routed: RoutedSpan, dialect: Dialect, codec: Option<&Arc<Codec>>) -> Self {
        let RoutedSpan { project_name, mut span } = routed;
        let mut project_name = project_name;
        if dialect == Dialect::Postgres {
            without_nul_characters(&mut span, &mut project_name);
        }
        let (llm_token_count_prompt, llm_token_count_completion) = if span.span_kind == SpanKind::Llm {
            (Some(span.token_count(LLM_TOKEN_COUNT_PROMPT)), Some(span.token_count(LLM_TOKEN_COUNT_COMPLETION)))
        } else {
            (None, None)
        };
        let usage = cost::priced_model(&span)
            .map(|(model_name, provider)| Box::new(Usage { model_name, provider, tokens: TokenCounts::of_span(&span) }));
        let indexed_values = match dialect {
            Dialect::Sqlite => values_of(&span.attributes),
            Dialect::Postgres => Vec::new(),
        };
        let attributes_json = json_bytes(&span.attributes);
        let attributes = match codec {
            Some(codec) => codec.encode(&attributes_json),
            None => attributes_json,
        };
        let events_json = serde_json::to_string(&span.events).unwrap_or_else(|_| "[]".into());
        PreparedSpan {
            session_id: span.session_id(),
            project_name,
            trace_id: span.trace_id,
            span_id: span.span_id,
            parent_id: span.parent_id,
            name: span.name,
            span_kind: span.span_kind,
            start_time: span.start_time,
            end_time: span.end_time,
            status_code: span.status_code,
            status_message: span.status_message,
            attributes,
            events_json,
            llm_token_count_prompt,
            llm_token_count_completion,
            indexed_values,
            usage,
        }
    }

    /// Bytes held in memory, for the ingest queue's byte bound.
    pub fn approximate_bytes(&self) -> usize {
        200 + self.usage.as_ref().map_or(0, |usage| 120 + usage.model_name.len() + usage.provider.len())
            + self.indexed_values.iter().map(|v| 48 + v.path.len() + v.value.len()).sum::<usize>()
            + self.attributes.len()
            + self.events_json.len()
            + self.name.len()
            + self.status_message.len()
            + self.project_name.len()
    }

    /// The content bytes of the span's row, as the rollups count them.
    pub(crate) fn stored_bytes(&self) -> i64 {
        ember_query::schema::span_row_bytes(
            self.attributes.len(),
            self.events_json.len(),
            self.name.len(),
            self.status_message.len(),
            self.span_id.len(),
        )
    }

    pub(crate) fn own_counts(&self) -> Counts {
        Counts {
            errors: i64::from(self.status_code == StatusCode::Error),
            prompt_tokens: self.llm_token_count_prompt.unwrap_or(0),
            completion_tokens: self.llm_token_count_completion.unwrap_or(0),
        }
    }
}

/// The JSON text of attributes, written into a buffer sized for a typical span so it is not
/// grown (and copied) several times on the way.
fn json_bytes(attributes: &serde_json::Map<String, Value>) -> Vec<u8> {
    let mut text = Vec::with_capacity(4096);
    // Serialising a JSON map of JSON values cannot fail.
    if serde_json::to_writer(&mut text, attributes).is_err() {
        return b"{}".to_vec();
    }
    text
}

/// PostgreSQL text and JSONB cannot hold U+0000, which OTLP strings may carry: it becomes U+FFFD,
/// so such a span is stored (slightly altered) instead of failing its whole batch.
fn without_nul_characters(span: &mut ember_core::Span, project_name: &mut String) {
    fn clean(text: &mut String) {
        if text.contains('\0') {
            *text = text.replace('\0', "\u{FFFD}");
        }
    }
    fn clean_value(value: &mut Value) {
        match value {
            Value::String(text) => clean(text),
            Value::Array(items) => items.iter_mut().for_each(clean_value),
            Value::Object(map) => clean_map(map),
            _ => {}
        }
    }
    fn clean_map(map: &mut serde_json::Map<String, Value>) {
        if map.keys().any(|key| key.contains('\0')) {
            *map = std::mem::take(map).into_iter().map(|(mut key, value)| (clean_owned(&mut key), value)).collect();
        }
        map.values_mut().for_each(clean_value);
    }
    fn clean_owned(key: &mut String) -> String {
        clean(key);
        std::mem::take(key)
    }
    clean(project_name);
    // Ids from OTLP are hex, but uploaded tables (Arrow, JSON) name spans with any text.
    clean(&mut span.trace_id);
    clean(&mut span.span_id);
    if let Some(parent_id) = &mut span.parent_id {
        clean(parent_id);
    }
    clean(&mut span.name);
    clean(&mut span.status_message);
    clean_map(&mut span.attributes);
    for event in &mut span.events {
        clean(&mut event.name);
        clean_map(&mut event.attributes);
    }
}
