//! OpenAI chat completions (`POST /chat/completions`), the body every OpenAI-compatible provider
//! takes.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{python_str, render, FormatError};
use crate::prompt::{
    ContentPart, InvocationParameters, MessageContent, PromptMessage, PromptTool, PromptVersionData, Role, ToolCallFunction, ToolChoice,
};

pub fn openai_chat_request(version: &PromptVersionData, variables: &BTreeMap<String, String>) -> Result<Value, FormatError> {
    let mut messages = Vec::new();
    for message in version.messages().unwrap_or_default() {
        messages.extend(message_to_openai(version, message, variables)?);
    }
    let mut body = Map::new();
    body.insert("messages".into(), Value::Array(messages));
    body.insert("model".into(), json!(version.model_name));
    let extra_body = invocation_parameters(&version.invocation_parameters, &mut body);
    if let Some(tools) = &version.tools {
        let converted: Vec<Value> = tools.tools.iter().map(tool_to_openai).collect();
        if !converted.is_empty() {
            body.insert("tools".into(), Value::Array(converted));
            if let Some(choice) = &tools.tool_choice {
                body.insert("tool_choice".into(), tool_choice_to_openai(choice));
            }
        }
    }
    if let Some(format) = &version.response_format {
        body.insert("response_format".into(), json!({"type": "json_schema", "json_schema": format.json_schema}));
    }
    // The SDK merges `extra_body` into the request last.
    if let Some(extra) = extra_body {
        body.extend(extra);
    }
    Ok(Value::Object(body))
}

/// Copies the parameters OpenAI takes into `body`; returns the `extra_body` to merge.
fn invocation_parameters(parameters: &InvocationParameters, body: &mut Map<String, Value>) -> Option<Map<String, Value>> {
    let mut set = |name: &str, value: Option<Value>| {
        if let Some(value) = value {
            body.insert(name.into(), value);
        }
    };
    match parameters {
        InvocationParameters::OpenAi(p) => {
            set("max_completion_tokens", p.max_completion_tokens.map(Value::from));
            set("max_tokens", p.max_tokens.map(Value::from));
            set("temperature", p.temperature.map(Value::from));
            set("top_p", p.top_p.map(Value::from));
            set("presence_penalty", p.presence_penalty.map(Value::from));
            set("frequency_penalty", p.frequency_penalty.map(Value::from));
            set("seed", p.seed.map(Value::from));
            set("reasoning_effort", p.reasoning_effort.map(|effort| json!(effort)));
            set("stop", p.stop.as_ref().map(|stop| json!(stop)));
            p.extra_body.clone()
        }
        InvocationParameters::Anthropic(p) => {
            set("max_completion_tokens", Some(p.max_tokens.into()));
            set("temperature", p.temperature.map(Value::from));
            set("top_p", p.top_p.map(Value::from));
            set("stop", p.stop_sequences.as_ref().map(|stop| json!(stop)));
            None
        }
        InvocationParameters::Aws(p) => {
            set("max_tokens", p.max_tokens.map(Value::from));
            set("temperature", p.temperature.map(Value::from));
            set("top_p", p.top_p.map(Value::from));
            set("stop", p.stop_sequences.as_ref().map(|stop| json!(stop)));
            None
        }
        InvocationParameters::Google(p) => {
            set("max_completion_tokens", p.max_output_tokens.map(Value::from));
            set("temperature", p.temperature.map(Value::from));
            set("top_p", p.top_p.map(Value::from));
            set("presence_penalty", p.presence_penalty.map(Value::from));
            set("frequency_penalty", p.frequency_penalty.map(Value::from));
            set("stop", p.stop_sequences.as_ref().map(|stop| json!(stop)));
            None
        }
    }
}

fn tool_to_openai(tool: &PromptTool) -> Value {
    match tool {
        PromptTool::Function { function } => json!({"type": "function", "function": function}),
        PromptTool::Raw { raw } => Value::Object(raw.clone()),
    }
}

fn tool_choice_to_openai(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::None => json!("none"),
        ToolChoice::ZeroOrMore => json!("auto"),
        ToolChoice::OneOrMore => json!("required"),
        ToolChoice::SpecificFunction { function_name } => json!({"type": "function", "function": {"name": function_name}}),
    }
}

/// One prompt message as zero or more OpenAI messages (a tool message becomes one message per
/// run of results for the same call).
fn message_to_openai(
    version: &PromptVersionData,
    message: &PromptMessage,
    variables: &BTreeMap<String, String>,
) -> Result<Vec<Value>, FormatError> {
    let role = match message.role {
        Role::User => "user",
        Role::System => "system",
        Role::Developer => "developer",
        Role::Assistant | Role::Model | Role::Ai => "assistant",
        Role::Tool => "tool",
    };
    let parts = match &message.content {
        MessageContent::Text(text) => {
            let content = render(version, text, variables)?;
            return Ok(vec![match message.role {
                Role::Tool => json!({"role": "tool", "tool_call_id": "", "content": content}),
                _ => json!({"role": role, "content": content}),
            }]);
        }
        MessageContent::Parts(parts) => parts,
    };
    let mut texts = Vec::new();
    for part in parts {
        if let ContentPart::Text { text } = part {
            texts.push(json!({"type": "text", "text": render(version, text, variables)?}));
        }
    }
    match message.role {
        Role::Tool => Ok(tool_messages(parts)),
        Role::Assistant | Role::Model | Role::Ai => {
            let tool_calls: Vec<Value> = parts
                .iter()
                .filter_map(|part| match part {
                    ContentPart::ToolCall { tool_call_id, tool_call: ToolCallFunction::Function { name, arguments } } => {
                        Some(json!({"id": tool_call_id, "function": {"name": name, "arguments": arguments}, "type": "function"}))
                    }
                    _ => None,
                })
                .collect();
            if texts.is_empty() && tool_calls.is_empty() {
                return Ok(Vec::new());
            }
            let mut out = Map::new();
            out.insert("role".into(), json!("assistant"));
            if !texts.is_empty() {
                out.insert("content".into(), single_text_or_parts(texts));
            }
            if !tool_calls.is_empty() {
                out.insert("tool_calls".into(), Value::Array(tool_calls));
            }
            Ok(vec![Value::Object(out)])
        }
        _ => Ok(vec![json!({"role": role, "content": single_text_or_parts(texts)})]),
    }
}

/// One text part is sent as plain content, as the clients do.
fn single_text_or_parts(mut texts: Vec<Value>) -> Value {
    if texts.len() == 1 {
        return texts.remove(0)["text"].take();
    }
    Value::Array(texts)
}

/// Tool results, one message per run of results answering the same call.
fn tool_messages(parts: &[ContentPart]) -> Vec<Value> {
    let mut messages = Vec::new();
    let mut current: Option<(&str, Vec<Value>)> = None;
    for part in parts {
        let ContentPart::ToolResult { tool_call_id, tool_result } = part else { continue };
        let text = json!({"type": "text", "text": python_str(tool_result)});
        match &mut current {
            Some((id, texts)) if id == tool_call_id => texts.push(text),
            _ => {
                if let Some((id, texts)) = current.take() {
                    messages.push(json!({"role": "tool", "tool_call_id": id, "content": single_text_or_parts(texts)}));
                }
                current = Some((tool_call_id, vec![text]));
            }
        }
    }
    if let Some((id, texts)) = current {
        messages.push(json!({"role": "tool", "tool_call_id": id, "content": single_text_or_parts(texts)}));
    }
    messages
}
