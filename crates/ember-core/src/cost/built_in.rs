//! ember's built-in price table: `data/model_prices.json`, generated from LiteLLM's price list
//! (MIT; see `data/LITELLM-LICENSE`) by `scripts/update-model-prices`, with its source and the
//! date it was taken.

use serde::Deserialize;

use super::TokenRates;

/// The table as shipped.
pub const BUILT_IN_TABLE: &str = include_str!("../../data/model_prices.json");

/// The parsed table.
#[derive(Debug, Clone, Deserialize)]
pub struct BuiltInTable {
    /// Where the prices come from.
    pub source: String,
    /// The day they were taken (`YYYY-MM-DD`).
    pub retrieved: String,
    pub models: Vec<BuiltInModel>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BuiltInModel {
    /// Lower case.
    pub name: String,
    /// OpenInference's `llm.provider` value.
    pub provider: String,
    #[serde(flatten)]
    pub rates: TokenRates,
}

/// The shipped table. It is checked by the tests, so parsing it cannot fail at run time.
pub fn built_in_prices() -> BuiltInTable {
    serde_json::from_str(BUILT_IN_TABLE).unwrap_or_else(|_| BuiltInTable {
        source: String::new(),
        retrieved: String::new(),
        models: Vec::new(),
    })
}
