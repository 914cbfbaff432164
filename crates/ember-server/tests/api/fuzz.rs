//! Fuzz targets (see `ember-fuzz`) through the real router: the readers of the bulk span APIs
//! (JSON, CSV, Arrow IPC, Parquet), the legacy evaluation decoders (protobuf, Arrow), the `arize`
//! SDK's table uploads and the dataset upload form (multipart with CSV, JSON-lines and Arrow files) answer every input with
//! a status below 500 — no panic, no crash, no internal error.

use std::sync::{Arc, Mutex};

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use axum::body::Body;
use axum::http::Request;
use ember_fuzz::{fuzz, mutated};
use ember_otlp::fixtures::{request, span, span_id};
use tracing::instrument::WithSubscriber;
use tracing::{Dispatch, Level};

use crate::common::{test_app, TestApp};

/// The error lines the server logs while it handles a request (a 500's cause is logged, not
/// answered), to report with a failure.
#[derive(Clone, Default)]
struct ErrorLog(Arc<Mutex<Vec<u8>>>);

impl ErrorLog {
    fn take(&self) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut *self.0.lock().unwrap())).trim().to_string()
    }

    fn dispatch(&self) -> Dispatch {
        let log = self.clone();
        Dispatch::new(tracing_subscriber::fmt().with_max_level(Level::ERROR).with_ansi(false).with_writer(move || log.clone()).finish())
    }
}

impl std::io::Write for ErrorLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs a fuzz target posting each input to `uri` as `content_type`, against one app with a
/// project `p` of spans 1–3.
fn fuzz_route(target: &str, uri: &str, content_type: &str, seeds: Vec<Vec<u8>>) {
    let errors = ErrorLog::default();
    let dispatch = errors.dispatch();
    // Every thread of the runtime logs there too, so an error of a background task (the ingest
    // writer's) is reported with the input that caused it.
    let thread_dispatch = dispatch.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(move || std::mem::forget(tracing::dispatcher::set_default(&thread_dispatch)))
        .build()
        .unwrap();
    let app: TestApp = runtime.block_on(async {
        let app = test_app().await;
        app.ingest(&request(Some("p"), vec![span(1, 1, None, "LLM"), span(1, 2, Some(1), "RETRIEVER"), span(3, 3, None, "CHAIN")])).await;
        app
    });
    for seed in &seeds {
        let status = runtime.block_on(app.send(post(uri, content_type, seed.clone()))).status;
        assert!(status.is_success(), "{target}: a seed is refused ({status}); seeds must be valid");
    }
    fuzz(target, mutated(seeds), |body| {
        let response = runtime.block_on(app.send(post(uri, content_type, body)).with_subscriber(dispatch.clone()));
        let logged = errors.take();
        match response.status.is_server_error() {
            true => Err(format!("{}: {} (the server logged: {logged})", response.status, response.text())),
            false => Ok(()),
        }
    });
}

fn post(uri: &str, content_type: &str, body: Vec<u8>) -> Request<Body> {
    Request::post(uri).header("content-type", content_type).body(Body::from(body)).unwrap()
}

/// Evaluation rows of the bulk span API as a record batch.
fn evaluation_rows() -> RecordBatch {
    RecordBatch::try_from_iter([
        ("context.span_id", Arc::new(StringArray::from(vec![span_id(1), span_id(2)])) as ArrayRef),
        ("eval.Relevance.label", Arc::new(StringArray::from(vec![Some("relevant"), None])) as ArrayRef),
        ("eval.Relevance.score", Arc::new(Float64Array::from(vec![Some(1.0), Some(0.25)])) as ArrayRef),
        ("eval.Relevance.explanation", Arc::new(StringArray::from(vec!["on topic", "drifts, \"quoted\""])) as ArrayRef),
    ])
    .unwrap()
}

const EVALUATIONS: &str = "/v1/projects/p/spans/evaluations";

#[test]
fn bulk_rows_json() {
    let rows = serde_json::json!([
        {"context.span_id": span_id(1), "eval.Relevance.label": "relevant", "eval.Relevance.score": 1, "eval.Relevance.explanation": "ok"},
        {"context.span_id": span_id(2), "eval.Tone.label": "calm", "eval.Tone.score": -0.5e1},
    ]);
    let seeds = vec![serde_json::to_vec(&rows).unwrap(), serde_json::to_vec(&serde_json::json!({"data": rows})).unwrap()];
    fuzz_route("bulk_rows_json", EVALUATIONS, "application/json", seeds);
}

#[test]
fn bulk_rows_csv() {
    let csv = format!(
        "context.span_id,eval.Relevance.label,eval.Relevance.score,eval.Relevance.explanation\n{},relevant,1,\"on, \"\"topic\"\"\"\n{},,0.25,\n",
        span_id(1),
        span_id(2)
    );
    fuzz_route("bulk_rows_csv", EVALUATIONS, "text/csv", vec![csv.into_bytes()]);
}

#[test]
fn bulk_rows_arrow() {
    let batch = evaluation_rows();
    let seed = crate::common::arrow_stream(batch.schema().as_ref().clone(), batch.columns().to_vec());
    fuzz_route("bulk_rows_arrow", EVALUATIONS, "application/vnd.apache.arrow.stream", vec![seed]);
}

#[test]
fn bulk_rows_parquet() {
    let batch = evaluation_rows();
    let mut seed = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut seed, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    fuzz_route("bulk_rows_parquet", EVALUATIONS, "application/vnd.apache.parquet", vec![seed]);
}

