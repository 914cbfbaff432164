//! A project's root spans sorted by start time, latency or tokens, keyset-paginated on
//! (key, rowid) through the partial indexes of migration `*_root_span_sort_indexes.sql`.

use ember_query::Filter;
use sea_query::{Expr, Order, Query, SimpleExpr};

use crate::engine::backend::Statement;
use crate::engine::dialect::Dialect;
use crate::engine::schema::{Spans, Traces};
use crate::error::{Result, StoreError};
use crate::spans::records::{span_columns, Page, SpanRecord};
use crate::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RootSpanSort {
    #[default]
    StartTime,
    Latency,
    /// Prompt plus completion tokens of the span and its descendants.
    Tokens,
}

#[derive(Debug, Clone, Default)]
pub struct RootSpanQuery {
    /// Inclusive lower bound on start time.
    pub start_time: Option<i64>,
    /// Exclusive upper bound on start time.
    pub end_time: Option<i64>,
    /// A span filter (Phoenix language) the root spans must match.
    pub condition: Option<Filter>,
    pub sort: RootSpanSort,
    pub descending: bool,
}

/// The sort key, written exactly as the partial indexes are.
fn sort_key(sort: RootSpanSort) -> SimpleExpr {
    match sort {
        RootSpanSort::StartTime => Expr::col((Spans::Table, Spans::StartTime)).into(),
        RootSpanSort::Latency => Expr::cust("(spans.end_time - spans.start_time)"),
        RootSpanSort::Tokens => Expr::cust("(spans.cumulative_llm_token_count_prompt + spans.cumulative_llm_token_count_completion)"),
    }
}

/// Time windows holding this many root spans are not read through the start-time index when
/// another key orders them.
const LARGE_WINDOW: usize = 5000;

impl Store {
    /// Whether a project has at least `LARGE_WINDOW` root spans starting in `[start, end)`.
    async fn root_window_is_large(&self, project_id: i64, start: i64, end: i64) -> Result<bool> {
        let count = Statement::new(
            format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM spans WHERE project_id = $1 AND parent_id IS NULL AND start_time >= $2 \
                 AND start_time < $3 LIMIT {LARGE_WINDOW})"
            ),
            [project_id.into(), start.into(), end.into()],
        );
        let roots: i64 = self.reader.exec().fetch_one(count).await?.get(0)?;
        Ok(roots as usize >= LARGE_WINDOW)
    }

    /// Root spans of a project in `query`'s order; `cursor` is the rowid of the page's first span.
    pub async fn list_root_spans(
        &self,
        project_id: i64,
        query: &RootSpanQuery,
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<Page<SpanRecord>> {
        let key = sort_key(query.sort);
        let mut select = Query::select()
            .expr(Expr::cust(span_columns(self.dialect)))
            .from(Spans::Table)
            .inner_join(Traces::Table, Expr::col((Traces::Table, Traces::Id)).equals((Spans::Table, Spans::TraceRowid)))
            .and_where(Expr::col((Spans::Table, Spans::ProjectId)).eq(project_id))
            .and_where(Expr::col((Spans::Table, Spans::ParentId)).is_null())
            .to_owned();
        if query.start_time.is_some() || query.end_time.is_some() {
            let (start, end) = (query.start_time.unwrap_or(i64::MIN), query.end_time.unwrap_or(i64::MAX));
            if self.dialect == Dialect::Sqlite
                && query.sort != RootSpanSort::StartTime
                && self.root_window_is_large(project_id, start, end).await?
            {
                // Walking the sort key's index finds a page sooner than sorting a large window,
                // which SQLite would do if the start-time index drove the query.
                select.and_where(Expr::cust_with_values("+spans.start_time >= ? AND +spans.start_time < ?", [start, end]));
            } else {
                select.and_where(Expr::col((Spans::Table, Spans::StartTime)).gte(start));
                select.and_where(Expr::col((Spans::Table, Spans::StartTime)).lt(end));
            }
        }
        if let Some(condition) = &query.condition {
            select.and_where(self.filter_sql(project_id, condition).await?);
        }
        if let Some(cursor) = cursor {
            let key_query =
                Query::select().expr(key.clone()).from(Spans::Table).and_where(Expr::col((Spans::Table, Spans::Id)).eq(cursor)).to_owned();
            let Some(row) = self.reader.exec().fetch_optional(self.build(&key_query)).await? else {
                return Err(StoreError::Invalid(format!("cursor {cursor} does not name a span")));
            };
            let cursor_key: i64 = row.get(0)?;
            let position = Expr::tuple([key.clone(), Expr::col((Spans::Table, Spans::Id)).into()]);
            let at = Expr::tuple([Expr::val(cursor_key).into(), Expr::val(cursor).into()]);
            select.and_where(if query.descending { position.lte(at) } else { position.gte(at) });
        }
        let direction = if query.descending { Order::Desc } else { Order::Asc };
        select.order_by_expr(key, direction.clone()).order_by((Spans::Table, Spans::Id), direction).limit(limit as u64 + 1);
        let rows = self.fetch_within_budget(self.build(&select)).await?;
        let items = crate::spans::records::span_records(self, &rows[..rows.len().min(limit)])?;
        let next_cursor = rows.get(limit).map(|row| row.get(0)).transpose()?;
        Ok(Page { items, next_cursor })
    }
}
