use serde_json::json;

use super::book::date_suffix_stripped;
use super::*;
use crate::{Span, SpanKind, StatusCode};

fn rates(input: f64, output: f64) -> TokenRates {
    TokenRates { input, output, ..TokenRates::default() }
}

fn price(id: i64, name: &str, provider: &str, origin: PriceOrigin, effective_from: Option<i64>, input: f64) -> ModelPrice {
    let name_pattern = match origin {
        PriceOrigin::BuiltIn => exact_pattern(name),
        PriceOrigin::User => name.to_string(),
    };
    ModelPrice { id, name: name.into(), name_pattern, provider: provider.into(), origin, effective_from, rates: rates(input, input * 4.0) }
}

fn found(book: &PriceBook, model: &str, provider: &str, at: i64) -> Option<i64> {
    book.find(model, provider, at).map(|price| price.id)
}

fn llm_span(attributes: serde_json::Value) -> Span {
    Span {
        trace_id: "t".into(),
        span_id: "s".into(),
        parent_id: None,
        name: "llm".into(),
        span_kind: SpanKind::Llm,
        start_time: 0,
        end_time: 1,
        status_code: StatusCode::Ok,
        status_message: String::new(),
        attributes: attributes.as_object().cloned().unwrap_or_default(),
        events: Vec::new(),
    }
}

#[test]
fn plain_prompt_and_completion_tokens_cost_input_and_output() {
    let tokens = TokenCounts { prompt: 1000, completion: 200, ..TokenCounts::default() };
    let cost = tokens.cost(&rates(2.5e-6, 1e-5));
    assert!((cost.prompt - 0.0025).abs() < 1e-12, "{cost:?}");
    assert!((cost.completion - 0.002).abs() < 1e-12, "{cost:?}");
    assert!((cost.total() - 0.0045).abs() < 1e-12);
}

#[test]
fn every_token_type_is_priced_at_its_own_rate_and_the_rest_as_input_or_output() {
    let tokens = TokenCounts {
        prompt: 1000,
        cache_read: 400,
        cache_write: 100,
        prompt_audio: 50,
        prompt_image: 10,
        completion: 300,
        reasoning: 200,
        completion_audio: 20,
        completion_image: 5,
    };
    let all = TokenRates {
        input: 1.0,
        output: 2.0,
        cache_read: Some(0.1),
        cache_write: Some(1.25),
        prompt_audio: Some(3.0),
        prompt_image: Some(4.0),
        reasoning: Some(5.0),
        completion_audio: Some(6.0),
        completion_image: Some(7.0),
    };
    let lines: Vec<(&str, bool, i64, f64)> =
        tokens.breakdown(&all).iter().map(|d| (d.token_type.as_str(), d.token_type.is_prompt(), d.tokens, d.cost)).collect();
    assert_eq!(
        lines,
        vec![
            ("input", true, 440, 440.0),
            ("cache_read", true, 400, 40.0),
            ("cache_write", true, 100, 125.0),
            ("audio", true, 50, 150.0),
            ("image", true, 10, 40.0),
            ("output", false, 75, 150.0),
            ("reasoning", false, 200, 1000.0),
            ("audio", false, 20, 120.0),
            ("image", false, 5, 35.0),
        ]
    );
    let cost = tokens.cost(&all);
    assert_eq!((cost.prompt, cost.completion), (795.0, 1305.0));
}

#[test]
fn detail_types_without_a_rate_fall_back_to_input_and_output() {
    let tokens = TokenCounts { prompt: 100, cache_read: 60, completion: 10, reasoning: 4, ..TokenCounts::default() };
    let cost = tokens.cost(&rates(1.0, 10.0));
    assert_eq!((cost.prompt, cost.completion), (100.0, 100.0));
}

#[test]
fn details_larger_than_the_total_do_not_make_negative_tokens() {
    let tokens = TokenCounts { prompt: 10, cache_read: 50, ..TokenCounts::default() };
    let lines = tokens.breakdown(&TokenRates { cache_read: Some(0.5), ..rates(1.0, 1.0) });
    assert_eq!(lines.len(), 1);
    assert_eq!((lines[0].token_type, lines[0].tokens, lines[0].cost), (TokenType::CacheRead, 50, 25.0));
}

#[test]
fn counts_come_from_openinference_attributes_nested_or_flat() {
    let span = llm_span(json!({
        "llm": {"model_name": "gpt-4o", "provider": "OpenAI", "token_count": {"prompt": 120, "completion": "30",
            "prompt_details": {"cache_read": 20, "audio": 5}, "completion_details": {"reasoning": 12}}},
        "llm.token_count.completion_details.audio": -3,
    }));
    let counts = TokenCounts::of_span(&span);
    assert_eq!(
        counts,
        TokenCounts { prompt: 120, completion: 30, cache_read: 20, prompt_audio: 5, reasoning: 12, ..TokenCounts::default() }
    );
    assert_eq!(priced_model(&span), Some(("gpt-4o".into(), "openai".into())));
}

#[test]
fn only_llm_spans_naming_a_model_are_priced() {
    assert_eq!(priced_model(&llm_span(json!({"llm": {"token_count": {"prompt": 3}}}))), None);
    assert_eq!(priced_model(&llm_span(json!({"llm": {"model_name": "  "}}))), None);
    let mut chain = llm_span(json!({"llm": {"model_name": "gpt-4o"}}));
    chain.span_kind = SpanKind::Chain;
    assert_eq!(priced_model(&chain), None);
    let system_only = llm_span(json!({"llm": {"model_name": "claude-sonnet-4-5", "system": "anthropic"}}));
    assert_eq!(priced_model(&system_only), Some(("claude-sonnet-4-5".into(), "anthropic".into())));
}

