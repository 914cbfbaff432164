//! Google Gemini `generateContent`, in the REST API's JSON (the model also named in the body, for
//! the caller to put in the URL). System and developer messages become `systemInstruction`;
//! Google names a tool result by its function, found from the call with the same id.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Map, Value};

use super::{render, FormatError};
use crate::prompt::{
    ContentPart, InvocationParameters, MessageContent, PromptTool, PromptTools, PromptVersionData, Role, ToolCallFunction, ToolChoice,
};

pub fn google_generate_content_request(version: &PromptVersionData, variables: &BTreeMap<String, String>) -> Result<Value, FormatError> {
    let messages = version.messages().unwrap_or_default();
    let call_names: HashMap<&str, &str> = messages
        .iter()
        .filter_map(|message| match &message.content {
            MessageContent::Parts(parts) => Some(parts),
            MessageContent::Text(_) => None,
        })
        .flatten()
        .filter_map(|part| match part {
            ContentPart::ToolCall { tool_call_id, tool_call: ToolCallFunction::Function { name, .. } } => {
                Some((tool_call_id.as_str(), name.as_str()))
            }
            _ => None,
        })
        .collect();
    let mut system = Vec::new();
    let mut contents = Vec::new();
    for message in messages {
        let role = match message.role {
            Role::System | Role::Developer => {
                for text in message.content.texts() {
                    let rendered = render(version, text, variables)?;
                    if !rendered.is_empty() {
                        system.push(rendered);
                    }
                }
                continue;
            }
            Role::User | Role::Tool => "user",
            Role::Assistant | Role::Model | Role::Ai => "model",
        };
        let parts = match &message.content {
            MessageContent::Text(text) => vec![json!({"text": render(version, text, variables)?})],
            MessageContent::Parts(parts) => {
                parts.iter().map(|part| part_to_google(version, part, variables, &call_names)).collect::<Result<_, _>>()?
            }
        };
        contents.push(json!({"role": role, "parts": parts}));
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(version.model_name));
    body.insert("contents".into(), Value::Array(contents));
    if !system.is_empty() {
        body.insert("systemInstruction".into(), json!({"parts": [{"text": system.join("\n\n")}], "role": "user"}));
    }
    let mut config = generation_config(&version.invocation_parameters);
    if let Some(format) = &version.response_format {
        config.insert("responseMimeType".into(), json!("application/json"));
        if let Some(schema) = format.json_schema.schema.as_ref().filter(|schema| !schema.is_empty()) {
            config.insert("responseJsonSchema".into(), Value::Object(schema.clone()));
        }
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    if let Some(tools) = &version.tools {
        tool_fields(tools, &mut body);
    }
    Ok(Value::Object(body))
}

fn part_to_google(
    version: &PromptVersionData,
    part: &ContentPart,
    variables: &BTreeMap<String, String>,
    call_names: &HashMap<&str, &str>,
) -> Result<Value, FormatError> {
    Ok(match part {
        ContentPart::Text { text } => json!({"text": render(version, text, variables)?}),
        ContentPart::ToolCall { tool_call_id, tool_call: ToolCallFunction::Function { name, arguments } } => {
            let args = serde_json::from_str::<Value>(arguments).ok().filter(Value::is_object).unwrap_or_else(|| json!({}));
            let mut call = json!({"name": name, "args": args});
            if !tool_call_id.is_empty() && tool_call_id != name {
                call["id"] = json!(tool_call_id);
            }
            json!({"functionCall": call})
        }
        ContentPart::ToolResult { tool_call_id, tool_result } => {
            let name = call_names.get(tool_call_id.as_str()).copied().unwrap_or(tool_call_id);
            // Google requires `response` to be an object, so anything else is wrapped.
            let response = if tool_result.is_object() { tool_result.clone() } else { json!({"output": tool_result}) };
            let mut function_response = json!({"name": name, "response": response});
            if !tool_call_id.is_empty() && tool_call_id != name {
                function_response["id"] = json!(tool_call_id);
            }
            json!({"functionResponse": function_response})
        }
    })
}

/// Google's own parameters; other providers' parameters do not carry over, as in the clients.
fn generation_config(parameters: &InvocationParameters) -> Map<String, Value> {
    let mut config = Map::new();
    let InvocationParameters::Google(p) = parameters else { return config };
    let mut set = |name: &str, value: Option<Value>| {
        if let Some(value) = value {
            config.insert(name.into(), value);
        }
    };
    set("temperature", p.temperature.map(Value::from));
    set("maxOutputTokens", p.max_output_tokens.map(Value::from));
    set("stopSequences", p.stop_sequences.as_ref().map(|stop| json!(stop)));
    set("presencePenalty", p.presence_penalty.map(Value::from));
    set("frequencyPenalty", p.frequency_penalty.map(Value::from));
    set("topP", p.top_p.map(Value::from));
    set("topK", p.top_k.map(Value::from));
    if let Some(thinking) = &p.thinking_config {
        let mut converted = Map::new();
        if let Some(budget) = thinking.thinking_budget {
            converted.insert("thinkingBudget".into(), json!(budget));
        }
        if let Some(include) = thinking.include_thoughts {
            converted.insert("includeThoughts".into(), json!(include));
        }
        if let Some(level) = thinking.thinking_level {
            let level = serde_json::to_value(level).ok().and_then(|value| value.as_str().map(str::to_ascii_uppercase));
            converted.insert("thinkingLevel".into(), json!(level));
        }
        if !converted.is_empty() {
            set("thinkingConfig", Some(Value::Object(converted)));
        }
    }
    config
}

/// Function declarations are sent together as one tool after any raw (built-in) tools; the tool
/// choice applies only when there are function declarations.
fn tool_fields(tools: &PromptTools, body: &mut Map<String, Value>) {
    let mut converted = Vec::new();
    let mut declarations = Vec::new();
    for tool in &tools.tools {
        match tool {
            PromptTool::Function { function } => {
                let mut declaration = json!({"name": function.name, "description": function.description.clone().unwrap_or_default()});
                if let Some(parameters) = &function.parameters {
                    declaration["parametersJsonSchema"] = Value::Object(parameters.clone());
                }
                declarations.push(declaration);
            }
            PromptTool::Raw { raw } => converted.push(Value::Object(raw.clone())),
        }
    }
    let has_declarations = !declarations.is_empty();
    if has_declarations {
        converted.push(json!({"functionDeclarations": declarations}));
    }
    if !converted.is_empty() {
        body.insert("tools".into(), Value::Array(converted));
    }
    if let (true, Some(choice)) = (has_declarations, &tools.tool_choice) {
        let config = match choice {
            ToolChoice::None => json!({"mode": "NONE"}),
            ToolChoice::ZeroOrMore => json!({"mode": "AUTO"}),
            ToolChoice::OneOrMore => json!({"mode": "ANY"}),
            ToolChoice::SpecificFunction { function_name } => json!({"mode": "ANY", "allowedFunctionNames": [function_name]}),
        };
        body.insert("toolConfig".into(), json!({"functionCallingConfig": config}));
    }
}
