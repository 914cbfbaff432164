//! `/v1/evaluations` (legacy): protobuf `Evaluation` bodies encoded byte by byte from the
//! `.proto` old Phoenix clients used, and the Arrow streams of `GET`.

use std::io::{Cursor, Write};

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use ember_otlp::fixtures::{request, span, span_id, trace_id};
use serde_json::json;

use crate::common::{test_app, TestApp};

fn varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A length-delimited field.
fn field(number: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint(number << 3 | 2, &mut out);
    varint(payload.len() as u64, &mut out);
    out.extend_from_slice(payload);
    out
}

/// `google.protobuf.DoubleValue {double value = 1}`.
fn double_value(value: f64) -> Vec<u8> {
    let mut out = vec![0x09];
    out.extend_from_slice(&value.to_le_bytes());
    out
}

/// `Evaluation {name = 1; SubjectId subject_id = 2; Result result = 3}`, where `subject` is an
/// encoded `SubjectId` and the result holds score (1), label (2) and explanation (3) wrappers.
pub(crate) fn evaluation(name: &str, subject: Vec<u8>, score: Option<f64>, label: Option<&str>) -> Vec<u8> {
    let mut result = Vec::new();
    if let Some(score) = score {
        result.extend(field(1, &double_value(score)));
    }
    if let Some(label) = label {
        result.extend(field(2, &field(1, label.as_bytes())));
    }
    let mut message = field(1, name.as_bytes());
    message.extend(field(2, &subject));
    message.extend(field(3, &result));
    message
}

pub(crate) fn span_subject(id: &str) -> Vec<u8> {
    field(2, id.as_bytes())
}

pub(crate) fn trace_subject(id: &str) -> Vec<u8> {
    field(1, id.as_bytes())
}

/// `DocumentRetrievalId {span_id = 1; int32 document_position = 2}` in field 3.
pub(crate) fn document_subject(id: &str, position: u64) -> Vec<u8> {
    let mut document = field(1, id.as_bytes());
    document.push(0x10);
    varint(position, &mut document);
    field(3, &document)
}

pub(crate) async fn post(app: &TestApp, body: Vec<u8>, gzip: bool) -> crate::common::TestResponse {
    let mut builder = Request::post("/v1/evaluations").header("content-type", "application/x-protobuf");
    let body = if gzip {
        builder = builder.header("content-encoding", "gzip");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&body).unwrap();
        encoder.finish().unwrap()
    } else {
        body
    };
    app.send(builder.body(Body::from(body)).unwrap()).await
}

#[tokio::test]
async fn protobuf_evaluations_become_llm_annotations_and_come_back_as_arrow() {
    let app = test_app().await;
    app.ingest(&request(Some("p"), vec![span(1, 1, None, "CHAIN"), span(1, 2, Some(1), "RETRIEVER")])).await;

    let correct = post(&app, evaluation("correctness", span_subject(&span_id(1)), Some(1.0), Some("correct")), true).await;
    assert_eq!(correct.status, StatusCode::NO_CONTENT, "{}", correct.text());
    assert_eq!(
        post(&app, evaluation("resolved", trace_subject(&trace_id(1)), Some(0.5), None), false).await.status,
        StatusCode::NO_CONTENT
    );
    let document = evaluation("relevance", document_subject(&span_id(2), 3), None, Some("relevant"));
    assert_eq!(post(&app, document, true).await.status, StatusCode::NO_CONTENT);

    let annotations = app.get(&format!("/v1/projects/p/span_annotations?span_ids={}", span_id(1))).await.json();
    assert_eq!(annotations["data"][0]["name"], "correctness");
    assert_eq!(annotations["data"][0]["annotator_kind"], "LLM");
    assert_eq!(annotations["data"][0]["result"], json!({"label": "correct", "score": 1.0, "explanation": null}));

    let response = app.get("/v1/evaluations?project_name=p").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.content_type(), "application/x-pandas-arrow");
    // Consecutive streams, trace then span then document level.
    let mut cursor = Cursor::new(response.body.to_vec());
    let mut streams = Vec::new();
    while (cursor.position() as usize) < response.body.len() {
        let reader = arrow_ipc::reader::StreamReader::try_new(&mut cursor, None).unwrap();
        let arize: serde_json::Value = serde_json::from_str(&reader.schema().metadata()["arize"]).unwrap();
        let batches: Vec<_> = reader.map(Result::unwrap).collect();
        streams.push((arize, batches));
    }
    let kinds: Vec<(&str, &str)> =
        streams.iter().map(|(a, _)| (a["eval_name"].as_str().unwrap(), a["eval_type"].as_str().unwrap())).collect();
    assert_eq!(kinds, vec![("resolved", "TraceEvaluations"), ("correctness", "SpanEvaluations"), ("relevance", "DocumentEvaluations")]);
    let trace_batch = &streams[0].1[0];
    assert_eq!(trace_batch.column_by_name("context.trace_id").unwrap().as_string::<i32>().value(0), trace_id(1));
    assert_eq!(trace_batch.column_by_name("score").unwrap().as_primitive::<Float64Type>().value(0), 0.5);
    let document_batch = &streams[2].1[0];
    assert_eq!(document_batch.column_by_name("document_position").unwrap().as_primitive::<arrow_array::types::Int64Type>().value(0), 3);
}

