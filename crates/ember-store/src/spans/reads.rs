//! Span reads (keyset-paginated lists, the span-query frame) and span deletion.

use std::collections::{BTreeSet, HashSet};

use ember_query::Filter;
use sea_query::{Alias, Cond, Expr, Order, Query, SelectStatement};
use serde_json::Value;

use crate::engine::backend::{Statement, Transaction};
use crate::engine::dialect::Dialect;
use crate::engine::schema::{Spans, Traces};
use crate::error::Result;
use crate::spans::records::{span_columns, span_records, FromSpanText, Page, ReadBudget, SpanRecord, SpanText};
use crate::write::batch::propagate_to_ancestors;
use crate::write::cumulative::Counts;
use crate::write::rollups;
use crate::Store;

/// `attribute=key:value` from the REST API: a dotted key (`metadata.tags.0`; all-digit
/// segments index arrays) and a JSON-typed value.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeFilter {
    pub key: String,
    pub value: Value,
}

/// The simple filters of `GET /v1/projects/{p}/spans`. Empty lists mean "no filter".
#[derive(Debug, Clone, Default)]
pub struct SpanFilters {
    pub trace_ids: Vec<String>,
    pub span_ids: Vec<String>,
    /// `Some(None)`: root spans only; `Some(Some(id))`: children of `id`.
    pub parent_id: Option<Option<String>>,
    pub names: Vec<String>,
    pub span_kinds: Vec<String>,
    pub status_codes: Vec<String>,
    pub attributes: Vec<AttributeFilter>,
    /// Inclusive lower bound on start time (Unix nanoseconds).
    pub start_time: Option<i64>,
    /// Exclusive upper bound on start time.
    pub end_time: Option<i64>,
    /// A span filter (Phoenix or Arize AX language).
    pub condition: Option<Filter>,
}

/// Options of the span-query frame behind `POST /v1/spans`.
#[derive(Debug, Clone)]
pub struct SpanQueryOptions {
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub limit: usize,
    pub root_spans_only: bool,
    /// With `root_spans_only`, also count spans whose parent is not stored as roots.
    pub orphan_span_as_root_span: bool,
    /// A span filter (the query's `filter.condition`).
    pub condition: Option<Filter>,
}

/// Time windows holding this many spans are not read through the start-time index (SQLite would
/// read and sort every span of the window), but by walking the project's spans newest first.
const LARGE_WINDOW: usize = 5000;

/// How SQLite reads a page of a project's spans starting in a time window.
enum WindowRead {
    /// Through the start-time index, then sorted: a small window.
    StartTimeIndex,
    /// Walking the project's spans newest first, from the newest span starting in the window
    /// when given (the walk would pass every newer span first).
    NewestFirst { from: Option<i64> },
}

fn span_select(dialect: Dialect) -> SelectStatement {
    Query::select()
        .expr(Expr::cust(span_columns(dialect)))
        .from(Spans::Table)
        .inner_join(Traces::Table, Expr::col((Traces::Table, Traces::Id)).equals((Spans::Table, Spans::TraceRowid)))
        .to_owned()
}

impl Store {
    /// Spans of a project, newest first (`id DESC`); `cursor` is the rowid of the first span of the page.
    pub async fn list_spans(&self, project_id: i64, filters: &SpanFilters, cursor: Option<i64>, limit: usize) -> Result<Page<SpanRecord>> {
        self.list_decoded(project_id, filters, cursor, limit).await
    }

