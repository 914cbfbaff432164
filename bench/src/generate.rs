//! Realistic OpenInference traces: a CHAIN root with LLM, RETRIEVER, TOOL and EMBEDDING
//! children, 1–4 KB of attributes per span, about 5% errored spans.

use ember_otlp::collector::ExportTraceServiceRequest;
use ember_otlp::common::{any_value, AnyValue, KeyValue};
use ember_otlp::resource::Resource;
use ember_otlp::trace::{span, ResourceSpans, ScopeSpans, Span, Status};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const SYLLABLES: &[&str] = &[
    "ca", "re", "fun", "po", "li", "cy", "or", "der", "ship", "ping", "de", "lay", "a", "gent", "con", "text", "ment", "tion", "in", "vo",
    "ice", "ac", "count", "bil", "ling", "sup", "port", "tic", "ket", "es", "pro", "duct", "war", "ran", "ty", "ret", "urn", "win", "dow",
    "el", "i", "gi", "ble", "pre", "sum", "ma", "ry", "to", "ken", "mo", "del", "lat", "en", "cy", "ex", "pla", "na", "ble", "ri", "ver",
];

/// A vocabulary of generated words, so text compresses like prose rather than like a loop.
fn vocabulary(rng: &mut SmallRng) -> Vec<String> {
    (0..5000).map(|_| (0..rng.random_range(1..4)).map(|_| SYLLABLES[rng.random_range(0..SYLLABLES.len())]).collect::<String>()).collect()
}

impl Generator {
    fn text(&mut self, bytes: usize) -> String {
        let mut out = String::with_capacity(bytes + 16);
        while out.len() < bytes {
            // Squaring a uniform draw favours common words, roughly like word frequencies in prose.
            let draw: f64 = self.rng.random();
            let index = ((draw * draw) * self.words.len() as f64) as usize;
            if self.rng.random_bool(0.05) {
                out.push_str(&self.rng.random_range(0..100_000u32).to_string());
            } else {
                out.push_str(&self.words[index.min(self.words.len() - 1)]);
            }
            out.push(if self.rng.random_bool(0.08) { '.' } else { ' ' });
        }
        out
    }
}

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { value: Some(value) }), ..Default::default() }
}

fn s(key: &str, value: impl Into<String>) -> KeyValue {
    kv(key, any_value::Value::StringValue(value.into()))
}

fn i(key: &str, value: i64) -> KeyValue {
    kv(key, any_value::Value::IntValue(value))
}

pub struct Generator {
    rng: SmallRng,
    words: Vec<String>,
    next_trace: u64,
    next_span: u64,
    clock: u64,
}

impl Generator {
    /// Traces 50 ms apart from a few hours ago, so the web UI's default time range holds them.
    pub fn new(seed: u64) -> Self {
        Generator::for_spans(seed, 0)
    }

    /// As [`Generator::new`], starting early enough that `spans` spans (about 7.5 per trace)
    /// all start before now, as real spans do: 10M spans take about 19 hours of 50 ms steps.
    pub fn for_spans(seed: u64, spans: usize) -> Self {
        let mut rng = SmallRng::seed_from_u64(seed);
        let words = vocabulary(&mut rng);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        let needed = (spans as u64 * 2 / 15) * 50_000_000 + 3_600_000_000_000;
        Generator { rng, words, next_trace: 1, next_span: 1, clock: now.saturating_sub(needed.max(6 * 3_600_000_000_000)) }
    }

    /// Traces 50 ms apart from `clock` (Unix nanoseconds), with trace and span ids counting from
    /// `first_id`: generators whose first ids are far apart never share an id.
    pub fn starting(seed: u64, clock: u64, first_id: u64) -> Self {
        Generator { next_trace: first_id, next_span: first_id, clock, ..Generator::new(seed) }
    }

