//! Trace reads, deletion and transfer between projects.

use std::collections::{BTreeSet, HashMap};

use ember_query::Filter;
use sea_query::{Expr, Order, Query, SimpleExpr};

use crate::engine::backend::{Row, Statement};
use crate::engine::schema::{Spans, Traces};
use crate::error::{Result, StoreError};
use crate::spans::records::Page;
use crate::write::rollups;
use crate::Store;

#[derive(Debug, Clone, PartialEq)]
pub struct TraceRecord {
    pub rowid: i64,
    pub trace_id: String,
    pub project_id: i64,
    pub session_rowid: Option<i64>,
    pub start_time: i64,
    pub end_time: i64,
    pub token_count_prompt: i64,
    pub token_count_completion: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TraceSort {
    #[default]
    StartTime,
    LatencyMs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TraceOrder {
    Asc,
    #[default]
    Desc,
}

#[derive(Debug, Clone, Default)]
pub struct TraceFilters {
    /// Inclusive lower bound on trace start time.
    pub start_time: Option<i64>,
    /// Exclusive upper bound on trace start time.
    pub end_time: Option<i64>,
    /// Only traces of these sessions (rowids), when set.
    pub session_rowids: Option<Vec<i64>>,
    /// `Some(true)`: traces with at least one errored span; `Some(false)`: traces with none.
    pub has_error: Option<bool>,
    /// Inclusive bounds on trace latency, in nanoseconds.
    pub min_latency: Option<i64>,
    pub max_latency: Option<i64>,
    /// A trace filter (Phoenix language, trace grain).
    pub condition: Option<Filter>,
}

const TRACE_COLUMNS: [Traces; 6] =
    [Traces::Id, Traces::TraceId, Traces::ProjectId, Traces::SessionRowid, Traces::StartTime, Traces::EndTime];

fn trace_from_row(row: &Row) -> Result<TraceRecord> {
    Ok(TraceRecord {
        rowid: row.get(0)?,
        trace_id: row.get(1)?,
        project_id: row.get(2)?,
        session_rowid: row.get(3)?,
        start_time: row.get(4)?,
        end_time: row.get(5)?,
        token_count_prompt: 0,
        token_count_completion: 0,
    })
}

fn sort_key(sort: TraceSort) -> SimpleExpr {
    match sort {
        TraceSort::StartTime => Expr::col((Traces::Table, Traces::StartTime)).into(),
        // Matches the expression index ix_traces_project_latency.
        TraceSort::LatencyMs => Expr::col((Traces::Table, Traces::EndTime)).sub(Expr::col((Traces::Table, Traces::StartTime))),
    }
}

impl Store {
    /// A project's traces sorted by start time or latency, keyset-paginated on (key, rowid).
    pub async fn list_traces(
        &self,
        project_id: i64,
        filters: &TraceFilters,
        sort: TraceSort,
        order: TraceOrder,
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<Page<TraceRecord>> {
        let mut query =
            Query::select().columns(TRACE_COLUMNS).from(Traces::Table).and_where(Expr::col(Traces::ProjectId).eq(project_id)).to_owned();
        if let Some(start) = filters.start_time {
            query.and_where(Expr::col(Traces::StartTime).gte(start));
        }
        if let Some(end) = filters.end_time {
            query.and_where(Expr::col(Traces::StartTime).lt(end));
        }
        if let Some(sessions) = &filters.session_rowids {
            query.and_where(Expr::col(Traces::SessionRowid).is_in(sessions.iter().copied()));
        }
        if let Some(has_error) = filters.has_error {
            let errored = Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(Spans::Table)
                    .and_where(Expr::col((Spans::Table, Spans::TraceRowid)).equals((Traces::Table, Traces::Id)))
                    .and_where(Expr::col((Spans::Table, Spans::StatusCode)).eq("ERROR"))
                    .to_owned(),
            );
            query.and_where(if has_error { errored } else { errored.not() });
        }
        if let Some(min) = filters.min_latency {
            query.and_where(Expr::expr(sort_key(TraceSort::LatencyMs)).gte(min));
        }
        if let Some(max) = filters.max_latency {
            query.and_where(Expr::expr(sort_key(TraceSort::LatencyMs)).lte(max));
        }
        if let Some(condition) = &filters.condition {
            query.and_where(self.filter_sql(project_id, condition).await?);
        }
        if let Some(cursor) = cursor {
            let key_query = Query::select().expr(sort_key(sort)).from(Traces::Table).and_where(Expr::col(Traces::Id).eq(cursor)).to_owned();
            let Some(row) = self.reader.exec().fetch_optional(self.build(&key_query)).await? else {
                return Err(StoreError::Invalid(format!("cursor {cursor} does not name a trace")));
            };
            let key: i64 = row.get(0)?;
            // A row-value comparison, so the (project_id, key, id) index seeks straight to the cursor.
            let position = Expr::tuple([sort_key(sort), Expr::col((Traces::Table, Traces::Id)).into()]);
            let cursor_position = Expr::tuple([Expr::val(key).into(), Expr::val(cursor).into()]);
            let condition = match order {
                TraceOrder::Desc => position.lte(cursor_position),
                TraceOrder::Asc => position.gte(cursor_position),
            };
            query.and_where(condition);
        }
        let direction = if order == TraceOrder::Desc { Order::Desc } else { Order::Asc };
        query.order_by_expr(sort_key(sort), direction.clone()).order_by(Traces::Id, direction).limit(limit as u64 + 1);
        let rows = self.fetch_within_budget(self.build(&query)).await?;
        let items = rows.iter().map(trace_from_row).collect::<Result<Vec<_>>>()?;
        let mut page = Page::from_overfetch(items, limit, |t| t.rowid);
        self.fill_token_counts(&mut page.items).await?;
        Ok(page)
    }

    /// Token totals per trace: the sum over the trace's LLM spans, one grouped query per page.
    pub(crate) async fn fill_token_counts(&self, traces: &mut [TraceRecord]) -> Result<()> {
        if traces.is_empty() {
            return Ok(());
        }
        let query = Query::select()
            .column(Spans::TraceRowid)
            .expr(Expr::cust("CAST(COALESCE(SUM(llm_token_count_prompt), 0) AS BIGINT)"))
            .expr(Expr::cust("CAST(COALESCE(SUM(llm_token_count_completion), 0) AS BIGINT)"))
            .from(Spans::Table)
            .and_where(Expr::col(Spans::TraceRowid).is_in(traces.iter().map(|t| t.rowid)))
            .group_by_col(Spans::TraceRowid)
            .to_owned();
        let mut totals: HashMap<i64, (i64, i64)> = HashMap::new();
        for row in self.reader.exec().fetch_all(self.build(&query)).await? {
            totals.insert(row.get(0)?, (row.get(1)?, row.get(2)?));
        }
        for trace in traces {
            if let Some((prompt, completion)) = totals.get(&trace.rowid) {
                trace.token_count_prompt = *prompt;
                trace.token_count_completion = *completion;
            }
        }
        Ok(())
    }

    /// Looks a trace up by rowid or OpenTelemetry trace id.
    pub async fn get_trace(&self, rowid: Option<i64>, trace_id: Option<&str>) -> Result<Option<TraceRecord>> {
        let mut query = Query::select().columns(TRACE_COLUMNS).from(Traces::Table).to_owned();
        if let Some(rowid) = rowid {
            query.and_where(Expr::col(Traces::Id).eq(rowid));
        }
        if let Some(trace_id) = trace_id {
            query.and_where(Expr::col(Traces::TraceId).eq(trace_id));
        }
        self.reader.exec().fetch_optional(self.build(&query)).await?.as_ref().map(trace_from_row).transpose()
    }

    pub async fn delete_trace(&self, rowid: i64) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let hours = rollups::hours_of_spans(tx.exec(), "trace_rowid = $1", [rowid.into()]).await?;
        let session: Option<Option<i64>> = tx
            .exec()
            .fetch_optional(Statement::new("DELETE FROM traces WHERE id = $1 RETURNING session_rowid", [rowid.into()]))
            .await?
            .map(|row| row.get(0))
            .transpose()?;
        let deleted = session.is_some();
        if let Some(Some(session_rowid)) = session {
            crate::sessions::delete_if_empty(tx.exec(), session_rowid).await?;
        }
        rollups::rebuild(tx.exec(), self.dialect, &hours).await?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// Deletes a project's traces (with their spans) that started in `[start, end)`, with the
    /// sessions left empty, a few hundred traces per transaction so ingest and reads go on
    /// meanwhile (a purge cut short leaves the rest for the next). The rollups of the window's
    /// hours are rebuilt from the spans left, so hours whose spans a sweep had already deleted
    /// are cleared too. Returns how many traces went.
    pub async fn delete_traces_started_between(&self, project_id: i64, start: i64, end: i64) -> Result<usize> {
        const TRACES_PER_TRANSACTION: i64 = 500;
        let mut deleted = 0;
        loop {
            let mut tx = self.writer.begin().await?;
            let chosen = tx
                .exec()
                .fetch_all(Statement::new(
                    "SELECT id FROM traces WHERE project_id = $1 AND start_time >= $2 AND start_time < $3 ORDER BY start_time, id LIMIT $4",
                    [project_id.into(), start.into(), end.into(), TRACES_PER_TRANSACTION.into()],
                ))
                .await?;
            let rowids: Vec<i64> = chosen.iter().map(|row| row.get(0)).collect::<Result<_>>()?;
            if rowids.is_empty() {
                rollups::clear_whole_hours(tx.exec(), project_id, start, end).await?;
                tx.commit().await?;
                return Ok(deleted);
            }
            delete_trace_rows(&mut tx, self.dialect, &rowids, Rollups::Rebuild).await?;
            tx.commit().await?;
            deleted += rowids.len();
        }
    }

    /// Moves traces (with their spans) to another project. All must share one source project.
    pub async fn transfer_traces(&self, trace_rowids: &[i64], destination_project_id: i64) -> Result<usize> {
        let mut tx = self.writer.begin().await?;
        let query = Query::select()
            .column(Traces::ProjectId)
            .distinct()
            .from(Traces::Table)
            .and_where(Expr::col(Traces::Id).is_in(trace_rowids.iter().copied()))
            .to_owned();
        let sources = tx.exec().fetch_all(self.build(&query)).await?;
        if sources.len() > 1 {
            return Err(StoreError::Invalid("all traces must belong to the same project".into()));
        }
        let rowid_list = trace_rowids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let mut hours = rollups::hours_of_spans(tx.exec(), &format!("trace_rowid IN ({rowid_list})"), []).await?;
        hours.extend(hours.clone().into_iter().map(|(_, hour)| (destination_project_id, hour)));
        crate::sessions::follow_transferred_traces(tx.exec(), &rowid_list, destination_project_id).await?;
        let update = Query::update()
            .table(Traces::Table)
            .value(Traces::ProjectId, destination_project_id)
            .and_where(Expr::col(Traces::Id).is_in(trace_rowids.iter().copied()))
            .to_owned();
        tx.exec().execute(self.build(&update)).await?;
        let update = Query::update()
            .table(Spans::Table)
            .value(Spans::ProjectId, destination_project_id)
            .and_where(Expr::col(Spans::TraceRowid).is_in(trace_rowids.iter().copied()))
            .to_owned();
        tx.exec().execute(self.build(&update)).await?;
        let sql =
            format!("UPDATE span_costs SET project_id = $1 WHERE span_rowid IN (SELECT id FROM spans WHERE trace_rowid IN ({rowid_list}))");
        tx.exec().execute(Statement::new(sql, [destination_project_id.into()])).await?;
        rollups::rebuild(tx.exec(), self.dialect, &hours).await?;
        tx.commit().await?;
        Ok(trace_rowids.len())
    }
}

/// What a deletion does to the hourly rollups of the spans it deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rollups {
    /// Recompute their hours from the spans left: the data is gone from the charts too.
    Rebuild,
    /// Leave them: the charts keep counting what retention deleted.
    Keep,
}

/// Deletes traces in the open transaction (their spans, annotations and notes go by the schema's
/// cascades; dataset examples made from their spans keep their content and lose the link), and
/// the sessions they leave empty. A session another transaction is writing to is passed over
/// (PostgreSQL): it is not empty then.
pub(crate) async fn delete_trace_rows(
    tx: &mut crate::engine::backend::Transaction,
    dialect: crate::engine::dialect::Dialect,
    rowids: &[i64],
    rollups: Rollups,
) -> Result<()> {
    let list = rowids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    let hours = match rollups {
        Rollups::Rebuild => rollups::hours_of_spans(tx.exec(), &format!("trace_rowid IN ({list})"), []).await?,
        Rollups::Keep => BTreeSet::new(),
    };
    let sessions = tx
        .exec()
        .fetch_all(Statement::new(
            format!("DELETE FROM traces WHERE id IN ({list}) RETURNING session_rowid"),
            Vec::<sea_query::Value>::new(),
        ))
        .await?;
    let sessions: BTreeSet<i64> = sessions.iter().filter_map(|row| row.get::<Option<i64>, _>(0).transpose()).collect::<Result<_>>()?;
    if !sessions.is_empty() {
        let sessions = sessions.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "DELETE FROM project_sessions WHERE id IN (SELECT id FROM project_sessions WHERE id IN ({sessions}) \
             AND NOT EXISTS (SELECT 1 FROM traces WHERE traces.session_rowid = project_sessions.id){})",
            dialect.skip_locked()
        );
        tx.exec().execute(Statement::new(sql, [])).await?;
    }
    rollups::rebuild(tx.exec(), dialect, &hours).await
}
