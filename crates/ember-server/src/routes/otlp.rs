//! `POST /v1/traces`: OTLP/HTTP with protobuf or JSON bodies, gzip/deflate or uncompressed.
//!
//! Status codes: 415 for another media type or encoding, 413 past the decompressed size cap,
//! 400 for a corrupt compressed body, 422 for a body that is not an `ExportTraceServiceRequest`
//! (as Phoenix answers; OTel exporters treat it like 400, as a permanent failure), 503 with
//! `Retry-After` when the ingest queue is full (exporters retry). 200 means committed.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ember_otlp::collector::{ExportTracePartialSuccess, ExportTraceServiceResponse};
use ember_otlp::{decode_export, decode_json, decode_protobuf};
use prost::Message;

use crate::authentication::RequestCaller;
use crate::body::content_encoding;
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// `ExportTraceServiceResponse` in OTLP/JSON (camelCase names, 64-bit integers as strings).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportResponseJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    partial_success: Option<PartialSuccessJson>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct PartialSuccessJson {
    rejected_spans: String,
    error_message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OtlpFormat {
    Protobuf,
    Json,
}

fn format_of(headers: &HeaderMap) -> ApiResult<OtlpFormat> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match media_type.as_str() {
        "application/x-protobuf" | "application/protobuf" => Ok(OtlpFormat::Protobuf),
        "application/json" => Ok(OtlpFormat::Json),
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Unsupported content type {content_type:?}; send application/x-protobuf or application/json"),
        )),
    }
}

pub async fn export(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let format = format_of(&headers)?;
    let encoding = content_encoding(&headers)?;
    let header_project = headers.get("x-project-name").and_then(|v| v.to_str().ok()).map(str::to_string);
    let (max_body_bytes, budget) = (state.max_body_bytes, state.body_budget.clone());
    // Decompressing and decoding are CPU work: the ingest service runs them on a blocking thread.
    let decode = move || -> Result<_, ember_service::ServiceError> {
        let (raw, _reservation) =
            budget.decompress(body, encoding, max_body_bytes).map_err(|error| ember_service::ServiceError::classified(&error))?;
        let request = match format {
            OtlpFormat::Protobuf => decode_protobuf(&raw)?,
            OtlpFormat::Json => decode_json(&raw)?,
        };
        Ok(decode_export(request, header_project.as_deref()))
    };
    let report = state.services.ingest().export(&caller, decode).await?;
    let partial_success = (report.rejected_spans > 0)
        .then(|| ExportTracePartialSuccess { rejected_spans: report.rejected_spans, error_message: report.error_message.clone() });
    Ok(match format {
        OtlpFormat::Protobuf => {
            let body = ExportTraceServiceResponse { partial_success }.encode_to_vec();
            ([(header::CONTENT_TYPE, "application/x-protobuf")], body).into_response()
        }
        OtlpFormat::Json => {
            let partial_success = partial_success.map(|partial| PartialSuccessJson {
                rejected_spans: partial.rejected_spans.to_string(),
                error_message: partial.error_message,
            });
            axum::Json(ExportResponseJson { partial_success }).into_response()
        }
    })
}
