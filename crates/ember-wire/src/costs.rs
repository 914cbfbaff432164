//! LLM cost: model prices (`/v1/model_prices`, ember's REST face of what Phoenix manages through
//! GraphQL as generative models) and a project's cost summary
//! (`/v1/projects/{p}/cost_summary`, shaped as Phoenix's GraphQL `costSummary`).

use serde::{Deserialize, Serialize};

/// USD per token of each type. A type without its own price is priced as input (prompt types)
/// or output (completion types).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenPrices {
    pub input: f64,
    pub output: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_audio: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_image: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_audio: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_image: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelPrice {
    /// A `GenerativeModel` GlobalID.
    pub id: String,
    pub name: String,
    /// The regular expression searched in a span's `llm.model_name` (built-in prices match
    /// their name, case-insensitively, with or without a `provider/` prefix or a date suffix).
    pub name_pattern: String,
    /// The `llm.provider` it is for; null for any.
    pub provider: Option<String>,
    /// `built_in` or `user`.
    pub source: String,
    /// ISO 8601: it applies to spans that started then or later; null for always.
    pub effective_from: Option<String>,
    pub prices: TokenPrices,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /v1/model_prices` and `PUT /v1/model_prices/{id}` (which replaces every field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewModelPrice {
    pub name: String,
    /// Default: exactly `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// ISO 8601; default: always (every stored span it matches is re-priced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<String>,
    pub prices: TokenPrices,
}

/// Tokens and their cost in USD.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CostBreakdown {
    pub tokens: i64,
    pub cost: f64,
}

/// `GET /v1/projects/{p}/cost_summary`'s `data`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CostSummary {
    pub prompt: CostBreakdown,
    pub completion: CostBreakdown,
    pub total: CostBreakdown,
}
