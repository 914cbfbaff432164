//! Rows as the store returns them.

use ember_core::{Span, SpanEvent, SpanKind, StatusCode};

use crate::engine::backend::Row;
use crate::engine::dialect::Dialect;
use crate::error::{Result, StoreError};
use crate::sqlite::codec::Codec;
use crate::Store;

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

/// The columns of a [`SpanRecord`] row: the select list and the decoder both come from this one
/// table, so they cannot disagree. Read by position (span pages are the hottest read).
#[derive(Clone, Copy)]
enum Column {
    Id,
    TraceRowid,
    ProjectId,
    TraceId,
    SpanId,
    ParentId,
    Name,
    SpanKind,
    StartTime,
    EndTime,
    StatusCode,
    StatusMessage,
    Attributes,
    Events,
    CumulativeErrorCount,
    CumulativePromptTokens,
    CumulativeCompletionTokens,
    PromptTokens,
    CompletionTokens,
}

/// Each column's SQL, in select order (`None`: the dialect's attributes expression).
const COLUMNS: [(Column, Option<&str>); 19] = [
    (Column::Id, Some("spans.id")),
    (Column::TraceRowid, Some("spans.trace_rowid")),
    (Column::ProjectId, Some("spans.project_id")),
    (Column::TraceId, Some("traces.trace_id")),
    (Column::SpanId, Some("spans.span_id")),
    (Column::ParentId, Some("spans.parent_id")),
    (Column::Name, Some("spans.name")),
    (Column::SpanKind, Some("spans.span_kind")),
    (Column::StartTime, Some("spans.start_time")),
    (Column::EndTime, Some("spans.end_time")),
    (Column::StatusCode, Some("spans.status_code")),
    (Column::StatusMessage, Some("spans.status_message")),
    (Column::Attributes, None),
    (Column::Events, Some("spans.events")),
    (Column::CumulativeErrorCount, Some("spans.cumulative_error_count")),
    (Column::CumulativePromptTokens, Some("spans.cumulative_llm_token_count_prompt")),
    (Column::CumulativeCompletionTokens, Some("spans.cumulative_llm_token_count_completion")),
    (Column::PromptTokens, Some("spans.llm_token_count_prompt")),
    (Column::CompletionTokens, Some("spans.llm_token_count_completion")),
];

/// Columns selected for a [`SpanRecord`] (over `spans` joined with `traces`).
pub(crate) fn span_columns(dialect: Dialect) -> String {
    COLUMNS.iter().map(|(_, sql)| sql.unwrap_or_else(|| dialect.span_attributes_column())).collect::<Vec<_>>().join(", ")
}

/// Span rows decoded within a read's budget of JSON (attributes and events). Stored spans
/// compress very well (a 64 MB repetitive span is under 1 MB on disk), so a page of 100 could
/// expand to gigabytes; a read that would pass `StoreOptions::max_read_json_bytes` answers 422
/// asking for fewer spans. The first span of a read is always decoded, so every stored span can
/// be read alone.
pub(crate) fn span_records<'a>(store: &Store, rows: impl IntoIterator<Item = &'a Row>) -> Result<Vec<SpanRecord>> {
    let mut records = Vec::new();
    ReadBudget::new(store).decode(rows, &mut records)?;
    Ok(records)
}

/// A stored span whose attributes and events are left as the JSON text they are stored as
/// (`record.span.attributes` and `record.span.events` are empty): for readers that stream the
/// JSON themselves, such as exports, instead of building a tree per span.
#[derive(Debug, Clone)]
pub struct SpanText {
    pub record: SpanRecord,
    /// A JSON object of nested attributes.
    pub attributes: String,
    /// A JSON array of [`SpanEvent`]s.
    pub events: String,
}

impl SpanText {
    /// The record with its attributes and events parsed.
    pub fn parse(self) -> Result<SpanRecord> {
        let SpanText { mut record, attributes, events } = self;
        record.span.attributes = serde_json::from_str(&attributes)?;
        record.span.events = serde_json::from_str::<Vec<SpanEvent>>(&events)?;
        Ok(record)
    }
}

/// A decoded span row, as a tree or as text.
pub(crate) trait FromSpanText: Sized {
    fn from_text(text: SpanText) -> Result<Self>;
}

impl FromSpanText for SpanRecord {
    fn from_text(text: SpanText) -> Result<Self> {
        text.parse()
    }
}

impl FromSpanText for SpanText {
    fn from_text(text: SpanText) -> Result<Self> {
        Ok(text)
    }
}

/// The JSON one read has decoded so far, for reads made of several statements.
pub(crate) struct ReadBudget<'s> {
    store: &'s Store,
    decoded: usize,
}

impl<'s> ReadBudget<'s> {
    pub(crate) fn new(store: &'s Store) -> Self {
        ReadBudget { store, decoded: 0 }
    }

    /// Decodes `rows` onto `records`, refusing once the read passes its budget.
    pub(crate) fn decode<'a, T: FromSpanText>(&mut self, rows: impl IntoIterator<Item = &'a Row>, records: &mut Vec<T>) -> Result<()> {
        let limit = self.store.max_read_json_bytes;
        for row in rows {
            let text = SpanText::from_row(row, self.store.codec.as_deref())?;
            self.decoded += text.attributes.len() + text.events.len();
            if self.decoded > limit && !records.is_empty() {
                return Err(StoreError::Invalid(format!(
                    "the spans asked for take more than {limit} bytes as JSON; ask for fewer (a smaller limit, fewer traces or a narrower time window)"
                )));
            }
            records.push(T::from_text(text)?);
        }
        Ok(())
    }
}

impl SpanRecord {
    pub(crate) fn from_row(row: &Row, codec: Option<&Codec>) -> Result<Self> {
        SpanText::from_row(row, codec)?.parse()
    }
}

impl SpanText {
    fn from_row(row: &Row, codec: Option<&Codec>) -> Result<Self> {
        let at = |column: Column| column as usize;
        let attributes = row.attributes_json(at(Column::Attributes), codec)?;
        let events: String = row.get(at(Column::Events))?;
        let status: String = row.get(at(Column::StatusCode))?;
        let span_kind: String = row.get(at(Column::SpanKind))?;
        let span = Span {
            trace_id: row.get(at(Column::TraceId))?,
            span_id: row.get(at(Column::SpanId))?,
            parent_id: row.get(at(Column::ParentId))?,
            name: row.get(at(Column::Name))?,
            span_kind: SpanKind::parse(&span_kind),
            start_time: row.get(at(Column::StartTime))?,
            end_time: row.get(at(Column::EndTime))?,
            status_code: StatusCode::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("stored status {status:?}")))?,
            status_message: row.get(at(Column::StatusMessage))?,
            attributes: Default::default(),
            events: Vec::new(),
        };
        let record = SpanRecord {
            rowid: row.get(at(Column::Id))?,
            trace_rowid: row.get(at(Column::TraceRowid))?,
            project_id: row.get(at(Column::ProjectId))?,
            span,
            cumulative_error_count: row.get(at(Column::CumulativeErrorCount))?,
            cumulative_llm_token_count_prompt: row.get(at(Column::CumulativePromptTokens))?,
            cumulative_llm_token_count_completion: row.get(at(Column::CumulativeCompletionTokens))?,
            llm_token_count_prompt: row.get(at(Column::PromptTokens))?,
            llm_token_count_completion: row.get(at(Column::CompletionTokens))?,
        };
        Ok(SpanText { record, attributes, events })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_column_table_is_in_select_order() {
        for (position, (column, _)) in COLUMNS.iter().enumerate() {
            assert_eq!(*column as usize, position);
        }
    }
}
