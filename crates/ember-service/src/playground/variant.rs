//! A playground variant: one prompt as the playground page edits it (a provider and model, chat
//! messages, invocation parameters, tools, a response format), read from an LLM span or a
//! prompt version, and turned into a prompt version to save or to format into the OpenAI body
//! that is sent. The rules are the prompt hub's: a variant that would not save as a version
//! does not run either.

use std::collections::BTreeMap;

use ember_core::prompt::sdk::openai_chat_request;
use ember_core::prompt::{
    template_variables, InvocationParameters, MessageContent, ModelProvider, PromptMessage, PromptTemplate, PromptVersionData,
    TemplateFormat, TemplateType,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The most messages a variant holds.
const MAX_MESSAGES: usize = 200;

/// One chat message of a variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantMessage {
    pub role: String,
    pub content: String,
}

/// A prompt as the playground edits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// A model provider as prompt versions name it (`OPENAI`, `ANTHROPIC`, …; any case).
    pub provider: String,
    pub model_name: String,
    /// `MUSTACHE`, `F_STRING` or `NONE`.
    pub template_format: String,
    pub messages: Vec<VariantMessage>,
    /// The provider's parameters (`{"temperature": 0.2}`), without the `type` wrapper.
    #[serde(default)]
    pub invocation_parameters: Map<String, Value>,
    /// OpenAI tool definitions (`[{"type": "function", "function": {...}}]`).
    #[serde(default)]
    pub tools: Option<Value>,
    /// `{"type": "json_schema", "json_schema": {...}}`.
    #[serde(default)]
    pub response_format: Option<Value>,
}

impl Default for Variant {
    /// An empty chat for OpenAI's small model.
    fn default() -> Self {
        Variant {
            provider: ModelProvider::Openai.as_str().into(),
            model_name: "gpt-4o-mini".into(),
            template_format: TemplateFormat::Mustache.as_str().into(),
            messages: vec![
                VariantMessage { role: "system".into(), content: "You are a helpful assistant.".into() },
                VariantMessage { role: "user".into(), content: "{{question}}".into() },
            ],
            invocation_parameters: Map::new(),
            tools: None,
            response_format: None,
        }
    }
}

/// The invocation parameters' `type` for a provider (the OpenAI-compatible ones share OpenAI's).
fn parameters_type(provider: ModelProvider) -> &'static str {
    match provider {
        ModelProvider::Anthropic => "anthropic",
        ModelProvider::Google => "google",
        ModelProvider::Aws => "aws",
        _ => "openai",
    }
}

/// A model provider named by a span's `llm.provider` / `llm.system` (OpenInference's names).
fn span_provider(name: &str) -> ModelProvider {
    match name.to_ascii_lowercase().as_str() {
        "azure" => ModelProvider::AzureOpenai,
        "google" | "vertexai" | "gemini" => ModelProvider::Google,
        "aws" | "bedrock" => ModelProvider::Aws,
        "mistralai" | "cohere" => ModelProvider::Openai,
        other => ModelProvider::parse(other).unwrap_or(ModelProvider::Openai),
    }
}

impl Variant {
    /// The variant of a prompt version.
    pub fn of_version(version: &PromptVersionData) -> Variant {
        let messages = version
            .messages()
            .unwrap_or_default()
            .iter()
            .map(|message| VariantMessage {
                role: serde_json::to_value(message.role).ok().and_then(|role| role.as_str().map(str::to_string)).unwrap_or_default(),
                // Tool calls and results are not edited here.
                content: message.content.texts().concat(),
            })
            .collect();
        let parameters = serde_json::to_value(&version.invocation_parameters).unwrap_or_default();
        let invocation_parameters =
            parameters.get(version.invocation_parameters.type_name()).and_then(Value::as_object).cloned().unwrap_or_default();
        Variant {
            provider: version.model_provider.as_str().into(),
            model_name: version.model_name.clone(),
            template_format: version.template_format.as_str().into(),
            messages,
            invocation_parameters,
            tools: version.tools.as_ref().and_then(|tools| serde_json::to_value(&tools.tools).ok()),
            response_format: version.response_format.as_ref().and_then(|format| serde_json::to_value(format).ok()),
        }
    }

