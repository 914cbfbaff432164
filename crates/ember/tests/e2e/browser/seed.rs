//! Data for the pages, sent as a user's application would: OTLP/JSON spans with OpenInference
//! attributes, and REST calls for annotation configs and annotations.

use serde_json::{json, Value};

use crate::process::Ember;

pub const PROJECT: &str = "support-bot";

fn now_nanos() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64
}

fn attribute(key: &str, value: Value) -> Value {
    let any = match value {
        Value::String(text) => json!({"stringValue": text}),
        Value::Number(number) if number.is_i64() => json!({"intValue": number.to_string()}),
        Value::Number(number) => json!({"doubleValue": number}),
        Value::Bool(flag) => json!({"boolValue": flag}),
        other => json!({"stringValue": other.to_string()}),
    };
    json!({"key": key, "value": any})
}

/// One OTLP/JSON span; `attributes` are flat OpenInference keys.
pub struct SpanSpec<'a> {
    pub trace: &'a str,
    pub id: &'a str,
    pub parent: Option<&'a str>,
    pub name: &'a str,
    pub kind: &'a str,
    pub start_ms_ago: i64,
    pub millis: i64,
    pub attributes: Vec<(&'a str, Value)>,
    pub error: Option<&'a str>,
}

pub fn span_json(spec: SpanSpec<'_>) -> Value {
    let start = now_nanos() - spec.start_ms_ago * 1_000_000;
    let mut attributes = vec![attribute("openinference.span.kind", json!(spec.kind))];
    attributes.extend(spec.attributes.into_iter().map(|(k, v)| attribute(k, v)));
    let mut span = json!({
        "traceId": spec.trace, "spanId": spec.id, "name": spec.name, "kind": 1,
        "startTimeUnixNano": start.to_string(), "endTimeUnixNano": (start + spec.millis * 1_000_000).to_string(),
        "attributes": attributes, "status": {"code": 1},
    });
    if let Some(parent) = spec.parent {
        span["parentSpanId"] = json!(parent);
    }
    if let Some(message) = spec.error {
        span["status"] = json!({"code": 2, "message": message});
        span["events"] = json!([{"name": "exception", "timeUnixNano": start.to_string(), "attributes": [
            attribute("exception.type", json!("TimeoutError")), attribute("exception.message", json!(message)),
            attribute("exception.stacktrace", json!("Traceback (most recent call last):\n  File \"tool.py\", line 3"))]}]);
    }
    span
}

pub async fn send(ember: &Ember, project: &str, spans: Vec<Value>) {
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [attribute("openinference.project.name", json!(project))]},
        "scopeSpans": [{"spans": spans}],
    }]});
    let response = ember
        .client
        .post(format!("{}/v1/traces", ember.http))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

pub const AGENT_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
pub const LLM_SPAN: &str = "00f067aa0ba902b2";

