//! Writing a batch of spans in one transaction, as Phoenix's span insertion does it but per
//! batch instead of per span: duplicates skipped, traces created or widened (an existing trace
//! keeps its project), sessions attached, cumulative counts kept right in any arrival order.

use std::collections::{HashMap, HashSet};

use ember_core::time::now_nanos;
use sea_query::{Expr, OnConflict, Query};
use sqlx::{Row, SqliteConnection};

use crate::cumulative::{propagate, Counts, NewSpan};
use crate::db::Dialect;
use crate::error::Result;
use crate::prepared::PreparedSpan;
use crate::schema::{ProjectSessions, Projects, Spans, Traces};
use crate::Store;

/// Rows per `IN (...)` list and per multi-row `INSERT`, well under SQLite's variable limit.
const IN_CHUNK: usize = 500;
const INSERT_CHUNK: usize = 400;

/// What a committed batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOutcome {
    pub inserted: usize,
    /// Spans skipped because their span id was already stored (or repeated in the batch).
    pub duplicates: usize,
}

/// Adds a contribution to an ancestor chain starting at `$1` (inclusive), walking `parent_id`.
/// `UNION` (not `UNION ALL`) stops on cycles in stored parent links.
pub(crate) const PROPAGATE_TO_ANCESTORS: &str = "WITH RECURSIVE ancestors(span_id) AS ( \
    SELECT $1 UNION SELECT spans.parent_id FROM spans JOIN ancestors ON spans.span_id = ancestors.span_id \
    WHERE spans.parent_id IS NOT NULL) \
    UPDATE spans SET cumulative_error_count = cumulative_error_count + $2, \
    cumulative_llm_token_count_prompt = cumulative_llm_token_count_prompt + $3, \
    cumulative_llm_token_count_completion = cumulative_llm_token_count_completion + $4 \
    WHERE span_id IN (SELECT span_id FROM ancestors)";

struct StoredTrace {
    rowid: i64,
    project_id: i64,
    session_rowid: Option<i64>,
    start_time: i64,
    end_time: i64,
}

/// The spans of one trace within a batch.
struct BatchTrace<'a> {
    project_name: &'a str,
    start_time: i64,
    end_time: i64,
    session_id: Option<&'a str>,
}