    /// [`Store::list_spans`] with the attributes and events left as JSON text.
    pub async fn list_span_texts(
        &self,
        project_id: i64,
        filters: &SpanFilters,
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<Page<SpanText>> {
        self.list_decoded(project_id, filters, cursor, limit).await
    }

    async fn list_decoded<T: FromSpanText>(
        &self,
        project_id: i64,
        filters: &SpanFilters,
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<Page<T>> {
        let mut query = self.filtered_spans(span_select(self.dialect), project_id, filters, cursor).await?;
        query.order_by((Spans::Table, Spans::Id), Order::Desc).limit(limit as u64 + 1);
        let rows = self.fetch_within_budget(self.build(&query)).await?;
        let mut items = Vec::with_capacity(rows.len().min(limit));
        ReadBudget::new(self).decode(&rows[..rows.len().min(limit)], &mut items)?;
        let next_cursor = rows.get(limit).map(|row| row.get(0)).transpose()?;
        Ok(Page { items, next_cursor })
    }

    /// How many of a project's spans pass the filters (with rowids up to `cursor`, when given).
    pub async fn count_filtered_spans(&self, project_id: i64, filters: &SpanFilters, cursor: Option<i64>) -> Result<i64> {
        let count = Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from(Spans::Table)
            .inner_join(Traces::Table, Expr::col((Traces::Table, Traces::Id)).equals((Spans::Table, Spans::TraceRowid)))
            .to_owned();
        let query = self.filtered_spans(count, project_id, filters, cursor).await?;
        let rows = self.fetch_within_budget(self.build(&query)).await?;
        rows.first().map_or(Ok(0), |row| row.get(0))
    }

    /// `select` (over `spans` joined with `traces`) restricted to the project's spans that pass
    /// the filters, with rowids up to `cursor`.
    async fn filtered_spans(
        &self,
        mut query: SelectStatement,
        project_id: i64,
        filters: &SpanFilters,
        cursor: Option<i64>,
    ) -> Result<SelectStatement> {
        // The filters first: a few candidates of theirs may drive the query.
        let mut conditions = Vec::new();
        let mut drives_by_rowid = false;
        for filter in &filters.attributes {
            // SQLite: a string the attribute index holds is the filter language's text equality
            // (for such a string the same spans) and is planned as it is.
            if let (Dialect::Sqlite, Value::String(text)) = (self.dialect, &filter.value) {
                let path = ember_query::schema::dotted_path(&filter.key);
                if let Some(indexed) = Filter::indexed_text_equality(&path, text) {
                    let planned = self.filter_plan(project_id, &indexed).await?;
                    drives_by_rowid |= planned.drives_by_span_rowid;
                    conditions.push(planned.expr);
                    continue;
                }
            }
            conditions.push(crate::engine::dialect::attribute_equals(self.dialect, &filter.key, &filter.value));
        }
        if let Some(condition) = &filters.condition {
            let planned = self.filter_plan(project_id, condition).await?;
            drives_by_rowid |= planned.drives_by_span_rowid;
            conditions.push(planned.expr);
        }
        let by_ids = !(filters.span_ids.is_empty() && filters.trace_ids.is_empty());
        // SQLite: `+` keeps the project's indexes from driving where ids, or a filter's few
        // candidates, find the spans better (the project index would walk all its spans; with
        // candidates SQLite would read and sort every one instead of taking them newest first
        // until the page is full).
        let steered = self.dialect == Dialect::Sqlite && (by_ids || drives_by_rowid);
        if steered {
            query.and_where(Expr::cust_with_values("+spans.project_id = ?", [project_id]));
        } else {
            query.and_where(Expr::col((Spans::Table, Spans::ProjectId)).eq(project_id));
        }
        if let Some(cursor) = cursor {
            query.and_where(Expr::col((Spans::Table, Spans::Id)).lte(cursor));
        }
        if !filters.trace_ids.is_empty() {
            query.and_where(Expr::col((Traces::Table, Traces::TraceId)).is_in(filters.trace_ids.iter().map(String::as_str)));
        }
        for (column, values) in [
            (Spans::SpanId, &filters.span_ids),
            (Spans::Name, &filters.names),
            (Spans::SpanKind, &filters.span_kinds),
            (Spans::StatusCode, &filters.status_codes),
        ] {
            if !values.is_empty() {
                query.and_where(Expr::col((Spans::Table, column)).is_in(values.iter().map(String::as_str)));
            }
        }
        match &filters.parent_id {
            // Steered, `+` keeps SQLite from walking every root span through the parent index.
            Some(None) if steered => {
                query.and_where(Expr::cust("+spans.parent_id IS NULL"));
            }
            Some(None) => {
                query.and_where(Expr::col((Spans::Table, Spans::ParentId)).is_null());
            }
            Some(Some(parent_id)) => {
                query.and_where(Expr::col((Spans::Table, Spans::ParentId)).eq(parent_id.as_str()));
            }
            None => {}
        }
        if filters.start_time.is_some() || filters.end_time.is_some() {
            let start = filters.start_time.unwrap_or(i64::MIN);
            let end = filters.end_time.unwrap_or(i64::MAX);
            let read = match self.dialect {
                // Steered, the window is a test of the spans found; nothing to choose.
                Dialect::Sqlite if steered => WindowRead::NewestFirst { from: None },
                Dialect::Sqlite => self.window_read(project_id, start, end).await?,
                Dialect::Postgres => WindowRead::StartTimeIndex,
            };
            if let WindowRead::NewestFirst { from } = read {
                query.and_where(Expr::cust_with_values("+spans.start_time >= ? AND +spans.start_time < ?", [start, end]));
                if let Some(from) = from {
                    query.and_where(Expr::col((Spans::Table, Spans::Id)).lte(from));
                }
            } else {
                query.and_where(Expr::col((Spans::Table, Spans::StartTime)).gte(start));
                query.and_where(Expr::col((Spans::Table, Spans::StartTime)).lt(end));
            }
        }
        for condition in conditions {
            query.and_where(condition);
        }
        Ok(query)
    }

    /// How to read a page of the project's spans starting in `[start, end)`: a large window is
    /// walked newest first, and when many spans start after it (a zoom into last week), from
    /// the newest span starting in it, found along the start-time index alone (an index entry
    /// costs a fraction of the span row the walk would read for each newer span).
    async fn window_read(&self, project_id: i64, start: i64, end: i64) -> Result<WindowRead> {
        if self.spans_starting_in(project_id, start, end).await? < LARGE_WINDOW {
            return Ok(WindowRead::StartTimeIndex);
        }
        if self.spans_starting_in(project_id, end, i64::MAX).await? < LARGE_WINDOW {
            return Ok(WindowRead::NewestFirst { from: None });
        }
        // `+ 0` and the named index: SQLite would otherwise find a maximum id by walking ids down.
        let newest = Statement::new(
            "SELECT MAX(spans.id + 0) FROM spans INDEXED BY ix_spans_project_start WHERE project_id = $1 AND start_time >= $2 AND start_time < $3",
            [project_id.into(), start.into(), end.into()],
        );
        let from: Option<i64> = self.reader.exec().fetch_one(newest).await?.get(0)?;
        Ok(WindowRead::NewestFirst { from })
    }

    /// The project's spans starting in `[start, end)`, counted up to `LARGE_WINDOW` along the
    /// start-time index.
    async fn spans_starting_in(&self, project_id: i64, start: i64, end: i64) -> Result<usize> {
        let count = Statement::new(
            format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM spans WHERE project_id = $1 AND start_time >= $2 AND start_time < $3 LIMIT {LARGE_WINDOW})"
            ),
            [project_id.into(), start.into(), end.into()],
        );
        let rows: i64 = self.reader.exec().fetch_one(count).await?.get(0)?;
        Ok(rows.max(0) as usize)
    }

