//! Model prices in Settings: where the built-in table comes from, which price a model gets now,
//! the user-defined prices, and admins' forms to add and delete one. Every rule is the cost
//! service's; these forms turn fields into its inputs and show its answers.

use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};
use ember_core::cost::{ModelPrice, TokenRates};
use ember_core::time::parse_timestamp;
use ember_service::costs::PriceInput;
use ember_service::Caller;
use ember_store::PriceRecord;
use maud::{html, Markup};
use serde::Deserialize;

use super::account::shown;
use super::error::UiResult;
use super::format;
use super::ids::UiPath;
use crate::authentication::RequestCaller;
use crate::AppState;

/// Back to the prices section of Settings with a notice or an error.
fn back(key: &str, message: &str) -> Redirect {
    Redirect::to(&format!("{}#model-prices", super::with_message("/settings", key, message)))
}

/// USD per million tokens, as price lists show them.
fn per_million(rate: f64) -> String {
    let text = format!("{:.4}", rate * 1e6);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A price's rates in words: "$2.5 in / $10 out per 1M; cache read $1.25".
fn describe_rates(rates: &TokenRates) -> String {
    let mut text = format!("${} in / ${} out", per_million(rates.input), per_million(rates.output));
    for (label, rate) in [
        ("cache read", rates.cache_read),
        ("cache write", rates.cache_write),
        ("audio in", rates.prompt_audio),
        ("image in", rates.prompt_image),
        ("reasoning", rates.reasoning),
        ("audio out", rates.completion_audio),
        ("image out", rates.completion_image),
    ] {
        if let Some(rate) = rate {
            text.push_str(&format!("; {label} ${}", per_million(rate)));
        }
    }
    text + " per 1M tokens"
}

fn effective(price: &ModelPrice) -> String {
    price.effective_from.map_or_else(|| "always".to_string(), |from| format!("from {} UTC", format::timestamp(from)))
}

/// What the section shows: the user prices, and the answer to "which price does this model get".
pub(crate) struct PricesView<'a> {
    pub user_prices: &'a [PriceRecord],
    pub built_in_source: (String, String),
    pub lookup: Option<(&'a str, &'a str, Option<ModelPrice>)>,
}