#[test]
fn legacy_evaluations_protobuf() {
    use crate::evaluations::{evaluation, span_subject, trace_subject};
    let seeds = vec![
        evaluation("correctness", span_subject(&span_id(1)), Some(0.5), Some("correct")),
        evaluation("faithful", trace_subject(&ember_otlp::fixtures::trace_id(1)), None, Some("yes")),
    ];
    fuzz_route("legacy_evaluations_protobuf", "/v1/evaluations", "application/x-protobuf", seeds);
}

#[test]
fn legacy_evaluations_arrow() {
    let seeds = vec![crate::evaluations::document_evaluation_arrow(&span_id(2), 1.0)];
    fuzz_route("legacy_evaluations_arrow", "/v1/evaluations", "application/x-pandas-arrow", seeds);
}

#[test]
fn arize_pandas_arrow() {
    use crate::pandas_arrow::{spans_table, strings, table, tracing_schema};
    let evaluations = table(
        Some(tracing_schema("p")),
        vec![("context.span_id", strings(&[Some(span_id(1).as_str())])), ("eval.Tone.label", strings(&[Some("calm")]))],
    );
    let seeds = vec![spans_table("p", Some("llm")), evaluations];
    fuzz_route("arize_pandas_arrow", "/v1/pandas_arrow", "application/octet-stream", seeds);
}

#[test]
fn arize_ml_log() {
    use crate::arize_ml::{now_iso, EXAMPLE_TIME, NUMERIC_EXAMPLE, SCORE_CATEGORICAL_EXAMPLE};
    // Seed 000's examples (the first an hour old, not six years), and what `ml.log_stream` sends.
    let stream = serde_json::json!({"model_id": "streamed", "prediction_id": "z1", "prediction": {"model_version": "v2",
        "features": {"e": {"embedding": {"vector": [1.0, 2.0], "link_to_data": "", "raw_data": {"tokenArray": {"tokens": ["t"]}}}},
            "city": {"string": "x"}, "age": {"int": "42"}, "n": {"double": "NaN"}, "tags": {"multi_value": {"values": ["a"]}}},
        "tags": {"t": {"double": 1.5}}, "prediction_label": {"score_categorical": {"score_category": {"category": "fraud", "score": 0.8}}}},
        "actual": {"actual_label": {"score_categorical": {"score_category": {"category": "ok", "score": 1.0}}}},
        "feature_importances": {"feature_importances": {"age": 0.3}}, "environment_params": {"production": {}}});
    let seeds = vec![NUMERIC_EXAMPLE.replace(EXAMPLE_TIME, &now_iso(-3600)).into_bytes(), serde_json::to_vec(&stream).unwrap()];
    let mut seeds = seeds;
    seeds.push(SCORE_CATEGORICAL_EXAMPLE.replace("example_model_id", "actuals").into_bytes());
    fuzz_route("arize_ml_log", "/v1/log", "application/json", seeds);
}

#[test]
fn arize_ml_upload() {
    let seeds = vec![crate::arize_ml::uploads::table("fuzzed", 6, |row| -60 - row as i64)];
    fuzz_route("arize_ml_upload", "/v1/pandas_arrow", "application/octet-stream", seeds);
}

/// Upload forms naming every kind of key, around `file`.
fn upload_form(content_type: &str, file: &[u8]) -> (String, Vec<u8>) {
    let fields = [
        ("name", "fuzzed"),
        ("action", "append"),
        ("input_keys[]", "q"),
        ("output_keys[]", "a"),
        ("metadata_keys[]", "meta"),
        ("split_key", "split"),
        ("example_id_key", "id"),
    ];
    crate::datasets::file_form(&fields, content_type, None, file)
}

fn fuzz_upload(target: &str, file_type: &str, files: Vec<Vec<u8>>) {
    let forms: Vec<(String, Vec<u8>)> = files.iter().map(|file| upload_form(file_type, file)).collect();
    let content_type = forms[0].0.clone();
    fuzz_route(target, "/v1/datasets/upload?sync=true", &content_type, forms.into_iter().map(|(_, body)| body).collect());
}

#[test]
fn dataset_upload_csv() {
    let csv = "q,a,meta,split,id\nwhat,4,\"{\"\"k\"\": 1}\",\"[\"\"train\"\", \"\"easy\"\"]\",x-1\nwhy,,,test,x-2\n";
    fuzz_upload("dataset_upload_csv", "text/csv", vec![csv.as_bytes().to_vec()]);
}

#[test]
fn dataset_upload_jsonl() {
    let lines = "{\"q\": {\"text\": \"two\"}, \"a\": 4, \"meta\": [1, 2], \"split\": [\"train\"], \"id\": \"x-1\"}\n\n{\"q\": \"no\", \"split\": \"test\", \"id\": 7}\n";
    fuzz_upload("dataset_upload_jsonl", "application/jsonl", vec![lines.as_bytes().to_vec()]);
}

#[test]
fn dataset_upload_arrow() {
    let batch = RecordBatch::try_from_iter([
        ("q", Arc::new(StringArray::from(vec!["one", "two"])) as ArrayRef),
        ("a", Arc::new(Float64Array::from(vec![1.0, 2.5])) as ArrayRef),
        ("meta", Arc::new(StringArray::from(vec![Some("{}"), None])) as ArrayRef),
        ("split", Arc::new(StringArray::from(vec![Some("train"), None])) as ArrayRef),
        ("id", Arc::new(StringArray::from(vec!["r-1", "r-2"])) as ArrayRef),
    ])
    .unwrap();
    let file = crate::common::arrow_stream(batch.schema().as_ref().clone(), batch.columns().to_vec());
    fuzz_upload("dataset_upload_arrow", "application/x-pandas-pyarrow", vec![file]);
}
