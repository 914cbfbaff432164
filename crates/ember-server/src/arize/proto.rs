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
    pub arrow_schema: Option<ArrowSchema>,
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

/// `public.Schema.ArrowSchema`: which columns of an ML upload hold what (empty: none).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ArrowSchema {
    #[prost(string, tag = "1")]
    pub prediction_id_column_name: String,
    #[prost(string, repeated, tag = "2")]
    pub feature_column_names: Vec<String>,
    #[prost(string, tag = "3")]
    pub timestamp_column_name: String,
    #[prost(string, tag = "4")]
    pub prediction_label_column_name: String,
    #[prost(string, tag = "5")]
    pub prediction_score_column_name: String,
    #[prost(string, tag = "6")]
    pub actual_label_column_name: String,
    #[prost(string, tag = "7")]
    pub actual_score_column_name: String,
    /// Feature name → the column of its SHAP values.
    #[prost(btree_map = "string, string", tag = "8")]
    pub shap_values_column_names: std::collections::BTreeMap<String, String>,
    #[prost(string, repeated, tag = "9")]
    pub tag_column_names: Vec<String>,
    #[prost(string, tag = "13")]
    pub model_version_column_name: String,
    #[prost(string, tag = "14")]
    pub batch_id_column_name: String,
    #[prost(string, tag = "15")]
    pub prediction_group_id_column_name: String,
    #[prost(string, tag = "16")]
    pub rank_column_name: String,
    /// Embedding feature name → its columns.
    #[prost(btree_map = "string, message", tag = "17")]
    pub embedding_feature_column_names_map: std::collections::BTreeMap<String, EmbeddingColumnNames>,
}

/// `public.Schema.EmbeddingColumnNames`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EmbeddingColumnNames {
    #[prost(string, tag = "1")]
    pub vector_column_name: String,
    #[prost(string, tag = "2")]
    pub data_column_name: String,
    #[prost(string, tag = "3")]
    pub link_to_data_column_name: String,
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

    /// The `arize-schema` of an `ml.log` upload as arize 8.61 sent it (binary classification,
    /// version v1, production; features, a tag, a SHAP column and an embedding).
    #[test]
    fn the_ml_schema_names_its_columns() {
        use base64::Engine;
        let captured = "ChUKC2ZyYXVkLW1vZGVsEgJ2MSADKAQiZwoDcGlkEgNhZ2USBmluY29tZRIEY2l0eRIEZmxhZxoCdHMiBHByZWQqBXNjb3JlMgNhY3RCDwoDYWdlEghhZ2Vfc2hhcEoEdGFnMYoBGQoGbXlfZW1iEg8KA2VtYhIIZW1iX3RleHQ=";
        let schema = Schema::decode(base64::engine::general_purpose::STANDARD.decode(captured).unwrap().as_slice()).unwrap();
        let constants = schema.constants.unwrap();
        assert_eq!(
            (constants.model_id.as_str(), constants.model_version.as_str(), constants.environment, constants.model_type),
            ("fraud-model", "v1", 3, 4)
        );
        let columns = schema.arrow_schema.unwrap();
        assert_eq!(columns.prediction_id_column_name, "pid");
        assert_eq!(columns.feature_column_names, ["age", "income", "city", "flag"]);
        assert_eq!((columns.timestamp_column_name.as_str(), columns.prediction_label_column_name.as_str()), ("ts", "pred"));
        assert_eq!((columns.prediction_score_column_name.as_str(), columns.actual_label_column_name.as_str()), ("score", "act"));
        assert_eq!(columns.shap_values_column_names["age"], "age_shap");
        assert_eq!(columns.tag_column_names, ["tag1"]);
        let embedding = &columns.embedding_feature_column_names_map["my_emb"];
        assert_eq!((embedding.vector_column_name.as_str(), embedding.data_column_name.as_str()), ("emb", "emb_text"));
    }
}
