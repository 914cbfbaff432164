//! The protobuf messages of the `arize` SDK that ember reads or answers, written as `prost`
//! derives (no `protoc`): field numbers from the SDK's `public` package. Only the fields ember
//! uses are declared; protobuf skips the others.

/// `public.Schema`: what an upload (`/v1/pandas_arrow`, Flight `DoPut`) holds, base64 in the
/// Arrow schema's `arize-schema` metadata.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Schema {
    #[prost(message, optional, tag = "1")]
    pub constants: Option<Constants>,
    /// Set for an ML model upload (`ml.log`).
    #[prost(message, optional, tag = "4")]
    pub arrow_schema: Option<Present>,
    /// Set for a tracing upload (`spans.log`, `log_evaluations`).
    #[prost(message, optional, tag = "8")]
    pub arize_spans: Option<Present>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Constants {
    /// The project name of a tracing upload, the model of an ML one.
    #[prost(string, tag = "1")]
    pub model_id: String,
    #[prost(string, tag = "2")]
    pub model_version: String,
    #[prost(string, tag = "3")]
    pub batch_id: String,
    #[prost(int32, tag = "4")]
    pub environment: i32,
    #[prost(int32, tag = "5")]
    pub model_type: i32,
}

/// A message whose content ember does not read: it is there or not.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Present {}

/// The reply to `writeSpanEvaluationRequest` (and, same fields, `writeSpanAnnotationRequest`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteSpanUpdateResponse {
    #[prost(int64, tag = "1")]
    pub records_updated: i64,
    #[prost(string, repeated, tag = "2")]
    pub unmatched_ids: Vec<String>,
}

/// The reply to `writeSpanAttributesMetadataRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteSpanAttributesMetadataResponse {
    #[prost(int64, tag = "1")]
    pub spans_processed: i64,
    #[prost(int64, tag = "2")]
    pub spans_updated: i64,
    #[prost(int64, tag = "3")]
    pub spans_failed: i64,
    #[prost(message, repeated, tag = "4")]
    pub errors: Vec<SpanError>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SpanError {
    #[prost(string, tag = "1")]
    pub span_id: String,
    #[prost(string, tag = "2")]
    pub error_message: String,
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    /// The replies byte for byte as the reference captured them (the SDK decodes these).
    #[test]
    fn replies_encode_as_the_sdk_reads_them() {
        let evaluation = WriteSpanUpdateResponse { records_updated: 1, unmatched_ids: vec!["missing-span".into()] };
        assert_eq!(evaluation.encode_to_vec(), b"\x08\x01\x12\x0cmissing-span");
        let metadata = WriteSpanAttributesMetadataResponse {
            spans_processed: 2,
            spans_updated: 1,
            spans_failed: 1,
            errors: vec![SpanError { span_id: "s2".into(), error_message: "segment_not_found".into() }],
        };
        assert_eq!(metadata.encode_to_vec(), b"\x08\x02\x10\x01\x18\x01\x22\x17\x0a\x02s2\x12\x11segment_not_found");
    }

    #[test]
    fn the_tracing_schema_names_its_project() {
        let captured = b"\x0a\x10\x0a\x0amy-project\x20\x05\x28\x07\x42\x00";
        let schema = Schema::decode(&captured[..]).unwrap();
        assert_eq!(schema.constants.unwrap().model_id, "my-project");
        assert!(schema.arize_spans.is_some() && schema.arrow_schema.is_none());
    }
}
