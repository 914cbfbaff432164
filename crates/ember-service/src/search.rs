//! Global search (the web UI's Ctrl-K): what a piece of text names among the objects the caller
//! may read — projects, datasets and prompts whose names contain it, and the trace, span or
//! session whose id it is. Each kind is one indexed lookup or one bounded name scan.

use ember_store::{DatasetRecord, Project, PromptFilter, PromptRecord, SessionRecord, SpanRecord, TraceRecord};

use crate::error::Result;
use crate::projects::ProjectListQuery;
use crate::{Caller, Services};

/// At most this many results of each kind.
pub const MAX_PER_KIND: usize = 20;
/// Longer texts name nothing (ids are 32 hex digits; names are short).
const MAX_TEXT_CHARS: usize = 200;

#[derive(Debug, Clone, Default)]
pub struct SearchResults {
    pub projects: Vec<Project>,
    pub datasets: Vec<DatasetRecord>,
    pub prompts: Vec<PromptRecord>,
    pub trace: Option<TraceRecord>,
    pub span: Option<SpanRecord>,
    pub session: Option<SessionRecord>,
}

impl SearchResults {
    pub fn is_empty(&self) -> bool {
        self.projects.is_empty()
            && self.datasets.is_empty()
            && self.prompts.is_empty()
            && self.trace.is_none()
            && self.span.is_none()
            && self.session.is_none()
    }
}

pub struct Search<'a> {
    pub(crate) services: &'a Services,
}

impl Search<'_> {
    pub async fn find(&self, caller: &Caller, text: &str) -> Result<SearchResults> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
            return Ok(SearchResults::default());
        }
        let services = self.services;
        let query =
            ProjectListQuery { limit: MAX_PER_KIND, name_contains: Some(text), include_experiment_projects: false, ..Default::default() };
        let projects = services.projects().list(caller, &query).await?.items;
        let datasets = services.store.search_datasets(text, MAX_PER_KIND).await?;
        let prompts =
            services.prompts().list(caller, None, MAX_PER_KIND, &PromptFilter { name_contains: Some(text), label_ids: &[] }).await?.items;
        let hex = text.chars().all(|c| c.is_ascii_hexdigit());
        let trace = if hex && text.len() == 32 { services.traces().resolve(caller, text).await.ok() } else { None };
        let span = if hex && text.len() == 16 { services.spans().by_otel_id(caller, text).await? } else { None };
        let session = services.sessions().resolve(caller, text).await.ok();
        Ok(SearchResults { projects, datasets, prompts, trace, span, session })
    }
}
