//! Writing a batch of spans in one transaction, as Phoenix's span insertion does it but per
//! batch instead of per span: duplicates skipped, traces created or widened (an existing trace
//! keeps its project), sessions attached, cumulative counts kept right in any arrival order.
//!
//! Several writers may run at once on PostgreSQL (ember replicas sharing a database). A batch
//! first upserts its sessions, then its traces, each in sorted order: the trace upsert locks the
//! trace rows until commit, so a concurrent batch touching the same traces waits, and then (read
//! committed) sees every span committed before it. Duplicate checks, cumulative counts and the
//! propagation to ancestors all happen under those locks. Locks are always taken projects →
//! sessions (by project, then session id) → traces, each sorted, so two batches cannot deadlock on them.

use std::collections::{BTreeMap, HashMap, HashSet};

use ember_core::time::now_nanos;
use sea_query::{Expr, Query};

use ember_core::cost::PriceBook;

use crate::costs::span_costs;
use crate::engine::backend::{Exec, Statement, Transaction};
use crate::engine::dialect::Dialect;
use crate::engine::schema::{Projects, Spans};
use crate::error::{Result, StoreError};
use crate::sqlite::attribute_index::{self, IndexedValue};
use crate::write::cumulative::{propagate, Counts, NewSpan};
use crate::write::prepared::PreparedSpan;
use crate::write::rollups;
use crate::Store;

/// Rows per `IN (...)` list and per multi-row `INSERT`, well under SQLite's variable limit.
pub(crate) const IN_CHUNK: usize = 500;
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
const PROPAGATE_TO_ANCESTORS: &str = "WITH RECURSIVE ancestors(span_id) AS ( \
    SELECT CAST($1 AS TEXT) UNION SELECT spans.parent_id FROM spans JOIN ancestors ON spans.span_id = ancestors.span_id \
    WHERE spans.parent_id IS NOT NULL) \
    UPDATE spans SET cumulative_error_count = cumulative_error_count + $2, \
    cumulative_llm_token_count_prompt = cumulative_llm_token_count_prompt + $3, \
    cumulative_llm_token_count_completion = cumulative_llm_token_count_completion + $4 \
    WHERE span_id IN (SELECT span_id FROM ancestors)";

/// A trace as the batch sees it: its spans' bounds, project and first session id.
struct BatchTrace<'a> {
    project_name: &'a str,
    start_time: i64,
    end_time: i64,
    session_id: Option<&'a str>,
}

/// A session: (project id, `session.id`).
type SessionKey<'a> = (i64, &'a str);
/// (project id, `session.id`) → session rowid.
type SessionRowids = HashMap<(i64, String), i64>;

/// A trace as stored before the batch (read without a lock, to plan sessions).
struct StoredTrace {
    project_id: i64,
    session_id: Option<String>,
    start_time: i64,
    end_time: i64,
}

/// A trace row after the batch's upsert: trace rowid and project id.
pub(crate) type TraceRows = HashMap<String, (i64, i64)>;

