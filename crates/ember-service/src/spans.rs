//! Spans: lists, lookups and deletion, the span-query frame, and spans created through the API
//! (validated here, written through [`crate::ingest`]). A span is named by its GlobalID or its
//! OpenTelemetry span id.

use std::collections::HashSet;

use ember_core::{GlobalId, GlobalType, RoutedSpan, Span};
use ember_store::{Page, RootSpanQuery, SpanFilters, SpanOutline, SpanQueryOptions, SpanRecord};

use crate::error::{Result, ServiceError};
use crate::projects::ProjectRef;
use crate::{Caller, Services};

/// A span sent to `create` that cannot be stored, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSpan {
    pub trace_id: String,
    pub span_id: String,
    pub error: String,
}

/// A span as the transport parsed it: ready, or already known to be invalid.
pub type SpanCandidate = std::result::Result<Span, InvalidSpan>;

/// What `create` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpanCreation {
    /// Every span is committed.
    Created { total: usize },
    /// Nothing was stored: these spans are invalid or already stored (or repeated).
    Refused { total: usize, invalid: Vec<InvalidSpan>, duplicates: Vec<(String, String)> },
}

pub struct Spans<'a> {
    pub(crate) services: &'a Services,
}

impl Spans<'_> {
    /// A page of a project's spans, newest first.
    pub async fn list(
        &self,
        caller: &Caller,
        project: ProjectRef<'_>,
        filters: &SpanFilters,
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<Page<SpanRecord>> {
        crate::limits::check_id_count("trace and span ids", filters.trace_ids.len() + filters.span_ids.len())?;
        let project = self.services.projects().resolve(caller, project).await?;
        Ok(self.services.store.list_spans(project.id, filters, cursor, limit).await?)
    }

    /// A page of a project's root spans in the query's order.
    pub async fn list_roots(
        &self,
        caller: &Caller,
        project: ProjectRef<'_>,
        query: &RootSpanQuery,
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<Page<SpanRecord>> {
        let project = self.services.projects().resolve(caller, project).await?;
        Ok(self.services.store.list_root_spans(project.id, query, cursor, limit).await?)
    }

    /// The span-query frame's spans; a project that does not exist has none.
    pub async fn query(&self, caller: &Caller, project: ProjectRef<'_>, options: &SpanQueryOptions) -> Result<Vec<SpanRecord>> {
        match self.services.projects().find(caller, project).await? {
            Some(project) => Ok(self.services.store.query_spans(project.id, options).await?),
            None => Ok(Vec::new()),
        }
    }

    /// A span by GlobalID or OpenTelemetry span id, or `None`.
    pub async fn find(&self, caller: &Caller, identifier: &str) -> Result<Option<SpanRecord>> {
        let store = &self.services.store;
        let span = match GlobalId::decode_as(identifier, GlobalType::Span) {
            Some(rowid) => store.get_span(Some(rowid), None).await?,
            None => store.get_span(None, Some(identifier)).await?,
        };
        self.readable(caller, span).await
    }

    /// A span by its OpenTelemetry span id, or `None`.
    pub async fn by_otel_id(&self, caller: &Caller, span_id: &str) -> Result<Option<SpanRecord>> {
        let span = self.services.store.get_span(None, Some(span_id)).await?;
        self.readable(caller, span).await
    }

    /// A span by its rowid, or `None`.
    pub async fn by_rowid(&self, caller: &Caller, rowid: i64) -> Result<Option<SpanRecord>> {
        let span = self.services.store.get_span(Some(rowid), None).await?;
        self.readable(caller, span).await
    }

    /// `span`, if the caller may read its project.
    async fn readable(&self, caller: &Caller, span: Option<SpanRecord>) -> Result<Option<SpanRecord>> {
        match span {
            Some(span) if self.services.can_read(caller, span.project_id).await? => Ok(Some(span)),
            _ => Ok(None),
        }
    }

    /// A span by GlobalID or OpenTelemetry span id; 404 when there is none.
    pub async fn resolve(&self, caller: &Caller, identifier: &str) -> Result<SpanRecord> {
        self.find(caller, identifier).await?.ok_or_else(|| ServiceError::not_found(format!("Span not found: {identifier}")))
    }

    /// Deletes a span (its descendants' counts and the rollups follow).
    pub async fn delete(&self, caller: &Caller, identifier: &str) -> Result<()> {
        caller.require_write()?;
        let record = self.resolve(caller, identifier).await?;
        self.services.require_project_write(caller, record.project_id).await?;
        self.services.store.delete_span(record.rowid).await?;
        Ok(())
    }

    /// Deletes a project's spans by OpenTelemetry id; unknown ids are ignored.
    pub async fn delete_many(&self, caller: &Caller, project: ProjectRef<'_>, span_ids: &[String]) -> Result<()> {
        let project = self.services.projects().resolve_writable(caller, project).await?;
        self.services.store.delete_spans_by_id(project.id, span_ids).await?;
        Ok(())
    }

    /// Every span of the given traces, by trace then start time (of projects the caller may
    /// read).
    pub async fn of_traces(&self, caller: &Caller, trace_rowids: &[i64]) -> Result<Vec<SpanRecord>> {
        let mut spans = self.services.store.spans_of_traces(trace_rowids).await?;
        if !self.services.reaches_everything(caller) {
            let mut projects: Vec<i64> = spans.iter().map(|span| span.project_id).collect();
            projects.sort_unstable();
            projects.dedup();
            let readable = self.services.readable_ids(caller, &projects).await?;
            spans.retain(|span| readable.contains(&span.project_id));
        }
        Ok(spans)
    }

    /// The outline (no attributes) of every span of a trace; none when the caller may not read it.
    pub async fn outlines_of_trace(&self, caller: &Caller, trace_rowid: i64) -> Result<Vec<SpanOutline>> {
        if !self.services.reaches_everything(caller) && self.services.traces().by_rowid(caller, trace_rowid).await?.is_none() {
            return Ok(Vec::new());
        }
        Ok(self.services.store.span_outlines_of_trace(trace_rowid).await?)
    }

    /// Stores spans in a project: all of them once committed, or none when any is invalid or
    /// already stored. A project named by GlobalID must exist; one named by name is created on
    /// first use, as ingestion does.
    pub async fn create(&self, caller: &Caller, project: ProjectRef<'_>, candidates: Vec<SpanCandidate>) -> Result<SpanCreation> {
        caller.require_write()?;
        let project_name = match project {
            ProjectRef::Identifier(text) if GlobalId::decode_as(text, GlobalType::Project).is_none() => text.to_string(),
            ProjectRef::Name(name) => name.to_string(),
            other => self.services.projects().resolve(caller, other).await?.name,
        };
        if let Some(problem) = ember_core::limits::name_problem("project name", &project_name) {
            return Err(ServiceError::invalid(problem));
        }
        let total = candidates.len();
        let mut spans = Vec::with_capacity(total);
        let mut invalid = Vec::new();
        for candidate in candidates {
            match candidate.and_then(checked) {
                Ok(span) => spans.push(span),
                Err(problem) => invalid.push(problem),
            }
        }
        let ids: Vec<&str> = spans.iter().map(|span| span.span_id.as_str()).collect();
        let stored = self.services.store.existing_span_ids(&ids).await?;
        let mut seen = HashSet::new();
        let duplicates: Vec<(String, String)> = spans
            .iter()
            .filter(|span| stored.contains(&span.span_id) || !seen.insert(span.span_id.as_str()))
            .map(|span| (span.trace_id.clone(), span.span_id.clone()))
            .collect();
        if !invalid.is_empty() || !duplicates.is_empty() {
            return Ok(SpanCreation::Refused { total, invalid, duplicates });
        }
        let routed = spans.into_iter().map(|span| RoutedSpan { project_name: project_name.clone(), span }).collect();
        self.services.ingest().write(caller, routed).await?;
        Ok(SpanCreation::Created { total })
    }
}

/// A span's own rules: ids present, an end no earlier than its start, storable content.
fn checked(span: Span) -> std::result::Result<Span, InvalidSpan> {
    let invalid = |span: &Span, error: String| InvalidSpan { trace_id: span.trace_id.clone(), span_id: span.span_id.clone(), error };
    if span.trace_id.trim().is_empty() || span.span_id.trim().is_empty() {
        return Err(invalid(&span, "context.trace_id and context.span_id must not be empty".into()));
    }
    if span.end_time < span.start_time {
        return Err(invalid(&span, "end_time is before start_time".into()));
    }
    match span.storage_problem() {
        Some(problem) => Err(invalid(&span, problem)),
        None => Ok(span),
    }
}
