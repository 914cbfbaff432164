//! OpenTelemetry GenAI semantic conventions (`gen_ai.*`) read as OpenInference attributes, as
//! Phoenix 20.26 reads them (observed: spans sent to `phoenix serve` and read back): the span
//! kind from the operation, the request model, provider and system, invocation parameters, token
//! counts with cache reads and writes, the finish reasons, the response id and model, system
//! instructions and input and output messages (see [`messages`]), tool definitions, a tool call's
//! name, id, arguments and result, a retrieval's query and documents, and the conversation as the
//! session. A key the span already carries is never overwritten: OpenInference wins.

mod messages;

use std::collections::{HashMap, HashSet};

use ember_core::python_json::dumps_ascii;
use serde_json::{json, Map, Value};

/// Adds OpenInference attributes derived from the `gen_ai.*` keys of `flat` (flat dotted keys).
pub fn convert(flat: &mut Vec<(String, Value)>) {
    if !flat.iter().any(|(key, _)| key.starts_with("gen_ai.")) {
        return;
    }
    let gen_ai =
        GenAi(flat.iter().filter(|(key, _)| key.starts_with("gen_ai.")).map(|(key, value)| (key.clone(), value.clone())).collect());
    let derived = gen_ai.openinference();
    // Every key the span carries and every dotted prefix of one, so whether the span carries a
    // key (or keys under it) is one lookup: a long message list stays linear.
    let mut carried: HashSet<&str> = HashSet::new();
    for (key, _) in flat.iter() {
        carried.insert(key);
        carried.extend(key.match_indices('.').map(|(end, _)| &key[..end]));
    }
    let kept: Vec<bool> = derived
        .iter()
        .map(|(key, _)| !carried.contains(key.as_str()) && !group_of(key).is_some_and(|group| carried.contains(group)))
        .collect();
    flat.extend(derived.into_iter().zip(kept).filter(|(_, kept)| *kept).map(|(pair, _)| pair));
}

/// Keys that go together: a span that carries any of a group keeps its own and gets none
/// derived (its messages are not merged with converted ones; its output keeps its MIME type).
const GROUPS: [&str; 6] = ["llm.input_messages", "llm.output_messages", "llm.tools", "retrieval.documents", "input", "output"];

fn group_of(key: &str) -> Option<&'static str> {
    GROUPS.into_iter().find(|group| key.strip_prefix(group).is_some_and(|rest| rest.starts_with('.')))
}

/// A span's `gen_ai.*` attributes (the last value of each key).
struct GenAi(HashMap<String, Value>);