pub(crate) fn section(caller: &Caller, view: &PricesView<'_>) -> Markup {
    let admin = caller.require_admin().is_ok();
    html! {
        h2 #model-prices { "Model prices" }
        p.muted {
            "LLM spans that name a model (llm.model_name, llm.provider) are priced when they arrive, per token type. "
            "Built-in prices come from " (view.built_in_source.0) ", taken on " (view.built_in_source.1) ". "
            "A price defined here wins over the built-in one for the spans it matches from its effective time on; "
            "adding, changing or deleting one re-prices the stored spans it reaches in the background."
        }
        form.toolbar #price-lookup method="get" action="/settings#model-prices" {
            input type="text" name="price_model" placeholder="model name, e.g. gpt-4o" value=[view.lookup.as_ref().map(|l| l.0)]
                aria-label="Model name";
            input type="text" name="price_provider" placeholder="provider (optional)" value=[view.lookup.as_ref().map(|l| l.1)]
                aria-label="Provider";
            button type="submit" { "Which price applies?" }
        }
        @if let Some((model, _, found)) = &view.lookup {
            p #price-lookup-answer {
                @match found {
                    Some(price) => {
                        code { (model) } " is priced as " strong { (price.name) }
                        @if !price.provider.is_empty() { " (" (price.provider) ")" }
                        ", " (price.origin.as_str().replace('_', "-")) ": " (describe_rates(&price.rates)) "."
                    }
                    None => { "No price matches " code { (model) } "; its spans are kept with their tokens, unpriced, until one does." }
                }
            }
        }
        table.grid #user-prices {
            thead { tr { th { "Name" } th { "Pattern" } th { "Provider" } th { "Prices" } th { "Applies" } th {} } }
            tbody {
                @for record in view.user_prices {
                    @let price = &record.price;
                    tr {
                        td { (price.name) }
                        td { code { (price.name_pattern) } }
                        td { (if price.provider.is_empty() { "any" } else { price.provider.as_str() }) }
                        td { (describe_rates(&price.rates)) }
                        td { (effective(price)) }
                        td {
                            @if admin {
                                form.inline method="post" action=(format!("/settings/model-prices/{}/delete", price.id))
                                    data-confirm=(format!("Delete the price {}? The spans it priced are re-priced.", price.name)) {
                                    button.small.danger type="submit" { "Delete" }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if view.user_prices.is_empty() { p.muted { "No user-defined prices: every span is priced from the built-in table." } }
        @if admin {
            h3 { "New model price" }
            form.annotation-form #new-model-price method="post" action="/settings/model-prices" {
                label { "Name" } input type="text" name="name" required placeholder="e.g. gpt-4o (our contract)";
                label { "Model pattern" } input type="text" name="name_pattern" placeholder="regular expression; empty: exactly the name";
                label { "Provider" } input type="text" name="provider" placeholder="e.g. openai; empty: any";
                label { "Input, USD per 1M tokens" } input type="number" name="input" min="0" step="any" required;
                label { "Output, USD per 1M tokens" } input type="number" name="output" min="0" step="any" required;
                label { "Cache read, USD per 1M" } input type="number" name="cache_read" min="0" step="any" placeholder="as input";
                label { "Cache write, USD per 1M" } input type="number" name="cache_write" min="0" step="any" placeholder="as input";
                label { "Reasoning, USD per 1M" } input type="number" name="reasoning" min="0" step="any" placeholder="as output";
                label { "Applies from (UTC)" } input type="datetime-local" name="effective_from" step="1";
                span {} div { button.primary type="submit" { "Add price" } }
            }
        }
    }
}

/// The new-price form; prices per million tokens, empty optional fields absent.
#[derive(Debug, Deserialize)]
pub struct PriceForm {
    name: String,
    #[serde(default)]
    name_pattern: String,
    #[serde(default)]
    provider: String,
    input: String,
    output: String,
    #[serde(default)]
    cache_read: String,
    #[serde(default)]
    cache_write: String,
    #[serde(default)]
    reasoning: String,
    #[serde(default)]
    effective_from: String,
}

/// A per-million price field as USD per token; `None` when empty.
fn per_token(label: &str, text: &str) -> Result<Option<f64>, String> {
    match text.trim() {
        "" => Ok(None),
        text => text.parse::<f64>().map(|rate| Some(rate / 1e6)).map_err(|_| format!("{label}: {text:?} is not a price")),
    }
}

impl PriceForm {
    fn rates(&self) -> Result<TokenRates, String> {
        Ok(TokenRates {
            input: per_token("Input", &self.input)?.ok_or("Input: a price is required")?,
            output: per_token("Output", &self.output)?.ok_or("Output: a price is required")?,
            cache_read: per_token("Cache read", &self.cache_read)?,
            cache_write: per_token("Cache write", &self.cache_write)?,
            reasoning: per_token("Reasoning", &self.reasoning)?,
            ..TokenRates::default()
        })
    }

    fn effective_from(&self) -> Result<Option<i64>, String> {
        match self.effective_from.trim() {
            "" => Ok(None),
            text => parse_timestamp(text).map(Some).ok_or_else(|| format!("{text:?} is not a date and time")),
        }
    }
}

pub async fn create(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Form(form): Form<PriceForm>) -> Response {
    let parsed = form.rates().and_then(|rates| Ok((rates, form.effective_from()?)));
    let (rates, effective_from) = match parsed {
        Ok(parsed) => parsed,
        Err(message) => return back("error", &message).into_response(),
    };
    let input = PriceInput {
        name: &form.name,
        name_pattern: Some(form.name_pattern.as_str()),
        provider: Some(form.provider.as_str()),
        effective_from,
        rates,
    };
    match state.services.costs().create_price(&caller, &input).await {
        Ok(record) => {
            back("notice", &format!("Added the price {}; matching spans are being re-priced.", record.price.name)).into_response()
        }
        Err(error) => back("error", &shown(&error)).into_response(),
    }
}

pub async fn delete(State(state): State<AppState>, RequestCaller(caller): RequestCaller, UiPath(id): UiPath<i64>) -> UiResult<Redirect> {
    let record = state.services.costs().get_price(&caller, id).await?;
    Ok(match state.services.costs().delete_price(&caller, id).await {
        Ok(()) => back("notice", &format!("Deleted the price {}; its spans are being re-priced.", record.price.name)),
        Err(error) => back("error", &shown(&error)),
    })
}
