//! Arize AX's REST API v2, as the `arize` SDK calls it: spaces and projects (the SDK resolves a
//! project name through them before its span calls). Lists carry AX's `pagination`; errors are
//! problems (`application/problem+json`). Spaces are not an ember concept (see
//! `ember_service::spaces`).

use axum::extract::{Path, State};
use axum::Json;
use ember_core::time::format_nanos;
use ember_core::{GlobalId, GlobalType};
use ember_service::projects::ProjectListQuery;
use ember_service::spaces::Space;
use ember_service::ProjectRef;
use ember_store::Project;
use ember_wire::{AxPagination, AxProject, AxProjects, AxSpace, AxSpaces};

use crate::authentication::RequestCaller;
use crate::error::ProblemResult;
use crate::params::QueryParams;
use crate::AppState;

/// The most items a page holds, as AX bounds its lists.
const MAX_LIMIT: usize = 500;

fn ax_project(project: &Project, space: &Space) -> AxProject {
    AxProject {
        id: GlobalId::encode(GlobalType::Project, project.id),
        name: project.name.clone(),
        space_id: space.id.clone(),
        created_at: format_nanos(project.created_at),
    }
}

/// `GET /v2/spaces` (`name`, `limit`, `cursor`).
pub async fn list_spaces(
    RequestCaller(caller): RequestCaller,
    State(state): State<AppState>,
    params: QueryParams,
) -> ProblemResult<Json<AxSpaces>> {
    params.limit(100, Some(MAX_LIMIT))?;
    let spaces = state.services.spaces().list(&caller, params.get("name"))?;
    Ok(Json(AxSpaces {
        spaces: spaces.into_iter().map(|space| AxSpace { id: space.id, name: space.name }).collect(),
        pagination: AxPagination { next_cursor: None, has_more: false },
    }))
}

/// `GET /v2/projects` (`space_id` or `space_name`, `name` as a substring in any case, `limit`,
/// `cursor`), newest first.
pub async fn list_projects(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    params: QueryParams,
) -> ProblemResult<Json<AxProjects>> {
    let space = Space::of(params.get("space_id"), params.get("space_name"));
    let query = ProjectListQuery {
        limit: params.limit(100, Some(MAX_LIMIT))?,
        cursor: params.cursor(GlobalType::Project)?,
        include_experiment_projects: false,
        name_contains: params.get("name"),
    };
    let page = state.services.projects().list(&caller, &query).await?;
    let next_cursor = page.next_cursor.map(|rowid| GlobalId::encode(GlobalType::Project, rowid));
    Ok(Json(AxProjects {
        projects: page.items.iter().map(|project| ax_project(project, &space)).collect(),
        pagination: AxPagination { has_more: next_cursor.is_some(), next_cursor },
    }))
}

/// `GET /v2/projects/{project_identifier}`: by id (or name).
pub async fn get_project(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
) -> ProblemResult<Json<AxProject>> {
    let project = state.services.projects().resolve(&caller, ProjectRef::Identifier(&identifier)).await?;
    Ok(Json(ax_project(&project, &Space::of(None, None))))
}