/// An agent trace (chain → LLM with a tool call, retriever, failing tool), and two short traces
/// of one session.
pub async fn support_bot(ember: &Ember) {
    let t = AGENT_TRACE;
    let spans = vec![
        span_json(SpanSpec {
            trace: t,
            id: "b7ad6b7169203331",
            parent: None,
            name: "agent",
            kind: "AGENT",
            start_ms_ago: 60_000,
            millis: 2_400,
            attributes: vec![
                ("input.value", json!("Where is my **order** #1234?")),
                ("output.value", json!("It ships tomorrow.")),
                ("session.id", json!("chat-42")),
            ],
            error: None,
        }),
        span_json(SpanSpec {
            trace: t,
            id: LLM_SPAN,
            parent: Some("b7ad6b7169203331"),
            name: "ChatCompletion",
            kind: "LLM",
            start_ms_ago: 59_900,
            millis: 900,
            attributes: vec![
                ("llm.model_name", json!("gpt-4o-mini")),
                ("llm.input_messages.0.message.role", json!("system")),
                ("llm.input_messages.0.message.content", json!("You are a support agent.")),
                ("llm.input_messages.1.message.role", json!("user")),
                ("llm.input_messages.1.message.content", json!("Where is my order #1234?")),
                ("llm.output_messages.0.message.role", json!("assistant")),
                ("llm.output_messages.0.message.tool_calls.0.tool_call.id", json!("call_1")),
                ("llm.output_messages.0.message.tool_calls.0.tool_call.function.name", json!("lookup_order")),
                ("llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments", json!("{\"order_id\": 1234}")),
                ("llm.token_count.prompt", json!(120)),
                ("llm.token_count.completion", json!(30)),
                ("llm.invocation_parameters", json!("{\"temperature\": 0.2}")),
            ],
            error: None,
        }),
        span_json(SpanSpec {
            trace: t,
            id: "5fb397be34d26b51",
            parent: Some("b7ad6b7169203331"),
            name: "retrieve",
            kind: "RETRIEVER",
            start_ms_ago: 59_000,
            millis: 120,
            attributes: vec![
                ("input.value", json!("order 1234 shipping")),
                ("retrieval.documents.0.document.id", json!("kb-7")),
                ("retrieval.documents.0.document.content", json!("Orders ship within 2 days.")),
                ("retrieval.documents.0.document.score", json!(0.92)),
                ("retrieval.documents.1.document.id", json!("kb-9")),
                ("retrieval.documents.1.document.content", json!("Returns take 5 days.")),
                ("retrieval.documents.1.document.score", json!(0.41)),
            ],
            error: None,
        }),
        span_json(SpanSpec {
            trace: t,
            id: "a2fb4a1d1a96d312",
            parent: Some("b7ad6b7169203331"),
            name: "lookup_order",
            kind: "TOOL",
            start_ms_ago: 58_800,
            millis: 300,
            attributes: vec![("tool.name", json!("lookup_order")), ("tool.parameters", json!("{\"order_id\": {\"type\": \"integer\"}}"))],
            error: Some("order service timed out"),
        }),
    ];
    send(ember, PROJECT, spans).await;
    let short = |trace: &'static str, id: &'static str, ago: i64, question: &'static str| {
        span_json(SpanSpec {
            trace,
            id,
            parent: None,
            name: "answer",
            kind: "CHAIN",
            start_ms_ago: ago,
            millis: 40,
            attributes: vec![("input.value", json!(question)), ("output.value", json!("Sure.")), ("session.id", json!("chat-7"))],
            error: None,
        })
    };
    send(
        ember,
        PROJECT,
        vec![
            short("1af7651916cd43dd8448eb211c80319c", "c7ad6b7169203331", 30_000, "Hello"),
            short("2af7651916cd43dd8448eb211c80319c", "d7ad6b7169203331", 20_000, "Can you help with a refund?"),
        ],
    )
    .await;

    // An annotation config for the form to offer, and an LLM judge's annotation on the LLM span.
    let config = json!({"name": "correctness", "type": "CATEGORICAL", "optimization_direction": "MAXIMIZE",
        "values": [{"label": "correct", "score": 1}, {"label": "incorrect", "score": 0}]});
    let created = ember.client.post(format!("{}/v1/annotation_configs", ember.http)).json(&config).send().await.unwrap();
    assert!(created.status().is_success(), "{}", created.text().await.unwrap());
    for config in [
        json!({"name": "relevance", "type": "CONTINUOUS", "optimization_direction": "MAXIMIZE", "lower_bound": 0, "upper_bound": 1}),
        json!({"name": "feedback", "type": "FREEFORM"}),
    ] {
        let created = ember.client.post(format!("{}/v1/annotation_configs", ember.http)).json(&config).send().await.unwrap();
        assert!(created.status().is_success(), "{}", created.text().await.unwrap());
    }
    let judged = json!({"data": [{"span_id": LLM_SPAN, "name": "helpfulness", "annotator_kind": "LLM",
        "result": {"label": "helpful", "score": 0.8, "explanation": "answers the question"}}]});
    let posted = ember.client.post(format!("{}/v1/span_annotations?sync=true", ember.http)).json(&judged).send().await.unwrap();
    assert!(posted.status().is_success(), "{}", posted.text().await.unwrap());
}

/// A trace of `count` spans: a root with a fan of children, each with a grandchild.
pub async fn large_trace(ember: &Ember, trace: &str, count: usize) {
    let mut spans = Vec::with_capacity(count);
    let root = format!("{}ff000000000000", &trace[..2]);
    spans.push(span_json(SpanSpec {
        trace,
        id: &root,
        parent: None,
        name: "batch",
        kind: "CHAIN",
        start_ms_ago: 10_000,
        millis: 5_000,
        attributes: vec![],
        error: None,
    }));
    // Span ids unique across traces: the trace's first byte, then the position.
    let ids: Vec<String> = (1..count).map(|i| format!("{}{i:014x}", &trace[..2])).collect();
    for (i, id) in ids.iter().enumerate() {
        let parent = if i % 2 == 0 { root.clone() } else { ids[i - 1].clone() };
        let offset = (i as i64 * 4_900) / count as i64;
        spans.push(span_json(SpanSpec {
            trace,
            id,
            parent: Some(&parent),
            name: "step",
            kind: if i % 3 == 0 { "LLM" } else { "TOOL" },
            start_ms_ago: 10_000 - offset,
            millis: 20,
            attributes: vec![("input.value", json!(format!("item {i}")))],
            error: None,
        }));
    }
    for chunk in spans.chunks(1000) {
        send(ember, "bulk", chunk.to_vec()).await;
    }
}

/// The rowid inside a GlobalID (`base64("Type:rowid")`).
pub fn rowid(global_id: &str) -> i64 {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (mut bits, mut count, mut bytes) = (0u32, 0, Vec::new());
    for byte in global_id.bytes().filter(|b| *b != b'=') {
        bits = (bits << 6) | ALPHABET.iter().position(|a| *a == byte).expect("base64") as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push((bits >> count) as u8);
        }
    }
    String::from_utf8(bytes).unwrap().rsplit(':').next().unwrap().parse().unwrap()
}

