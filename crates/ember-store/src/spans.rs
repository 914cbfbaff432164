//! Span reads (keyset-paginated lists, the span-query frame) and span deletion.

use std::collections::HashSet;

use sea_query::{Alias, Cond, Expr, Order, Query, SelectStatement};
use serde_json::Value;
use sqlx::Row;

use crate::cumulative::Counts;
use crate::error::Result;
use crate::ingest::propagate_to_ancestors;
use crate::records::{Page, SpanRecord, SPAN_COLUMNS};
use crate::schema::{Spans, Traces};
use crate::Store;

/// `attribute=key:value` from the REST API: a dotted path and a JSON-typed value.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeFilter {
    pub path: Vec<String>,
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
}

fn span_select() -> SelectStatement {
    Query::select()
        .expr(Expr::cust(SPAN_COLUMNS))
        .from(Spans::Table)
        .inner_join(Traces::Table, Expr::col((Traces::Table, Traces::Id)).equals((Spans::Table, Spans::TraceRowid)))
        .to_owned()
}

/// A JSON path for SQLite's `json_extract`: `$."a"."b"[0]`.
fn json_path(segments: &[String]) -> String {
    let mut path = String::from("$");
    for segment in segments {
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) && segment.len() < 10 {
            path.push_str(&format!("[{segment}]"));
        } else {
            path.push_str(&format!(".\"{}\"", segment.replace('"', "\\\"")));
        }
    }
    path
}

fn attribute_condition(filter: &AttributeFilter) -> sea_query::SimpleExpr {
    let path = json_path(&filter.path);
    match &filter.value {
        Value::Bool(flag) => Expr::cust_with_values(
            "json_type(ember_json(spans.attributes), ?) = ?",
            [path, if *flag { "true" } else { "false" }.to_string()],
        ),
        Value::Null => Expr::cust_with_values("json_type(ember_json(spans.attributes), ?) = 'null'", [path]),
        Value::Number(number) => match number.as_i64() {
            Some(int) => {
                Expr::cust_with_values("json_extract(ember_json(spans.attributes), ?) = ?", [sea_query::Value::from(path), int.into()])
            }
            None => Expr::cust_with_values(
                "json_extract(ember_json(spans.attributes), ?) = ?",
                [sea_query::Value::from(path), number.as_f64().unwrap_or(f64::NAN).into()],
            ),
        },
        Value::String(text) => Expr::cust_with_values("json_extract(ember_json(spans.attributes), ?) = ?", [path, text.clone()]),
        // Objects and arrays compare by their JSON text.
        other => Expr::cust_with_values("json_extract(ember_json(spans.attributes), ?) = json(?)", [path, other.to_string()]),
    }
}

