//! Which price applies to a span: the price book and its precedence rules.
//!
//! A span names a model (`llm.model_name`) and maybe a provider; it started at some time. Prices
//! whose effective time is after the span's start do not apply to it, so a new price never
//! rewrites history. Of the rest:
//! 1. user-defined prices come first: those whose `name_pattern` (a regular expression, searched
//!    in the model name as Phoenix does) matches, for the span's provider or for any provider.
//!    Preferred: one for the span's provider, then a literal pattern over a regular expression,
//!    then the latest effective time, then the newest price;
//! 2. otherwise the built-in table, by model name (case-insensitive), trying the name as given,
//!    then without a `provider/` prefix, then without a date suffix (`-2024-08-06`,
//!    `-20241022`, `@20240620`). Preferred: the span's provider, then the provider the model is
//!    best known from, then the latest effective time.

use std::collections::HashMap;

use regex::{Regex, RegexBuilder};

use super::TokenRates;

/// Where a price comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceOrigin {
    /// ember's table (see [`super::BUILT_IN_TABLE`]).
    BuiltIn,
    /// Defined by a user, overriding the built-in table.
    User,
}

impl PriceOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            PriceOrigin::BuiltIn => "built_in",
            PriceOrigin::User => "user",
        }
    }
}

/// A model's per-token prices from some time on.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPrice {
    pub id: i64,
    /// The model's name (built-in), or the user's label for the price.
    pub name: String,
    /// User prices: the regular expression searched in `llm.model_name`. Built-in prices match
    /// their `name` instead (this holds it, escaped and anchored, for display).
    pub name_pattern: String,
    /// The `llm.provider` it is for; empty for any provider.
    pub provider: String,
    pub origin: PriceOrigin,
    /// Unix nanoseconds from which it applies; `None` for always.
    pub effective_from: Option<i64>,
    pub rates: TokenRates,
}

/// Compiled size above which a user's pattern is refused (a pattern is user input).
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// Compiles a user's `name_pattern`, or says why it is not a usable regular expression.
pub fn compile_pattern(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern).size_limit(PATTERN_SIZE_LIMIT).build().map_err(|error| match error {
        regex::Error::CompiledTooBig(_) => "name_pattern is too large".to_string(),
        error => format!("name_pattern is not a valid regular expression: {}", error.to_string().lines().last().unwrap_or_default().trim()),
    })
}

/// Providers a built-in model is best known from, most preferred first, for spans that name no
/// provider of the model's (a `gpt-4o` span without `llm.provider` is priced as OpenAI's).
const HOME_PROVIDERS: [&str; 8] = ["openai", "anthropic", "google", "mistralai", "xai", "deepseek", "cohere", "aws"];

/// Prices by lookup structure: user patterns compiled once, built-ins by name.
#[derive(Debug, Default)]
pub struct PriceBook {
    prices: Vec<ModelPrice>,
    /// (index in `prices`, compiled pattern, whether the pattern is a plain literal).
    user: Vec<(usize, Regex, bool)>,
    /// Lower-case model name → indices in `prices`.
    built_in: HashMap<String, Vec<usize>>,
}

impl PriceBook {
    /// A book of these prices. A user price whose pattern does not compile (it was checked when
    /// saved, so only a damaged row) is left out and logged by the caller's choice of prices.
    pub fn new(prices: Vec<ModelPrice>) -> PriceBook {
        let mut book = PriceBook { prices, ..PriceBook::default() };
        for (index, price) in book.prices.iter().enumerate() {
            match price.origin {
                PriceOrigin::BuiltIn => book.built_in.entry(price.name.to_ascii_lowercase()).or_default().push(index),
                PriceOrigin::User => {
                    if let Ok(pattern) = compile_pattern(&price.name_pattern) {
                        book.user.push((index, pattern, is_literal(&price.name_pattern)));
                    }
                }
            }
        }
        book
    }

    pub fn prices(&self) -> &[ModelPrice] {
        &self.prices
    }