#[test]
fn built_in_names_match_with_provider_prefixes_dates_and_any_case() {
    let book = PriceBook::new(vec![price(1, "gpt-4o", "openai", PriceOrigin::BuiltIn, None, 1.0)]);
    for model in ["gpt-4o", "GPT-4o", " gpt-4o ", "openai/gpt-4o", "gpt-4o-2024-08-06", "openai/gpt-4o-20240806"] {
        assert_eq!(found(&book, model, "", 0), Some(1), "{model}");
    }
    for model in ["gpt-4o-mini", "gpt-4", "xgpt-4o", ""] {
        assert_eq!(found(&book, model, "", 0), None, "{model}");
    }
    assert_eq!(date_suffix_stripped("claude-3-5-sonnet@20240620"), Some("claude-3-5-sonnet"));
    assert_eq!(date_suffix_stripped("gpt-4o-2024-08"), None);
    assert_eq!(date_suffix_stripped("é-2024-08-06"), Some("é"));
}

#[test]
fn built_ins_prefer_the_spans_provider_then_the_home_provider() {
    let book = PriceBook::new(vec![
        price(1, "gpt-4o", "azure", PriceOrigin::BuiltIn, None, 1.0),
        price(2, "gpt-4o", "openai", PriceOrigin::BuiltIn, None, 2.0),
    ]);
    assert_eq!(found(&book, "gpt-4o", "azure", 0), Some(1));
    assert_eq!(found(&book, "gpt-4o", "openai", 0), Some(2));
    assert_eq!(found(&book, "gpt-4o", "", 0), Some(2));
    assert_eq!(found(&book, "gpt-4o", "openrouter", 0), Some(2));
}

#[test]
fn user_prices_win_over_built_ins_and_order_among_themselves() {
    let book = PriceBook::new(vec![
        price(1, "gpt-4o", "openai", PriceOrigin::BuiltIn, None, 1.0),
        price(10, "gpt-4.*", "", PriceOrigin::User, None, 2.0),
        price(11, "gpt-4o", "", PriceOrigin::User, None, 3.0),
        price(12, "gpt-4o", "azure", PriceOrigin::User, None, 4.0),
        price(13, "^gpt", "", PriceOrigin::User, None, 5.0),
        price(14, "^gpt\\-4o\\.1$", "", PriceOrigin::User, None, 6.0),
    ]);
    // An anchored, escaped name is as specific as plain text.
    assert_eq!(found(&book, "gpt-4o.1", "", 0), Some(14));
    // A literal pattern beats regular expressions; the span's provider beats both.
    assert_eq!(found(&book, "gpt-4o", "openai", 0), Some(11));
    assert_eq!(found(&book, "gpt-4o", "azure", 0), Some(12));
    // Among regular expressions, the newest.
    assert_eq!(found(&book, "gpt-4-turbo", "", 0), Some(13));
    // A price for another provider does not apply.
    let azure_only = PriceBook::new(vec![
        price(1, "gpt-4o", "openai", PriceOrigin::BuiltIn, None, 1.0),
        price(12, "gpt-4o", "azure", PriceOrigin::User, None, 4.0),
    ]);
    assert_eq!(found(&azure_only, "gpt-4o", "openai", 0), Some(1));
    assert_eq!(found(&azure_only, "gpt-4o", "", 0), Some(12));
}

#[test]
fn effective_dates_keep_history() {
    let book = PriceBook::new(vec![
        price(1, "gpt-4o", "openai", PriceOrigin::BuiltIn, None, 1.0),
        price(2, "gpt-4o", "openai", PriceOrigin::BuiltIn, Some(1_000), 0.5),
        price(10, "gpt-4o", "", PriceOrigin::User, Some(2_000), 3.0),
        price(11, "gpt-4o", "", PriceOrigin::User, Some(3_000), 4.0),
    ]);
    assert_eq!(found(&book, "gpt-4o", "openai", 999), Some(1));
    assert_eq!(found(&book, "gpt-4o", "openai", 1_000), Some(2));
    assert_eq!(found(&book, "gpt-4o", "openai", 2_500), Some(10));
    assert_eq!(found(&book, "gpt-4o", "openai", 9_000), Some(11));
}

#[test]
fn bad_patterns_are_refused_with_a_reason() {
    assert!(compile_pattern("gpt-(4o").unwrap_err().starts_with("name_pattern is not a valid regular expression"));
    assert_eq!(compile_pattern("a{1000}{1000}").unwrap_err(), "name_pattern is too large");
    assert!(compile_pattern("(?i)^gpt-4o$").is_ok());
}

#[test]
fn the_shipped_table_parses_and_prices_gpt_4o_at_list_price() {
    let table: BuiltInTable = serde_json::from_str(BUILT_IN_TABLE).expect("data/model_prices.json parses");
    assert!(table.models.len() > 300, "{} models", table.models.len());
    assert!(table.source.contains("litellm"), "{}", table.source);
    assert_eq!(table.retrieved.len(), 10);
    let gpt_4o = table.models.iter().find(|m| m.name == "gpt-4o" && m.provider == "openai").expect("gpt-4o from openai");
    assert_eq!((gpt_4o.rates.input, gpt_4o.rates.output), (2.5e-6, 1e-5));
    assert!(table.models.iter().all(|m| m.name == m.name.to_ascii_lowercase() && m.rates.input >= 0.0 && m.rates.output >= 0.0));
}
