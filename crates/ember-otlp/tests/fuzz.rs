//! Fuzz targets (see `ember-fuzz`): OTLP protobuf and JSON decoding into spans, GenAI conversion, and attribute
//! unflattening, never panic; every span they produce can be stored.

use ember_fuzz::{fuzz, mutated};
use ember_otlp::attributes::{flatten, unflatten};
use ember_otlp::collector::ExportTraceServiceRequest;
use ember_otlp::common::{any_value, AnyValue, ArrayValue, KeyValue, KeyValueList};
use ember_otlp::resource::Resource;
use ember_otlp::trace::{span, ResourceSpans, ScopeSpans, Span, Status};
use ember_otlp::{decode_export, decode_json, decode_protobuf};
use proptest::prelude::*;
use prost::Message;
use serde_json::Value;

fn attribute(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { value: Some(value) }), ..Default::default() }
}

/// Requests that exercise every kind of value, events, links' absence, parents, statuses,
/// JSON-string attributes, `gen_ai.*` conversion and the project attribute.
fn seed_requests() -> Vec<ExportTraceServiceRequest> {
    use any_value::Value as V;
    let nested = V::KvlistValue(KeyValueList { values: vec![attribute("role", V::StringValue("user".into()))] });
    let list =
        V::ArrayValue(ArrayValue { values: vec![AnyValue { value: Some(V::IntValue(1)) }, AnyValue { value: Some(V::DoubleValue(2.5)) }] });
    let span = |id: u8, parent: Option<u8>, attributes: Vec<KeyValue>| Span {
        trace_id: vec![7; 16],
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: format!("span-{id}"),
        start_time_unix_nano: 1_704_067_200_000_000_000 + u64::from(id),
        end_time_unix_nano: 1_704_067_200_000_100_000,
        attributes,
        events: vec![span::Event {
            time_unix_nano: 1_704_067_200_000_050_000,
            name: "exception".into(),
            attributes: vec![attribute("exception.message", V::StringValue("boom".into()))],
            dropped_attributes_count: 0,
        }],
        status: Some(Status { code: 2, message: "failed".into() }),
        ..Default::default()
    };
    let llm = vec![
        attribute("openinference.span.kind", V::StringValue("LLM".into())),
        attribute("llm.input_messages.0.message.role", V::StringValue("user".into())),
        attribute("llm.input_messages.0.message.content", V::StringValue("hi".into())),
        attribute("llm.token_count.prompt", V::IntValue(12)),
        attribute("llm.invocation_parameters", V::StringValue("{\"temperature\": 0.5}".into())),
        attribute("metadata", V::StringValue("{\"tier\": \"gold\", \"n\": [1, 2]}".into())),
        attribute("input.value", nested),
        attribute("output.value", list),
        attribute("tag.tags", V::BoolValue(true)),
        attribute("raw", V::BytesValue(vec![0, 159, 146, 150])),
    ];
    let gen_ai = vec![
        attribute("gen_ai.operation.name", V::StringValue("chat".into())),
        attribute("gen_ai.request.model", V::StringValue("gpt-4o".into())),
        attribute("gen_ai.usage.input_tokens", V::IntValue(3)),
        attribute("session.id", V::StringValue("s-1".into())),
    ];
    let resource = |project: &str| Resource {
        attributes: vec![attribute("openinference.project.name", V::StringValue(project.into()))],
        ..Default::default()
    };
    vec![
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(resource("p")),
                scope_spans: vec![ScopeSpans { spans: vec![span(1, None, llm), span(2, Some(1), gen_ai)], ..Default::default() }],
                ..Default::default()
            }],
        },
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: None,
                scope_spans: vec![ScopeSpans { spans: vec![span(3, Some(9), Vec::new())], ..Default::default() }],
                ..Default::default()
            }],
        },
    ]
}

