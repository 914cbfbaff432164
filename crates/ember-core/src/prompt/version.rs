//! A prompt version's content (`PromptVersionData` in Phoenix's REST contract). Nested objects
//! refuse fields they do not know, as Phoenix's do; absent optional fields stay absent when the
//! version is written back out, so a version reads back as it was sent.

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::invocation::InvocationParameters;
use super::template::TemplateFormat;

/// The pattern of prompt and tag names, as Phoenix words it in its errors.
pub const IDENTIFIER_PATTERN: &str = "^[a-z0-9]([_a-z0-9-]*[a-z0-9])?$";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptVersionData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub model_provider: ModelProvider,
    pub model_name: String,
    pub template: PromptTemplate,
    pub template_type: TemplateType,
    pub template_format: TemplateFormat,
    pub invocation_parameters: InvocationParameters,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<PromptTools>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
}

impl PromptVersionData {
    /// The checks that span fields: the template type names the template's shape, and the
    /// invocation parameters' own rules. The message is Phoenix's.
    pub fn check(&self) -> Result<(), String> {
        let matches = matches!(
            (self.template_type, &self.template),
            (TemplateType::Chat, PromptTemplate::Chat { .. }) | (TemplateType::Str, PromptTemplate::String { .. })
        );
        if !matches {
            return Err("Template type does not match template".into());
        }
        self.invocation_parameters.check()
    }

    /// The chat messages, or `None` for a string template.
    pub fn messages(&self) -> Option<&[PromptMessage]> {
        match &self.template {
            PromptTemplate::Chat { messages } => Some(messages),
            PromptTemplate::String { .. } => None,
        }
    }
}

/// The model providers Phoenix names. `MINIMAX`, `ZAI` and `META` are sent by newer clients
/// than the REST contract lists and are taken as OpenAI-compatible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ModelProvider {
    Openai,
    #[serde(rename = "AZURE_OPENAI")]
    AzureOpenai,
    Anthropic,
    Google,
    Deepseek,
    Xai,
    Ollama,
    Aws,
    Cerebras,
    Fireworks,
    Groq,
    Moonshot,
    Perplexity,
    Together,
    Minimax,
    Zai,
    Meta,
}

impl ModelProvider {
    /// Every family, in the order `GET /v1/model_providers` lists them (Phoenix 20.26.1's).
    pub const LISTED: [ModelProvider; 17] = [
        ModelProvider::Deepseek,
        ModelProvider::Xai,
        ModelProvider::Ollama,
        ModelProvider::Cerebras,
        ModelProvider::Fireworks,
        ModelProvider::Groq,
        ModelProvider::Moonshot,
        ModelProvider::Minimax,
        ModelProvider::Perplexity,
        ModelProvider::Together,
        ModelProvider::Zai,
        ModelProvider::Meta,
        ModelProvider::Aws,
        ModelProvider::Openai,
        ModelProvider::AzureOpenai,
        ModelProvider::Anthropic,
        ModelProvider::Google,
    ];

    /// The name people know the family by.
    pub fn display_name(self) -> &'static str {
        match self {
            ModelProvider::Openai => "OpenAI",
            ModelProvider::AzureOpenai => "Azure OpenAI",
            ModelProvider::Anthropic => "Anthropic",
            ModelProvider::Google => "Google Gemini",
            ModelProvider::Deepseek => "DeepSeek",
            ModelProvider::Xai => "xAI",
            ModelProvider::Ollama => "Ollama",
            ModelProvider::Aws => "AWS Bedrock",
            ModelProvider::Cerebras => "Cerebras",
            ModelProvider::Fireworks => "Fireworks",
            ModelProvider::Groq => "Groq",
            ModelProvider::Moonshot => "Moonshot",
            ModelProvider::Perplexity => "Perplexity",
            ModelProvider::Together => "Together",
            ModelProvider::Minimax => "MiniMax",
            ModelProvider::Zai => "Z.ai",
            ModelProvider::Meta => "Meta",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_value(Value::String(text.to_ascii_uppercase())).ok()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ModelProvider::Openai => "OPENAI",
            ModelProvider::AzureOpenai => "AZURE_OPENAI",
            ModelProvider::Anthropic => "ANTHROPIC",
            ModelProvider::Google => "GOOGLE",
            ModelProvider::Deepseek => "DEEPSEEK",
            ModelProvider::Xai => "XAI",
            ModelProvider::Ollama => "OLLAMA",
            ModelProvider::Aws => "AWS",
            ModelProvider::Cerebras => "CEREBRAS",
            ModelProvider::Fireworks => "FIREWORKS",
            ModelProvider::Groq => "GROQ",
            ModelProvider::Moonshot => "MOONSHOT",
            ModelProvider::Perplexity => "PERPLEXITY",
            ModelProvider::Together => "TOGETHER",
            ModelProvider::Minimax => "MINIMAX",
            ModelProvider::Zai => "ZAI",
            ModelProvider::Meta => "META",
        }
    }
}

/// `CHAT` or `STR` (Phoenix's REST API creates only chat prompts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TemplateType {
    Str,
    Chat,
}