async fn post(ember: &Ember, path: &str, body: &Value) -> Value {
    let response = ember.client.post(format!("{}{path}", ember.http)).json(body).send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "POST {path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A dataset of three questions (one in split "hard") and two experiments over it, the second
/// better and with one failing run; returns the dataset's and experiments' rowids.
pub async fn dataset_with_experiments(ember: &Ember) -> (i64, Vec<i64>) {
    let upload = json!({"name": "capitals", "inputs": [{"q": "France?"}, {"q": "Peru?"}, {"q": "Bhutan?"}],
        "outputs": [{"a": "Paris"}, {"a": "Lima"}, {"a": "Thimphu"}], "splits": [null, null, "hard"]});
    let created = post(ember, "/v1/datasets/upload?sync=true", &upload).await;
    let dataset = created["data"]["dataset_id"].as_str().unwrap().to_string();
    let examples = ember.get_json(&format!("/v1/datasets/{dataset}/examples")).await;
    let example_ids: Vec<String> =
        examples["data"]["examples"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect();
    let mut experiments = Vec::new();
    for (name, answers, score) in
        [("baseline", ["Paris", "Lima", "Paro"], [1.0, 1.0, 0.0]), ("with-retrieval", ["Paris", "Lima", "Thimphu"], [1.0, 1.0, 1.0])]
    {
        let experiment = post(ember, &format!("/v1/datasets/{dataset}/experiments"), &json!({"name": name})).await;
        let experiment_id = experiment["data"]["id"].as_str().unwrap().to_string();
        for (i, example) in example_ids.iter().enumerate() {
            let failing = name == "with-retrieval" && i == 1;
            let run = json!({"dataset_example_id": example, "output": answers[i], "repetition_number": 1,
                "start_time": "2026-11-22T10:00:00+00:00", "end_time": format!("2026-11-22T10:00:0{}+00:00", i + 1),
                "error": if failing { json!("rate limited") } else { Value::Null }});
            let run = post(ember, &format!("/v1/experiments/{experiment_id}/runs"), &run).await;
            let evaluation = json!({"experiment_run_id": run["data"]["id"], "name": "exact_match", "annotator_kind": "CODE",
                "start_time": "2026-11-22T10:00:05+00:00", "end_time": "2026-11-22T10:00:06+00:00",
                "result": {"score": score[i], "label": if score[i] > 0.5 { "match" } else { "mismatch" }}});
            post(ember, "/v1/experiment_evaluations", &evaluation).await;
        }
        experiments.push(rowid(&experiment_id));
    }
    (rowid(&dataset), experiments)
}

/// A prompt with two versions (the second changes the template and temperature), the first
/// tagged `production`.
pub async fn prompt_with_two_versions(ember: &Ember) {
    for (text, temperature) in [("Answer briefly: {{question}}", 0.2), ("Answer in one word: {{question}}", 0.0)] {
        let body = json!({"prompt": {"name": "capital-qa", "description": "asks for capitals"}, "version": {
            "model_provider": "OPENAI", "model_name": "gpt-4o-mini", "template_type": "CHAT", "template_format": "MUSTACHE",
            "template": {"type": "chat", "messages": [{"role": "user", "content": text}]},
            "invocation_parameters": {"type": "openai", "openai": {"temperature": temperature}}}});
        post(ember, "/v1/prompts", &body).await;
    }
    let versions = ember.get_json("/v1/prompts/capital-qa/versions").await;
    let oldest = versions["data"].as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_string();
    let tagged = ember
        .client
        .post(format!("{}/v1/prompt_versions/{oldest}/tags", ember.http))
        .json(&json!({"name": "production"}))
        .send()
        .await
        .unwrap();
    assert!(tagged.status().is_success(), "{}", tagged.status());
}

/// An ML model `fraud-model` logged over `/v1/log`: 40 training records, then 60 production
/// records of the last day whose amounts are shifted up (drift) and half from a new merchant.
pub async fn fraud_model(ember: &Ember) {
    let now = ember_core::time::now_nanos();
    for (environment, count, shift, age_hours) in [("training", 40, 0.0, 200), ("production", 60, 50.0, 3)] {
        for n in 0..count {
            let score = (n * 37 % 100) as f64 / 100.0;
            let merchant = if environment == "production" && n % 2 == 0 { "crypto" } else { ["grocery", "travel"][n % 2] };
            let time = ember_core::time::format_nanos(now - (age_hours * 3600 - n as i64 * 60) * 1_000_000_000);
            let record = json!({"model_id": "fraud-model", "prediction_id": format!("{environment}-{n}"),
                "prediction": {"timestamp": time, "model_version": "v1",
                    "label": {"score_categorical": {"score_category": {"category": if score >= 0.5 { "fraud" } else { "legit" }, "score": score}}},
                    "features": {"amount": {"double": (n % 10) as f64 * 10.0 + shift}, "merchant": {"string": merchant}}},
                "actual": {"label": {"score_categorical": {"score_category": {"category": if n % 3 == 0 { "fraud" } else { "legit" }, "score": 1.0}}}},
                "environment_params": {environment: {}}});
            post(ember, "/v1/log", &record).await;
        }
    }
}