impl Store {
    /// Spans of a project, newest first (`id DESC`); `cursor` is the rowid of the first span of the page.
    pub async fn list_spans(&self, project_id: i64, filters: &SpanFilters, cursor: Option<i64>, limit: usize) -> Result<Page<SpanRecord>> {
        let mut query = span_select();
        query.and_where(Expr::col((Spans::Table, Spans::ProjectId)).eq(project_id));
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
            Some(None) => {
                query.and_where(Expr::col((Spans::Table, Spans::ParentId)).is_null());
            }
            Some(Some(parent_id)) => {
                query.and_where(Expr::col((Spans::Table, Spans::ParentId)).eq(parent_id.as_str()));
            }
            None => {}
        }
        if let Some(start) = filters.start_time {
            query.and_where(Expr::col((Spans::Table, Spans::StartTime)).gte(start));
        }
        if let Some(end) = filters.end_time {
            query.and_where(Expr::col((Spans::Table, Spans::StartTime)).lt(end));
        }
        for filter in &filters.attributes {
            query.and_where(attribute_condition(filter));
        }
        query.order_by((Spans::Table, Spans::Id), Order::Desc).limit(limit as u64 + 1);
        let (sql, values) = self.build(&query);
        let rows = sqlx::query_with(&sql, values).fetch_all(&self.reader).await?;
        let items = rows.iter().map(|row| SpanRecord::from_row(row, &self.codec)).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, limit, |s| s.rowid))
    }

    /// The span frame of the span-query endpoint: newest start time first.
    pub async fn query_spans(&self, project_id: i64, options: &SpanQueryOptions) -> Result<Vec<SpanRecord>> {
        let mut query = span_select();
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
        query
            .order_by((Spans::Table, Spans::StartTime), Order::Desc)
            .order_by((Spans::Table, Spans::Id), Order::Desc)
            .limit(options.limit as u64);
        let (sql, values) = self.build(&query);
        let rows = sqlx::query_with(&sql, values).fetch_all(&self.reader).await?;
        rows.iter().map(|row| SpanRecord::from_row(row, &self.codec)).collect()
    }

    /// Every span of the given traces, by trace then start time.
    pub async fn spans_of_traces(&self, trace_rowids: &[i64]) -> Result<Vec<SpanRecord>> {
        let mut spans = Vec::new();
        for chunk in trace_rowids.chunks(500) {
            let query = span_select()
                .and_where(Expr::col((Spans::Table, Spans::TraceRowid)).is_in(chunk.iter().copied()))
                .order_by((Spans::Table, Spans::TraceRowid), Order::Asc)
                .order_by((Spans::Table, Spans::StartTime), Order::Asc)
                .to_owned();
            let (sql, values) = self.build(&query);
            for row in sqlx::query_with(&sql, values).fetch_all(&self.reader).await? {
                spans.push(SpanRecord::from_row(&row, &self.codec)?);
            }
        }
        Ok(spans)
    }

    pub async fn get_span(&self, rowid: Option<i64>, span_id: Option<&str>) -> Result<Option<SpanRecord>> {
        let mut query = span_select();
        if let Some(rowid) = rowid {
            query.and_where(Expr::col((Spans::Table, Spans::Id)).eq(rowid));
        }
        if let Some(span_id) = span_id {
            query.and_where(Expr::col((Spans::Table, Spans::SpanId)).eq(span_id));
        }
        let (sql, values) = self.build(&query);
        sqlx::query_with(&sql, values)
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(|row| SpanRecord::from_row(row, &self.codec))
            .transpose()
    }

    /// How many spans a project holds.
    pub async fn count_spans(&self, project_id: i64) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM spans WHERE project_id = $1").bind(project_id).fetch_one(&self.reader).await?;
        Ok(row.try_get(0)?)
    }

    /// Which of `span_ids` are stored.
    pub async fn existing_span_ids(&self, span_ids: &[&str]) -> Result<HashSet<String>> {
        let mut connection = self.reader.acquire().await?;
        self.stored_span_ids(&mut connection, span_ids).await
    }

    /// Deletes one span (not its descendants, which become orphans), subtracts its cumulative
    /// counts from its ancestors, and deletes its trace when no span is left. `false` when absent.
    pub async fn delete_span(&self, rowid: i64) -> Result<bool> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query(
            "SELECT parent_id, trace_rowid, cumulative_error_count, cumulative_llm_token_count_prompt, \
             cumulative_llm_token_count_completion FROM spans WHERE id = $1",
        )
        .bind(rowid)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(false) };
        let parent_id: Option<String> = row.try_get(0)?;
        let trace_rowid: i64 = row.try_get(1)?;
        let counts = Counts { errors: row.try_get(2)?, prompt_tokens: row.try_get(3)?, completion_tokens: row.try_get(4)? };
        if let Some(parent_id) = parent_id {
            propagate_to_ancestors(&mut tx, &parent_id, counts.negated()).await?;
        }
        sqlx::query("DELETE FROM spans WHERE id = $1").bind(rowid).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM traces WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM spans WHERE trace_rowid = $1)")
            .bind(trace_rowid)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths_quote_keys_and_index_arrays() {
        let path = json_path(&["metadata".into(), "a\"b".into(), "0".into()]);
        assert_eq!(path, r#"$."metadata"."a\"b"[0]"#);
    }
}