impl TemplateType {
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateType::Str => "STR",
            TemplateType::Chat => "CHAT",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum PromptTemplate {
    Chat { messages: Vec<PromptMessage> },
    String { template: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptMessage {
    pub role: Role,
    pub content: MessageContent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
    Model,
    Ai,
    Tool,
    System,
    Developer,
}

/// A message's content: one text, or at least one typed part.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageContent {
    Text(String),
    Parts(Vec<ContentPart>),
}

impl MessageContent {
    /// The message's texts in order: the string, or its text parts (tool calls and results
    /// left out).
    pub fn texts(&self) -> Vec<&str> {
        match self {
            MessageContent::Text(text) => vec![text],
            MessageContent::Parts(parts) => parts
                .iter()
                .filter_map(|part| match part {
                    ContentPart::Text { text } => Some(text.as_str()),
                    _ => None,
                })
                .collect(),
        }
    }
}

impl Serialize for MessageContent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            MessageContent::Text(text) => serializer.serialize_str(text),
            MessageContent::Parts(parts) => parts.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for MessageContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContentVisitor;

        impl<'de> Visitor<'de> for ContentVisitor {
            type Value = MessageContent;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a string or a list of at least one content part")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(MessageContent::Text(text.to_string()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut parts = Vec::new();
                while let Some(part) = seq.next_element()? {
                    parts.push(part);
                }
                if parts.is_empty() {
                    return Err(de::Error::invalid_length(0, &"at least one content part"));
                }
                Ok(MessageContent::Parts(parts))
            }
        }

        deserializer.deserialize_any(ContentVisitor)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ContentPart {
    Text { text: String },
    ToolCall { tool_call_id: String, tool_call: ToolCallFunction },
    ToolResult { tool_call_id: String, tool_result: Value },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ToolCallFunction {
    Function { name: String, arguments: String },
}

/// A constant `type` field: deserializing checks it, serializing writes it.
macro_rules! constant_type {
    ($name:ident, $value:literal) => {
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            #[default]
            #[serde(rename = $value)]
            Value,
        }
    };
}

constant_type!(ToolsType, "tools");
constant_type!(JsonSchemaType, "json_schema");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptTools {
    #[serde(rename = "type")]
    pub kind: ToolsType,
    #[serde(deserialize_with = "non_empty")]
    pub tools: Vec<PromptTool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_parallel_tool_calls: Option<bool>,
}

fn non_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Vec<T>, D::Error> {
    let items = Vec::<T>::deserialize(deserializer)?;
    if items.is_empty() {
        return Err(de::Error::invalid_length(0, &"at least one item"));
    }
    Ok(items)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum PromptTool {
    Function { function: FunctionDefinition },
    Raw { raw: Map<String, Value> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionDefinition {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ToolChoice {
    None,
    ZeroOrMore,
    OneOrMore,
    SpecificFunction { function_name: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseFormat {
    #[serde(rename = "type")]
    pub kind: JsonSchemaType,
    pub json_schema: JsonSchemaDefinition,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonSchemaDefinition {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn version(body: Value) -> Result<PromptVersionData, String> {
        let version: PromptVersionData = serde_json::from_value(body).map_err(|error| error.to_string())?;
        version.check()?;
        Ok(version)
    }

    fn chat(messages: Value) -> Value {
        json!({
            "model_provider": "OPENAI", "model_name": "gpt-4o-mini",
            "template": {"type": "chat", "messages": messages},
            "template_type": "CHAT", "template_format": "MUSTACHE",
            "invocation_parameters": {"type": "openai", "openai": {"temperature": 0.2}},
        })
    }

    #[test]
    fn a_version_reads_back_as_it_was_sent() {
        let body = json!({
            "description": "v1",
            "model_provider": "ANTHROPIC", "model_name": "claude",
            "template": {"type": "chat", "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "{{ q }}"}]},
                {"role": "ai", "content": [{"type": "tool_call", "tool_call_id": "c1",
                    "tool_call": {"type": "function", "name": "f", "arguments": "{}"}}]},
                {"role": "tool", "content": [{"type": "tool_result", "tool_call_id": "c1", "tool_result": {"ok": [1, null]}}]},
            ]},
            "template_type": "CHAT", "template_format": "MUSTACHE",
            "invocation_parameters": {"type": "anthropic", "anthropic": {"max_tokens": 2000,
                "thinking": {"type": "enabled", "budget_tokens": 1024}}},
            "tools": {"type": "tools", "tools": [
                {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}},
                {"type": "raw", "raw": {"type": "web_search_20250305", "name": "web_search"}},
            ], "tool_choice": {"type": "specific_function", "function_name": "f"}, "disable_parallel_tool_calls": true},
            "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": true}},
        });
        let parsed = version(body.clone()).unwrap();
        assert_eq!(serde_json::to_value(&parsed).unwrap(), body);
    }

    #[test]
    fn nested_objects_refuse_unknown_fields_and_bad_shapes() {
        let error = version(chat(json!([{"role": "user", "content": "hi", "name": "x"}]))).unwrap_err();
        assert!(error.contains("unknown field `name`"), "{error}");
        let error = version(chat(json!([{"role": "robot", "content": "hi"}]))).unwrap_err();
        assert!(error.contains("unknown variant `robot`"), "{error}");
        let error = version(chat(json!([{"role": "user", "content": []}]))).unwrap_err();
        assert!(error.contains("at least one content part"), "{error}");
        let error = version(chat(json!([{"role": "user", "content": [{"type": "image", "url": "x"}]}]))).unwrap_err();
        assert!(error.contains("unknown variant `image`"), "{error}");
        let mut body = chat(json!([]));
        body["tools"] = json!({"type": "tools", "tools": []});
        assert!(version(body.clone()).unwrap_err().contains("at least one item"));
        body["tools"] = json!({"type": "toolz", "tools": [{"type": "raw", "raw": {}}]});
        assert!(version(body).unwrap_err().contains("expected `tools`"));
    }

    #[test]
    fn the_template_type_must_name_the_template_shape() {
        let mut body = chat(json!([]));
        body["template_type"] = json!("STR");
        assert_eq!(version(body.clone()).unwrap_err(), "Template type does not match template");
        body["template"] = json!({"type": "string", "template": "Hi {{ name }}"});
        assert!(version(body).is_ok());
    }
}
