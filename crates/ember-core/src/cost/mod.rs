//! LLM cost: the tokens of a span by type, the per-token rates of a model, and what the one
//! costs at the other.
//!
//! Token types follow OpenInference's `llm.token_count.prompt_details.*` and
//! `completion_details.*`: cache reads, cache writes, audio and image tokens are part of the
//! prompt count, reasoning, audio and image tokens part of the completion count. Each detail type
//! is priced at its own rate, or at the plain input (output) rate when the model has none for it;
//! what the details leave of the prompt (completion) count is priced as input (output). So a span
//! reporting only `llm.token_count.prompt` and `.completion` costs prompt × input + completion ×
//! output. Which rates apply to a span is [`PriceBook`]'s business.

mod book;
mod built_in;

pub use book::{compile_pattern, exact_pattern, ModelPrice, PriceBook, PriceOrigin};
pub use built_in::{built_in_prices, BuiltInTable, BUILT_IN_TABLE};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::span::Span;

/// A span's tokens by type, as its attributes report them (negative counts read as 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCounts {
    /// `llm.token_count.prompt`: every prompt token, details included.
    pub prompt: i64,
    /// `llm.token_count.completion`: every completion token, details included.
    pub completion: i64,
    pub cache_read: i64,
    pub cache_write: i64,
    pub prompt_audio: i64,
    pub prompt_image: i64,
    pub reasoning: i64,
    pub completion_audio: i64,
    pub completion_image: i64,
}

/// USD per token of each type; `None` where the model has no rate of its own for a type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenRates {
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

/// A token type, the unit of a cost breakdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenType {
    Input,
    CacheRead,
    CacheWrite,
    PromptAudio,
    PromptImage,
    Output,
    Reasoning,
    CompletionAudio,
    CompletionImage,
}

impl TokenType {
    /// Phoenix's name for the type (its `token_type`), with [`TokenType::is_prompt`] telling the two audios apart.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Input => "input",
            TokenType::CacheRead => "cache_read",
            TokenType::CacheWrite => "cache_write",
            TokenType::PromptAudio | TokenType::CompletionAudio => "audio",
            TokenType::PromptImage | TokenType::CompletionImage => "image",
            TokenType::Output => "output",
            TokenType::Reasoning => "reasoning",
        }
    }

    pub fn is_prompt(self) -> bool {
        matches!(self, TokenType::Input | TokenType::CacheRead | TokenType::CacheWrite | TokenType::PromptAudio | TokenType::PromptImage)
    }
}

/// One line of a cost breakdown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostDetail {
    pub token_type: TokenType,
    pub tokens: i64,
    /// USD per token applied.
    pub rate: f64,
    pub cost: f64,
}

/// What a span's tokens cost, in USD.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SpanCost {
    pub prompt: f64,
    pub completion: f64,
}

impl SpanCost {
    pub fn total(&self) -> f64 {
        self.prompt + self.completion
    }
}

impl TokenCounts {
    /// The counts of a span's `llm.token_count.*` attributes (as the OTLP decoder leaves them,
    /// `gen_ai.usage.*` included).
    pub fn of_span(span: &Span) -> TokenCounts {
        let count = |path: &str| span.token_count(path).max(0);
        TokenCounts {
            prompt: count("llm.token_count.prompt"),
            completion: count("llm.token_count.completion"),
            cache_read: count("llm.token_count.prompt_details.cache_read"),
            cache_write: count("llm.token_count.prompt_details.cache_write"),
            prompt_audio: count("llm.token_count.prompt_details.audio"),
            prompt_image: count("llm.token_count.prompt_details.image"),
            reasoning: count("llm.token_count.completion_details.reasoning"),
            completion_audio: count("llm.token_count.completion_details.audio"),
            completion_image: count("llm.token_count.completion_details.image"),
        }
    }

    pub fn is_zero(&self) -> bool {
        *self == TokenCounts::default()
    }

    /// The breakdown of these tokens at `rates`: each detail type with tokens, then what is left
    /// of the prompt and completion counts as input and output.
    pub fn breakdown(&self, rates: &TokenRates) -> Vec<CostDetail> {
        let mut details = Vec::new();
        let mut line = |token_type: TokenType, tokens: i64, rate: f64| {
            if tokens > 0 {
                details.push(CostDetail { token_type, tokens, rate, cost: tokens as f64 * rate });
            }
        };
        let prompt_details = [
            (TokenType::CacheRead, self.cache_read, rates.cache_read),
            (TokenType::CacheWrite, self.cache_write, rates.cache_write),
            (TokenType::PromptAudio, self.prompt_audio, rates.prompt_audio),
            (TokenType::PromptImage, self.prompt_image, rates.prompt_image),
        ];
        let completion_details = [
            (TokenType::Reasoning, self.reasoning, rates.reasoning),
            (TokenType::CompletionAudio, self.completion_audio, rates.completion_audio),
            (TokenType::CompletionImage, self.completion_image, rates.completion_image),
        ];
        line(TokenType::Input, self.prompt.saturating_sub(prompt_details.iter().map(|d| d.1).sum()), rates.input);
        for (token_type, tokens, rate) in prompt_details {
            line(token_type, tokens, rate.unwrap_or(rates.input));
        }
        line(TokenType::Output, self.completion.saturating_sub(completion_details.iter().map(|d| d.1).sum()), rates.output);
        for (token_type, tokens, rate) in completion_details {
            line(token_type, tokens, rate.unwrap_or(rates.output));
        }
        details
    }

    /// The prompt and completion cost of these tokens at `rates`.
    pub fn cost(&self, rates: &TokenRates) -> SpanCost {
        let mut cost = SpanCost::default();
        for detail in self.breakdown(rates) {
            if detail.token_type.is_prompt() {
                cost.prompt += detail.cost;
            } else {
                cost.completion += detail.cost;
            }
        }
        cost
    }
}

/// The model name and provider a span is priced by (`llm.model_name`, `llm.provider`, falling
/// back to `llm.system`), for LLM spans naming a model; `None` otherwise, as Phoenix prices only those.
pub fn priced_model(span: &Span) -> Option<(String, String)> {
    if span.span_kind != crate::SpanKind::Llm {
        return None;
    }
    let text = |path: &str| match span.attribute(path) {
        Some(Value::String(text)) => Some(text.trim().to_string()).filter(|text| !text.is_empty()),
        _ => None,
    };
    let model = text("llm.model_name")?;
    let provider = text("llm.provider").or_else(|| text("llm.system")).unwrap_or_default().to_ascii_lowercase();
    Some((model, provider))
}

#[cfg(test)]
mod tests;
