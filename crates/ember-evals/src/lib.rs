//! Evaluators that score an experiment run's output.
//!
//! [`code`] holds the built-in code evaluators the CLI's experiment runner offers: exact match,
//! contains, regex, JSON parse, JSON-schema match and numeric tolerance. Each returns an
//! [`EvaluationResult`] shaped as the Phoenix clients record one (`score`, `label`,
//! `explanation`), so runs scored by ember read the same as runs scored by Python.
//!
//! [`providers`] calls LLM providers (OpenAI-compatible APIs and Anthropic) in OpenAI's chat
//! completions wire format, for the playground.

pub mod code;
pub mod providers;
mod result;

pub use code::{CodeEvaluator, EvaluatorSpecError};
pub use result::EvaluationResult;