/// Decoded spans are storable: decoding refused what storage could not read back.
fn check_decoded(request: ExportTraceServiceRequest) -> Result<(), String> {
    let decoded = decode_export(request, None);
    for routed in &decoded.spans {
        if let Some(problem) = routed.span.storage_problem() {
            return Err(format!("decoded a span that cannot be stored: {problem}"));
        }
        serde_json::to_string(&routed.span.attributes).map_err(|error| error.to_string())?;
    }
    Ok(())
}

/// Fuzzes `decode` on the seed requests as `encode` writes them.
fn fuzz_decoder(
    target: &str,
    encode: impl Fn(&ExportTraceServiceRequest) -> Vec<u8>,
    decode: impl Fn(&[u8]) -> Result<ExportTraceServiceRequest, ember_otlp::OtlpError>,
) {
    let seeds: Vec<Vec<u8>> = seed_requests().iter().map(encode).collect();
    for seed in &seeds {
        let request = decode(seed).expect("the seeds are valid");
        assert!(!decode_export(request, None).spans.is_empty(), "the seeds hold spans");
    }
    fuzz(target, mutated(seeds), |body| decode(&body).map_or(Ok(()), check_decoded));
}

#[test]
fn otlp_protobuf_decoding() {
    fuzz_decoder("otlp_protobuf", Message::encode_to_vec, decode_protobuf);
}

#[test]
fn otlp_json_decoding() {
    fuzz_decoder("otlp_json", |request| serde_json::to_vec(request).unwrap(), decode_json);
}

/// The JSON texts GenAI attributes carry (messages, instructions, tool definitions, documents,
/// a tool call's arguments), mutated, on one span: conversion never panics and what it adds can
/// be stored.
#[test]
fn gen_ai_conversion() {
    const KEYS: [&str; 7] = [
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.definitions",
        "gen_ai.retrieval.documents",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
    ];
    let seeds: Vec<Vec<u8>> = [
        r#"[{"role":"user","parts":[{"type":"text","content":"hi"},{"type":"uri","modality":"image","uri":"https://x"},{"type":"blob","mime_type":"image/png","content":"aGk="}]},{"role":"assistant","finish_reason":"stop","parts":[{"type":"tool_call","id":"c","name":"f","arguments":{"a":[1,2]}}]},{"role":"tool","parts":[{"type":"tool_call_response","id":"c","response":{"ok":true}}]}]"#,
        r#"[{"type":"function","name":"f","description":"d","parameters":{"type":"object"}}]"#,
        r#"[{"id":"d1","content":"text","score":0.5,"metadata":{"k":{"n":1}}}]"#,
        r#"{"city": "Oslo", "days": [1, 2]}"#,
    ]
    .iter()
    .map(|seed| seed.as_bytes().to_vec())
    .collect();
    fuzz("gen_ai_conversion", mutated(seeds), |bytes| {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let mut request = seed_requests().swap_remove(0);
        let span = &mut request.resource_spans[0].scope_spans[0].spans[1];
        span.attributes.extend(KEYS.iter().map(|key| attribute(key, any_value::Value::StringValue(text.clone()))));
        check_decoded(request)
    });
}

/// Dotted keys from few segments (so they collide, nest and index), with values of every type.
fn flat_attributes() -> impl Strategy<Value = Vec<(String, Value)>> {
    let segment = prop::sample::select(vec!["a", "b", "0", "1", "00", "18446744073709551616", " ", "", "x y", "metadata"]);
    let key = prop::collection::vec(segment, 0..6).prop_map(|segments| segments.join("."));
    let value = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|number| serde_json::Number::from_f64(number).map_or(Value::Null, Value::Number)),
        ".{0,8}".prop_map(Value::from),
        Just(serde_json::json!({"k": [1, {"z": null}]})),
    ];
    prop::collection::vec((key, value), 0..40)
}

#[test]
fn attribute_unflattening() {
    fuzz("unflatten", flat_attributes(), |flat| {
        let keys = flat.len();
        let nested = unflatten(flat);
        // Flattening back yields no more leaves than went in (plus the leaves of object values).
        let leaves = flatten(&nested).len();
        if leaves > keys * 3 {
            return Err(format!("{keys} keys unflattened into {leaves} leaves"));
        }
        Ok(())
    });
}
