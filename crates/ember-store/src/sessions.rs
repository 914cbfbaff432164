//! Sessions: the traces that share a `session.id`.

use std::collections::HashMap;

use ember_query::Filter;
use sea_query::{Expr, Order, Query};

use crate::engine::backend::{Row, Statement};
use crate::engine::schema::{ProjectSessions, Traces};
use crate::error::Result;
use crate::spans::records::Page;
use crate::write::rollups;
use crate::Store;

#[derive(Debug, Clone, PartialEq)]
pub struct SessionTrace {
    pub rowid: i64,
    pub trace_id: String,
    pub start_time: i64,
    pub end_time: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub rowid: i64,
    pub session_id: String,
    pub project_id: i64,
    pub start_time: i64,
    pub end_time: i64,
    pub traces: Vec<SessionTrace>,
    pub token_count_prompt: i64,
    pub token_count_completion: i64,
}

const SESSION_COLUMNS: [ProjectSessions; 5] =
    [ProjectSessions::Id, ProjectSessions::SessionId, ProjectSessions::ProjectId, ProjectSessions::StartTime, ProjectSessions::EndTime];

fn session_from_row(row: &Row) -> Result<SessionRecord> {
    Ok(SessionRecord {
        rowid: row.get(0)?,
        session_id: row.get(1)?,
        project_id: row.get(2)?,
        start_time: row.get(3)?,
        end_time: row.get(4)?,
        traces: Vec::new(),
        token_count_prompt: 0,
        token_count_completion: 0,
    })
}

impl Store {
    /// A project's sessions ordered by rowid; `cursor` is the rowid of the first session of the page.
    /// `condition` is a session filter (Phoenix language, session grain).
    pub async fn list_sessions(
        &self,
        project_id: i64,
        condition: Option<&Filter>,
        cursor: Option<i64>,
        limit: usize,
        ascending: bool,
    ) -> Result<Page<SessionRecord>> {
        let mut query = Query::select()
            .columns(SESSION_COLUMNS)
            .from(ProjectSessions::Table)
            .and_where(Expr::col(ProjectSessions::ProjectId).eq(project_id))
            .order_by(ProjectSessions::Id, if ascending { Order::Asc } else { Order::Desc })
            .limit(limit as u64 + 1)
            .to_owned();
        if let Some(cursor) = cursor {
            query.and_where(if ascending {
                Expr::col(ProjectSessions::Id).gte(cursor)
            } else {
                Expr::col(ProjectSessions::Id).lte(cursor)
            });
        }
        if let Some(condition) = condition {
            query.and_where(self.filter_sql(project_id, condition).await?);
        }
        let rows = self.fetch_within_budget(self.build(&query)).await?;
        let items = rows.iter().map(session_from_row).collect::<Result<Vec<_>>>()?;
        let mut page = Page::from_overfetch(items, limit, |s| s.rowid);
        self.fill_session_traces(&mut page.items).await?;
        Ok(page)
    }

    /// Looks a session up by rowid or by its `session.id` text. A `session.id` used in several
    /// projects names, by its text alone, the session seen first (the lowest rowid).
    pub async fn get_session(&self, rowid: Option<i64>, session_id: Option<&str>) -> Result<Option<SessionRecord>> {
        let mut query = Query::select()
            .columns(SESSION_COLUMNS)
            .from(ProjectSessions::Table)
            .order_by(ProjectSessions::Id, Order::Asc)
            .limit(1)
            .to_owned();
        if let Some(rowid) = rowid {
            query.and_where(Expr::col(ProjectSessions::Id).eq(rowid));
        }
        if let Some(session_id) = session_id {
            query.and_where(Expr::col(ProjectSessions::SessionId).eq(session_id));
        }
        let Some(row) = self.reader.exec().fetch_optional(self.build(&query)).await? else {
            return Ok(None);
        };
        let mut sessions = vec![session_from_row(&row)?];
        self.fill_session_traces(&mut sessions).await?;
        Ok(sessions.pop())
    }

    /// Rowids of the sessions with these `session.id` texts, oldest first: one per project that
    /// has a session of that name (a `session.id` is unique within a project only).
    pub async fn session_rowids_by_session_id(&self, session_ids: &[&str]) -> Result<Vec<i64>> {
        let query = Query::select()
            .column(ProjectSessions::Id)
            .from(ProjectSessions::Table)
            .and_where(Expr::col(ProjectSessions::SessionId).is_in(session_ids.iter().copied()))
            .order_by(ProjectSessions::Id, Order::Asc)
            .to_owned();
        let rows = self.reader.exec().fetch_all(self.build(&query)).await?;
        rows.iter().map(|row| row.get(0)).collect()
    }

