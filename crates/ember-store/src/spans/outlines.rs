//! A trace's spans without their attributes and events: what a span tree and waterfall need,
//! read from the span rows alone (no attribute decompression), so a trace of thousands of spans
//! costs little.

use ember_core::{SpanKind, StatusCode};

use crate::engine::backend::Statement;
use crate::error::{Result, StoreError};
use crate::Store;

#[derive(Debug, Clone, PartialEq)]
pub struct SpanOutline {
    pub rowid: i64,
    pub span_id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub span_kind: SpanKind,
    pub start_time: i64,
    pub end_time: i64,
    pub status_code: StatusCode,
    /// Prompt plus completion tokens of the span itself (LLM spans only).
    pub own_tokens: i64,
}

impl Store {
    /// Every span of a trace by start time, as outlines.
    pub async fn span_outlines_of_trace(&self, trace_rowid: i64) -> Result<Vec<SpanOutline>> {
        let sql = "SELECT id, span_id, parent_id, name, span_kind, start_time, end_time, status_code, \
                   COALESCE(llm_token_count_prompt, 0) + COALESCE(llm_token_count_completion, 0) \
                   FROM spans WHERE trace_rowid = $1 ORDER BY start_time, id";
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [trace_rowid.into()])).await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.get(4)?;
                let status: String = row.get(7)?;
                Ok(SpanOutline {
                    rowid: row.get(0)?,
                    span_id: row.get(1)?,
                    parent_id: row.get(2)?,
                    name: row.get(3)?,
                    span_kind: SpanKind::parse(&kind),
                    start_time: row.get(5)?,
                    end_time: row.get(6)?,
                    status_code: StatusCode::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("stored status {status:?}")))?,
                    own_tokens: row.get(8)?,
                })
            })
            .collect()
    }
}