    fn span(&mut self, trace_id: &[u8], parent: Option<&[u8]>, kind: &str, start: u64) -> Span {
        let span_id = self.next_span.to_be_bytes().to_vec();
        self.next_span += 1;
        let duration = self.rng.random_range(5_000_000..2_000_000_000u64);
        let budget = self.rng.random_range(1_000..4_000usize);
        let mut attributes = vec![s("openinference.span.kind", kind)];
        match kind {
            "LLM" => {
                let mut prompt = self.text(budget / 2);
                // Filters look for these: about 2% of prompts mention a refund.
                if self.rng.random_bool(0.02) {
                    prompt.insert_str(0, "Customer asks about a Refund. ");
                }
                attributes.extend([
                    s("llm.model_name", "gpt-4o-mini"),
                    s("llm.provider", "openai"),
                    s("llm.invocation_parameters", r#"{"temperature":0.2,"max_tokens":512}"#),
                    s("llm.input_messages.0.message.role", "system"),
                    s("llm.input_messages.0.message.content", "You are a helpful support agent."),
                    s("llm.input_messages.1.message.role", "user"),
                    s("llm.input_messages.1.message.content", prompt.clone()),
                    s("llm.output_messages.0.message.role", "assistant"),
                    s("llm.output_messages.0.message.content", self.text(budget / 3)),
                    i("llm.token_count.prompt", (prompt.len() / 4) as i64),
                    i("llm.token_count.completion", self.rng.random_range(20..400)),
                    s("input.value", prompt),
                ]);
            }
            "RETRIEVER" => {
                attributes.push(s("input.value", self.text(80)));
                for document in 0..3 {
                    attributes.push(s(
                        &format!("retrieval.documents.{document}.document.id"),
                        format!("doc-{}", self.rng.random_range(0..10_000)),
                    ));
                    attributes.push(s(&format!("retrieval.documents.{document}.document.content"), self.text(budget / 3)));
                    attributes.push(kv(
                        &format!("retrieval.documents.{document}.document.score"),
                        any_value::Value::DoubleValue(self.rng.random()),
                    ));
                }
            }
            "TOOL" => attributes.extend([
                s("tool.name", "lookup_order"),
                s("tool.parameters", format!(r#"{{"order_id": "{}", "verbose": true}}"#, self.rng.random_range(0..1_000_000))),
                s("input.value", self.text(budget / 2)),
                s("output.value", self.text(budget / 2)),
            ]),
            "EMBEDDING" => attributes.extend([
                s("embedding.model_name", "text-embedding-3-small"),
                s("embedding.embeddings.0.embedding.text", self.text(budget)),
            ]),
            _ => attributes.extend([
                s("input.value", self.text(budget / 2)),
                s("output.value", self.text(budget / 2)),
                s(
                    "metadata",
                    format!(r#"{{"tenant": "acme", "release": "2025.11", "customer_id": "c-{}"}}"#, self.rng.random_range(0..1_000)),
                ),
            ]),
        }
        let error = self.rng.random_bool(0.05);
        let mut events = Vec::new();
        if error {
            events.push(span::Event {
                time_unix_nano: start + duration / 2,
                name: "exception".into(),
                attributes: vec![s("exception.type", "TimeoutError"), s("exception.message", "upstream timed out")],
                dropped_attributes_count: 0,
            });
        }
        Span {
            trace_id: trace_id.to_vec(),
            span_id,
            parent_span_id: parent.map(<[u8]>::to_vec).unwrap_or_default(),
            name: format!("{} step", kind.to_lowercase()),
            kind: 1,
            start_time_unix_nano: start,
            end_time_unix_nano: start + duration,
            attributes,
            events,
            status: Some(Status {
                code: if error { 2 } else { 1 },
                message: if error { "upstream timed out".into() } else { String::new() },
            }),
            ..Default::default()
        }
    }

    /// One trace: a root and 4–9 children.
    pub fn trace(&mut self) -> Vec<Span> {
        let mut trace_id = [0u8; 16];
        trace_id[8..].copy_from_slice(&self.next_trace.to_be_bytes());
        trace_id[0] = 0xeb;
        self.next_trace += 1;
        self.clock += 50_000_000;
        let start = self.clock;
        let mut root = self.span(&trace_id, None, "CHAIN", start);
        if self.next_trace.is_multiple_of(4) {
            root.attributes.push(s("session.id", format!("session-{}", self.next_trace / 16)));
        }
        let root_id = root.span_id.clone();
        let mut spans = vec![root];
        let children = self.rng.random_range(4..10);
        for child in 0..children {
            let kind = ["LLM", "RETRIEVER", "TOOL", "EMBEDDING"][child % 4];
            let offset = self.rng.random_range(0..10_000_000);
            spans.push(self.span(&trace_id, Some(&root_id), kind, start + offset));
        }
        spans
    }

    /// Requests of whole traces, about `spans_per_request` spans each, `total_spans` in all.
    pub fn requests(&mut self, project: &str, total_spans: usize, spans_per_request: usize) -> Vec<(ExportTraceServiceRequest, usize)> {
        let mut requests = Vec::new();
        let mut produced = 0;
        while produced < total_spans {
            let request = self.request(project, spans_per_request.min(total_spans - produced));
            produced += request.1;
            requests.push(request);
        }
        requests
    }

    /// One request of whole traces holding at least `spans` spans (and its span count).
    pub fn request(&mut self, project: &str, spans: usize) -> (ExportTraceServiceRequest, usize) {
        let mut batch = Vec::with_capacity(spans + 10);
        while batch.len() < spans {
            batch.extend(self.trace());
        }
        let count = batch.len();
        let resource = Resource { attributes: vec![s("openinference.project.name", project)], ..Default::default() };
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(resource),
                scope_spans: vec![ScopeSpans { spans: batch, ..Default::default() }],
                ..Default::default()
            }],
        };
        (request, count)
    }
}
