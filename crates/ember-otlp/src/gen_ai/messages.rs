//! GenAI messages (`gen_ai.system_instructions`, `gen_ai.input.messages`,
//! `gen_ai.output.messages`: JSON lists of `{role, parts, name?, finish_reason?}`) as
//! OpenInference's flattened `llm.input_messages` / `llm.output_messages`. The system
//! instructions come first, as a system message. A message's one text part is its `content`;
//! several parts, or any part that is not text (an image from a URI or a blob, reasoning), are
//! its `contents`. Tool calls become `tool_calls`, a tool call's response the content of its
//! message with the call's id. A list with a message that lacks a role, parts or (output) a
//! finish reason is left out whole, as Phoenix leaves it out.

use ember_core::python_json::dumps_ascii;
use serde_json::{json, Value};

use super::GenAi;

pub(super) fn input_messages(gen_ai: &GenAi) -> Vec<(String, Value)> {
    let mut messages: Vec<Value> = Vec::new();
    if let Some(Value::Array(parts)) = gen_ai.structured("gen_ai.system_instructions") {
        messages.push(json!({"role": "system", "parts": parts}));
    }
    match gen_ai.structured("gen_ai.input.messages") {
        Some(Value::Array(input)) if input.iter().all(|message| is_message(message, false)) => messages.extend(input),
        _ => {}
    }
    flatten(&messages, "llm.input_messages")
}

pub(super) fn output_messages(gen_ai: &GenAi) -> Vec<(String, Value)> {
    match gen_ai.structured("gen_ai.output.messages") {
        Some(Value::Array(output)) if output.iter().all(|message| is_message(message, true)) => flatten(&output, "llm.output_messages"),
        _ => Vec::new(),
    }
}

/// A message as the conventions require it: a role and a list of parts, and for an output
/// message its finish reason.
fn is_message(message: &Value, output: bool) -> bool {
    let has_text = |field: &str| message.get(field).is_some_and(Value::is_string);
    has_text("role") && message.get("parts").is_some_and(Value::is_array) && (!output || has_text("finish_reason"))
}

/// A part of a message's content.
enum Content {
    Text { kind: String, text: String },
    Image { url: String },
}

fn flatten(messages: &[Value], prefix: &str) -> Vec<(String, Value)> {
    let mut pairs = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        let base = format!("{prefix}.{index}.message");
        for field in ["role", "name", "finish_reason"] {
            if let Some(value) = message.get(field).filter(|value| value.is_string()) {
                pairs.push((format!("{base}.{field}"), value.clone()));
            }
        }
        let mut contents: Vec<Content> = Vec::new();
        let mut tool_calls = 0;
        for part in message.get("parts").and_then(Value::as_array).into_iter().flatten() {
            let text_of = |field: &str| part.get(field).and_then(Value::as_str).map(str::to_string);
            match part.get("type").and_then(Value::as_str) {
                Some("tool_call") => {
                    let call = format!("{base}.tool_calls.{tool_calls}.tool_call");
                    tool_calls += 1;
                    if let Some(id) = part.get("id").filter(|id| id.is_string()) {
                        pairs.push((format!("{call}.id"), id.clone()));
                    }
                    if let Some(name) = part.get("name").filter(|name| name.is_string()) {
                        pairs.push((format!("{call}.function.name"), name.clone()));
                    }
                    if let Some(arguments) = part.get("arguments").filter(|arguments| !arguments.is_null()) {
                        pairs.push((format!("{call}.function.arguments"), Value::String(as_text(arguments))));
                    }
                }
                Some("tool_call_response") => {
                    if let Some(id) = part.get("id").filter(|id| id.is_string()) {
                        pairs.push((format!("{base}.tool_call_id"), id.clone()));
                    }
                    if let Some(response) = part.get("response").filter(|response| !response.is_null()) {
                        contents.push(Content::Text { kind: "text".into(), text: as_text(response) });
                    }
                }
                Some("uri") => contents.extend(text_of("uri").map(|url| Content::Image { url })),
                Some("blob") => {
                    let mime_type = text_of("mime_type").unwrap_or_else(|| "application/octet-stream".into());
                    contents.extend(text_of("content").map(|data| Content::Image { url: format!("data:{mime_type};base64,{data}") }));
                }
                Some(kind) => contents.extend(text_of("content").map(|text| Content::Text { kind: kind.to_string(), text })),
                None => {}
            }
        }
        match contents.as_slice() {
            [] => {}
            [Content::Text { kind, text }] if kind == "text" => pairs.push((format!("{base}.content"), Value::String(text.clone()))),
            parts => {
                for (position, part) in parts.iter().enumerate() {
                    let content = format!("{base}.contents.{position}.message_content");
                    match part {
                        Content::Text { kind, text } => {
                            pairs.push((format!("{content}.type"), json!(kind)));
                            pairs.push((format!("{content}.text"), json!(text)));
                        }
                        Content::Image { url } => {
                            pairs.push((format!("{content}.type"), json!("image")));
                            pairs.push((format!("{content}.image.image.url"), json!(url)));
                        }
                    }
                }
            }
        }
    }
    pairs
}

/// Text as sent; anything else as Python's `json.dumps` writes it.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => dumps_ascii(other),
    }
}
