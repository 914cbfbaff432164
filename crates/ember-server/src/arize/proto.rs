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