impl Store {
    /// Writes a batch in one transaction and commits it.
    pub async fn write_spans(&self, batch: &[&PreparedSpan]) -> Result<WriteOutcome> {
        // Held until commit: a price change waits for this batch (see `costs::prices`).
        let prices = self.prices.read().await;
        let mut tx = self.writer.begin().await?;
        let outcome = self.write_spans_in(&mut tx, batch, &prices).await?;
        tx.commit().await?;
        drop(prices);
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.committed();
        }
        Ok(outcome)
    }

    async fn write_spans_in(&self, tx: &mut Transaction, batch: &[&PreparedSpan], prices: &PriceBook) -> Result<WriteOutcome> {
        let mut seen = HashSet::with_capacity(batch.len());
        let mut spans: Vec<&PreparedSpan> = batch.iter().copied().filter(|s| seen.insert(s.span_id.as_str())).collect();
        // Spans already stored are dropped before their traces are touched, so a duplicate never
        // creates a trace, session or project; on PostgreSQL checked again once the traces are
        // locked, for a concurrent batch that stored one meanwhile.
        self.drop_stored(tx, &mut spans).await?;
        if spans.is_empty() {
            return Ok(WriteOutcome { inserted: 0, duplicates: batch.len() });
        }
        let traces = self.upsert_traces(tx, &spans).await?;
        if self.supports_concurrent_writers() {
            self.drop_stored(tx, &mut spans).await?;
        }
        let duplicates = batch.len() - spans.len();
        if spans.is_empty() {
            return Ok(WriteOutcome { inserted: 0, duplicates });
        }
        let cumulative = self.cumulative_counts(tx, &spans).await?;
        self.insert_spans(tx, &spans, &traces, &cumulative.cumulative).await?;
        let mut deltas = rollups::deltas_of(&spans, &traces);
        if self.cost_tracking {
            let priced = span_costs::price_batch(&spans, prices);
            span_costs::insert(tx.exec(), self.dialect, &priced).await?;
            span_costs::add_to_deltas(&mut deltas, &priced, &traces);
        }
        rollups::add(tx.exec(), self.dialect, &deltas).await?;
        let mut entry_points: Vec<_> = cumulative.entry_points.into_iter().collect();
        entry_points.sort_by(|a, b| a.0.cmp(&b.0));
        for (span_id, counts) in entry_points {
            propagate_to_ancestors(tx.exec(), &span_id, counts).await?;
        }
        Ok(WriteOutcome { inserted: spans.len(), duplicates })
    }

    /// Removes the spans whose id is stored.
    async fn drop_stored(&self, tx: &mut Transaction, spans: &mut Vec<&PreparedSpan>) -> Result<()> {
        let ids: Vec<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
        let stored = self.stored_span_ids(tx.exec(), &ids).await?;
        spans.retain(|s| !stored.contains(&s.span_id));
        Ok(())
    }

    /// Which of `ids` are stored, as seen by `exec`.
    pub(crate) async fn stored_span_ids(&self, mut exec: Exec<'_>, ids: &[&str]) -> Result<HashSet<String>> {
        let mut stored = HashSet::new();
        for chunk in ids.chunks(IN_CHUNK) {
            let query = Query::select()
                .column(Spans::SpanId)
                .from(Spans::Table)
                .and_where(Expr::col(Spans::SpanId).is_in(chunk.iter().copied()))
                .to_owned();
            for row in exec.reborrow().fetch_all(self.build(&query)).await? {
                stored.insert(row.get::<String, _>(0)?);
            }
        }
        Ok(stored)
    }

    /// Creates or widens (and so locks) the trace of every span, attaching sessions; returns
    /// trace id → (trace rowid, project id).
    async fn upsert_traces(&self, tx: &mut Transaction, spans: &[&PreparedSpan]) -> Result<TraceRows> {
        // Sorted by trace id: every writer locks trace rows in this order.
        let mut batch_traces: BTreeMap<&str, BatchTrace<'_>> = BTreeMap::new();
        for span in spans {
            let entry = batch_traces.entry(span.trace_id.as_str()).or_insert(BatchTrace {
                project_name: &span.project_name,
                start_time: span.start_time,
                end_time: span.end_time,
                session_id: None,
            });
            entry.start_time = entry.start_time.min(span.start_time);
            entry.end_time = entry.end_time.max(span.end_time);
            if entry.session_id.is_none() {
                entry.session_id = span.session_id.as_deref();
            }
        }
        let trace_ids: Vec<&str> = batch_traces.keys().copied().collect();
        let stored = self.stored_traces(tx, &trace_ids).await?;
        // Projects are created for new traces only: a span joining a stored trace joins its project.
        let names: Vec<&str> = batch_traces.iter().filter(|(id, _)| !stored.contains_key(**id)).map(|(_, t)| t.project_name).collect();
        let project_ids = self.ensure_projects(tx, &names).await?;
        let project_of =
            |trace_id: &str, batch: &BatchTrace<'_>| stored.get(trace_id).map_or_else(|| project_ids[batch.project_name], |t| t.project_id);

        // Each session is widened to cover its traces (stored bounds and the batch's). A trace
        // that has a session keeps it; otherwise it joins the first session id of its spans, in
        // its own project (a session belongs to one project).
        let mut sessions: BTreeMap<SessionKey<'_>, (i64, i64)> = BTreeMap::new();
        let mut trace_sessions: HashMap<&str, SessionKey<'_>> = HashMap::new();
        for (trace_id, batch) in &batch_traces {
            let stored = stored.get(*trace_id);
            let Some(session_id) = stored.and_then(|t| t.session_id.as_deref()).or(batch.session_id) else { continue };
            let key = (project_of(trace_id, batch), session_id);
            trace_sessions.insert(trace_id, key);
            let (start, end) =
                stored.map_or((batch.start_time, batch.end_time), |t| (t.start_time.min(batch.start_time), t.end_time.max(batch.end_time)));
            let entry = sessions.entry(key).or_insert((start, end));
            entry.0 = entry.0.min(start);
            entry.1 = entry.1.max(end);
        }
        let session_rowids = self.upsert_sessions(tx, &sessions).await?;

        let mut rows = HashMap::with_capacity(batch_traces.len());
        let entries: Vec<_> = batch_traces.iter().collect();
        for chunk in entries.chunks(INSERT_CHUNK) {
            let mut values = Vec::with_capacity(chunk.len() * 5);
            for (trace_id, batch) in chunk {
                let session_rowid = trace_sessions.get(**trace_id).map(|key| session_rowids[&(key.0, key.1.to_string())]);
                values.extend([
                    sea_query::Value::from(**trace_id),
                    project_of(trace_id, batch).into(),
                    session_rowid.into(),
                    batch.start_time.into(),
                    batch.end_time.into(),
                ]);
            }
            let sql = format!(
                "INSERT INTO traces (trace_id, project_id, session_rowid, start_time, end_time) VALUES {} \
                 ON CONFLICT (trace_id) DO UPDATE SET \
                 session_rowid = COALESCE(traces.session_rowid, excluded.session_rowid), \
                 start_time = CASE WHEN excluded.start_time < traces.start_time THEN excluded.start_time ELSE traces.start_time END, \
                 end_time = CASE WHEN excluded.end_time > traces.end_time THEN excluded.end_time ELSE traces.end_time END \
                 RETURNING id, trace_id, project_id",
                self.dialect.values_list(chunk.len(), 5)
            );
            for row in tx.exec().fetch_all(Statement::new(sql, values)).await? {
                rows.insert(row.get::<String, _>(1)?, (row.get::<i64, _>(0)?, row.get::<i64, _>(2)?));
            }
        }
        Ok(rows)
    }

    /// Stored traces among `trace_ids`, with the session id text of their session.
    async fn stored_traces(&self, tx: &mut Transaction, trace_ids: &[&str]) -> Result<HashMap<String, StoredTrace>> {
        let mut stored = HashMap::new();
        for chunk in trace_ids.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT traces.trace_id, traces.project_id, project_sessions.session_id, traces.start_time, traces.end_time \
                 FROM traces LEFT JOIN project_sessions ON project_sessions.id = traces.session_rowid \
                 WHERE traces.trace_id IN ({})",
                self.dialect.placeholders(1, chunk.len())
            );
            let statement = Statement::new(sql, chunk.iter().map(|id| sea_query::Value::from(*id)));
            for row in tx.exec().fetch_all(statement).await? {
                stored.insert(
                    row.get(0)?,
                    StoredTrace { project_id: row.get(1)?, session_id: row.get(2)?, start_time: row.get(3)?, end_time: row.get(4)? },
                );
            }
        }
        Ok(stored)
    }

    /// Creates or widens sessions ((project id, session id) → (start, end)); returns
    /// (project id, session id) → rowid.
    async fn upsert_sessions(&self, tx: &mut Transaction, sessions: &BTreeMap<SessionKey<'_>, (i64, i64)>) -> Result<SessionRowids> {
        let mut rowids = HashMap::with_capacity(sessions.len());
        let entries: Vec<_> = sessions.iter().collect();
        for chunk in entries.chunks(INSERT_CHUNK) {
            let mut values = Vec::with_capacity(chunk.len() * 4);
            for ((project_id, session_id), (start, end)) in chunk {
                values.extend([sea_query::Value::from(*session_id), (*project_id).into(), (*start).into(), (*end).into()]);
            }
            let sql = format!(
                "INSERT INTO project_sessions (session_id, project_id, start_time, end_time) VALUES {} \
                 ON CONFLICT (session_id, project_id) DO UPDATE SET \
                 start_time = CASE WHEN excluded.start_time < project_sessions.start_time THEN excluded.start_time ELSE project_sessions.start_time END, \
                 end_time = CASE WHEN excluded.end_time > project_sessions.end_time THEN excluded.end_time ELSE project_sessions.end_time END \
                 RETURNING id, session_id, project_id",
                self.dialect.values_list(chunk.len(), 4)
            );
            for row in tx.exec().fetch_all(Statement::new(sql, values)).await? {
                rowids.insert((row.get::<i64, _>(2)?, row.get::<String, _>(1)?), row.get::<i64, _>(0)?);
            }
        }
        Ok(rowids)
    }

    /// Project name → id, creating the projects that do not exist yet.
    pub(crate) async fn ensure_projects(&self, tx: &mut Transaction, names: &[&str]) -> Result<HashMap<String, i64>> {
        let mut distinct: Vec<&str> = names.iter().copied().collect::<HashSet<_>>().into_iter().collect();
        distinct.sort_unstable();
        let mut ids = self.project_ids(tx, &distinct).await?;
        let missing: Vec<&str> = distinct.into_iter().filter(|name| !ids.contains_key(*name)).collect();
        if missing.is_empty() {
            return Ok(ids);
        }
        let now = now_nanos();
        for chunk in missing.chunks(IN_CHUNK / 4) {
            let mut insert = Query::insert()
                .into_table(Projects::Table)
                .columns([Projects::Name, Projects::CreatedAt, Projects::UpdatedAt])
                .on_conflict(sea_query::OnConflict::column(Projects::Name).do_nothing().to_owned())
                .to_owned();
            for name in chunk {
                insert.values_panic([(*name).into(), now.into(), now.into()]);
            }
            tx.exec().execute(self.build(&insert)).await?;
        }
        ids.extend(self.project_ids(tx, &missing).await?);
        match missing.iter().find(|name| !ids.contains_key(**name)) {
            Some(name) => Err(StoreError::Corrupt(format!("project {name:?} vanished while spans were written to it"))),
            None => Ok(ids),
        }
    }

    async fn project_ids(&self, tx: &mut Transaction, names: &[&str]) -> Result<HashMap<String, i64>> {
        let mut ids = HashMap::new();
        for chunk in names.chunks(IN_CHUNK) {
            let query = Query::select()
                .columns([Projects::Id, Projects::Name])
                .from(Projects::Table)
                .and_where(Expr::col(Projects::Name).is_in(chunk.iter().copied()))
                .to_owned();
            for row in tx.exec().fetch_all(self.build(&query)).await? {
                ids.insert(row.get(1)?, row.get(0)?);
            }
        }
        Ok(ids)
    }

    async fn cumulative_counts(&self, tx: &mut Transaction, spans: &[&PreparedSpan]) -> Result<crate::write::cumulative::Propagation> {
        let ids: Vec<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
        let mut stored_children: HashMap<String, Counts> = HashMap::new();
        for chunk in ids.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT parent_id, CAST(SUM(cumulative_error_count) AS BIGINT), CAST(SUM(cumulative_llm_token_count_prompt) AS BIGINT), \
                 CAST(SUM(cumulative_llm_token_count_completion) AS BIGINT) FROM spans WHERE parent_id IN ({}) GROUP BY parent_id",
                self.dialect.placeholders(1, chunk.len())
            );
            let statement = Statement::new(sql, chunk.iter().map(|id| sea_query::Value::from(*id)));
            for row in tx.exec().fetch_all(statement).await? {
                let counts = Counts { errors: row.get(1)?, prompt_tokens: row.get(2)?, completion_tokens: row.get(3)? };
                stored_children.insert(row.get(0)?, counts);
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

    async fn insert_spans(&self, tx: &mut Transaction, spans: &[&PreparedSpan], traces: &TraceRows, cumulative: &[Counts]) -> Result<()> {
        // The hottest statement: bound directly, without sea-query's intermediate values, so the
        // attribute values are passed by reference instead of copied.
        for (chunk_index, chunk) in spans.chunks(INSERT_CHUNK).enumerate() {
            let counts = &cumulative[chunk_index * INSERT_CHUNK..];
            match tx {
                Transaction::Sqlite(tx) => {
                    let sql = span_insert_sql(chunk.len());
                    let mut insert = sqlx::query(&sql);
                    for (span, counts) in chunk.iter().zip(counts) {
                        let (trace_rowid, project_id) = traces[&span.trace_id];
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
                    insert.execute(&mut **tx).await?;
                    let indexed: Vec<(&str, &IndexedValue)> =
                        chunk.iter().flat_map(|span| span.indexed_values.iter().map(|value| (span.span_id.as_str(), value))).collect();
                    attribute_index::insert_for_span_ids(tx, &indexed).await?;
                }
                Transaction::Postgres(tx) => insert_spans_unnest(tx, chunk, traces, counts).await?,
            }
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

/// SQLite's span insert: `INSERT INTO spans (...) VALUES (?, ...), (?, ...)` for `rows` rows.
fn span_insert_sql(rows: usize) -> String {
    format!(
        "INSERT INTO spans ({}) VALUES {}",
        SPAN_INSERT_COLUMNS.join(", "),
        Dialect::Sqlite.values_list(rows, SPAN_INSERT_COLUMNS.len())
    )
}

/// PostgreSQL's span insert: one statement whose 17 parameters are column arrays, instead of a
/// statement with 17 parameters per row for the server to parse and plan.
async fn insert_spans_unnest(
    connection: &mut sqlx::PgConnection,
    spans: &[&PreparedSpan],
    traces: &TraceRows,
    counts: &[Counts],
) -> Result<()> {
    let mut trace_rowids = Vec::with_capacity(spans.len());
    let mut project_ids = Vec::with_capacity(spans.len());
    let mut attributes = Vec::with_capacity(spans.len());
    for span in spans {
        let (trace_rowid, project_id) = traces[&span.trace_id];
        trace_rowids.push(trace_rowid);
        project_ids.push(project_id);
        attributes.push(std::str::from_utf8(&span.attributes).map_err(|_| StoreError::Invalid("attributes are not UTF-8".into()))?);
    }
    let column = |f: fn(&PreparedSpan) -> &str| spans.iter().map(|s| f(s)).collect::<Vec<&str>>();
    let optional = |f: fn(&PreparedSpan) -> Option<i64>| spans.iter().map(|s| f(s)).collect::<Vec<Option<i64>>>();
    sqlx::query(&format!(
        "INSERT INTO spans ({}) SELECT trace_rowid, project_id, span_id, parent_id, name, span_kind, start_time, end_time, \
         status_code, status_message, CAST(attributes AS JSONB), events, errors, prompt, completion, own_prompt, own_completion \
         FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::BIGINT[], $8::BIGINT[], \
         $9::TEXT[], $10::TEXT[], $11::TEXT[], $12::TEXT[], $13::BIGINT[], $14::BIGINT[], $15::BIGINT[], $16::BIGINT[], $17::BIGINT[]) \
         AS rows(trace_rowid, project_id, span_id, parent_id, name, span_kind, start_time, end_time, status_code, status_message, \
         attributes, events, errors, prompt, completion, own_prompt, own_completion)",
        SPAN_INSERT_COLUMNS.join(", ")
    ))
    .bind(trace_rowids)
    .bind(project_ids)
    .bind(column(|s| &s.span_id))
    .bind(spans.iter().map(|s| s.parent_id.as_deref()).collect::<Vec<Option<&str>>>())
    .bind(column(|s| &s.name))
    .bind(column(|s| s.span_kind.as_str()))
    .bind(spans.iter().map(|s| s.start_time).collect::<Vec<i64>>())
    .bind(spans.iter().map(|s| s.end_time).collect::<Vec<i64>>())
    .bind(column(|s| s.status_code.as_str()))
    .bind(column(|s| &s.status_message))
    .bind(attributes)
    .bind(column(|s| &s.events_json))
    .bind(counts[..spans.len()].iter().map(|c| c.errors).collect::<Vec<i64>>())
    .bind(counts[..spans.len()].iter().map(|c| c.prompt_tokens).collect::<Vec<i64>>())
    .bind(counts[..spans.len()].iter().map(|c| c.completion_tokens).collect::<Vec<i64>>())
    .bind(optional(|s| s.llm_token_count_prompt))
    .bind(optional(|s| s.llm_token_count_completion))
    .execute(connection)
    .await?;
    Ok(())
}

pub(crate) async fn propagate_to_ancestors(exec: Exec<'_>, start_span_id: &str, counts: Counts) -> Result<()> {
    if counts.is_zero() {
        return Ok(());
    }
    let statement = Statement::new(
        PROPAGATE_TO_ANCESTORS,
        [start_span_id.into(), counts.errors.into(), counts.prompt_tokens.into(), counts.completion_tokens.into()],
    );
    exec.execute(statement).await?;
    Ok(())
}
