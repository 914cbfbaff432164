//! Trace retention policies: `/v1/retention_policies` CRUD and "apply now" (ember's REST face of
//! Phoenix's GraphQL mutations), and a project's policy (`GET` and Phoenix's
//! `PATCH /v1/projects/{project_identifier}/retention`), and a project's byte budget
//! (`/v1/projects/{project_identifier}/byte_budget`). Rules and access are the retention and
//! storage services'.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::{GlobalId, GlobalType};
use ember_service::retention::{NewRetentionPolicy, RetentionPolicyUpdate};
use ember_service::ProjectRef;
use ember_wire::{ByteBudgetUpdate, Data, Page, ProjectByteBudget, ProjectRetentionPolicy, RetentionPolicy, RetentionPolicyPatch};
use serde_json::{Map, Value};

use super::JsonBody;
use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::{wire, AppState};

fn policy_id(id: &str) -> ApiResult<i64> {
    GlobalId::decode_as(id, GlobalType::ProjectTraceRetentionPolicy)
        .ok_or_else(|| ApiError::unprocessable(format!("Invalid retention policy ID: {id}")))
}

fn projects(identifiers: &[String]) -> Vec<ProjectRef<'_>> {
    identifiers.iter().map(|identifier| ProjectRef::Identifier(identifier)).collect()
}

pub async fn list(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    params: QueryParams,
) -> ApiResult<Json<Page<RetentionPolicy>>> {
    let cursor = params.cursor(GlobalType::ProjectTraceRetentionPolicy)?;
    let page = state.services.retention().list(&caller, cursor, params.limit(100, None)?).await?;
    let policies = page.items.iter().map(wire::retention_policy).collect();
    Ok(Json(wire::page(policies, page.next_cursor, GlobalType::ProjectTraceRetentionPolicy)))
}

pub async fn create(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonBody(body): JsonBody<ember_wire::NewRetentionPolicy>,
) -> ApiResult<(StatusCode, Json<Data<RetentionPolicy>>)> {
    let policy = NewRetentionPolicy {
        name: &body.name,
        cron_expression: &body.cron_expression,
        rule: wire::store_retention_rule(body.rule),
        projects: projects(&body.project_ids),
    };
    let policy = state.services.retention().create(&caller, policy).await?;
    Ok((StatusCode::CREATED, Json(Data::new(wire::retention_policy(&policy)))))
}

pub async fn get(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Data<RetentionPolicy>>> {
    let policy = state.services.retention().get(&caller, policy_id(&id)?).await?;
    Ok(Json(Data::new(wire::retention_policy(&policy))))
}

pub async fn update(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RetentionPolicyPatch>,
) -> ApiResult<Json<Data<RetentionPolicy>>> {
    let update = RetentionPolicyUpdate {
        name: body.name.as_deref(),
        cron_expression: body.cron_expression.as_deref(),
        rule: body.rule.map(wire::store_retention_rule),
        add_projects: projects(&body.add_project_ids),
        remove_projects: projects(&body.remove_project_ids),
    };
    let policy = state.services.retention().update(&caller, policy_id(&id)?, update).await?;
    Ok(Json(Data::new(wire::retention_policy(&policy))))
}

pub async fn delete(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.services.retention().delete(&caller, policy_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Has the sweeper apply the policy now; answers 202 before it has (the sweep runs in the
/// background, in small transactions).
pub async fn apply(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Data<RetentionPolicy>>)> {
    let policy = state.services.retention().apply_now(&caller, policy_id(&id)?).await?;
    Ok((StatusCode::ACCEPTED, Json(Data::new(wire::retention_policy(&policy)))))
}

/// The policy the project follows (the default one when it names none).
pub async fn of_project(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project): Path<String>,
) -> ApiResult<Json<Data<RetentionPolicy>>> {
    let policy = state.services.retention().of_project(&caller, ProjectRef::Identifier(&project)).await?;
    Ok(Json(Data::new(wire::retention_policy(&policy))))
}

/// Phoenix's `setProjectRetentionPolicy`: `{"policy_id": <GlobalID> | null}`, the field required.
pub async fn set_for_project(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<Data<ProjectRetentionPolicy>>> {
    let policy = match body.get("policy_id") {
        None => return Err(ApiError::validation(&["body", "policy_id"], "missing", "Field required", Value::Object(body.clone()))),
        Some(Value::Null) => None,
        Some(Value::String(id)) => Some(policy_id(id)?),
        Some(other) => {
            return Err(ApiError::validation(&["body", "policy_id"], "string_type", "Input should be a valid string", other.clone()))
        }
    };
    let (project, policy) = state.services.retention().set_for_project(&caller, ProjectRef::Identifier(&project), policy).await?;
    Ok(Json(Data::new(ProjectRetentionPolicy {
        project_id: GlobalId::encode(GlobalType::Project, project.id),
        policy_id: policy.map(|id| GlobalId::encode(GlobalType::ProjectTraceRetentionPolicy, id)),
    })))
}

fn byte_budget(budget: &ember_service::storage::ProjectBudget) -> ProjectByteBudget {
    ProjectByteBudget {
        project_id: GlobalId::encode(GlobalType::Project, budget.project.id),
        max_bytes: budget.max_bytes,
        used_bytes: budget.used_bytes,
    }
}

/// A project's byte budget and its estimated bytes.
pub async fn get_byte_budget(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project): Path<String>,
) -> ApiResult<Json<Data<ProjectByteBudget>>> {
    let budget = state.services.storage().project_budget(&caller, ProjectRef::Identifier(&project)).await?;
    Ok(Json(Data::new(byte_budget(&budget))))
}

/// Sets (`{"max_bytes": n}`) or clears (`null`) a project's byte budget; enforced in the background.
pub async fn set_byte_budget(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project): Path<String>,
    JsonBody(body): JsonBody<ByteBudgetUpdate>,
) -> ApiResult<Json<Data<ProjectByteBudget>>> {
    let budget = state.services.storage().set_project_budget(&caller, ProjectRef::Identifier(&project), body.max_bytes).await?;
    Ok(Json(Data::new(byte_budget(&budget))))
}
