//! Arrow Flight on the real server's gRPC port, as the `arize` SDK calls it: span updates by
//! `DoPut` with JSON commands and binary replies, span exports by `GetFlightInfo` + `DoGet`,
//! UNIMPLEMENTED for the rest, malformed batches refused, and the key in `auth-token-bin`.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray, TimestampNanosecondArray};
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::{FlightClient, FlightData, FlightDescriptor, Ticket};
use ember_otlp::collector::trace_service_client::TraceServiceClient;
use ember_otlp::fixtures::{request, span, span_id, string_attribute, with_attributes};
use futures::{StreamExt, TryStreamExt};
use prost::Message;
use serde_json::json;

use crate::process::Ember;

const ADMIN_SECRET: &str = "e2e-admin-secret-0123456789abcdefghi";

/// The SDK's replies, declared here from the SDK's field numbers (not from ember's code).
#[derive(Clone, PartialEq, prost::Message)]
struct WriteSpanUpdateResponse {
    #[prost(int64, tag = "1")]
    records_updated: i64,
    #[prost(string, repeated, tag = "2")]
    unmatched_ids: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct WriteSpanAttributesMetadataResponse {
    #[prost(int64, tag = "1")]
    spans_processed: i64,
    #[prost(int64, tag = "2")]
    spans_updated: i64,
    #[prost(int64, tag = "3")]
    spans_failed: i64,
    #[prost(message, repeated, tag = "4")]
    errors: Vec<SpanError>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct SpanError {
    #[prost(string, tag = "1")]
    span_id: String,
    #[prost(string, tag = "2")]
    error_message: String,
}

async fn client(ember: &Ember, key: Option<&str>) -> FlightClient {
    let channel = tonic::transport::Channel::from_shared(ember.grpc.clone()).unwrap().connect().await.unwrap();
    let mut client = FlightClient::new(channel);
    client.add_header("origin", "arize-logging-client").unwrap();
    if let Some(key) = key {
        client.metadata_mut().insert_bin("auth-token-bin", tonic::metadata::MetadataValue::from_bytes(key.as_bytes()));
    }
    client
}

/// `DoPut` of `batch` under the JSON command `{kind: {"externalModelId": project}}`; the reply bytes.
async fn put(client: &mut FlightClient, kind: &str, project: &str, batch: RecordBatch) -> Result<bytes::Bytes, FlightError> {
    let command = serde_json::to_string_pretty(&json!({kind: {"externalModelId": project, "spaceId": "U3BhY2U6MTphYmNk"}})).unwrap();
    let stream = FlightDataEncoderBuilder::new()
        .with_flight_descriptor(Some(FlightDescriptor::new_cmd(command)))
        .build(futures::stream::iter([Ok(batch)]));
    let mut results = client.do_put(stream).await?;
    let first = results.next().await.expect("one PutResult")?;
    assert!(results.next().await.is_none(), "exactly one PutResult");
    Ok(first.app_metadata)
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).unwrap()
}

fn texts(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

/// Exports the project's 2024-01-01 spans; the batches.
async fn export(client: &mut FlightClient, extra: serde_json::Value) -> (i64, Vec<RecordBatch>) {
    let mut command = json!({"spaceId": "s", "modelId": "fl", "environment": "TRACING",
        "startTime": "2024-01-01T00:00:00Z", "endTime": "2024-01-02T00:00:00Z", "streamChunkSize": "2"});
    command.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let info = client.get_flight_info(FlightDescriptor::new_cmd(command.to_string())).await.unwrap();
    if info.total_records == 0 {
        return (0, Vec::new());
    }
    let ticket: Ticket = info.endpoint[0].ticket.clone().unwrap();
    let batches: Vec<RecordBatch> = client.do_get(ticket).await.unwrap().try_collect().await.unwrap();
    (info.total_records, batches)
}

fn column<'a>(batches: &'a [RecordBatch], name: &str) -> Vec<&'a ArrayRef> {
    batches.iter().map(|batch| batch.column_by_name(name).unwrap_or_else(|| panic!("no column {name}"))).collect()
}

