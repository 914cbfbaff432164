//! `POST /v1/log`: Arize's single-record ML API (seed 000, and the `arize` SDK's
//! `ml.log_stream`). The body is one `public.Record` as protobuf JSON (comments, as in Arize's
//! own examples, are ignored); the answer is `{}` once the record is committed. Failures are
//! answered with Arize's status codes: 403 for a missing or invalid key when authentication is
//! on, 400 for a record that cannot be logged, naming why.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use ember_core::ErrorCode;
use ember_service::ml_models::{MlLog, MlOrigin};
use ember_service::ServiceError;
use ember_wire::ml::{MlLogged, MlRecordJson};

use crate::arize::ml_record::record_of_json;
use crate::authentication::RequestCaller;
use crate::body::{content_encoding, decompress};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

pub async fn log(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<MlLogged>> {
    let now = ember_core::time::now_nanos();
    let body = decompress(body, content_encoding(&headers)?, state.max_body_bytes)?;
    let json = parse(&body)?;
    let (model, record) = record_of_json(json).map_err(|message| ApiError::new(StatusCode::BAD_REQUEST, message))?;
    let log = MlLog { model, model_type: None, records: vec![record], origin: MlOrigin::Stream };
    state.services.ml_models().log(&caller, log, now).await?;
    Ok(Json(MlLogged {}))
}

/// The record, or a 400 naming what is wrong and where.
fn parse(body: &[u8]) -> ApiResult<MlRecordJson> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "the body is empty: send one record as JSON"));
    }
    let mut deserializer = serde_json::Deserializer::from_reader(json_comments::StripComments::new(body));
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = match path.as_str() {
            "." | "" => inner.to_string(),
            path => format!("{inner} (at {path})"),
        };
        ApiError::new(StatusCode::BAD_REQUEST, message)
    })
}

/// How `/v1/log` refuses a caller: Arize answers a missing or unknown key with 403.
pub fn refusal(error: ServiceError, headers: &HeaderMap) -> Response {
    if error.code() != ErrorCode::Unauthenticated {
        return ApiError::from(error).into_response();
    }
    let message = match headers.get(header::AUTHORIZATION) {
        None => "must provide authorization header",
        Some(_) => "invalid api-key",
    };
    ApiError::new(StatusCode::FORBIDDEN, message).into_response()
}
