//! Invocation parameters, `{"type": provider, provider: {...}}`, validated per provider.
//!
//! As in Phoenix, the OpenAI-compatible providers (Azure OpenAI, DeepSeek, xAI, Ollama, …) share
//! OpenAI's parameters and are stored under the single `openai` type; Anthropic, Google and AWS
//! Bedrock have their own.

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The `type`s whose parameters are OpenAI's.
const OPENAI_FAMILY: &[&str] = &[
    "openai",
    "azure_openai",
    "deepseek",
    "xai",
    "ollama",
    "cerebras",
    "fireworks",
    "groq",
    "moonshot",
    "perplexity",
    "together",
    "minimax",
    "zai",
    "meta",
];

#[derive(Debug, Clone, PartialEq)]
pub enum InvocationParameters {
    OpenAi(OpenAiParameters),
    Anthropic(AnthropicParameters),
    Google(GoogleParameters),
    Aws(AwsParameters),
}

impl InvocationParameters {
    pub fn type_name(&self) -> &'static str {
        match self {
            InvocationParameters::OpenAi(_) => "openai",
            InvocationParameters::Anthropic(_) => "anthropic",
            InvocationParameters::Google(_) => "google",
            InvocationParameters::Aws(_) => "aws",
        }
    }

    /// Rules across fields; the message is Phoenix's.
    pub fn check(&self) -> Result<(), String> {
        if let InvocationParameters::Anthropic(parameters) = self {
            if let Some(AnthropicThinking::Enabled { budget_tokens, .. }) = &parameters.thinking {
                if *budget_tokens < 1024 {
                    return Err("thinking.budget_tokens: Input should be greater than or equal to 1024".into());
                }
                if *budget_tokens >= parameters.max_tokens {
                    return Err("The thinking budget must be less than max tokens.".into());
                }
            }
        }
        Ok(())
    }
}

impl Serialize for InvocationParameters {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("type", self.type_name())?;
        match self {
            InvocationParameters::OpenAi(content) => map.serialize_entry("openai", content)?,
            InvocationParameters::Anthropic(content) => map.serialize_entry("anthropic", content)?,
            InvocationParameters::Google(content) => map.serialize_entry("google", content)?,
            InvocationParameters::Aws(content) => map.serialize_entry("aws", content)?,
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for InvocationParameters {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut object = Map::<String, Value>::deserialize(deserializer)?;
        let kind = match object.remove("type") {
            Some(Value::String(kind)) => kind,
            Some(other) => return Err(de::Error::custom(format!("invocation parameters `type` must be a string, not {other}"))),
            None => return Err(de::Error::missing_field("type")),
        };
        if !OPENAI_FAMILY.contains(&kind.as_str()) && !["anthropic", "google", "aws"].contains(&kind.as_str()) {
            return Err(de::Error::custom(format!(
                "unknown invocation parameters type `{kind}`, expected one of {}, anthropic, google, aws",
                OPENAI_FAMILY.join(", ")
            )));
        }
        let content = object.remove(&kind).ok_or_else(|| de::Error::custom(format!("missing field `{kind}`")))?;
        if let Some(extra) = object.keys().next() {
            return Err(de::Error::custom(format!("unknown field `{extra}` in invocation parameters of type `{kind}`")));
        }
        let within = |error: serde_json::Error| de::Error::custom(format!("{kind}: {error}"));
        Ok(match kind.as_str() {
            "anthropic" => InvocationParameters::Anthropic(serde_json::from_value(content).map_err(within)?),
            "google" => InvocationParameters::Google(serde_json::from_value(content).map_err(within)?),
            "aws" => InvocationParameters::Aws(serde_json::from_value(content).map_err(within)?),
            _ => InvocationParameters::OpenAi(serde_json::from_value(content).map_err(within)?),
        })
    }
}

/// Integer parameters read as Phoenix (pydantic) reads them: a float with no fraction counts, as
/// the Google SDK sends `top_k: 20.0`; `20.5` does not.
mod whole {
    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Int(i64),
        Float(f64),
    }

    pub fn required<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        match Number::deserialize(deserializer)? {
            Number::Int(value) => Ok(value),
            Number::Float(value) if value.fract() == 0.0 && value.abs() < 9.0e15 => Ok(value as i64),
            Number::Float(value) => Err(serde::de::Error::custom(format!("{value} is not a whole number"))),
        }
    }

    pub fn optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
        required(deserializer).map(Some)
    }
}