    /// The span frame of the span-query endpoint: newest start time first.
    pub async fn query_spans(&self, project_id: i64, options: &SpanQueryOptions) -> Result<Vec<SpanRecord>> {
        let mut query = span_select(self.dialect);
        query.and_where(Expr::col((Spans::Table, Spans::ProjectId)).eq(project_id));
        if let Some(start) = options.start_time {
            query.and_where(Expr::col((Spans::Table, Spans::StartTime)).gte(start));
        }
        if let Some(end) = options.end_time {
            query.and_where(Expr::col((Spans::Table, Spans::StartTime)).lt(end));
        }
        if options.root_spans_only {
            let mut roots = Cond::any().add(Expr::col((Spans::Table, Spans::ParentId)).is_null());
            if options.orphan_span_as_root_span {
                let parents = Alias::new("parents");
                roots = roots.add(
                    Expr::exists(
                        Query::select()
                            .expr(Expr::val(1))
                            .from_as(Spans::Table, parents.clone())
                            .and_where(Expr::col((parents, Spans::SpanId)).equals((Spans::Table, Spans::ParentId)))
                            .to_owned(),
                    )
                    .not(),
                );
            }
            query.cond_where(roots);
        }
        if let Some(condition) = &options.condition {
            query.and_where(self.filter_sql(project_id, condition).await?);
        }
        query
            .order_by((Spans::Table, Spans::StartTime), Order::Desc)
            .order_by((Spans::Table, Spans::Id), Order::Desc)
            .limit(options.limit as u64);
        let rows = self.fetch_within_budget(self.build(&query)).await?;
        span_records(self, &rows)
    }

    /// Every span of the given traces, by trace then start time.
    pub async fn spans_of_traces(&self, trace_rowids: &[i64]) -> Result<Vec<SpanRecord>> {
        let mut spans = Vec::new();
        let mut budget = ReadBudget::new(self);
        for chunk in trace_rowids.chunks(500) {
            let query = span_select(self.dialect)
                .and_where(Expr::col((Spans::Table, Spans::TraceRowid)).is_in(chunk.iter().copied()))
                .order_by((Spans::Table, Spans::TraceRowid), Order::Asc)
                .order_by((Spans::Table, Spans::StartTime), Order::Asc)
                .to_owned();
            let rows = self.reader.exec().fetch_all(self.build(&query)).await?;
            budget.decode(&rows, &mut spans)?;
        }
        Ok(spans)
    }

    pub async fn get_span(&self, rowid: Option<i64>, span_id: Option<&str>) -> Result<Option<SpanRecord>> {
        let mut query = span_select(self.dialect);
        if let Some(rowid) = rowid {
            query.and_where(Expr::col((Spans::Table, Spans::Id)).eq(rowid));
        }
        if let Some(span_id) = span_id {
            query.and_where(Expr::col((Spans::Table, Spans::SpanId)).eq(span_id));
        }
        self.reader
            .exec()
            .fetch_optional(self.build(&query))
            .await?
            .as_ref()
            .map(|row| SpanRecord::from_row(row, self.codec.as_deref()))
            .transpose()
    }

