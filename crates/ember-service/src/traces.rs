//! Traces: lists (optionally with their spans), lookups, deletion and transfer between projects.
//! A trace is named by its GlobalID or its OpenTelemetry trace id; sessions in trace filters by
//! GlobalID or `session.id`.

use std::collections::{HashMap, HashSet};

use ember_core::{GlobalId, GlobalType};
use ember_store::{Filter, Page, Project, SpanRecord, TraceFilters, TraceOrder, TraceRecord, TraceSort};

use crate::error::{Result, ServiceError};
use crate::projects::ProjectRef;
use crate::{Caller, Services};

/// Which traces to list.
#[derive(Debug, Clone, Default)]
pub struct TraceListQuery {
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    /// Session GlobalIDs or `session.id`s; unknown ones match nothing.
    pub session_identifiers: Vec<String>,
    pub has_error: Option<bool>,
    /// Inclusive latency bounds in milliseconds.
    pub min_latency_ms: Option<f64>,
    pub max_latency_ms: Option<f64>,
    pub condition: Option<Filter>,
    pub sort: TraceSort,
    pub order: TraceOrder,
    pub cursor: Option<i64>,
    pub limit: usize,
    /// Also read each trace's spans.
    pub include_spans: bool,
}

/// A page of traces, with each trace's spans when they were asked for.
pub struct TracePage {
    pub page: Page<TraceRecord>,
    pub spans: HashMap<i64, Vec<SpanRecord>>,
}

pub struct Traces<'a> {
    pub(crate) services: &'a Services,
}

