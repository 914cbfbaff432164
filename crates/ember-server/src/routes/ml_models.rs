//! ember's read API over ML models (beyond Phoenix, which dropped its inference features):
//! `GET /v1/ml/models`, a model's schema, a page of its records (environment, time window,
//! version and has-actual filters; keyset cursor), and its volume per time bin.

use axum::extract::{Path, State};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ember_core::ml::{MlEnvironment, MlValue};
use ember_core::time::format_nanos;
use ember_service::ml_models::MlModelDetail;
use ember_store::{MlColumnRole, MlModelRecord, MlRecordQuery, MlStoredRecord, StoredLabel};
use ember_wire::ml::{MlColumn, MlEmbeddingOut, MlLabelOut, MlModel, MlModelSchema, MlStoredRecordJson, MlVersion, MlVolumeBin};
use ember_wire::{Data, Page};
use serde_json::Value;

use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::AppState;

pub async fn list(State(state): State<AppState>, RequestCaller(caller): RequestCaller) -> ApiResult<Json<Data<Vec<MlModel>>>> {
    let models = state.services.ml_models().list(&caller).await?;
    Ok(Json(Data::new(models.iter().map(model_json).collect())))
}

pub async fn get(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(name): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<Data<MlModelSchema>>> {
    let models = state.services.ml_models();
    let detail = models.get(&caller, &name).await?;
    let mut schema = schema_json(&detail);
    if params.optional_bool("cardinality")?.unwrap_or(false) {
        let environment = environment(&params, "environment")?.unwrap_or(MlEnvironment::Production);
        let quality = models.data_quality(&caller, &name, MlRecordQuery::environment(environment), None, &[]).await?;
        for (columns, role) in [(&mut schema.features, "feature"), (&mut schema.tags, "tag")] {
            for column in columns.iter_mut() {
                column.cardinality = quality.iter().find(|q| q.role == role && q.name == column.name).map(|q| q.cardinality);
            }
        }
    }
    Ok(Json(Data::new(schema)))
}

pub async fn records(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(name): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<Page<MlStoredRecordJson>>> {
    let limit = params.limit(100, Some(1000))?;
    let (mut query, filters) = selection(&params)?;
    query.after = params.get("cursor").filter(|cursor| !cursor.is_empty()).map(cursor_position).transpose()?;
    query.limit = limit;
    let (records, more) = state.services.ml_models().records(&caller, &name, query, &filters).await?;
    let next_cursor = more.then(|| records.last().map(|last| URL_SAFE_NO_PAD.encode(format!("{}:{}", last.time, last.id)))).flatten();
    Ok(Json(Page { data: records.iter().map(record_json).collect(), next_cursor }))
}

pub async fn volume(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(name): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<Data<Vec<MlVolumeBin>>>> {
    let now = ember_core::time::now_nanos();
    let end = params.timestamp("end_time")?.unwrap_or(now);
    let start = params.timestamp("start_time")?.unwrap_or(end - 7 * 86_400 * 1_000_000_000);
    let bin_seconds = match params.get("bin_seconds") {
        None | Some("") => 3600,
        Some(raw) => raw.parse().map_err(|_| ApiError::unprocessable(format!("bin_seconds {raw:?} is not a whole number of seconds")))?,
    };
    let environment = environment(&params, "environment")?.unwrap_or(MlEnvironment::Production);
    let bins = state.services.ml_models().volume(&caller, &name, environment, start, end, bin_seconds).await?;
    Ok(Json(Data::new(
        bins.into_iter()
            .map(|bin| MlVolumeBin { start: format_nanos(bin.start), records: bin.records, with_actual: bin.with_actual })
            .collect(),
    )))
}

/// The parameters that select records: `environment` (default production), `start_time`,
/// `end_time`, `model_version`, `batch_id`, `has_actual`, and the repeated `filter` (returned
/// apart, for the service to resolve).
pub(super) fn selection(params: &QueryParams) -> ApiResult<(MlRecordQuery, Vec<String>)> {
    selection_with_prefix(params, "", MlEnvironment::Production)
}

/// The same parameters under `prefix` (`baseline_`), the environment `default_environment`
/// when not named.
pub(super) fn selection_with_prefix(
    params: &QueryParams,
    prefix: &str,
    default_environment: MlEnvironment,
) -> ApiResult<(MlRecordQuery, Vec<String>)> {
    let text = |name: &str| params.get(&format!("{prefix}{name}")).filter(|value| !value.is_empty()).map(str::to_string);
    let query = MlRecordQuery {
        start: params.timestamp(&format!("{prefix}start_time"))?,
        end: params.timestamp(&format!("{prefix}end_time"))?,
        has_actual: params.optional_bool(&format!("{prefix}has_actual"))?,
        model_version: text("model_version"),
        batch_id: text("batch_id"),
        ..MlRecordQuery::environment(environment(params, &format!("{prefix}environment"))?.unwrap_or(default_environment))
    };
    Ok((query, params.all(&format!("{prefix}filter"))))
}

/// The environment parameter `name`, by its name in any case.
pub(super) fn environment(params: &QueryParams, name: &str) -> ApiResult<Option<MlEnvironment>> {
    match params.get(name) {
        None | Some("") => Ok(None),
        Some(raw) => MlEnvironment::parse(raw)
            .map(Some)
            .ok_or_else(|| ApiError::unprocessable(format!("{name} {raw:?} is not one of PRODUCTION, VALIDATION, TRAINING"))),
    }
}

fn cursor_position(cursor: &str) -> ApiResult<(i64, i64)> {
    let invalid = || ApiError::unprocessable(format!("Invalid cursor: {cursor:?}"));
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?).map_err(|_| invalid())?;
    let (time, id) = text.split_once(':').ok_or_else(invalid)?;
    Ok((time.parse().map_err(|_| invalid())?, id.parse().map_err(|_| invalid())?))
}

fn model_json(model: &MlModelRecord) -> MlModel {
    MlModel {
        name: model.name.clone(),
        model_type: model.model_type.name().to_string(),
        created_at: format_nanos(model.created_at),
        updated_at: format_nanos(model.updated_at),
    }
}

fn schema_json(detail: &MlModelDetail) -> MlModelSchema {
    let of_role = |role: MlColumnRole| detail.columns.iter().filter(move |column| column.role == role);
    let typed = |role| {
        of_role(role)
            .map(|column| MlColumn { name: column.name.clone(), value_type: column.value_type.name().to_string(), cardinality: None })
            .collect()
    };
    MlModelSchema {
        model: model_json(&detail.model),
        features: typed(MlColumnRole::Feature),
        tags: typed(MlColumnRole::Tag),
        shap_values: of_role(MlColumnRole::Shap).map(|column| column.name.clone()).collect(),
        embeddings: of_role(MlColumnRole::Embedding).map(|column| column.name.clone()).collect(),
        versions: detail
            .versions
            .iter()
            .map(|version| MlVersion {
                environment: version.environment.name().to_string(),
                version: version.version.clone(),
                batch_id: version.batch_id.clone(),
                first_seen: format_nanos(version.first_seen),
            })
            .collect(),
    }
}

fn label_json(label: &StoredLabel) -> MlLabelOut {
    MlLabelOut {
        label: label.label.clone(),
        score: label.score,
        value: label.value,
        group_id: label.group_id.clone(),
        rank: label.rank,
        detail: label.detail.clone(),
    }
}

fn value_json(value: &MlValue) -> Value {
    match value {
        MlValue::Double(number) => serde_json::Number::from_f64(*number).map_or(Value::Null, Value::Number),
        MlValue::Int(number) => Value::from(*number),
        MlValue::String(text) => Value::from(text.as_str()),
        MlValue::List(items) => Value::from(items.clone()),
        MlValue::Dictionary(map) => {
            map.iter().map(|(key, value)| (key.clone(), Value::from(*value))).collect::<serde_json::Map<_, _>>().into()
        }
    }
}

pub(super) fn record_json(record: &MlStoredRecord) -> MlStoredRecordJson {
    MlStoredRecordJson {
        prediction_id: record.prediction_id.clone(),
        environment: record.environment.name().to_string(),
        time: format_nanos(record.time),
        actual_time: record.actual_time.map(format_nanos),
        model_version: record.model_version.clone(),
        batch_id: record.batch_id.clone(),
        prediction: record.prediction.as_ref().map(label_json),
        actual: record.actual.as_ref().map(label_json),
        features: record.features.iter().map(|(name, value)| (name.clone(), value_json(value))).collect(),
        tags: record.tags.iter().map(|(name, value)| (name.clone(), value_json(value))).collect(),
        shap_values: record.shap.clone(),
        embeddings: record
            .embeddings
            .iter()
            .map(|(name, embedding)| {
                (
                    name.clone(),
                    MlEmbeddingOut { vector: embedding.vector.clone(), data: embedding.data.clone(), link: embedding.link.clone() },
                )
            })
            .collect(),
    }
}