    /// The variant of an LLM span's attributes (nested, as stored): its input messages, model,
    /// provider, invocation parameters, tools and response format. Templates are taken as sent
    /// (`NONE`), so braces in the text are not read as variables.
    pub fn of_span_attributes(attributes: &Map<String, Value>) -> Variant {
        let llm = attributes.get("llm").and_then(Value::as_object);
        let text = |key: &str| llm.and_then(|llm| llm.get(key)).and_then(Value::as_str);
        let provider = span_provider(text("provider").or_else(|| text("system")).unwrap_or("openai"));
        let messages: Vec<VariantMessage> = llm
            .and_then(|llm| llm.get("input_messages"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.get("message"))
            .map(|message| {
                let content = match message.get("content") {
                    Some(Value::String(text)) => text.clone(),
                    // OpenInference's `message.contents.N.message_content.text`.
                    _ => message
                        .get("contents")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|part| part.pointer("/message_content/text").and_then(Value::as_str))
                        .collect(),
                };
                VariantMessage { role: message.get("role").and_then(Value::as_str).unwrap_or("user").to_string(), content }
            })
            .collect();
        let mut invocation_parameters: Map<String, Value> =
            text("invocation_parameters").and_then(|text| serde_json::from_str(text).ok()).unwrap_or_default();
        let response_format = invocation_parameters.remove("response_format").filter(|format| format.get("json_schema").is_some());
        for sent_elsewhere in ["messages", "model", "tools", "tool_choice", "stream", "stream_options"] {
            invocation_parameters.remove(sent_elsewhere);
        }
        let tools: Vec<Value> = llm
            .and_then(|llm| llm.get("tools"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|tool| tool.pointer("/tool/json_schema"))
            .filter_map(|schema| match schema {
                Value::String(text) => serde_json::from_str(text).ok(),
                other => Some(other.clone()),
            })
            .collect();
        Variant {
            provider: provider.as_str().into(),
            model_name: text("model_name").unwrap_or_default().to_string(),
            template_format: TemplateFormat::None.as_str().into(),
            messages: if messages.is_empty() { Variant::default().messages } else { messages },
            invocation_parameters,
            tools: (!tools.is_empty()).then(|| Value::Array(tools)),
            response_format,
        }
    }

    /// The variant as a prompt version's content; the error names the field that is wrong.
    pub fn to_version(&self) -> Result<PromptVersionData, String> {
        let model_provider =
            ModelProvider::parse(self.provider.trim()).ok_or_else(|| format!("unknown model provider {:?}", self.provider))?;
        let model_name = self.model_name.trim();
        if model_name.is_empty() {
            return Err("the model name is empty".into());
        }
        let template_format: TemplateFormat = self.template_format.parse().map_err(|error| format!("{error}"))?;
        if self.messages.is_empty() || self.messages.len() > MAX_MESSAGES {
            return Err(format!("a prompt has 1 to {MAX_MESSAGES} messages"));
        }
        let mut messages = Vec::with_capacity(self.messages.len());
        for (index, message) in self.messages.iter().enumerate() {
            let role = serde_json::from_value(json!(message.role.to_ascii_lowercase()))
                .map_err(|_| format!("message {}: unknown role {:?} (system, developer, user or assistant)", index + 1, message.role))?;
            messages.push(PromptMessage { role, content: MessageContent::Text(message.content.clone()) });
        }
        let kind = parameters_type(model_provider);
        let invocation_parameters: InvocationParameters = serde_json::from_value(json!({"type": kind, kind: self.invocation_parameters}))
            .map_err(|error| format!("invocation parameters: {error}"))?;
        let tools = match self.tools.as_ref().filter(|tools| !tools.is_null() && tools.as_array().is_none_or(|list| !list.is_empty())) {
            Some(tools) => {
                Some(serde_json::from_value(json!({"type": "tools", "tools": tools})).map_err(|error| format!("tools: {error}"))?)
            }
            None => None,
        };
        let response_format = match self.response_format.as_ref().filter(|format| !format.is_null()) {
            Some(format) => Some(serde_json::from_value(format.clone()).map_err(|error| format!("response format: {error}"))?),
            None => None,
        };
        let version = PromptVersionData {
            description: None,
            model_provider,
            model_name: model_name.to_string(),
            template: PromptTemplate::Chat { messages },
            template_type: TemplateType::Chat,
            template_format,
            invocation_parameters,
            tools,
            response_format,
        };
        version.check()?;
        Ok(version)
    }

    /// The template variables the messages name (none when the format cannot be read).
    pub fn variables(&self) -> std::collections::BTreeSet<String> {
        let Ok(format) = self.template_format.parse::<TemplateFormat>() else { return Default::default() };
        self.messages.iter().filter_map(|message| template_variables(format, &message.content).ok()).flatten().collect()
    }

    /// The provider's name as the playground's endpoints know it (`openai`, `anthropic`, …).
    pub fn endpoint_name(version: &PromptVersionData) -> String {
        version.model_provider.as_str().to_ascii_lowercase()
    }

    /// The OpenAI chat body of `version` with `variables` rendered into its messages.
    pub fn request(version: &PromptVersionData, variables: &BTreeMap<String, String>) -> Result<Map<String, Value>, String> {
        match openai_chat_request(version, variables).map_err(|error| error.to_string())? {
            Value::Object(body) => Ok(body),
            _ => Err("the prompt did not format into a request".into()),
        }
    }
}

/// An example's input as template variables: each top-level key's text (strings as they are,
/// anything else as JSON); an input that is not an object is the variable `input`.
pub fn variables_of(input: &Value) -> BTreeMap<String, String> {
    let text = |value: &Value| match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    match input {
        Value::Object(fields) => fields.iter().map(|(key, value)| (key.clone(), text(value))).collect(),
        other => BTreeMap::from([("input".to_string(), text(other))]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_reads_as_a_variant_that_saves_as_a_version() {
        let attributes = json!({"llm": {
            "provider": "openai", "model_name": "gpt-4o",
            "invocation_parameters": "{\"temperature\": 0.3, \"model\": \"gpt-4o\", \"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"name\": \"answer\", \"schema\": {\"type\": \"object\"}}}}",
            "input_messages": [{"message": {"role": "system", "content": "Be brief {not a variable}"}},
                               {"message": {"role": "user", "contents": [{"message_content": {"type": "text", "text": "Hi"}}]}}],
            "tools": [{"tool": {"json_schema": "{\"type\": \"function\", \"function\": {\"name\": \"lookup\", \"parameters\": {\"type\": \"object\"}}}"}}]
        }});
        let variant = Variant::of_span_attributes(attributes.as_object().unwrap());
        assert_eq!(
            (variant.provider.as_str(), variant.model_name.as_str(), variant.template_format.as_str()),
            ("OPENAI", "gpt-4o", "NONE")
        );
        assert_eq!(variant.messages[1], VariantMessage { role: "user".into(), content: "Hi".into() });
        assert_eq!(Value::Object(variant.invocation_parameters.clone()), json!({"temperature": 0.3}));
        assert_eq!(variant.tools.as_ref().unwrap()[0]["function"]["name"], "lookup");
        let version = variant.to_version().unwrap();
        assert_eq!(Variant::of_version(&version), variant);
        let body = Variant::request(&version, &BTreeMap::new()).unwrap();
        assert_eq!(body["messages"][0]["content"], "Be brief {not a variable}");
        assert_eq!(body["response_format"]["json_schema"]["name"], "answer");
    }

    #[test]
    fn mistakes_are_named() {
        let mistake = |change: fn(&mut Variant)| {
            let mut variant = Variant::default();
            change(&mut variant);
            variant.to_version().err().unwrap_or_default()
        };
        assert_eq!(mistake(|v| v.provider = "nowhere".into()), "unknown model provider \"nowhere\"");
        assert_eq!(mistake(|v| v.model_name = " ".into()), "the model name is empty");
        assert!(mistake(|v| v.messages[0].role = "wizard".into()).starts_with("message 1: unknown role \"wizard\""));
        assert!(mistake(|v| {
            v.invocation_parameters.insert("temperature".into(), json!("hot"));
        })
        .starts_with("invocation parameters:"));
        assert!(mistake(|v| v.tools = Some(json!([{"type": "spell"}]))).starts_with("tools:"));
        assert!(mistake(|v| v.template_format = "JINJA".into()).contains("unknown template format"));
        let version = Variant::default().to_version().unwrap();
        let missing = Variant::request(&version, &BTreeMap::new()).unwrap_err();
        assert_eq!(missing, "Missing template variable(s): question");
        assert_eq!(Variant::default().variables().into_iter().collect::<Vec<_>>(), ["question"]);
        assert_eq!(
            variables_of(&json!({"question": "why", "n": 2})),
            BTreeMap::from([("n".into(), "2".into()), ("question".into(), "why".into())])
        );
    }
}