    /// The projects of the sessions with these rowids, as `(rowid, project id)` pairs (those
    /// that exist), in a few queries however many rowids.
    pub async fn projects_of_sessions(&self, rowids: &[i64]) -> Result<Vec<(i64, i64)>> {
        let mut projects = Vec::with_capacity(rowids.len());
        for chunk in rowids.chunks(500) {
            let sql = format!("SELECT id, project_id FROM project_sessions WHERE id IN ({})", self.dialect.placeholders(1, chunk.len()));
            let rows = self.reader.exec().fetch_all(Statement::new(sql, chunk.iter().map(|rowid| sea_query::Value::from(*rowid)))).await?;
            for row in rows {
                projects.push((row.get(0)?, row.get(1)?));
            }
        }
        Ok(projects)
    }

    /// Deletes sessions with their traces and spans; returns how many sessions were deleted.
    pub async fn delete_sessions(&self, rowids: &[i64]) -> Result<u64> {
        if rowids.is_empty() {
            return Ok(0);
        }
        let mut tx = self.writer.begin().await?;
        let session_list = rowids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let condition = format!("trace_rowid IN (SELECT id FROM traces WHERE session_rowid IN ({session_list}))");
        let hours = rollups::hours_of_spans(tx.exec(), &condition, []).await?;
        let delete_traces =
            Query::delete().from_table(Traces::Table).and_where(Expr::col(Traces::SessionRowid).is_in(rowids.iter().copied())).to_owned();
        tx.exec().execute(self.build(&delete_traces)).await?;
        let delete = Query::delete()
            .from_table(ProjectSessions::Table)
            .and_where(Expr::col(ProjectSessions::Id).is_in(rowids.iter().copied()))
            .to_owned();
        let deleted = tx.exec().execute(self.build(&delete)).await?;
        rollups::rebuild(tx.exec(), self.dialect, &hours).await?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// Loads each session's traces and token totals with two queries for the whole page.
    async fn fill_session_traces(&self, sessions: &mut [SessionRecord]) -> Result<()> {
        if sessions.is_empty() {
            return Ok(());
        }
        let rowids: Vec<i64> = sessions.iter().map(|s| s.rowid).collect();
        let query = Query::select()
            .columns([Traces::SessionRowid, Traces::Id, Traces::TraceId, Traces::StartTime, Traces::EndTime])
            .from(Traces::Table)
            .and_where(Expr::col(Traces::SessionRowid).is_in(rowids.iter().copied()))
            .order_by(Traces::StartTime, Order::Asc)
            .to_owned();
        let mut traces: HashMap<i64, Vec<SessionTrace>> = HashMap::new();
        for row in self.reader.exec().fetch_all(self.build(&query)).await? {
            let trace = SessionTrace { rowid: row.get(1)?, trace_id: row.get(2)?, start_time: row.get(3)?, end_time: row.get(4)? };
            traces.entry(row.get(0)?).or_default().push(trace);
        }
        let totals_sql = format!(
            "SELECT traces.session_rowid, CAST(COALESCE(SUM(spans.llm_token_count_prompt), 0) AS BIGINT), \
             CAST(COALESCE(SUM(spans.llm_token_count_completion), 0) AS BIGINT) \
             FROM traces JOIN spans ON spans.trace_rowid = traces.id WHERE traces.session_rowid IN ({}) GROUP BY traces.session_rowid",
            rowids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        );
        let mut totals: HashMap<i64, (i64, i64)> = HashMap::new();
        for row in self.reader.exec().fetch_all(Statement::new(totals_sql, [])).await? {
            totals.insert(row.get(0)?, (row.get(1)?, row.get(2)?));
        }
        for session in sessions {
            session.traces = traces.remove(&session.rowid).unwrap_or_default();
            if let Some((prompt, completion)) = totals.get(&session.rowid) {
                session.token_count_prompt = *prompt;
                session.token_count_completion = *completion;
            }
        }
        Ok(())
    }
}

/// Deletes a session none of whose traces is left (its last trace was deleted).
pub(crate) async fn delete_if_empty(exec: crate::engine::backend::Exec<'_>, session_rowid: i64) -> Result<()> {
    exec.execute(Statement::new(
        "DELETE FROM project_sessions WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM traces WHERE session_rowid = $1)",
        [session_rowid.into()],
    ))
    .await?;
    Ok(())
}

/// Keeps sessions in their project when traces (rowids `trace_list`, a comma-separated list of
/// integers) move to project `destination`; call it before the traces' project changes. A session
/// all of whose traces move, to a project without a session of that id, moves whole (its rowid
/// and annotations with it). Otherwise the moved traces join the destination's session of that
/// id, created or widened; a source session left without traces hands its annotations over
/// (where the destination has none under the same name and identifier) and goes, and one that
/// keeps traces is narrowed to them.
pub(crate) async fn follow_transferred_traces(
    mut exec: crate::engine::backend::Exec<'_>,
    trace_list: &str,
    destination: i64,
) -> Result<()> {
    if trace_list.is_empty() {
        return Ok(());
    }
    let statement = |sql: String| Statement::new(sql, []);
    exec.reborrow()
        .execute(statement(format!(
            "UPDATE project_sessions SET project_id = {destination} \
             WHERE id IN (SELECT session_rowid FROM traces WHERE id IN ({trace_list})) AND project_id <> {destination} \
             AND NOT EXISTS (SELECT 1 FROM traces WHERE traces.session_rowid = project_sessions.id AND traces.id NOT IN ({trace_list})) \
             AND NOT EXISTS (SELECT 1 FROM project_sessions AS d WHERE d.session_id = project_sessions.session_id AND d.project_id = {destination})"
        )))
        .await?;
    let split: Vec<i64> = exec
        .reborrow()
        .fetch_all(statement(format!(
            "SELECT DISTINCT s.id FROM traces AS t JOIN project_sessions AS s ON s.id = t.session_rowid \
             WHERE t.id IN ({trace_list}) AND s.project_id <> {destination}"
        )))
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect::<Result<_>>()?;
    if split.is_empty() {
        return Ok(());
    }
    let split_list = split.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    exec.reborrow()
        .execute(statement(format!(
            "INSERT INTO project_sessions (session_id, project_id, start_time, end_time) \
             SELECT s.session_id, {destination}, MIN(t.start_time), MAX(t.end_time) FROM traces AS t \
             JOIN project_sessions AS s ON s.id = t.session_rowid WHERE t.id IN ({trace_list}) AND s.id IN ({split_list}) \
             GROUP BY s.session_id \
             ON CONFLICT (session_id, project_id) DO UPDATE SET \
             start_time = CASE WHEN excluded.start_time < project_sessions.start_time THEN excluded.start_time ELSE project_sessions.start_time END, \
             end_time = CASE WHEN excluded.end_time > project_sessions.end_time THEN excluded.end_time ELSE project_sessions.end_time END"
        )))
        .await?;
    exec.reborrow()
        .execute(statement(format!(
            "UPDATE traces SET session_rowid = (SELECT d.id FROM project_sessions AS d JOIN project_sessions AS s ON s.session_id = d.session_id \
             WHERE s.id = traces.session_rowid AND d.project_id = {destination}) \
             WHERE id IN ({trace_list}) AND session_rowid IN ({split_list})"
        )))
        .await?;
    exec.reborrow()
        .execute(statement(format!(
            "INSERT INTO project_session_annotations (session_rowid, name, label, score, explanation, metadata, annotator_kind, user_id, \
             identifier, source, created_at, updated_at) \
             SELECT d.id, a.name, a.label, a.score, a.explanation, a.metadata, a.annotator_kind, a.user_id, a.identifier, a.source, \
             a.created_at, a.updated_at FROM project_session_annotations AS a JOIN project_sessions AS s ON s.id = a.session_rowid \
             JOIN project_sessions AS d ON d.session_id = s.session_id AND d.project_id = {destination} \
             WHERE a.session_rowid IN ({split_list}) AND NOT EXISTS (SELECT 1 FROM traces WHERE traces.session_rowid = a.session_rowid) \
             ON CONFLICT (name, session_rowid, identifier) DO NOTHING"
        )))
        .await?;
    exec.reborrow()
        .execute(statement(format!(
            "DELETE FROM project_sessions WHERE id IN ({split_list}) \
             AND NOT EXISTS (SELECT 1 FROM traces WHERE traces.session_rowid = project_sessions.id)"
        )))
        .await?;
    exec.execute(statement(format!(
        "UPDATE project_sessions SET start_time = (SELECT MIN(start_time) FROM traces WHERE traces.session_rowid = project_sessions.id), \
         end_time = (SELECT MAX(end_time) FROM traces WHERE traces.session_rowid = project_sessions.id) WHERE id IN ({split_list})"
    )))
    .await?;
    Ok(())
}
