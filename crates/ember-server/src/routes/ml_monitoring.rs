//! Monitoring an ML model over REST: `GET /v1/ml/models/{model_name}/performance`, `/drift`,
//! `/data_quality` and `/embedding_drift`. The current records are chosen as for `/records`
//! (`environment`, `start_time`, `end_time`, `model_version`, `batch_id`, `has_actual`, repeated
//! `filter`); the baseline by the same parameters prefixed `baseline_`, its environment TRAINING
//! unless named, or PRODUCTION when a baseline window is given. Filters apply to both sides.

use axum::extract::{Path, State};
use axum::Json;
use ember_core::ml::MlEnvironment;
use ember_core::time::format_nanos;
use ember_service::ml_monitoring::{self as monitoring, MlPerformanceRequest};
use ember_store::MlRecordQuery;
use ember_wire::ml::{MlDistributionBin, MlDrift, MlEmbeddingDrift, MlMetrics, MlMetricsBin, MlPerformance, MlQuality};
use ember_wire::Data;

use super::ml_models::{environment, selection, selection_with_prefix};
use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::AppState;

pub async fn performance(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(name): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<Data<MlPerformance>>> {
    let (query, filters) = selection(&params)?;
    let request = MlPerformanceRequest {
        bin_seconds: whole_number(&params, "bin_seconds")?,
        positive_class: params.get("positive_class").filter(|class| !class.is_empty()).map(str::to_string),
        threshold: match params.get("threshold") {
            None | Some("") => None,
            Some(raw) => Some(raw.parse().map_err(|_| ApiError::unprocessable(format!("threshold {raw:?} is not a number")))?),
        },
        k: whole_number(&params, "k")?,
    };
    let performance = state.services.ml_models().performance(&caller, &name, query, &filters, request).await?;
    Ok(Json(Data::new(MlPerformance {
        model_type: performance.model_type.name().to_string(),
        positive_class: performance.positive_class,
        k: performance.k,
        overall: metrics_json(&performance.overall),
        bins: performance
            .bins
            .iter()
            .map(|(start, metrics)| MlMetricsBin { start: format_nanos(*start), metrics: metrics_json(metrics) })
            .collect(),
    })))
}

pub async fn drift(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(name): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<Data<Vec<MlDrift>>>> {
    let (current, filters) = selection(&params)?;
    let baseline = baseline(&params)?;
    let only = params.get("feature").filter(|feature| !feature.is_empty());
    let drifts = state.services.ml_models().drift(&caller, &name, current, baseline, &filters, only).await?;
    Ok(Json(Data::new(
        drifts
            .into_iter()
            .map(|drift| MlDrift {
                name: drift.name,
                role: drift.role.to_string(),
                numeric: drift.numeric,
                psi: drift.psi,
                js_distance: drift.js_distance,
                baseline_count: drift.baseline_count,
                current_count: drift.current_count,
                bins: drift
                    .bins
                    .into_iter()
                    .map(|bin| MlDistributionBin { label: bin.label, baseline: bin.baseline, current: bin.current })
                    .collect(),
            })
            .collect(),
    )))
}

pub async fn data_quality(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(name): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<Data<Vec<MlQuality>>>> {
    let (current, filters) = selection(&params)?;
    let baseline = has_baseline(&params).then(|| baseline(&params)).transpose()?;
    let report = state.services.ml_models().data_quality(&caller, &name, current, baseline, &filters).await?;
    Ok(Json(Data::new(
        report
            .into_iter()
            .map(|quality| MlQuality {
                name: quality.name,
                role: quality.role.to_string(),
                value_type: quality.value_type.name().to_string(),
                records: quality.records,
                missing: quality.missing,
                missing_share: quality.missing_share,
                cardinality: quality.cardinality,
                new_values: quality.new_values,
            })
            .collect(),
    )))
}

pub async fn embedding_drift(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(name): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<Data<Vec<MlEmbeddingDrift>>>> {
    let (current, filters) = selection(&params)?;
    let baseline = baseline(&params)?;
    let report = state.services.ml_models().embedding_drift(&caller, &name, current, baseline, &filters).await?;
    Ok(Json(Data::new(
        report
            .into_iter()
            .map(|drift| MlEmbeddingDrift {
                name: drift.name,
                distance: drift.distance,
                baseline_records: drift.baseline_records,
                current_records: drift.current_records,
            })
            .collect(),
    )))
}

/// Whether any `baseline_` parameter is given.
fn has_baseline(params: &QueryParams) -> bool {
    ["environment", "start_time", "end_time", "model_version", "batch_id"]
        .iter()
        .any(|name| params.get(&format!("baseline_{name}")).is_some_and(|value| !value.is_empty()))
}

/// The baseline's records (see the module documentation).
fn baseline(params: &QueryParams) -> ApiResult<MlRecordQuery> {
    let windowed = ["baseline_start_time", "baseline_end_time"].iter().any(|name| params.get(name).is_some_and(|value| !value.is_empty()));
    let default_environment = match environment(params, "baseline_environment")? {
        Some(environment) => environment,
        None if windowed => MlEnvironment::Production,
        None => MlEnvironment::Training,
    };
    Ok(selection_with_prefix(params, "baseline_", default_environment)?.0)
}

fn whole_number(params: &QueryParams, name: &str) -> ApiResult<Option<i64>> {
    match params.get(name) {
        None | Some("") => Ok(None),
        Some(raw) => raw.parse().map(Some).map_err(|_| ApiError::unprocessable(format!("{name} {raw:?} is not a whole number"))),
    }
}

fn metrics_json(metrics: &monitoring::MlMetrics) -> MlMetrics {
    MlMetrics {
        count: metrics.count,
        accuracy: metrics.accuracy,
        precision: metrics.precision,
        recall: metrics.recall,
        f1: metrics.f1,
        auc: metrics.auc,
        log_loss: metrics.log_loss,
        mae: metrics.mae,
        rmse: metrics.rmse,
        mape: metrics.mape,
        r2: metrics.r2,
        ndcg: metrics.ndcg,
    }
}
