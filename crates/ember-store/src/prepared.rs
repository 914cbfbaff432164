//! Spans prepared for writing: JSON serialized and derived columns computed before they reach
//! the single writer, by the (parallel) decoding stage of each transport.

use ember_core::semconv::{LLM_TOKEN_COUNT_COMPLETION, LLM_TOKEN_COUNT_PROMPT};
use ember_core::{RoutedSpan, SpanKind, StatusCode};

use crate::cumulative::Counts;

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
    /// Attributes as stored (see [`crate::codec`]).
    pub attributes: Vec<u8>,
    pub events_json: String,
    pub session_id: Option<String>,
    /// Kept for LLM spans only, as Phoenix does.
    pub llm_token_count_prompt: Option<i64>,
    pub llm_token_count_completion: Option<i64>,
}

impl PreparedSpan {
    pub(crate) fn new(routed: RoutedSpan, codec: &std::sync::Arc<crate::codec::Codec>) -> Self {
        let RoutedSpan { project_name, span } = routed;
        let (llm_token_count_prompt, llm_token_count_completion) = if span.span_kind == SpanKind::Llm {
            (Some(span.token_count(LLM_TOKEN_COUNT_PROMPT)), Some(span.token_count(LLM_TOKEN_COUNT_COMPLETION)))
        } else {
            (None, None)
        };
        // Serialising a JSON map of JSON values cannot fail.
        let attributes = codec.encode(&serde_json::to_string(&span.attributes).unwrap_or_else(|_| "{}".into()));
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
        }
    }

    /// Bytes held in memory, for the ingest queue's byte bound.
    pub fn approximate_bytes(&self) -> usize {
        200 + self.attributes.len() + self.events_json.len() + self.name.len() + self.status_message.len() + self.project_name.len()
    }

    pub(crate) fn own_counts(&self) -> Counts {
        Counts {
            errors: i64::from(self.status_code == StatusCode::Error),
            prompt_tokens: self.llm_token_count_prompt.unwrap_or(0),
            completion_tokens: self.llm_token_count_completion.unwrap_or(0),
        }
    }
}
