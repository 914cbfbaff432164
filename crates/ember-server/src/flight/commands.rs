//! The `arize` SDK's Flight commands, sent as proto3 JSON text (camelCase names; snake_case is
//! accepted too), and the ticket ember gives back for an export (opaque to the SDK, JSON here;
//! it is checked again when it comes back, so a forged ticket reaches nothing more).

use serde::{Deserialize, Serialize};

/// `DoPutRequest`: one of the span updates.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoPutRequest {
    #[serde(alias = "write_span_evaluation_request")]
    pub write_span_evaluation_request: Option<WriteSpansRequest>,
    #[serde(alias = "write_span_annotation_request")]
    pub write_span_annotation_request: Option<WriteSpansRequest>,
    #[serde(alias = "write_span_attributes_metadata_request")]
    pub write_span_attributes_metadata_request: Option<WriteSpansRequest>,
}

/// The project (and space) an update is for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteSpansRequest {
    #[serde(default, alias = "external_model_id")]
    pub external_model_id: String,
    #[serde(default, alias = "space_id")]
    pub space_id: String,
}

/// Which update a `DoPut` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanUpdate {
    Evaluations,
    Annotations,
    Metadata,
}

impl DoPutRequest {
    /// The update and its request; `None` for a command ember does not serve.
    pub fn update(self) -> Option<(SpanUpdate, WriteSpansRequest)> {
        None.or(self.write_span_evaluation_request.map(|request| (SpanUpdate::Evaluations, request)))
            .or(self.write_span_annotation_request.map(|request| (SpanUpdate::Annotations, request)))
            .or(self.write_span_attributes_metadata_request.map(|request| (SpanUpdate::Metadata, request)))
    }
}

/// An Int64Value, which proto3 JSON writes as a string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Int64Json {
    Number(i64),
    Text(String),
}

impl Int64Json {
    pub fn value(self) -> Option<i64> {
        match self {
            Int64Json::Number(number) => Some(number),
            Int64Json::Text(text) => text.trim().parse().ok(),
        }
    }
}

/// `RecordQueryDescriptor`: what to export.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordQueryDescriptor {
    #[serde(default, alias = "space_id")]
    pub space_id: String,
    #[serde(default, alias = "model_id")]
    pub model_id: String,
    /// `TRACING` for spans (the default); `PRODUCTION`, `VALIDATION` or `TRAINING` for an ML
    /// model's records.
    #[serde(default)]
    pub environment: Option<String>,
    /// ML exports: whether the actuals' columns are sent.
    #[serde(default, alias = "include_actuals")]
    pub include_actuals: bool,
    #[serde(default, alias = "model_version")]
    pub model_version: Option<String>,
    #[serde(default, alias = "batch_id")]
    pub batch_id: Option<String>,
    /// RFC 3339.
    #[serde(default, alias = "start_time")]
    pub start_time: Option<String>,
    #[serde(default, alias = "end_time")]
    pub end_time: Option<String>,
    #[serde(default, alias = "filter_expression")]
    pub filter_expression: Option<String>,
    #[serde(default, alias = "projected_columns")]
    pub projected_columns: Vec<String>,
    #[serde(default, alias = "stream_chunk_size")]
    pub stream_chunk_size: Option<Int64Json>,
    #[serde(default, alias = "sample_rate")]
    pub sample_rate: Option<f64>,
}

/// What `GetFlightInfo` planned, handed back by `DoGet`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "export", rename_all = "snake_case")]
pub enum Planned {
    Spans(ExportTicket),
    Ml(MlExportTicket),
}

/// An ML model's records to export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlExportTicket {
    pub model: String,
    /// `PRODUCTION`, `VALIDATION` or `TRAINING`.
    pub environment: String,
    pub start: i64,
    pub end: i64,
    pub model_version: Option<String>,
    pub batch_id: Option<String>,
    pub include_actuals: bool,
    pub total: i64,
    pub chunk: usize,
    #[serde(default)]
    pub columns: Vec<String>,
}

/// A span export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportTicket {
    pub project_id: i64,
    pub start: i64,
    pub end: i64,
    #[serde(default)]
    pub filter: Option<String>,
    /// The newest span's rowid when the export was planned.
    pub up_to: Option<i64>,
    /// Spans the export sends (after sampling).
    pub total: i64,
    pub sample_rate: f64,
    pub chunk: usize,
    #[serde(default)]
    pub columns: Vec<String>,
    /// (name, annotator kind) of the annotations of the window's spans: each is a column.
    #[serde(default)]
    pub annotations: Vec<(String, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_read_as_the_sdk_writes_them() {
        let put: DoPutRequest = serde_json::from_str(
            "{\n  \"writeSpanEvaluationRequest\": {\n    \"externalModelId\": \"my-project\",\n    \"spaceId\": \"U3BhY2U6MTphYmNk\"\n  }\n}",
        )
        .unwrap();
        let (update, request) = put.update().unwrap();
        assert_eq!((update, request.external_model_id.as_str()), (SpanUpdate::Evaluations, "my-project"));
        let snake: DoPutRequest =
            serde_json::from_str(r#"{"write_span_attributes_metadata_request": {"external_model_id": "p"}}"#).unwrap();
        assert_eq!(snake.update().unwrap().0, SpanUpdate::Metadata);
        assert!(serde_json::from_str::<DoPutRequest>(r#"{"createDataset": {}}"#).unwrap().update().is_none());

        let query: RecordQueryDescriptor = serde_json::from_str(
            r#"{"spaceId": "s", "modelId": "p", "environment": "TRACING", "startTime": "2024-01-01T00:00:00Z",
                "endTime": "2024-01-02T00:00:00Z", "filterExpression": "status_code = 'ERROR'", "projectedColumns": ["name"],
                "streamChunkSize": "100", "sampleRate": 0.5}"#,
        )
        .unwrap();
        assert_eq!(query.stream_chunk_size.and_then(Int64Json::value), Some(100));
        assert_eq!((query.model_id.as_str(), query.sample_rate), ("p", Some(0.5)));

        // `ml.export_to_df`, as MessageToJson writes it.
        let query: RecordQueryDescriptor = serde_json::from_str(
            r#"{"spaceId": "s", "modelId": "fraud", "environment": "VALIDATION", "modelVersion": "v1", "batchId": "b2",
                "includeActuals": true, "startTime": "2024-01-01T00:00:00Z", "endTime": "2024-01-02T00:00:00Z"}"#,
        )
        .unwrap();
        assert!(query.include_actuals);
        assert_eq!((query.model_version.as_deref(), query.batch_id.as_deref()), (Some("v1"), Some("b2")));
    }
}