impl GenAi {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|value| !value.is_null())
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    fn has_prefix(&self, prefix: &str) -> bool {
        self.0.keys().any(|key| key.starts_with(prefix))
    }

    /// A structured value: as sent, or parsed from its JSON text.
    fn structured(&self, key: &str) -> Option<Value> {
        match self.get(key)? {
            Value::String(text) => serde_json::from_str(text).ok(),
            other => Some(other.clone()),
        }
    }

    fn openinference(&self) -> Vec<(String, Value)> {
        let mut derived: Vec<(String, Value)> = Vec::new();
        let kind = self.span_kind();
        if let Some(kind) = kind {
            derived.push(("openinference.span.kind".into(), json!(kind)));
        }
        let embedding = kind == Some("EMBEDDING");
        if let Some(model) = self.get("gen_ai.request.model") {
            let key = if embedding { "embedding.model_name" } else { "llm.model_name" };
            derived.push((key.into(), model.clone()));
        }
        if let Some(name) = self.text("gen_ai.provider.name").or_else(|| self.text("gen_ai.system")) {
            let (provider, system) = provider_and_system(name);
            derived.extend(provider.map(|provider| ("llm.provider".to_string(), json!(provider))));
            derived.extend(system.map(|system| ("llm.system".to_string(), json!(system))));
        }
        if embedding {
            derived.extend(self.embedding_parameters().map(|parameters| ("embedding.invocation_parameters".to_string(), parameters)));
        } else {
            derived.extend(self.invocation_parameters().map(|parameters| ("llm.invocation_parameters".to_string(), parameters)));
        }
        self.usage(&mut derived);
        if let Some(reasons) = self.get("gen_ai.response.finish_reasons") {
            let reason = match reasons {
                Value::Array(reasons) if reasons.len() == 1 => reasons[0].clone(),
                other => other.clone(),
            };
            derived.push(("llm.finish_reason".into(), reason));
        }
        derived.extend(messages::input_messages(self));
        derived.extend(messages::output_messages(self));
        derived.extend(self.tool_definitions());
        self.tool_call(&mut derived);
        self.retrieval(&mut derived);
        self.response(&mut derived);
        if let Some(conversation) = self.get("gen_ai.conversation.id") {
            derived.push(("session.id".into(), conversation.clone()));
        }
        derived
    }

    /// The operation's kind; without an operation, what the keys describe. An operation ember
    /// does not know leaves the kind unset, as Phoenix does.
    fn span_kind(&self) -> Option<&'static str> {
        match self.text("gen_ai.operation.name") {
            Some("chat" | "text_completion" | "generate_content") => Some("LLM"),
            Some("embeddings") => Some("EMBEDDING"),
            Some("execute_tool") => Some("TOOL"),
            Some("invoke_agent" | "create_agent") => Some("AGENT"),
            Some("retrieval") => Some("RETRIEVER"),
            Some(_) => None,
            None if self.has_prefix("gen_ai.tool.") => Some("TOOL"),
            None if self.has_prefix("gen_ai.retrieval.") => Some("RETRIEVER"),
            None if self.has_prefix("gen_ai.embeddings.") => Some("EMBEDDING"),
            None if ["gen_ai.request.", "gen_ai.usage.", "gen_ai.input.", "gen_ai.output.", "gen_ai.system", "gen_ai.provider."]
                .iter()
                .any(|prefix| self.has_prefix(prefix)) =>
            {
                Some("LLM")
            }
            None => None,
        }
    }

    /// The request's parameters under OpenAI's names, in Phoenix's order.
    fn invocation_parameters(&self) -> Option<Value> {
        let mut parameters = Map::new();
        for (from, to) in [
            ("gen_ai.request.temperature", "temperature"),
            ("gen_ai.request.top_p", "top_p"),
            ("gen_ai.request.top_k", "top_k"),
            ("gen_ai.request.max_tokens", "max_tokens"),
            ("gen_ai.request.frequency_penalty", "frequency_penalty"),
            ("gen_ai.request.presence_penalty", "presence_penalty"),
            ("gen_ai.request.seed", "seed"),
            ("gen_ai.request.stream", "stream"),
            ("gen_ai.request.choice.count", "n"),
            ("gen_ai.request.stop_sequences", "stop"),
        ] {
            if let Some(value) = self.get(from) {
                parameters.insert(to.into(), value.clone());
            }
        }
        let response_format = match self.text("gen_ai.output.type") {
            Some("json") => Some("json_object"),
            Some("text") => Some("text"),
            _ => None,
        };
        if let Some(format) = response_format {
            parameters.insert("response_format".into(), json!({"type": format}));
        }
        (!parameters.is_empty()).then(|| Value::String(dumps_ascii(&Value::Object(parameters))))
    }

    /// One encoding format by itself, several as a list.
    fn embedding_parameters(&self) -> Option<Value> {
        let parameters = match self.get("gen_ai.request.encoding_formats")? {
            Value::Array(formats) if formats.len() == 1 => json!({"encoding_format": formats[0]}),
            formats => json!({"encoding_formats": formats}),
        };
        Some(Value::String(dumps_ascii(&parameters)))
    }

    /// Token counts (integers, also when sent as text); the total only when both are known.
    fn usage(&self, derived: &mut Vec<(String, Value)>) {
        let count = |key: &str| self.get(key).and_then(whole_number);
        let (input, output) = (count("gen_ai.usage.input_tokens"), count("gen_ai.usage.output_tokens"));
        for (tokens, key) in [
            (input, "llm.token_count.prompt"),
            (output, "llm.token_count.completion"),
            (count("gen_ai.usage.cache_read.input_tokens"), "llm.token_count.prompt_details.cache_read"),
            (count("gen_ai.usage.cache_creation.input_tokens"), "llm.token_count.prompt_details.cache_write"),
        ] {
            derived.extend(tokens.map(|tokens| (key.to_string(), json!(tokens))));
        }
        if let (Some(input), Some(output)) = (input, output) {
            derived.push(("llm.token_count.total".into(), json!(input.saturating_add(output))));
        }
    }

    /// Each definition as OpenAI's function tool; a list with an entry that is not a named
    /// object is left out whole.
    fn tool_definitions(&self) -> Vec<(String, Value)> {
        let Some(Value::Array(definitions)) = self.structured("gen_ai.tool.definitions") else { return Vec::new() };
        let mut tools = Vec::with_capacity(definitions.len());
        for definition in &definitions {
            let Some(name) = definition.get("name").filter(|name| name.is_string()) else { return Vec::new() };
            let mut function = Map::new();
            function.insert("name".into(), name.clone());
            for field in ["description", "parameters"] {
                if let Some(value) = definition.get(field).filter(|value| !value.is_null()) {
                    function.insert(field.into(), value.clone());
                }
            }
            let kind = definition.get("type").filter(|kind| kind.is_string()).cloned().unwrap_or_else(|| json!("function"));
            tools.push(json!({"type": kind, "function": function}));
        }
        tools
            .iter()
            .enumerate()
            .map(|(index, tool)| (format!("llm.tools.{index}.tool.json_schema"), Value::String(dumps_ascii(tool))))
            .collect()
    }

    /// The tool a call ran: its name, description and call id, its arguments as parameters, and
    /// its result as the output.
    fn tool_call(&self, derived: &mut Vec<(String, Value)>) {
        for (from, to) in
            [("gen_ai.tool.name", "tool.name"), ("gen_ai.tool.description", "tool.description"), ("gen_ai.tool.call.id", "tool.id")]
        {
            derived.extend(self.get(from).map(|value| (to.to_string(), value.clone())));
        }
        if let Some(arguments) = self.get("gen_ai.tool.call.arguments") {
            derived.push(("tool.parameters".into(), parsed_or_as_sent(arguments)));
        }
        if let Some(result) = self.get("gen_ai.tool.call.result") {
            match parsed_or_as_sent(result) {
                Value::String(text) => derived.push(("output.value".into(), Value::String(text))),
                structured => {
                    derived.push(("output.value".into(), Value::String(dumps_ascii(&structured))));
                    derived.push(("output.mime_type".into(), json!("application/json")));
                }
            }
        }
    }

    /// The query as the input, and the documents when every one has an id.
    fn retrieval(&self, derived: &mut Vec<(String, Value)>) {
        if let Some(query) = self.get("gen_ai.retrieval.query.text") {
            derived.push(("input.value".into(), query.clone()));
            derived.push(("input.mime_type".into(), json!("text/plain")));
        }
        let Some(Value::Array(documents)) = self.structured("gen_ai.retrieval.documents") else { return };
        if !documents.iter().all(|document| document.get("id").is_some_and(Value::is_string)) {
            return;
        }
        for (index, document) in documents.iter().enumerate() {
            for field in ["id", "content", "score", "metadata"] {
                if let Some(value) = document.get(field).filter(|value| !value.is_null()) {
                    derived.push((format!("retrieval.documents.{index}.document.{field}"), value.clone()));
                }
            }
        }
    }

    /// The response's id and model as a JSON output, unless the span has an output already.
    fn response(&self, derived: &mut Vec<(String, Value)>) {
        if derived.iter().any(|(key, _)| key == "output.value") {
            return;
        }
        let mut response = Map::new();
        for (from, to) in [("gen_ai.response.id", "id"), ("gen_ai.response.model", "model")] {
            if let Some(value) = self.get(from) {
                response.insert(to.into(), value.clone());
            }
        }
        if !response.is_empty() {
            derived.push(("output.value".into(), Value::String(dumps_ascii(&Value::Object(response)))));
            derived.push(("output.mime_type".into(), json!("application/json")));
        }
    }
}

