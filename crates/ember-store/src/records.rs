//! Rows as the store returns them.

use ember_core::{Span, SpanEvent, SpanKind, StatusCode};

use crate::backend::Row;
use crate::codec::Codec;
use crate::dialect::Dialect;
use crate::error::{Result, StoreError};

/// One page of a keyset-paginated list. `next_cursor` is the rowid of the first item of the
/// next page (Phoenix's cursors are inclusive), `None` on the last page.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<i64>,
}

impl<T> Page<T> {
    /// Splits `limit + 1` fetched rows into a page and the next cursor.
    pub(crate) fn from_overfetch(mut items: Vec<T>, limit: usize, rowid: impl Fn(&T) -> i64) -> Self {
        let next_cursor = if items.len() > limit {
            items.truncate(limit + 1);
            items.pop().map(|next| rowid(&next))
        } else {
            None
        };
        Page { items, next_cursor }
    }
}

/// A stored span with its denormalised columns.
#[derive(Debug, Clone)]
pub struct SpanRecord {
    pub rowid: i64,
    pub trace_rowid: i64,
    pub project_id: i64,
    pub span: Span,
    pub cumulative_error_count: i64,
    pub cumulative_llm_token_count_prompt: i64,
    pub cumulative_llm_token_count_completion: i64,
    pub llm_token_count_prompt: Option<i64>,
    pub llm_token_count_completion: Option<i64>,
}

/// Columns selected for a [`SpanRecord`], in the order [`SpanRecord::from_row`] reads them.
pub(crate) fn span_columns(dialect: Dialect) -> String {
    format!(
        "spans.id, spans.trace_rowid, spans.project_id, traces.trace_id, spans.span_id, \
         spans.parent_id, spans.name, spans.span_kind, spans.start_time, spans.end_time, spans.status_code, \
         spans.status_message, {}, spans.events, spans.cumulative_error_count, \
         spans.cumulative_llm_token_count_prompt, spans.cumulative_llm_token_count_completion, \
         spans.llm_token_count_prompt, spans.llm_token_count_completion",
        dialect.attributes_column()
    )
}

impl SpanRecord {
    pub(crate) fn from_row(row: &Row, codec: Option<&Codec>) -> Result<Self> {
        let attributes = row.attributes_json(12, codec)?;
        let events: String = row.get(13)?;
        let status: String = row.get(10)?;
        let span_kind: String = row.get(7)?;
        let span = Span {
            trace_id: row.get(3)?,
            span_id: row.get(4)?,
            parent_id: row.get(5)?,
            name: row.get(6)?,
            span_kind: SpanKind::parse(&span_kind),
            start_time: row.get(8)?,
            end_time: row.get(9)?,
            status_code: StatusCode::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("stored status {status:?}")))?,
            status_message: row.get(11)?,
            attributes: serde_json::from_str(&attributes)?,
            events: serde_json::from_str::<Vec<SpanEvent>>(&events)?,
        };
        Ok(SpanRecord {
            rowid: row.get(0)?,
            trace_rowid: row.get(1)?,
            project_id: row.get(2)?,
            span,
            cumulative_error_count: row.get(14)?,
            cumulative_llm_token_count_prompt: row.get(15)?,
            cumulative_llm_token_count_completion: row.get(16)?,
            llm_token_count_prompt: row.get(17)?,
            llm_token_count_completion: row.get(18)?,
        })
    }
}
