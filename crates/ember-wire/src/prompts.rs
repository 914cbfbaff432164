//! Prompts, their versions and version tags.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prompt {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub source_prompt_id: Option<String>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    pub id: String,
}

/// A version as Phoenix shows it: fields never set are left out, a missing description is `""`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptVersion {
    #[serde(default)]
    pub description: String,
    pub model_provider: String,
    pub model_name: String,
    pub template: Value,
    pub template_type: String,
    pub template_format: String,
    pub invocation_parameters: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<Value>,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptVersionTag {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub id: String,
}

/// A model provider family `GET /v1/model_providers` lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelProviderFamily {
    pub provider: String,
    pub name: String,
}