/// An integer, also from its text or an integral float.
fn whole_number(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => {
            number.as_i64().or_else(|| number.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
        }
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// A structured value (object, list, number) parsed from its JSON text; other text as sent.
fn parsed_or_as_sent(value: &Value) -> Value {
    match value {
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::String(_)) | Err(_) => value.clone(),
            Ok(parsed) => parsed,
        },
        other => other.clone(),
    }
}

/// OpenInference's provider and system for a GenAI provider name: the well-known names map to
/// both (a provider may have no system), and any other name is kept as the system.
fn provider_and_system(name: &str) -> (Option<&'static str>, Option<String>) {
    let provider = match name {
        "openai" => "openai",
        "anthropic" => "anthropic",
        "aws.bedrock" => "aws",
        "azure.ai.inference" | "azure.ai.openai" => "azure",
        "cohere" => "cohere",
        "deepseek" => "deepseek",
        "gcp.gemini" | "gcp.gen_ai" | "gcp.vertex_ai" => "google",
        "groq" => "groq",
        "mistral_ai" => "mistralai",
        "perplexity" => "perplexity",
        "x_ai" => "xai",
        other => return (None, Some(other.to_string())),
    };
    let system = match name {
        "openai" | "azure.ai.openai" => Some("openai"),
        "anthropic" => Some("anthropic"),
        "cohere" => Some("cohere"),
        "mistral_ai" => Some("mistralai"),
        "gcp.vertex_ai" => Some("vertexai"),
        _ => None,
    };
    (Some(provider), system.map(str::to_string))
}

#[cfg(test)]
mod tests;