impl Store {
    /// Writes a batch in one transaction and commits it.
    pub async fn write_spans(&self, batch: &[&PreparedSpan]) -> Result<WriteOutcome> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let outcome = self.write_spans_in(&mut tx, batch).await?;
        tx.commit().await?;
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.committed();
        }
        Ok(outcome)
    }

    async fn write_spans_in(&self, conn: &mut SqliteConnection, batch: &[&PreparedSpan]) -> Result<WriteOutcome> {
        let mut seen = HashSet::with_capacity(batch.len());
        let mut spans: Vec<&PreparedSpan> = batch.iter().copied().filter(|s| seen.insert(s.span_id.as_str())).collect();
        let ids: Vec<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
        let stored = self.stored_span_ids(conn, &ids).await?;
        spans.retain(|s| !stored.contains(&s.span_id));
        let duplicates = batch.len() - spans.len();
        if spans.is_empty() {
            return Ok(WriteOutcome { inserted: 0, duplicates });
        }
        let traces = self.resolve_traces(conn, &spans).await?;
        let cumulative = self.cumulative_counts(conn, &spans).await?;
        self.insert_spans(conn, &spans, &traces, &cumulative.cumulative).await?;
        for (span_id, counts) in &cumulative.entry_points {
            propagate_to_ancestors(conn, span_id, *counts).await?;
        }
        Ok(WriteOutcome { inserted: spans.len(), duplicates })
    }

    /// Which of `ids` are stored, as seen by `conn`.
    pub(crate) async fn stored_span_ids(&self, conn: &mut SqliteConnection, ids: &[&str]) -> Result<HashSet<String>> {
        let mut stored = HashSet::new();
        for chunk in ids.chunks(IN_CHUNK) {
            let query = Query::select()
                .column(Spans::SpanId)
                .from(Spans::Table)
                .and_where(Expr::col(Spans::SpanId).is_in(chunk.iter().copied()))
                .to_owned();
            let (sql, values) = self.build(&query);
            for row in sqlx::query_with(&sql, values).fetch_all(&mut *conn).await? {
                stored.insert(row.try_get::<String, _>(0)?);
            }
        }
        Ok(stored)
    }

    /// Finds or creates the trace (and its project and session) of every span; returns
    /// trace id → (trace rowid, project id).
    async fn resolve_traces(&self, conn: &mut SqliteConnection, spans: &[&PreparedSpan]) -> Result<HashMap<String, (i64, i64)>> {
        let mut order: Vec<&str> = Vec::new();
        let mut batch_traces: HashMap<&str, BatchTrace<'_>> = HashMap::new();
        for span in spans {
            let entry = batch_traces.entry(span.trace_id.as_str()).or_insert_with(|| {
                order.push(span.trace_id.as_str());
                BatchTrace { project_name: &span.project_name, start_time: span.start_time, end_time: span.end_time, session_id: None }
            });
            entry.start_time = entry.start_time.min(span.start_time);
            entry.end_time = entry.end_time.max(span.end_time);
            if entry.session_id.is_none() {
                entry.session_id = span.session_id.as_deref();
            }
        }

        let mut stored = self.stored_traces(conn, &order).await?;
        let new_projects: Vec<&str> =
            order.iter().filter(|id| !stored.contains_key(**id)).map(|id| batch_traces[id].project_name).collect();
        let project_ids = self.ensure_projects(conn, &new_projects).await?;

        // Sessions: a trace that already has one keeps it; otherwise the first session id seen.
        let mut session_for_trace: HashMap<&str, &str> = HashMap::new();
        for trace_id in &order {
            let has_session = stored.get(*trace_id).is_some_and(|t| t.session_rowid.is_some());
            if let (false, Some(session_id)) = (has_session, batch_traces[trace_id].session_id) {
                session_for_trace.insert(trace_id, session_id);
            }
        }
        let mut sessions = self.stored_sessions(conn, session_for_trace.values().copied()).await?;
        for trace_id in &order {
            let Some(session_id) = session_for_trace.get(trace_id) else {
                continue;
            };
            if sessions.contains_key(*session_id) {
                continue;
            }
            let batch = &batch_traces[trace_id];
            let project_id = match stored.get(*trace_id) {
                Some(trace) => trace.project_id,
                None => project_ids[batch.project_name],
            };
            let insert = Query::insert()
                .into_table(ProjectSessions::Table)
                .columns([ProjectSessions::SessionId, ProjectSessions::ProjectId, ProjectSessions::StartTime, ProjectSessions::EndTime])
                .values_panic([(*session_id).into(), project_id.into(), batch.start_time.into(), batch.end_time.into()])
                .returning_col(ProjectSessions::Id)
                .to_owned();
            let (sql, values) = self.build(&insert);
            let rowid: i64 = sqlx::query_with(&sql, values).fetch_one(&mut *conn).await?.try_get(0)?;
            sessions.insert(session_id.to_string(), (rowid, batch.start_time, batch.end_time));
        }

        let mut resolved = HashMap::with_capacity(order.len());
        let mut session_bounds: HashMap<i64, (i64, i64)> = HashMap::new();
        let new_traces: Vec<&str> = order.iter().copied().filter(|id| !stored.contains_key(*id)).collect();
        let is_new: HashSet<&str> = new_traces.iter().copied().collect();
        for chunk in new_traces.chunks(INSERT_CHUNK) {
            let mut insert = Query::insert()
                .into_table(Traces::Table)
                .columns([Traces::TraceId, Traces::ProjectId, Traces::SessionRowid, Traces::StartTime, Traces::EndTime])
                .returning(Query::returning().columns([Traces::Id, Traces::TraceId]))
                .to_owned();
            for trace_id in chunk {
                let batch = &batch_traces[trace_id];
                let session_rowid = session_for_trace.get(trace_id).map(|session_id| sessions[*session_id].0);
                insert.values_panic([
                    (*trace_id).into(),
                    project_ids[batch.project_name].into(),
                    session_rowid.into(),
                    batch.start_time.into(),
                    batch.end_time.into(),
                ]);
            }
            let (sql, values) = self.build(&insert);
            for row in sqlx::query_with(&sql, values).fetch_all(&mut *conn).await? {
                let rowid: i64 = row.try_get(0)?;
                let trace_id: String = row.try_get(1)?;
                let batch = &batch_traces[trace_id.as_str()];
                if let Some(session_id) = session_for_trace.get(trace_id.as_str()) {
                    widen(&mut session_bounds, sessions[*session_id].0, batch.start_time, batch.end_time);
                }
                stored.insert(
                    trace_id,
                    StoredTrace {
                        rowid,
                        project_id: project_ids[batch.project_name],
                        session_rowid: None,
                        start_time: batch.start_time,
                        end_time: batch.end_time,
                    },
                );
            }
        }

        for trace_id in &order {
            let batch = &batch_traces[trace_id];
            let trace = &stored[*trace_id];
            let start_time = trace.start_time.min(batch.start_time);
            let end_time = trace.end_time.max(batch.end_time);
            let new_session = if is_new.contains(trace_id) { None } else { session_for_trace.get(trace_id).map(|s| sessions[*s].0) };
            if start_time != trace.start_time || end_time != trace.end_time || new_session.is_some() {
                let mut update = Query::update()
                    .table(Traces::Table)
                    .values([(Traces::StartTime, start_time.into()), (Traces::EndTime, end_time.into())])
                    .and_where(Expr::col(Traces::Id).eq(trace.rowid))
                    .to_owned();
                if let Some(session_rowid) = new_session {
                    update.value(Traces::SessionRowid, session_rowid);
                }
                let (sql, values) = self.build(&update);
                sqlx::query_with(&sql, values).execute(&mut *conn).await?;
            }
            if let Some(session_rowid) = new_session.or(trace.session_rowid) {
                widen(&mut session_bounds, session_rowid, start_time, end_time);
            }
            resolved.insert(trace_id.to_string(), (trace.rowid, trace.project_id));
        }

        let bounds_by_rowid: HashMap<i64, (i64, i64)> = sessions.values().map(|(rowid, start, end)| (*rowid, (*start, *end))).collect();
        for (session_rowid, (start_time, end_time)) in session_bounds {
            let known = bounds_by_rowid.get(&session_rowid).copied();
            if known.is_some_and(|(start, end)| start <= start_time && end >= end_time) {
                continue;
            }
            sqlx::query(
                "UPDATE project_sessions SET start_time = CASE WHEN $1 < start_time THEN $1 ELSE start_time END, \
                 end_time = CASE WHEN $2 > end_time THEN $2 ELSE end_time END WHERE id = $3",
            )
            .bind(start_time)
            .bind(end_time)
            .bind(session_rowid)
            .execute(&mut *conn)
            .await?;
        }
        Ok(resolved)
    }

    async fn stored_traces(&self, conn: &mut SqliteConnection, trace_ids: &[&str]) -> Result<HashMap<String, StoredTrace>> {
        let mut stored = HashMap::new();
        for chunk in trace_ids.chunks(IN_CHUNK) {
            let query = Query::select()
                .columns([Traces::Id, Traces::TraceId, Traces::ProjectId, Traces::SessionRowid, Traces::StartTime, Traces::EndTime])
                .from(Traces::Table)
                .and_where(Expr::col(Traces::TraceId).is_in(chunk.iter().copied()))
                .to_owned();
            let (sql, values) = self.build(&query);
            for row in sqlx::query_with(&sql, values).fetch_all(&mut *conn).await? {
                stored.insert(
                    row.try_get(1)?,
                    StoredTrace {
                        rowid: row.try_get(0)?,
                        project_id: row.try_get(2)?,
                        session_rowid: row.try_get(3)?,
                        start_time: row.try_get(4)?,
                        end_time: row.try_get(5)?,
                    },
                );
            }
        }
        Ok(stored)
    }

    /// Session id → (rowid, start, end) for the sessions already stored.
    async fn stored_sessions<'a>(
        &self,
        conn: &mut SqliteConnection,
        session_ids: impl Iterator<Item = &'a str>,
    ) -> Result<HashMap<String, (i64, i64, i64)>> {
        let wanted: Vec<&str> = session_ids.collect::<HashSet<_>>().into_iter().collect();
        let mut stored = HashMap::new();
        for chunk in wanted.chunks(IN_CHUNK) {
            let query = Query::select()
                .columns([ProjectSessions::Id, ProjectSessions::SessionId, ProjectSessions::StartTime, ProjectSessions::EndTime])
                .from(ProjectSessions::Table)
                .and_where(Expr::col(ProjectSessions::SessionId).is_in(chunk.iter().copied()))
                .to_owned();
            let (sql, values) = self.build(&query);
            for row in sqlx::query_with(&sql, values).fetch_all(&mut *conn).await? {
                stored.insert(row.try_get(1)?, (row.try_get(0)?, row.try_get(2)?, row.try_get(3)?));
            }
        }
        Ok(stored)
    }

    /// Project name → id, creating the projects that do not exist yet.
    pub(crate) async fn ensure_projects(&self, conn: &mut SqliteConnection, names: &[&str]) -> Result<HashMap<String, i64>> {
        let distinct: Vec<&str> = names.iter().copied().collect::<HashSet<_>>().into_iter().collect();
        let mut ids = HashMap::new();
        if distinct.is_empty() {
            return Ok(ids);
        }
        let now = now_nanos();
        for chunk in distinct.chunks(IN_CHUNK / 4) {
            let mut insert = Query::insert()
                .into_table(Projects::Table)
                .columns([Projects::Name, Projects::CreatedAt, Projects::UpdatedAt])
                .on_conflict(OnConflict::column(Projects::Name).do_nothing().to_owned())
                .to_owned();
            for name in chunk {
                insert.values_panic([(*name).into(), now.into(), now.into()]);
            }
            let (sql, values) = self.build(&insert);
            sqlx::query_with(&sql, values).execute(&mut *conn).await?;
            let query = Query::select()
                .columns([Projects::Id, Projects::Name])
                .from(Projects::Table)
                .and_where(Expr::col(Projects::Name).is_in(chunk.iter().copied()))
                .to_owned();
            let (sql, values) = self.build(&query);
            for row in sqlx::query_with(&sql, values).fetch_all(&mut *conn).await? {
                ids.insert(row.try_get(1)?, row.try_get(0)?);
            }
        }
        Ok(ids)
    }

    async fn cumulative_counts(&self, conn: &mut SqliteConnection, spans: &[&PreparedSpan]) -> Result<crate::cumulative::Propagation> {
        let ids: Vec<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
        let mut stored_children: HashMap<String, Counts> = HashMap::new();
        for chunk in ids.chunks(IN_CHUNK) {
            let query = Query::select()
                .column(Spans::ParentId)
                .expr(Expr::col(Spans::CumulativeErrorCount).sum())
                .expr(Expr::col(Spans::CumulativeLlmTokenCountPrompt).sum())
                .expr(Expr::col(Spans::CumulativeLlmTokenCountCompletion).sum())
                .from(Spans::Table)
                .and_where(Expr::col(Spans::ParentId).is_in(chunk.iter().copied()))
                .group_by_col(Spans::ParentId)
                .to_owned();
            let (sql, values) = self.build(&query);
            for row in sqlx::query_with(&sql, values).fetch_all(&mut *conn).await? {
                let counts = Counts { errors: row.try_get(1)?, prompt_tokens: row.try_get(2)?, completion_tokens: row.try_get(3)? };
                stored_children.insert(row.try_get(0)?, counts);
            }
        }
        let new_spans: Vec<NewSpan<'_>> = spans
            .iter()
            .map(|span| {
                let mut contribution = span.own_counts();
                if let Some(children) = stored_children.get(&span.span_id) {
                    contribution += *children;
                }
                NewSpan { span_id: &span.span_id, parent_id: span.parent_id.as_deref(), contribution }
            })
            .collect();
        Ok(propagate(&new_spans))
    }

    async fn insert_spans(
        &self,
        conn: &mut SqliteConnection,
        spans: &[&PreparedSpan],
        traces: &HashMap<String, (i64, i64)>,
        cumulative: &[Counts],
    ) -> Result<()> {
        // The hottest statement: bound directly, without sea-query's intermediate values, so the
        // attribute blobs are passed by reference instead of copied.
        for (chunk_index, chunk) in spans.chunks(INSERT_CHUNK).enumerate() {
            let sql = span_insert_sql(self.dialect(), chunk.len());
            let mut insert = sqlx::query(&sql);
            for (offset, span) in chunk.iter().enumerate() {
                let (trace_rowid, project_id) = traces[&span.trace_id];
                let counts = cumulative[chunk_index * INSERT_CHUNK + offset];
                insert = insert
                    .bind(trace_rowid)
                    .bind(project_id)
                    .bind(span.span_id.as_str())
                    .bind(span.parent_id.as_deref())
                    .bind(span.name.as_str())
                    .bind(span.span_kind.as_str())
                    .bind(span.start_time)
                    .bind(span.end_time)
                    .bind(span.status_code.as_str())
                    .bind(span.status_message.as_str())
                    .bind(span.attributes.as_slice())
                    .bind(span.events_json.as_str())
                    .bind(counts.errors)
                    .bind(counts.prompt_tokens)
                    .bind(counts.completion_tokens)
                    .bind(span.llm_token_count_prompt)
                    .bind(span.llm_token_count_completion);
            }
            insert.execute(&mut *conn).await?;
        }
        Ok(())
    }
}