fn strings(batches: &[RecordBatch], name: &str) -> Vec<Option<String>> {
    column(batches, name)
        .into_iter()
        .flat_map(|array| {
            let array = array.as_any().downcast_ref::<StringArray>().unwrap();
            (0..array.len()).map(|row| (!array.is_null(row)).then(|| array.value(row).to_string())).collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn flight_updates_and_exports_spans_as_the_arize_sdk_asks() {
    let dir = tempfile::tempdir().unwrap();
    let ember = Ember::start(dir.path(), &[]).await;
    let mut grpc = TraceServiceClient::connect(ember.grpc.clone()).await.unwrap();
    let tagged = with_attributes(span(1, 1, None, "CHAIN"), vec![string_attribute("metadata", r#"{"tier": "gold"}"#)]);
    let spans =
        vec![tagged, span(1, 2, Some(1), "LLM"), span(1, 3, Some(1), "LLM"), span(1, 4, Some(1), "TOOL"), span(1, 5, Some(1), "TOOL")];
    grpc.export(request(Some("fl"), spans)).await.unwrap();
    let mut flight = client(&ember, None).await;

    // Evaluations: the stored span is updated, the other reported.
    let evaluations = batch(vec![
        ("context.span_id", texts(&[Some(&span_id(2)), Some("missing-span")])),
        ("eval.Correctness.label", texts(&[Some("correct"), Some("wrong")])),
        ("eval.Correctness.score", Arc::new(Float64Array::from(vec![Some(1.0), None])) as ArrayRef),
    ]);
    let reply = put(&mut flight, "writeSpanEvaluationRequest", "fl", evaluations).await.unwrap();
    assert_eq!(
        WriteSpanUpdateResponse::decode(reply).unwrap(),
        WriteSpanUpdateResponse { records_updated: 1, unmatched_ids: vec!["missing-span".into()] }
    );

    // Annotations, with the SDK's author, time and notes columns.
    let annotations = batch(vec![
        ("context.span_id", texts(&[Some(&span_id(3))])),
        ("annotation.quality.label", texts(&[Some("good")])),
        ("annotation.quality.updated_by", texts(&[Some("SDK")])),
        ("annotation.quality.updated_at", Arc::new(arrow_array::Int64Array::from(vec![1_704_067_200_000])) as ArrayRef),
    ]);
    let reply = put(&mut flight, "writeSpanAnnotationRequest", "fl", annotations).await.unwrap();
    assert_eq!(WriteSpanUpdateResponse::decode(reply).unwrap().records_updated, 1);

    // Metadata: patch documents, one for a span that is not stored.
    let metadata = batch(vec![
        ("context.span_id", texts(&[Some(&span_id(1)), Some(&span_id(4)), Some("missing-span")])),
        ("patch_document", texts(&[Some(r#"{"tier": "silver"}"#), Some(r#"{"n": 1}"#), Some(r#"{"n": 2}"#)])),
    ]);
    let reply =
        WriteSpanAttributesMetadataResponse::decode(put(&mut flight, "writeSpanAttributesMetadataRequest", "fl", metadata).await.unwrap())
            .unwrap();
    assert_eq!((reply.spans_processed, reply.spans_updated, reply.spans_failed), (3, 2, 1));
    assert_eq!(reply.errors[0].span_id, "missing-span");
    assert!(reply.errors[0].error_message.contains("segment_not_found"), "{}", reply.errors[0].error_message);

    // What was written is what Phoenix's API reads.
    let read = |path: String| {
        let ember = &ember;
        async move { ember.client.get(format!("{}{path}", ember.http)).send().await.unwrap().json::<serde_json::Value>().await.unwrap() }
    };
    let evaluation = read(format!("/v1/projects/fl/span_annotations?span_ids={}", span_id(2))).await;
    assert_eq!(
        (evaluation["data"][0]["annotator_kind"].as_str(), evaluation["data"][0]["result"]["label"].as_str()),
        (Some("LLM"), Some("correct"))
    );
    let human = read(format!("/v1/projects/fl/span_annotations?span_ids={}", span_id(3))).await;
    assert_eq!(human["data"][0]["annotator_kind"], "HUMAN");
    let silver = read("/v1/projects/fl/spans?filter_condition=metadata%5B%27tier%27%5D%20%3D%3D%20%27silver%27".into()).await;
    assert_eq!(silver["data"].as_array().unwrap().len(), 1);

    // Exports: every span in pages of two, with a `time` column; then filtered, sampled, projected.
    let (total, batches) = export(&mut flight, json!({})).await;
    assert_eq!(total, 5);
    assert_eq!(batches.iter().map(RecordBatch::num_rows).collect::<Vec<_>>(), [2, 2, 1], "streamChunkSize rows a batch");
    let mut ids = strings(&batches, "context.span_id");
    ids.sort();
    assert_eq!(ids, (1..=5).map(|id| Some(span_id(id))).collect::<Vec<_>>());
    let times = column(&batches, "time")[0].as_any().downcast_ref::<TimestampNanosecondArray>().unwrap().clone();
    assert_eq!(times.null_count(), 0);
    assert!(strings(&batches, "eval.Correctness.label").contains(&Some("correct".into())));
    assert!(strings(&batches, "attributes.metadata").contains(&Some(r#"{"tier":"silver"}"#.into())));
    let (total, batches) = export(&mut flight, json!({"filterExpression": "span_kind = 'TOOL'", "projectedColumns": ["name"]})).await;
    assert_eq!(total, 2);
    let names: Vec<String> = batches[0].schema().fields().iter().map(|field| field.name().clone()).collect();
    assert_eq!(names, ["name", "time"].map(String::from), "the projected columns, and time");
    let (total, batches) = export(&mut flight, json!({"sampleRate": 0.5})).await;
    assert_eq!((total, batches.iter().map(RecordBatch::num_rows).sum::<usize>()), (2, 2), "half of five, rounded down");
    assert_eq!(export(&mut flight, json!({"filterExpression": "name = 'nothing'"})).await.0, 0);

    // What is not served, and what cannot be read.
    let listed = flight.list_flights(bytes::Bytes::new()).await.err().expect("ListFlights is not served");
    assert!(matches!(&listed, FlightError::Tonic(status) if status.code() == tonic::Code::Unimplemented), "{listed}");
    let wrong_project = put(&mut flight, "writeSpanEvaluationRequest", "nope", batch(vec![("context.span_id", texts(&[Some("x")]))])).await;
    assert!(matches!(wrong_project, Err(FlightError::Tonic(status)) if status.code() == tonic::Code::NotFound));
    let garbage = FlightData::new()
        .with_descriptor(FlightDescriptor::new_cmd(r#"{"writeSpanEvaluationRequest": {"externalModelId": "fl"}}"#))
        .with_data_header(bytes::Bytes::from_static(b"\xff\xff\xff\xffnot a flatbuffer"));
    let refused = match flight.do_put(futures::stream::iter([Ok(garbage)])).await {
        Ok(results) => results.try_collect::<Vec<_>>().await,
        Err(error) => Err(error),
    };
    assert!(matches!(refused, Err(FlightError::Tonic(status)) if status.code() == tonic::Code::InvalidArgument));
}

#[tokio::test]
async fn with_auth_on_flight_takes_the_key_in_auth_token_bin() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("PHOENIX_ENABLE_AUTH", "true"),
        ("PHOENIX_SECRET", "e2e-server-secret-0123456789abcdefgh"),
        ("PHOENIX_ADMIN_SECRET", ADMIN_SECRET),
    ];
    let ember = Ember::start(dir.path(), &env).await;
    let command = json!({"modelId": "fl", "startTime": "2024-01-01T00:00:00Z", "endTime": "2024-01-02T00:00:00Z"}).to_string();
    for key in [None, Some("not-a-key")] {
        let refused = client(&ember, key).await.get_flight_info(FlightDescriptor::new_cmd(command.clone())).await.err().unwrap();
        assert!(matches!(&refused, FlightError::Tonic(status) if status.code() == tonic::Code::Unauthenticated), "{refused}");
    }
    let missing = client(&ember, Some(ADMIN_SECRET)).await.get_flight_info(FlightDescriptor::new_cmd(command)).await.err().unwrap();
    assert!(matches!(&missing, FlightError::Tonic(status) if status.code() == tonic::Code::NotFound), "the key is accepted: {missing}");
}

/// `ARIZE_SINGLE_PORT`: gRPC (OTLP and Flight, HTTP/2 with prior knowledge) on the HTTP port,
/// beside HTTP/1.1.
#[tokio::test]
async fn grpc_is_served_on_the_http_port_too() {
    let dir = tempfile::tempdir().unwrap();
    let ember = Ember::start(dir.path(), &[]).await;
    let mut otlp = TraceServiceClient::connect(ember.http.clone()).await.unwrap();
    otlp.export(request(Some("one-port"), vec![span(7, 7, None, "LLM")])).await.expect("OTLP/gRPC on the HTTP port");
    let spans: serde_json::Value =
        ember.client.get(format!("{}/v1/projects/one-port/spans", ember.http)).send().await.unwrap().json().await.unwrap();
    assert_eq!(spans["data"][0]["context"]["span_id"], span_id(7), "HTTP/1.1 on the same port reads it");
    let channel = tonic::transport::Channel::from_shared(ember.http.clone()).unwrap().connect().await.unwrap();
    let command = json!({"modelId": "one-port", "startTime": "2024-01-01T00:00:00Z", "endTime": "2024-01-02T00:00:00Z"}).to_string();
    let info = FlightClient::new(channel).get_flight_info(FlightDescriptor::new_cmd(command)).await.expect("Flight on the HTTP port");
    assert_eq!(info.total_records, 1);
}

/// A Flight message past `EMBER_FLIGHT_MAX_MESSAGE_BYTES` is refused as unreadable, and nothing
/// of it is applied.
#[tokio::test]
async fn flight_messages_past_the_limit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ember = Ember::start(dir.path(), &[("EMBER_FLIGHT_MAX_MESSAGE_BYTES", "65536")]).await;
    let mut grpc = TraceServiceClient::connect(ember.grpc.clone()).await.unwrap();
    grpc.export(request(Some("fl"), vec![span(1, 1, None, "LLM")])).await.unwrap();
    let long = "x".repeat(100_000);
    let evaluations = batch(vec![("context.span_id", texts(&[Some(&span_id(1))])), ("eval.Big.explanation", texts(&[Some(&long)]))]);
    let refused = put(&mut client(&ember, None).await, "writeSpanEvaluationRequest", "fl", evaluations).await;
    assert!(
        matches!(&refused, Err(FlightError::Tonic(status)) if matches!(status.code(), tonic::Code::InvalidArgument | tonic::Code::OutOfRange)),
        "{refused:?}"
    );
    let annotations: serde_json::Value = ember
        .client
        .get(format!("{}/v1/projects/fl/span_annotations?span_ids={}", ember.http, span_id(1)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(annotations["data"], json!([]));
}
