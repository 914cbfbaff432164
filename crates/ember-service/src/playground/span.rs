//! A playground call as an LLM span — in the `playground` project, or in an experiment's
//! project when the call is a run over a dataset — written through the ingest queue like any
//! other span once the call is over.

use ember_core::time::now_nanos;
use ember_core::{RoutedSpan, Span, SpanKind, StatusCode as SpanStatus};
use ember_evals::providers::Completion;
use rand::Rng;
use serde_json::{json, Map, Value};

use crate::{Caller, Services};

/// The project playground calls are traced into, as in Phoenix.
pub const PLAYGROUND_PROJECT: &str = "playground";

/// What is needed to trace one call once it is over.
#[derive(Clone)]
pub(crate) struct CallRecord {
    pub provider: String,
    pub model_name: String,
    /// The OpenAI body sent to the provider.
    pub request: Map<String, Value>,
    /// Unix nanoseconds.
    pub started: i64,
    /// The project the span goes to.
    pub project: String,
    /// The span's trace, known before the call so a run can name it.
    pub trace_id: String,
}

impl CallRecord {
    /// A call starting now, traced into `project`.
    pub(crate) fn new(provider: String, model_name: String, request: Map<String, Value>, project: &str) -> CallRecord {
        let trace_id = format!("{:032x}", rand::rng().random::<u128>());
        CallRecord { provider, model_name, request, started: now_nanos(), project: project.to_string(), trace_id }
    }

    /// Writes the call's LLM span into its project. A failure to write it is logged:
    /// the caller already has (or is getting) the answer.
    pub(crate) async fn record(&self, services: &Services, caller: &Caller, outcome: Result<Completion, String>) {
        let span = self.span(outcome);
        let routed = vec![RoutedSpan { project_name: self.project.clone(), span }];
        if let Err(error) = services.ingest().write(caller, routed).await {
            tracing::warn!(%error, "the playground span was not recorded");
        }
    }

    fn span(&self, outcome: Result<Completion, String>) -> Span {
        let mut flat: Vec<(String, Value)> = vec![
            ("openinference.span.kind".into(), json!("LLM")),
            ("llm.model_name".into(), json!(self.model_name)),
            ("llm.provider".into(), json!(self.provider)),
            ("llm.system".into(), json!(self.provider)),
            ("input.value".into(), json!(Value::Object(self.request.clone()).to_string())),
            ("input.mime_type".into(), json!("application/json")),
        ];
        let parameters: Map<String, Value> = self
            .request
            .iter()
            .filter(|(name, _)| !["model", "messages", "tools"].contains(&name.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        flat.push(("llm.invocation_parameters".into(), json!(Value::Object(parameters).to_string())));
        for (index, message) in self.request.get("messages").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let content = match message.get("content") {
                Some(Value::String(text)) => text.clone(),
                Some(Value::Array(parts)) => parts.iter().filter_map(|part| part.get("text").and_then(Value::as_str)).collect(),
                _ => String::new(),
            };
            flat.push((format!("llm.input_messages.{index}.message.role"), message.get("role").cloned().unwrap_or(Value::Null)));
            flat.push((format!("llm.input_messages.{index}.message.content"), json!(content)));
        }
        for (index, tool) in self.request.get("tools").and_then(Value::as_array).into_iter().flatten().enumerate() {
            flat.push((format!("llm.tools.{index}.tool.json_schema"), json!(tool.to_string())));
        }
        let (status_code, status_message) = match &outcome {
            Ok(completion) => {
                flat.push(("llm.output_messages.0.message.role".into(), json!("assistant")));
                flat.push(("llm.output_messages.0.message.content".into(), json!(completion.content)));
                for (index, call) in completion.tool_calls.iter().enumerate() {
                    let prefix = format!("llm.output_messages.0.message.tool_calls.{index}.tool_call");
                    flat.push((format!("{prefix}.id"), json!(call.id)));
                    flat.push((format!("{prefix}.function.name"), json!(call.name)));
                    flat.push((format!("{prefix}.function.arguments"), json!(call.arguments)));
                }
                flat.push(("output.value".into(), json!(completion.content)));
                flat.push(("output.mime_type".into(), json!("text/plain")));
                flat.push(("llm.token_count.prompt".into(), json!(completion.usage.prompt_tokens)));
                flat.push(("llm.token_count.completion".into(), json!(completion.usage.completion_tokens)));
                flat.push(("llm.token_count.total".into(), json!(completion.usage.total())));
                (SpanStatus::Ok, String::new())
            }
            Err(message) => (SpanStatus::Error, message.clone()),
        };
        let mut random = rand::rng();
        Span {
            trace_id: self.trace_id.clone(),
            span_id: format!("{:016x}", random.random::<u64>()),
            parent_id: None,
            name: "ChatCompletion".into(),
            span_kind: SpanKind::Llm,
            start_time: self.started,
            end_time: now_nanos().max(self.started),
            attributes: ember_otlp::attributes::unflatten(flat),
            events: Vec::new(),
            status_code,
            status_message,
        }
    }
}