/// OpenAI chat completion parameters, shared by the OpenAI-compatible providers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiParameters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "whole::optional")]
    pub max_tokens: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "whole::optional")]
    pub max_completion_tokens: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "whole::optional")]
    pub seed: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<ReasoningEffort>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_body: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReasoningEffort {
    None,
    Minimal,
    Low,
    Medium,
    High,
    Xhigh,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnthropicParameters {
    #[serde(deserialize_with = "whole::required")]
    pub max_tokens: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_config: Option<AnthropicOutputConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<AnthropicThinking>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_body: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnthropicOutputConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<AnthropicEffort>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnthropicEffort {
    Low,
    Medium,
    High,
    Xhigh,
    Max,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum AnthropicThinking {
    Disabled,
    Enabled {
        #[serde(deserialize_with = "whole::required")]
        budget_tokens: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        display: Option<ThinkingDisplay>,
    },
    Adaptive {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        display: Option<ThinkingDisplay>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThinkingDisplay {
    Summarized,
    Omitted,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleParameters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "whole::optional")]
    pub max_output_tokens: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "whole::optional")]
    pub top_k: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_config: Option<GoogleThinkingConfig>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleThinkingConfig {
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "whole::optional")]
    pub thinking_budget: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_level: Option<GoogleThinkingLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_thoughts: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GoogleThinkingLevel {
    Minimal,
    Low,
    Medium,
    High,
}

/// AWS Bedrock (Converse) parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsParameters {
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "whole::optional")]
    pub max_tokens: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> Result<InvocationParameters, String> {
        let parameters: InvocationParameters = serde_json::from_value(value).map_err(|error| error.to_string())?;
        parameters.check()?;
        Ok(parameters)
    }

    #[test]
    fn openai_compatible_providers_are_stored_as_openai() {
        for kind in OPENAI_FAMILY {
            let parameters = parse(json!({"type": kind, *kind: {"temperature": 1, "stop": ["x"], "reasoning_effort": "low"}})).unwrap();
            assert_eq!(
                serde_json::to_value(parameters).unwrap(),
                json!({"type": "openai", "openai": {"temperature": 1.0, "stop": ["x"], "reasoning_effort": "low"}})
            );
        }
    }

    #[test]
    fn each_provider_takes_only_its_own_parameters() {
        assert!(parse(json!({"type": "openai", "openai": {"top_k": 3}})).unwrap_err().contains("unknown field `top_k`"));
        assert!(parse(json!({"type": "google", "google": {"top_k": 3}})).is_ok());
        // Whole floats are integers (the Google SDK sends `top_k: 20.0`); fractions are not.
        let google = parse(json!({"type": "google", "google": {"top_k": 20.0, "max_output_tokens": 1e3}})).unwrap();
        assert_eq!(google, parse(json!({"type": "google", "google": {"top_k": 20, "max_output_tokens": 1000}})).unwrap());
        assert!(parse(json!({"type": "google", "google": {"top_k": 20.5}})).unwrap_err().contains("20.5 is not a whole number"));
        assert!(parse(json!({"type": "anthropic", "anthropic": {"max_tokens": 64.0}})).is_ok());
        assert!(parse(json!({"type": "anthropic", "anthropic": {}})).unwrap_err().contains("missing field `max_tokens`"));
        assert!(parse(json!({"type": "aws", "aws": {"seed": 1}})).unwrap_err().contains("unknown field `seed`"));
        assert!(parse(json!({"type": "openai"})).unwrap_err().contains("missing field `openai`"));
        assert!(parse(json!({"type": "openai", "openai": {}, "anthropic": {}})).unwrap_err().contains("unknown field `anthropic`"));
        assert!(parse(json!({"type": "mistral", "mistral": {}})).unwrap_err().contains("unknown invocation parameters type `mistral`"));
        assert!(parse(json!({"type": "openai", "openai": {"reasoning_effort": "huge"}})).unwrap_err().contains("unknown variant `huge`"));
        assert!(parse(json!({"type": "openai", "openai": {"max_tokens": 1.5}})).is_err());
    }

    #[test]
    fn anthropic_thinking_budget_stays_under_max_tokens() {
        let thinking = |budget: i64, max: i64| json!({"type": "anthropic", "anthropic": {"max_tokens": max, "thinking": {"type": "enabled", "budget_tokens": budget}}});
        assert!(parse(thinking(1024, 2048)).is_ok());
        assert_eq!(parse(thinking(2048, 2048)).unwrap_err(), "The thinking budget must be less than max tokens.");
        assert!(parse(thinking(512, 2048)).unwrap_err().contains("greater than or equal to 1024"));
        assert!(parse(
            json!({"type": "anthropic", "anthropic": {"max_tokens": 10, "thinking": {"type": "adaptive", "display": "omitted"}}})
        )
        .is_ok());
    }
}