impl Traces<'_> {
    pub async fn list(&self, caller: &Caller, project: ProjectRef<'_>, query: TraceListQuery) -> Result<TracePage> {
        let to_nanos = |ms: Option<f64>| ms.map(|ms| (ms * 1e6).round() as i64);
        let (min_latency, max_latency) = (to_nanos(query.min_latency_ms), to_nanos(query.max_latency_ms));
        if let (Some(min), Some(max)) = (min_latency, max_latency) {
            if min > max {
                return Err(ServiceError::invalid("min_latency_ms must not exceed max_latency_ms"));
            }
        }
        let project = self.services.projects().resolve(caller, project).await?;
        let session_rowids = if query.session_identifiers.is_empty() {
            None
        } else {
            Some(self.services.sessions().rowids(caller, &query.session_identifiers).await?)
        };
        let filters = TraceFilters {
            start_time: query.start_time,
            end_time: query.end_time,
            session_rowids,
            has_error: query.has_error,
            min_latency,
            max_latency,
            condition: query.condition,
        };
        let store = &self.services.store;
        let page = store.list_traces(project.id, &filters, query.sort, query.order, query.cursor, query.limit).await?;
        let mut spans: HashMap<i64, Vec<SpanRecord>> = HashMap::new();
        if query.include_spans {
            let rowids: Vec<i64> = page.items.iter().map(|trace| trace.rowid).collect();
            for record in store.spans_of_traces(&rowids).await? {
                spans.entry(record.trace_rowid).or_default().push(record);
            }
        }
        Ok(TracePage { page, spans })
    }

    /// A trace by GlobalID or OpenTelemetry trace id; 404 when there is none.
    pub async fn resolve(&self, caller: &Caller, identifier: &str) -> Result<TraceRecord> {
        let store = &self.services.store;
        let found = match GlobalId::decode_as(identifier, GlobalType::Trace) {
            Some(rowid) => store.get_trace(Some(rowid), None).await?,
            None => store.get_trace(None, Some(identifier)).await?,
        };
        let found = self.readable(caller, found).await?;
        found.ok_or_else(|| ServiceError::not_found(format!("Trace not found: {identifier}")))
    }

    /// A trace by rowid.
    pub async fn by_rowid(&self, caller: &Caller, rowid: i64) -> Result<Option<TraceRecord>> {
        let trace = self.services.store.get_trace(Some(rowid), None).await?;
        self.readable(caller, trace).await
    }

    /// `trace`, if the caller may read its project.
    async fn readable(&self, caller: &Caller, trace: Option<TraceRecord>) -> Result<Option<TraceRecord>> {
        match trace {
            Some(trace) if self.services.can_read(caller, trace.project_id).await? => Ok(Some(trace)),
            _ => Ok(None),
        }
    }

    /// A project's trace by OpenTelemetry trace id; 404 when the project has no such trace.
    pub async fn in_project(&self, caller: &Caller, project: &Project, trace_id: &str) -> Result<TraceRecord> {
        let trace = self.services.store.get_trace(None, Some(trace_id)).await?.filter(|trace| trace.project_id == project.id);
        let trace = self.readable(caller, trace).await?;
        trace.ok_or_else(|| ServiceError::not_found(format!("Project {} has no trace {trace_id}", project.name)))
    }

    /// The traces started just after and just before `trace` in its project (the previous and
    /// the next on the traces list, which runs newest first), each found by a keyset step.
    pub async fn neighbours(&self, _caller: &Caller, trace: &TraceRecord) -> Result<(Option<TraceRecord>, Option<TraceRecord>)> {
        let store = &self.services.store;
        let everything = TraceFilters::default();
        let step = |order| store.list_traces(trace.project_id, &everything, TraceSort::StartTime, order, Some(trace.rowid), 1);
        let newer = step(TraceOrder::Asc).await?.next_cursor;
        let older = step(TraceOrder::Desc).await?.next_cursor;
        let mut found = (None, None);
        if let Some(rowid) = newer {
            found.0 = store.get_trace(Some(rowid), None).await?;
        }
        if let Some(rowid) = older {
            found.1 = store.get_trace(Some(rowid), None).await?;
        }
        Ok(found)
    }

    /// Deletes a project's traces that started in `[start, end)` (and the sessions left empty);
    /// the project stays. Returns how many traces went.
    pub async fn purge(&self, caller: &Caller, project: ProjectRef<'_>, start: i64, end: i64) -> Result<usize> {
        caller.require_write()?;
        if start >= end {
            return Err(ServiceError::invalid("`start_time` must be strictly earlier than `end_time`."));
        }
        let project = self.services.projects().resolve_writable(caller, project).await?;
        let deleted = self.services.store.delete_traces_started_between(project.id, start, end).await?;
        self.services.storage().recheck();
        Ok(deleted)
    }

    pub async fn delete(&self, caller: &Caller, identifier: &str) -> Result<()> {
        caller.require_write()?;
        let trace = self.resolve(caller, identifier).await?;
        self.services.require_project_write(caller, trace.project_id).await?;
        self.services.store.delete_trace(trace.rowid).await?;
        Ok(())
    }

    /// Moves traces (all from one project) to another project; returns how many moved and where.
    pub async fn transfer(&self, caller: &Caller, identifiers: &[String], destination: ProjectRef<'_>) -> Result<(usize, Project)> {
        caller.require_write()?;
        if identifiers.is_empty() {
            return Err(ServiceError::invalid("trace_identifiers must name at least one trace"));
        }
        let destination = self.services.projects().resolve_writable(caller, destination).await?;
        let mut rowids = Vec::with_capacity(identifiers.len());
        let mut source_projects = HashSet::new();
        for identifier in identifiers {
            let trace = self.resolve(caller, identifier).await?;
            source_projects.insert(trace.project_id);
            rowids.push(trace.rowid);
        }
        if source_projects.len() > 1 {
            return Err(ServiceError::invalid("All traces must belong to the same source project"));
        }
        for &source in &source_projects {
            self.services.require_project_write(caller, source).await?;
        }
        rowids.sort_unstable();
        rowids.dedup();
        let transferred = self.services.store.transfer_traces(&rowids, destination.id).await?;
        Ok((transferred, destination))
    }
}