    pub fn get(&self, id: i64) -> Option<&ModelPrice> {
        self.prices.iter().find(|price| price.id == id)
    }

    /// The price of `model` from `provider` (lower case; empty when unknown) for a span that
    /// started at `start_time`, as the module documentation orders them.
    pub fn find(&self, model: &str, provider: &str, start_time: i64) -> Option<&ModelPrice> {
        let model = model.trim();
        if model.is_empty() {
            return None;
        }
        self.find_user(model, provider, start_time).or_else(|| self.find_built_in(model, provider, start_time))
    }

    fn find_user(&self, model: &str, provider: &str, start_time: i64) -> Option<&ModelPrice> {
        self.user
            .iter()
            .map(|(index, pattern, literal)| (&self.prices[*index], pattern, *literal))
            .filter(|(price, pattern, _)| {
                applies_at(price, start_time)
                    && (price.provider.is_empty() || provider.is_empty() || price.provider == provider)
                    && pattern.is_match(model)
            })
            .max_by_key(|(price, _, literal)| {
                (!provider.is_empty() && price.provider == provider, *literal, price.effective_from, price.id)
            })
            .map(|(price, _, _)| price)
    }

    fn find_built_in(&self, model: &str, provider: &str, start_time: i64) -> Option<&ModelPrice> {
        let lower = model.to_ascii_lowercase();
        let unprefixed = lower.rsplit('/').next().unwrap_or(&lower);
        let candidates = [Some(lower.as_str()), Some(unprefixed), without_date_suffix(unprefixed)]
            .into_iter()
            .flatten()
            .find_map(|name| self.built_in.get(name))?;
        let home_rank = |price: &ModelPrice| {
            HOME_PROVIDERS.iter().position(|home| *home == price.provider).map_or(0, |position| HOME_PROVIDERS.len() - position)
        };
        candidates
            .iter()
            .map(|index| &self.prices[*index])
            .filter(|price| applies_at(price, start_time))
            .max_by_key(|price| (!provider.is_empty() && price.provider == provider, home_rank(price), price.effective_from, price.id))
    }
}

/// The pattern matching exactly `name`: escaped and anchored.
pub fn exact_pattern(name: &str) -> String {
    format!("^{}$", regex::escape(name))
}

/// Whether a pattern names one text rather than a family (plain text, maybe anchored and with
/// escaped characters), which makes it more specific than a regular expression.
fn is_literal(pattern: &str) -> bool {
    // Anchored at both ends or at neither: `^gpt` is a family of names.
    let inner = match pattern.strip_prefix('^').and_then(|rest| rest.strip_suffix('$')) {
        Some(inner) if !inner.ends_with('\\') => inner,
        _ => pattern,
    };
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) if !escaped.is_ascii_alphanumeric() => {}
                _ => return false,
            },
            c if "\\.+*?()|[]{}^$".contains(c) => return false,
            _ => {}
        }
    }
    true
}

fn applies_at(price: &ModelPrice, start_time: i64) -> bool {
    price.effective_from.is_none_or(|from| from <= start_time)
}

/// `name` without a trailing release date (`-2024-08-06`, `-20241022`, `@20240620`), if it has one.
fn without_date_suffix(name: &str) -> Option<&str> {
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let bytes = name.len();
    if bytes > 11 && name.is_char_boundary(bytes - 11) {
        let (head, tail) = name.split_at(bytes - 11);
        let parts: Vec<&str> = tail[1..].split('-').collect();
        if tail.starts_with('-') && parts.len() == 3 && parts[0].len() == 4 && parts.iter().all(|p| digits(p)) {
            return Some(head);
        }
    }
    if bytes > 9 && name.is_char_boundary(bytes - 9) {
        let (head, tail) = name.split_at(bytes - 9);
        if (tail.starts_with('-') || tail.starts_with('@')) && digits(&tail[1..]) {
            return Some(head);
        }
    }
    None
}

#[cfg(test)]
pub(super) fn date_suffix_stripped(name: &str) -> Option<&str> {
    without_date_suffix(name)
}