const SPAN_INSERT_COLUMNS: [&str; 17] = [
    "trace_rowid",
    "project_id",
    "span_id",
    "parent_id",
    "name",
    "span_kind",
    "start_time",
    "end_time",
    "status_code",
    "status_message",
    "attributes",
    "events",
    "cumulative_error_count",
    "cumulative_llm_token_count_prompt",
    "cumulative_llm_token_count_completion",
    "llm_token_count_prompt",
    "llm_token_count_completion",
];

/// `INSERT INTO spans (...) VALUES (?, ...), (?, ...)` for `rows` rows, with the dialect's placeholders.
fn span_insert_sql(dialect: Dialect, rows: usize) -> String {
    let width = SPAN_INSERT_COLUMNS.len();
    let mut sql = format!("INSERT INTO spans ({}) VALUES ", SPAN_INSERT_COLUMNS.join(", "));
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..width {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&dialect.placeholder(row * width + column + 1));
        }
        sql.push(')');
    }
    sql
}

fn widen(bounds: &mut HashMap<i64, (i64, i64)>, rowid: i64, start_time: i64, end_time: i64) {
    let entry = bounds.entry(rowid).or_insert((start_time, end_time));
    entry.0 = entry.0.min(start_time);
    entry.1 = entry.1.max(end_time);
}

pub(crate) async fn propagate_to_ancestors(conn: &mut SqliteConnection, start_span_id: &str, counts: Counts) -> Result<()> {
    if counts.is_zero() {
        return Ok(());
    }
    sqlx::query(PROPAGATE_TO_ANCESTORS)
        .bind(start_span_id)
        .bind(counts.errors)
        .bind(counts.prompt_tokens)
        .bind(counts.completion_tokens)
        .execute(conn)
        .await?;
    Ok(())
}
