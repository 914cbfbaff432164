//! A prompt version converted into a provider's request body, with its variables rendered: the
//! conversion the Phoenix clients' `prompt.format(sdk=...)` / `toSDK` performs, written out as
//! the JSON the SDK would send (keyword arguments such as `extra_body` merged into the body).

mod anthropic;
mod google;
mod openai;

use std::collections::BTreeMap;

use serde_json::Value;

pub use anthropic::anthropic_messages_request;
pub use google::google_generate_content_request;
pub use openai::openai_chat_request;

use super::template::{render_template, TemplateError};
use super::version::{PromptVersionData, TemplateType};

/// The SDKs a prompt can be formatted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sdk {
    OpenAi,
    Anthropic,
    Google,
}

impl Sdk {
    pub fn parse(text: &str) -> Option<Sdk> {
        match text {
            "openai" => Some(Sdk::OpenAi),
            "anthropic" => Some(Sdk::Anthropic),
            "google" | "google_genai" | "google-genai" => Some(Sdk::Google),
            _ => None,
        }
    }

    /// The SDK the clients pick for a model provider: Anthropic's and Google's own, OpenAI's
    /// for everything else.
    pub fn for_provider(provider: super::ModelProvider) -> Sdk {
        match provider {
            super::ModelProvider::Anthropic => Sdk::Anthropic,
            super::ModelProvider::Google => Sdk::Google,
            _ => Sdk::OpenAi,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormatError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("only chat prompts can be formatted for an SDK, this version's template type is {0}")]
    NotChat(&'static str),
    #[error("{0}")]
    Unsupported(String),
}

/// The request body for `sdk`, with `variables` rendered into every text.
pub fn format_request(version: &PromptVersionData, sdk: Sdk, variables: &BTreeMap<String, String>) -> Result<Value, FormatError> {
    if version.template_type != TemplateType::Chat || version.messages().is_none() {
        return Err(FormatError::NotChat(version.template_type.as_str()));
    }
    match sdk {
        Sdk::OpenAi => openai_chat_request(version, variables),
        Sdk::Anthropic => anthropic_messages_request(version, variables),
        Sdk::Google => google_generate_content_request(version, variables),
    }
}

/// Renders one text of `version` with its template format.
fn render(version: &PromptVersionData, text: &str, variables: &BTreeMap<String, String>) -> Result<String, FormatError> {
    Ok(render_template(version.template_format, text, variables)?)
}

/// Python's `str()` of a JSON value, as the clients write a scalar tool result; objects and
/// arrays as `json.dumps`.
fn python_str(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(number) => number.to_string(),
        other => crate::python_json::dumps_ascii(other),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A prompt with every kind of message part, tools and a response format. The expected
    /// bodies in `testdata/` are what `arize-phoenix-client`'s `to_chat_messages_and_kwargs`
    /// returned for it (messages and kwargs in one object, `extra_body` merged).
    fn tool_prompt() -> PromptVersionData {
        serde_json::from_str(include_str!("testdata/tool_prompt.json")).unwrap()
    }

    fn variables() -> BTreeMap<String, String> {
        [("city", "Paris"), ("note", "ß")].into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn expected(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn openai_body_matches_the_python_client() {
        let body = format_request(&tool_prompt(), Sdk::OpenAi, &variables()).unwrap();
        assert_eq!(body, expected(include_str!("testdata/openai_expected.json")));
    }

    #[test]
    fn anthropic_body_matches_the_python_client() {
        let mut version = tool_prompt();
        // The Python client cannot convert a developer message for Anthropic; ember sends it as
        // system text, checked below.
        if let crate::prompt::PromptTemplate::Chat { messages } = &mut version.template {
            messages.retain(|message| message.role != crate::prompt::Role::Developer);
        }
        version.invocation_parameters = serde_json::from_value(json!({"type": "anthropic", "anthropic": {
            "max_tokens": 2048, "temperature": 0.5, "stop_sequences": ["END"],
            "thinking": {"type": "enabled", "budget_tokens": 1024}, "output_config": {"effort": "high"}}}))
        .unwrap();
        let body = format_request(&version, Sdk::Anthropic, &variables()).unwrap();
        assert_eq!(body, expected(include_str!("testdata/anthropic_expected.json")));

        let with_developer = format_request(&tool_prompt(), Sdk::Anthropic, &variables()).unwrap();
        assert_eq!(
            with_developer["system"],
            json!([{"type": "text", "text": "You answer about Paris."}, {"type": "text", "text": "Be brief."}])
        );
        // OpenAI parameters carry over: max_tokens defaults, sampling is kept.
        assert_eq!(with_developer["max_tokens"], json!(100));
        assert_eq!(with_developer["temperature"], json!(0.2));
    }

    #[test]
    fn anthropic_drops_tools_when_the_choice_is_none() {
        let mut version = tool_prompt();
        version.tools.as_mut().unwrap().tool_choice = Some(crate::prompt::ToolChoice::None);
        let body = format_request(&version, Sdk::Anthropic, &variables()).unwrap();
        assert!(body.get("tools").is_none() && body.get("tool_choice").is_none());
        assert_eq!(format_request(&version, Sdk::OpenAi, &variables()).unwrap()["tool_choice"], json!("none"));
    }

    #[test]
    fn google_body_uses_generate_content_fields() {
        let mut version = tool_prompt();
        version.invocation_parameters = serde_json::from_value(json!({"type": "google", "google": {
            "temperature": 0.1, "max_output_tokens": 99, "top_k": 4, "thinking_config": {"thinking_level": "low"}}}))
        .unwrap();
        let body = format_request(&version, Sdk::Google, &variables()).unwrap();
        assert_eq!(body["systemInstruction"], json!({"parts": [{"text": "You answer about Paris.\n\nBe brief."}], "role": "user"}));
        assert_eq!(body["contents"][0], json!({"role": "user", "parts": [{"text": "Weather in Paris? Ünïcode ß"}]}));
        assert_eq!(
            body["contents"][1],
            json!({"role": "model", "parts": [{"text": "Checking Paris."}, {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}}]})
        );
        // A result is named by its call's function; an unknown call id names itself.
        assert_eq!(
            body["contents"][2]["parts"][0],
            json!({"functionResponse": {"name": "get_weather", "response": {"temp_c": 21, "sky": "clear ☀"}, "id": "call_1"}})
        );
        assert_eq!(body["contents"][2]["parts"][2], json!({"functionResponse": {"name": "call_2", "response": {"output": true}}}));
        assert_eq!(body["contents"][3]["parts"][0], json!({"functionCall": {"name": "get_time", "args": {}}}));
        assert_eq!(
            body["generationConfig"],
            json!({"temperature": 0.1, "maxOutputTokens": 99, "topK": 4, "thinkingConfig": {"thinkingLevel": "LOW"},
                   "responseMimeType": "application/json", "responseJsonSchema": {"type": "object"}})
        );
        assert_eq!(body["tools"][0]["functionDeclarations"][1], json!({"name": "get_time", "description": ""}));
        assert_eq!(body["toolConfig"], json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}}));
    }

    #[test]
    fn missing_variables_and_string_templates_are_errors() {
        let error = format_request(&tool_prompt(), Sdk::OpenAi, &BTreeMap::new()).unwrap_err();
        assert_eq!(error.to_string(), "Missing template variable(s): city");
        let mut version = tool_prompt();
        version.template = crate::prompt::PromptTemplate::String { template: "x".into() };
        version.template_type = crate::prompt::TemplateType::Str;
        assert!(matches!(format_request(&version, Sdk::OpenAi, &variables()), Err(FormatError::NotChat("STR"))));
    }
}
