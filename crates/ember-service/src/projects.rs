//! Projects: listing, creating, describing and deleting them, their activity, and the one rule for
//! naming a project (by rowid, by GlobalID or by name) that every other service resolves through.

use std::collections::HashMap;

use ember_core::{GlobalId, GlobalType};
use ember_store::{ActivityWindow, Project, ProjectActivity, ProjectPage, DEFAULT_PROJECT_NAME};
use serde_json::json;

use crate::error::{Result, ServiceError};
use crate::limits::{check_description, check_name};
use crate::{Caller, Services};

/// How a request names a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectRef<'a> {
    /// Its rowid (the web UI's paths).
    Id(i64),
    /// Its GlobalID or its name (REST paths, GraphQL `modelId`, MCP).
    Identifier(&'a str),
    /// Its name only (the span-query and legacy-evaluation parameters).
    Name(&'a str),
}

impl std::fmt::Display for ProjectRef<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProjectRef::Id(id) => write!(formatter, "{id}"),
            ProjectRef::Identifier(text) | ProjectRef::Name(text) => formatter.write_str(text),
        }
    }
}

/// Which projects to list.
#[derive(Debug, Clone, Default)]
pub struct ProjectListQuery<'a> {
    pub cursor: Option<i64>,
    pub limit: usize,
    pub name_contains: Option<&'a str>,
    /// Experiments' projects are hidden unless asked for.
    pub include_experiment_projects: bool,
}

pub struct Projects<'a> {
    pub(crate) services: &'a Services,
}

/// Whether a project may be deleted: every project but `default`.
pub fn is_deletable(project: &Project) -> bool {
    project.name != DEFAULT_PROJECT_NAME
}

impl Projects<'_> {
    /// The project `reference` names, or `None` when there is none or the caller may not read it.
    pub async fn find(&self, caller: &Caller, reference: ProjectRef<'_>) -> Result<Option<Project>> {
        let store = &self.services.store;
        let project = match reference {
            ProjectRef::Id(id) => store.get_project(id).await?,
            ProjectRef::Identifier(text) => match GlobalId::decode_as(text, GlobalType::Project) {
                Some(id) => store.get_project(id).await?,
                None => store.get_project_by_name(text).await?,
            },
            ProjectRef::Name(name) => store.get_project_by_name(name).await?,
        };
        self.services.readable(caller, project).await
    }

    /// The project `reference` names, which the caller may change: 404 as `resolve`, 403 when
    /// they may only read it.
    pub async fn resolve_writable(&self, caller: &Caller, reference: ProjectRef<'_>) -> Result<Project> {
        caller.require_write()?;
        let project = self.resolve(caller, reference).await?;
        self.services.require_project_write(caller, project.id).await?;
        Ok(project)
    }

    /// The project `reference` names; 404 `Project not found: <reference>` when there is none.
    pub async fn resolve(&self, caller: &Caller, reference: ProjectRef<'_>) -> Result<Project> {
        self.find(caller, reference).await?.ok_or_else(|| ServiceError::not_found(format!("Project not found: {reference}")))
    }

    /// Projects the caller may read, newest first.
    pub async fn list(&self, caller: &Caller, query: &ProjectListQuery<'_>) -> Result<ProjectPage> {
        let visibility = self.services.project_visibility(caller).await?;
        let store = &self.services.store;
        Ok(store.list_projects(query.cursor, query.limit, query.name_contains, query.include_experiment_projects, visibility).await?)
    }

    /// Creates a project; the name is trimmed and must not be empty (409 when it is taken).
    pub async fn create(&self, caller: &Caller, name: &str, description: Option<&str>) -> Result<Project> {
        caller.require_write()?;
        let trimmed = name.trim();
        if trimmed.is_empty() {
            return Err(ServiceError::field(&["name".into()], "string_too_short", "Project name must not be empty", json!(name)));
        }
        check_name("project name", "name", trimmed)?;
        check_description("project description", "description", description)?;
        Ok(self.services.store.create_project(trimmed, description).await?)
    }

    /// Only the description can change; project names are immutable.
    pub async fn update_description(&self, caller: &Caller, reference: ProjectRef<'_>, description: Option<&str>) -> Result<Project> {
        caller.require_admin()?;
        check_description("project description", "description", description)?;
        let project = self.resolve(caller, reference).await?;
        Ok(self.services.store.update_project_description(project.id, description).await?)
    }

    /// Deletes a project with its traces; the `default` project cannot be deleted (403).
    pub async fn delete(&self, caller: &Caller, reference: ProjectRef<'_>) -> Result<()> {
        caller.require_admin()?;
        let project = self.resolve(caller, reference).await?;
        if !is_deletable(&project) {
            return Err(ServiceError::forbidden("The default project cannot be deleted"));
        }
        if !self.services.store.delete_project(project.id).await? {
            return Err(ServiceError::not_found(format!("Project not found: {reference}")));
        }
        Ok(())
    }

    /// Totals and per-bin activity of each project over a window (from the hourly rollups);
    /// projects the caller may not read are left out.
    pub async fn activity(&self, caller: &Caller, project_ids: &[i64], window: ActivityWindow) -> Result<HashMap<i64, ProjectActivity>> {
        let project_ids = self.services.readable_ids(caller, project_ids).await?;
        Ok(self.services.store.project_activity(&project_ids, window).await?)
    }

    /// When each project's latest trace started.
    pub async fn last_trace_starts(&self, caller: &Caller, project_ids: &[i64]) -> Result<HashMap<i64, i64>> {
        let project_ids = self.services.readable_ids(caller, project_ids).await?;
        Ok(self.services.store.last_trace_starts(&project_ids).await?)
    }

    /// The first hour with spans in any of the projects ("all time" starts there).
    pub async fn first_activity_hour(&self, caller: &Caller, project_ids: &[i64]) -> Result<Option<i64>> {
        let project_ids = self.services.readable_ids(caller, project_ids).await?;
        Ok(self.services.store.first_activity_hour(&project_ids).await?)
    }
}