/// A DocumentEvaluations Arrow stream as `px.Client().log_evaluations` sends it, with a float
/// `document_position`.
pub(crate) fn document_evaluation_arrow(span: &str, position: f64) -> Vec<u8> {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    let schema = Schema::new(vec![
        Field::new("context.span_id", DataType::Utf8, false),
        Field::new("document_position", DataType::Float64, false),
        Field::new("score", DataType::Float64, false),
    ])
    .with_metadata(
        [("arize".to_string(), r#"{"eval_name": "relevance"}"#.to_string())].into_iter().collect::<std::collections::HashMap<_, _>>(),
    );
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![span])),
        Arc::new(Float64Array::from(vec![position])),
        Arc::new(Float64Array::from(vec![1.0])),
    ];
    crate::common::arrow_stream(schema, columns)
}

#[tokio::test]
async fn bad_legacy_evaluations_are_refused() {
    let app = test_app().await;
    app.ingest(&request(Some("p"), vec![span(1, 1, None, "CHAIN")])).await;
    let blank = post(&app, evaluation(" ", span_subject(&span_id(1)), Some(1.0), None), false).await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(blank.text().contains("blank"), "{}", blank.text());
    let missing = post(&app, evaluation("x", span_subject(&span_id(9)), Some(1.0), None), false).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.text().contains(&span_id(9)), "{}", missing.text());
    let garbage = post(&app, vec![0xff, 0xff, 0xff], false).await;
    assert_eq!(garbage.status, StatusCode::UNPROCESSABLE_ENTITY);
    let no_subject = post(&app, field(1, b"x"), false).await;
    assert_eq!(no_subject.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_subject.text().contains("subject_id"), "{}", no_subject.text());
    let arrow = app
        .send(Request::post("/v1/evaluations").header("content-type", "application/x-pandas-arrow").body(Body::from("not arrow")).unwrap())
        .await;
    assert_eq!(arrow.status, StatusCode::UNPROCESSABLE_ENTITY);
    // D22: a document position that is not a whole number (NaN, a fraction, 1e300) is refused,
    // not stored as 0 or saturated.
    for position in [f64::NAN, 2.5, 1e300] {
        let refused = app
            .send(
                Request::post("/v1/evaluations")
                    .header("content-type", "application/x-pandas-arrow")
                    .body(Body::from(document_evaluation_arrow(&span_id(1), position)))
                    .unwrap(),
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{position}");
        assert!(refused.text().contains("is not a whole number"), "{position}: {}", refused.text());
    }
    let json_body = app.post_json("/v1/evaluations", &json!({})).await;
    assert_eq!(json_body.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(app.get("/v1/evaluations?project_name=p").await.status, StatusCode::NOT_FOUND, "no evaluations yet");
    assert_eq!(app.get("/v1/evaluations?project_name=nope").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/v1/projects/p/span_annotations?span_ids=0000000000000001").await.json()["data"], json!([]), "nothing written");
}
