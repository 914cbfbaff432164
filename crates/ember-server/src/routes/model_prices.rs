//! LLM cost over REST: `/v1/model_prices` (the built-in price table and user-defined prices;
//! ember's REST face of Phoenix's GraphQL generative models) and a project's
//! `GET /v1/projects/{project_identifier}/cost_summary`. Rules and access are the cost service's.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::cost::PriceOrigin;
use ember_core::time::parse_timestamp;
use ember_core::{GlobalId, GlobalType};
use ember_service::costs::PriceInput;
use ember_service::ProjectRef;
use ember_wire::{CostSummary, Data, ModelPrice, NewModelPrice, Page};
use serde_json::json;

use super::JsonBody;
use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::{wire, AppState};

fn price_id(id: &str) -> ApiResult<i64> {
    GlobalId::decode_as(id, GlobalType::GenerativeModel).ok_or_else(|| ApiError::unprocessable(format!("Invalid model price ID: {id}")))
}

/// `GET /v1/model_prices?source=user|built_in&model=<text>&limit=&cursor=`.
pub async fn list(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    params: QueryParams,
) -> ApiResult<Json<Page<ModelPrice>>> {
    let origin = match params.choice("source", &["all", "user", "built_in"], "all")? {
        "user" => Some(PriceOrigin::User),
        "built_in" => Some(PriceOrigin::BuiltIn),
        _ => None,
    };
    let cursor = params.cursor(GlobalType::GenerativeModel)?;
    let page = state.services.costs().list_prices(&caller, origin, params.get("model"), cursor, params.limit(100, Some(1000))?).await?;
    Ok(Json(wire::page(page.items.iter().map(wire::model_price).collect(), page.next_cursor, GlobalType::GenerativeModel)))
}

pub async fn get(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Data<ModelPrice>>> {
    let record = state.services.costs().get_price(&caller, price_id(&id)?).await?;
    Ok(Json(Data::new(wire::model_price(&record))))
}

fn input(body: &NewModelPrice) -> ApiResult<PriceInput<'_>> {
    let effective_from = match body.effective_from.as_deref() {
        None => None,
        Some(text) => Some(parse_timestamp(text).ok_or_else(|| {
            ApiError::validation(&["body", "effective_from"], "datetime_from_date_parsing", "Input should be a valid datetime", json!(text))
        })?),
    };
    Ok(PriceInput {
        name: &body.name,
        name_pattern: body.name_pattern.as_deref(),
        provider: body.provider.as_deref(),
        effective_from,
        rates: wire::token_rates(&body.prices),
    })
}

/// Adds a user-defined price; the stored spans it reaches are re-priced in the background.
pub async fn create(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonBody(body): JsonBody<NewModelPrice>,
) -> ApiResult<(StatusCode, Json<Data<ModelPrice>>)> {
    let record = state.services.costs().create_price(&caller, &input(&body)?).await?;
    Ok((StatusCode::CREATED, Json(Data::new(wire::model_price(&record)))))
}

pub async fn replace(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewModelPrice>,
) -> ApiResult<Json<Data<ModelPrice>>> {
    let record = state.services.costs().replace_price(&caller, price_id(&id)?, &input(&body)?).await?;
    Ok(Json(Data::new(wire::model_price(&record))))
}

pub async fn delete(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.services.costs().delete_price(&caller, price_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/projects/{project_identifier}/cost_summary?start_time=&end_time=` (ISO 8601, both optional).
pub async fn cost_summary(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<Data<CostSummary>>> {
    let (start, end) = (params.timestamp("start_time")?, params.timestamp("end_time")?);
    let (_, totals) = state.services.costs().project_summary(&caller, ProjectRef::Identifier(&project), start, end).await?;
    Ok(Json(Data::new(wire::cost_summary(&totals))))
}
