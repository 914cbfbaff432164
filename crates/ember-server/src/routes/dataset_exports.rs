//! Dataset downloads at a version: `GET /v1/datasets/{id}/csv`, `.../jsonl`,
//! `.../jsonl/openai_ft` (chat fine-tuning records) and `.../jsonl/openai_evals` (OpenAI evals
//! records). As in Phoenix, a bad dataset or version id is a 422.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ember_core::{GlobalId, GlobalType};
use ember_service::datasets::DatasetRef;
use ember_service::Caller;
use ember_store::ExampleRecord;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;
use serde_json::Value;

use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::AppState;

/// What Python's `urllib.parse.quote` leaves as it is.
const FILENAME_SAFE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'_').remove(b'.').remove(b'-').remove(b'~').remove(b'/');

/// The dataset's name and its examples at the version asked for (the latest by default).
async fn examples_at_version(state: &AppState, caller: &Caller, id: &str, params: &QueryParams) -> ApiResult<(String, Vec<ExampleRecord>)> {
    let dataset_id =
        GlobalId::decode_as(id, GlobalType::Dataset).ok_or_else(|| ApiError::unprocessable(format!("Invalid dataset ID format: {id}")))?;
    let datasets = state.services.datasets();
    let dataset =
        datasets.find(caller, DatasetRef::Id(dataset_id)).await?.ok_or_else(|| ApiError::unprocessable("Dataset does not exist."))?;
    let version_id = match params.get("version_id").filter(|raw| !raw.is_empty()) {
        None => None,
        Some(raw) => Some(
            GlobalId::decode_as(raw, GlobalType::DatasetVersion)
                .ok_or_else(|| ApiError::unprocessable(format!("Invalid dataset version ID format: {raw}")))?,
        ),
    };
    let Some(version) = datasets.version(caller, &dataset, version_id).await? else {
        return match version_id {
            Some(_) => Err(ApiError::unprocessable(format!(
                "Dataset version {} is not a version of this dataset",
                params.get("version_id").unwrap_or("")
            ))),
            None => Ok((dataset.name, Vec::new())),
        };
    };
    let examples = datasets.examples(caller, &dataset, &version, &[], &[]).await?;
    Ok((dataset.name, examples))
}

fn download(content_type: &str, name: &str, extension: &str, body: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename*=UTF-8''{}.{extension}", utf8_percent_encode(name, FILENAME_SAFE));
    ([(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, disposition)], body).into_response()
}

/// One column per key of the inputs, outputs and metadata (`input_<key>`, ...), in the order
/// the keys first appear, after `example_id`.
pub async fn csv(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let (name, examples) = examples_at_version(&state, &caller, &id, &params).await?;
    let splits = state.services.datasets().split_names(&caller, &examples).await?;
    let body = super::dataset_csv::dataset_csv(&examples, &splits).map_err(ApiError::internal)?;
    Ok(download("text/csv", &name, "csv", body))
}

fn jsonl<T: Serialize>(lines: impl Iterator<Item = T>) -> ApiResult<Vec<u8>> {
    let mut body = Vec::new();
    for line in lines {
        serde_json::to_writer(&mut body, &line).map_err(ApiError::internal)?;
        body.push(b'\n');
    }
    Ok(body)
}

/// One example per line, as the examples endpoint shows it.
pub async fn examples_jsonl(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let (name, examples) = examples_at_version(&state, &caller, &id, &params).await?;
    let splits = state.services.datasets().split_names(&caller, &examples).await?;
    let body = jsonl(examples.iter().map(|example| {
        let node_id = GlobalId::encode(GlobalType::DatasetExample, example.id);
        JsonlExample {
            id: example.external_id.clone().unwrap_or_else(|| node_id.clone()),
            node_id,
            input: &example.input,
            output: &example.output,
            metadata: &example.metadata,
            splits: splits.get(&example.id).map(Vec::as_slice).unwrap_or_default(),
        }
    }))?;
    Ok(download("text/plain; charset=utf-8", &name, "jsonl", body))
}

/// An example as Phoenix 20.26's JSONL download writes it.
#[derive(Serialize)]
struct JsonlExample<'a> {
    id: String,
    node_id: String,
    input: &'a Value,
    output: &'a Value,
    metadata: &'a Value,
    splits: &'a [String],
}

/// A chat fine-tuning record (OpenAI's JSONL format).
#[derive(Serialize)]
struct FineTuningRecord<'a> {
    messages: Vec<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<&'a Value>,
}

/// An OpenAI evals record.
#[derive(Serialize)]
struct EvalRecord<'a> {
    messages: &'a [Value],
    ideal: &'a str,
}

/// The `messages` list of an input or output, or none.
fn messages(object: &Value) -> &[Value] {
    object.get("messages").and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// Chat fine-tuning records: the input's messages then the output's, with the input's tools.
pub async fn openai_fine_tuning(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let (name, examples) = examples_at_version(&state, &caller, &id, &params).await?;
    let body = jsonl(examples.iter().map(|example| {
        let messages: Vec<&Value> = messages(&example.input).iter().chain(messages(&example.output)).collect();
        let tools = example.input.get("tools").filter(|tools| !tools.is_null() && tools.as_array().is_none_or(|t| !t.is_empty()));
        FineTuningRecord { messages, tools }
    }))?;
    Ok(download("text/plain; charset=utf-8", &name, "jsonl", body))
}

/// OpenAI evals records: the input's messages and, as `ideal`, the text of the output's last
/// message.
pub async fn openai_evals(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let (name, examples) = examples_at_version(&state, &caller, &id, &params).await?;
    let body = jsonl(examples.iter().map(|example| {
        let ideal = messages(&example.output).last().and_then(|message| message.get("content")).and_then(Value::as_str).unwrap_or("");
        EvalRecord { messages: messages(&example.input), ideal }
    }))?;
    Ok(download("text/plain; charset=utf-8", &name, "jsonl", body))
}