    /// The stored spans with these OpenTelemetry span ids, in any project (absent ones are left out).
    pub async fn spans_by_span_ids(&self, span_ids: &[&str]) -> Result<Vec<SpanRecord>> {
        let mut spans = Vec::with_capacity(span_ids.len());
        for chunk in span_ids.chunks(500) {
            let query =
                span_select(self.dialect).and_where(Expr::col((Spans::Table, Spans::SpanId)).is_in(chunk.iter().copied())).to_owned();
            for row in self.reader.exec().fetch_all(self.build(&query)).await? {
                spans.push(SpanRecord::from_row(&row, self.codec.as_deref())?);
            }
        }
        Ok(spans)
    }

    /// How many spans a project holds.
    pub async fn count_spans(&self, project_id: i64) -> Result<i64> {
        let row =
            self.reader.exec().fetch_one(Statement::new("SELECT COUNT(*) FROM spans WHERE project_id = $1", [project_id.into()])).await?;
        row.get(0)
    }

    /// Which of `span_ids` are stored.
    pub async fn existing_span_ids(&self, span_ids: &[&str]) -> Result<HashSet<String>> {
        self.stored_span_ids(self.reader.exec(), span_ids).await
    }

    /// Deletes one span (not its descendants, which become orphans), subtracts its cumulative
    /// counts from its ancestors, and deletes its trace when no span is left (and the trace's
    /// session when no trace is left). `false` when absent.
    pub async fn delete_span(&self, rowid: i64) -> Result<bool> {
        Ok(self.delete_spans(&[rowid]).await? == 1)
    }

    /// Deletes spans as [`Store::delete_span`] does, all in one transaction (all or none), with
    /// the rollups of their hours rebuilt once; returns how many were deleted.
    pub async fn delete_spans(&self, rowids: &[i64]) -> Result<usize> {
        let mut tx = self.writer.begin().await?;
        let mut hours = BTreeSet::new();
        let mut traces = BTreeSet::new();
        let mut deleted = 0;
        for rowid in rowids {
            if let Some(trace_rowid) = delete_one_span(&mut tx, *rowid, &mut hours).await? {
                traces.insert(trace_rowid);
                deleted += 1;
            }
        }
        rollups::rebuild(tx.exec(), self.dialect, &hours).await?;
        for trace_rowid in traces {
            let session: Option<Option<i64>> = tx
                .exec()
                .fetch_optional(Statement::new(
                    "DELETE FROM traces WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM spans WHERE trace_rowid = $1) RETURNING session_rowid",
                    [trace_rowid.into()],
                ))
                .await?
                .map(|row| row.get(0))
                .transpose()?;
            if let Some(Some(session_rowid)) = session {
                crate::sessions::delete_if_empty(tx.exec(), session_rowid).await?;
            }
        }
        tx.commit().await?;
        Ok(deleted)
    }
}

/// Deletes one span in `tx`, subtracting its cumulative counts from its ancestors and noting its
/// hour; its trace rowid, or `None` when it is absent.
async fn delete_one_span(tx: &mut Transaction, rowid: i64, hours: &mut BTreeSet<(i64, i64)>) -> Result<Option<i64>> {
    // Lock the span's trace first, as ingest does, so a concurrent batch of the same trace cannot
    // miss the subtraction.
    let trace = tx
        .exec()
        .fetch_optional(Statement::new(
            "UPDATE traces SET project_id = project_id WHERE id = (SELECT trace_rowid FROM spans WHERE id = $1) RETURNING id",
            [rowid.into()],
        ))
        .await?;
    let row = tx
        .exec()
        .fetch_optional(Statement::new(
            "SELECT parent_id, trace_rowid, cumulative_error_count, cumulative_llm_token_count_prompt, \
             cumulative_llm_token_count_completion FROM spans WHERE id = $1",
            [rowid.into()],
        ))
        .await?;
    let (Some(row), Some(_)) = (row, trace) else { return Ok(None) };
    let parent_id: Option<String> = row.get(0)?;
    let trace_rowid: i64 = row.get(1)?;
    let counts = Counts { errors: row.get(2)?, prompt_tokens: row.get(3)?, completion_tokens: row.get(4)? };
    if let Some(parent_id) = parent_id {
        propagate_to_ancestors(tx.exec(), &parent_id, counts.negated()).await?;
    }
    hours.extend(rollups::hours_of_spans(tx.exec(), "id = $1", [rowid.into()]).await?);
    tx.exec().execute(Statement::new("DELETE FROM spans WHERE id = $1", [rowid.into()])).await?;
    Ok(Some(trace_rowid))
}
