//! Anthropic messages (`POST /v1/messages`). System and developer messages become the `system`
//! field; tool messages are user messages carrying `tool_result` blocks.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{python_str, render, FormatError};
use crate::prompt::invocation::AnthropicThinking;
use crate::prompt::{
    ContentPart, InvocationParameters, MessageContent, PromptTool, PromptTools, PromptVersionData, Role, ToolCallFunction, ToolChoice,
};

/// The `max_tokens` the clients send when the parameters name none (Anthropic requires one).
const DEFAULT_MAX_TOKENS: i64 = 100;

pub fn anthropic_messages_request(version: &PromptVersionData, variables: &BTreeMap<String, String>) -> Result<Value, FormatError> {
    let mut system = Vec::new();
    let mut messages = Vec::new();
    for message in version.messages().unwrap_or_default() {
        let blocks = match &message.content {
            MessageContent::Text(text) => vec![json!({"type": "text", "text": render(version, text, variables)?})],
            MessageContent::Parts(parts) => parts.iter().map(|part| block(version, part, variables)).collect::<Result<_, _>>()?,
        };
        let role = match message.role {
            Role::System | Role::Developer => {
                system.extend(blocks.into_iter().filter(|block| block["type"] == "text"));
                continue;
            }
            Role::User | Role::Tool => "user",
            Role::Assistant | Role::Model | Role::Ai => "assistant",
        };
        let content = if blocks.len() == 1 && blocks[0]["type"] == "text" { blocks[0]["text"].clone() } else { Value::Array(blocks) };
        messages.push(json!({"role": role, "content": content}));
    }
    let mut body = Map::new();
    body.insert("messages".into(), Value::Array(messages));
    body.insert("model".into(), json!(version.model_name));
    invocation_parameters(&version.invocation_parameters, &mut body);
    if let Some(tools) = &version.tools {
        tool_fields(tools, &mut body);
    }
    match system.len() {
        0 => {}
        1 => {
            body.insert("system".into(), system[0]["text"].clone());
        }
        _ => {
            body.insert("system".into(), Value::Array(system));
        }
    }
    Ok(Value::Object(body))
}

fn block(version: &PromptVersionData, part: &ContentPart, variables: &BTreeMap<String, String>) -> Result<Value, FormatError> {
    Ok(match part {
        ContentPart::Text { text } => json!({"type": "text", "text": render(version, text, variables)?}),
        ContentPart::ToolCall { tool_call_id, tool_call: ToolCallFunction::Function { name, arguments } } => {
            let input = serde_json::from_str::<Value>(arguments).ok().filter(Value::is_object).unwrap_or_else(|| json!({}));
            json!({"type": "tool_use", "id": tool_call_id, "name": name, "input": input})
        }
        ContentPart::ToolResult { tool_call_id, tool_result } => {
            let mut block = json!({"type": "tool_result", "tool_use_id": tool_call_id});
            let content = match tool_result {
                Value::Null => None,
                Value::Array(items) => Some(Value::Array(items.iter().map(result_text_block).collect())),
                other => Some(json!(python_str(other))),
            };
            if let Some(content) = content {
                block["content"] = content;
            }
            block
        }
    })
}

/// One item of a list tool result as a text block: a text block stays as it is, anything else
/// is written out as text.
fn result_text_block(item: &Value) -> Value {
    let is_text_block = item.as_object().is_some_and(|object| {
        object.len() == 2 && object.get("type") == Some(&json!("text")) && object.get("text").is_some_and(Value::is_string)
    });
    let text = if is_text_block { item["text"].as_str().unwrap_or_default().to_string() } else { python_str(item) };
    json!({"type": "text", "text": text})
}

/// Anthropic's parameters; sampling parameters go in the body as the SDK's `extra_body` puts them.
fn invocation_parameters(parameters: &InvocationParameters, body: &mut Map<String, Value>) {
    let (max_tokens, temperature, top_p, stop_sequences) = match parameters {
        InvocationParameters::Anthropic(p) => {
            if let Some(effort) = p.output_config.as_ref().and_then(|config| config.effort) {
                body.insert("output_config".into(), json!({"effort": effort}));
            }
            if let Some(thinking) = &p.thinking {
                body.insert("thinking".into(), thinking_param(thinking));
            }
            (Some(p.max_tokens), p.temperature, p.top_p, p.stop_sequences.as_ref())
        }
        InvocationParameters::OpenAi(p) => (p.max_tokens, p.temperature, p.top_p, None),
        InvocationParameters::Google(p) => (p.max_output_tokens, p.temperature, p.top_p, None),
        InvocationParameters::Aws(p) => (p.max_tokens, p.temperature, p.top_p, p.stop_sequences.as_ref()),
    };
    body.insert("max_tokens".into(), json!(max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)));
    if let Some(stop_sequences) = stop_sequences {
        body.insert("stop_sequences".into(), json!(stop_sequences));
    }
    if let Some(temperature) = temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    if let Some(top_p) = top_p {
        body.insert("top_p".into(), json!(top_p));
    }
}

fn thinking_param(thinking: &AnthropicThinking) -> Value {
    serde_json::to_value(thinking).unwrap_or_else(|_| json!({"type": "disabled"}))
}

/// Tools and tool choice. A `none` tool choice drops the tools altogether, as the clients do.
fn tool_fields(tools: &PromptTools, body: &mut Map<String, Value>) {
    if tools.tool_choice == Some(ToolChoice::None) {
        return;
    }
    let converted: Vec<Value> = tools
        .tools
        .iter()
        .map(|tool| match tool {
            PromptTool::Function { function } => {
                let mut param = json!({"name": function.name, "input_schema": function.parameters.clone().unwrap_or_default()});
                if let Some(description) = &function.description {
                    param["description"] = json!(description);
                }
                if let Some(strict) = function.strict {
                    param["strict"] = json!(strict);
                }
                param
            }
            PromptTool::Raw { raw } => Value::Object(raw.clone()),
        })
        .collect();
    if converted.is_empty() {
        return;
    }
    body.insert("tools".into(), Value::Array(converted));
    let Some(choice) = &tools.tool_choice else { return };
    let mut choice = match choice {
        ToolChoice::None => return,
        ToolChoice::ZeroOrMore => json!({"type": "auto"}),
        ToolChoice::OneOrMore => json!({"type": "any"}),
        ToolChoice::SpecificFunction { function_name } => json!({"type": "tool", "name": function_name}),
    };
    if let Some(disable) = tools.disable_parallel_tool_calls {
        choice["disable_parallel_tool_use"] = json!(disable);
    }
    body.insert("tool_choice".into(), choice);
}
