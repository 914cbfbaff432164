//! OpenTelemetry GenAI semantic conventions (`gen_ai.*`) converted to OpenInference names.
//! Like Phoenix, conversion only fills keys the span does not already carry: OpenInference wins.

use serde_json::{json, Map, Value};

/// Adds OpenInference attributes derived from `gen_ai.*` keys in `flat` (flat dotted keys).
pub fn convert(flat: &mut Vec<(String, Value)>) {
    if !flat.iter().any(|(key, _)| key.starts_with("gen_ai.")) {
        return;
    }
    let lookup = |key: &str| flat.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let mut derived: Vec<(String, Value)> = Vec::new();

    if let Some(Value::String(operation)) = lookup("gen_ai.operation.name") {
        let kind = match operation.as_str() {
            "chat" | "text_completion" | "generate_content" => Some("LLM"),
            "embeddings" => Some("EMBEDDING"),
            "execute_tool" => Some("TOOL"),
            "invoke_agent" | "create_agent" => Some("AGENT"),
            _ => None,
        };
        if let Some(kind) = kind {
            derived.push(("openinference.span.kind".into(), json!(kind)));
        }
    }
    if let Some(model) = lookup("gen_ai.response.model").or_else(|| lookup("gen_ai.request.model")) {
        derived.push(("llm.model_name".into(), model));
    }
    if let Some(provider) = lookup("gen_ai.provider.name").or_else(|| lookup("gen_ai.system")) {
        derived.push(("llm.provider".into(), provider.clone()));
        derived.push(("llm.system".into(), provider));
    }
    let input_tokens = lookup("gen_ai.usage.input_tokens").and_then(|v| v.as_i64());
    let output_tokens = lookup("gen_ai.usage.output_tokens").and_then(|v| v.as_i64());
    if let Some(tokens) = input_tokens {
        derived.push(("llm.token_count.prompt".into(), json!(tokens)));
    }
    if let Some(tokens) = output_tokens {
        derived.push(("llm.token_count.completion".into(), json!(tokens)));
    }
    if input_tokens.is_some() || output_tokens.is_some() {
        derived.push(("llm.token_count.total".into(), json!(input_tokens.unwrap_or(0) + output_tokens.unwrap_or(0))));
    }
    let mut invocation = Map::new();
    for parameter in ["temperature", "max_tokens", "top_p", "top_k", "frequency_penalty", "presence_penalty", "seed", "stop_sequences"] {
        if let Some(value) = lookup(&format!("gen_ai.request.{parameter}")) {
            invocation.insert(parameter.to_string(), value);
        }
    }
    if !invocation.is_empty() {
        derived.push(("llm.invocation_parameters".into(), json!(Value::Object(invocation).to_string())));
    }
    for (from, to) in
        [("gen_ai.tool.name", "tool.name"), ("gen_ai.tool.description", "tool.description"), ("gen_ai.tool.call.id", "tool_call.id")]
    {
        if let Some(value) = lookup(from) {
            derived.push((to.into(), value));
        }
    }
    for (from, to) in [("gen_ai.input.messages", "llm.input_messages"), ("gen_ai.output.messages", "llm.output_messages")] {
        if let Some(messages) = lookup(from) {
            derived.extend(convert_messages(&messages, to));
        }
    }

    for (key, value) in derived {
        let prefix = format!("{key}.");
        let present = flat.iter().any(|(k, _)| *k == key || k.starts_with(&prefix));
        if !present {
            flat.push((key, value));
        }
    }
}

/// `[{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]` (possibly a JSON string)
/// becomes `llm.input_messages.0.message.role` / `.content` pairs.
fn convert_messages(messages: &Value, prefix: &str) -> Vec<(String, Value)> {
    let parsed;
    let messages = match messages {
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(value) => {
                parsed = value;
                &parsed
            }
            Err(_) => return Vec::new(),
        },
        other => other,
    };
    let Some(items) = messages.as_array() else {
        return Vec::new();
    };
    let mut pairs = Vec::new();
    for (index, message) in items.iter().enumerate() {
        let base = format!("{prefix}.{index}.message");
        if let Some(role) = message.get("role") {
            pairs.push((format!("{base}.role"), role.clone()));
        }
        let text: Vec<&str> = message
            .get("parts")
            .and_then(Value::as_array)
            .map(|parts| {
                parts
                    .iter()
                    .filter(|part| part.get("type").and_then(Value::as_str) == Some("text"))
                    .filter_map(|part| part.get("content").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        if !text.is_empty() {
            pairs.push((format!("{base}.content"), Value::String(text.join("\n"))));
        } else if let Some(content) = message.get("content").filter(|c| c.is_string()) {
            pairs.push((format!("{base}.content"), content.clone()));
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_gen_ai_without_overriding_openinference() {
        let mut flat = vec![
            ("gen_ai.operation.name".to_string(), json!("chat")),
            ("gen_ai.request.model".to_string(), json!("gpt-4o")),
            ("gen_ai.usage.input_tokens".to_string(), json!(10)),
            ("gen_ai.usage.output_tokens".to_string(), json!(5)),
            ("gen_ai.request.temperature".to_string(), json!(0.2)),
            ("gen_ai.input.messages".to_string(), json!(r#"[{"role":"user","parts":[{"type":"text","content":"hi"}]}]"#)),
            ("llm.model_name".to_string(), json!("already-set")),
        ];
        convert(&mut flat);
        let get = |key: &str| flat.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        assert_eq!(get("openinference.span.kind"), Some(json!("LLM")));
        assert_eq!(get("llm.model_name"), Some(json!("already-set")));
        assert_eq!(get("llm.token_count.total"), Some(json!(15)));
        assert_eq!(get("llm.invocation_parameters"), Some(json!(r#"{"temperature":0.2}"#)));
        assert_eq!(get("llm.input_messages.0.message.content"), Some(json!("hi")));
        assert_eq!(get("llm.input_messages.0.message.role"), Some(json!("user")));
    }
}
