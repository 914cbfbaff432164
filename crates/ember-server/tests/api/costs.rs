//! LLM cost over REST and on the pages: spans priced at ingest from OpenInference and GenAI token
//! attributes, `GET /v1/projects/{p}/cost_summary`, `/v1/model_prices` with its rules, user
//! prices with effective dates re-pricing stored spans in the background, and the UI.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ember_otlp::fixtures::{int_attribute, request, span, string_attribute, with_attributes};
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::common::{test_app, TestResponse};

/// An LLM span (fixture times: 2024-01-01 00:00:00 + `id` seconds) of `model` with these tokens.
fn llm(trace: u8, id: u8, model: &str, provider: &str, prompt: i64, completion: i64) -> ember_otlp::trace::Span {
    let mut attributes = vec![
        string_attribute("llm.model_name", model),
        int_attribute("llm.token_count.prompt", prompt),
        int_attribute("llm.token_count.completion", completion),
        string_attribute("session.id", &format!("session-{trace}")),
    ];
    if !provider.is_empty() {
        attributes.push(string_attribute("llm.provider", provider));
    }
    with_attributes(span(trace, id, None, "LLM"), attributes)
}

async fn summary(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("/v1/projects/p/cost_summary{query}")).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()["data"].clone()
}

fn close(actual: &Value, expected: f64) -> bool {
    actual.as_f64().is_some_and(|actual| (actual - expected).abs() <= 1e-12 + expected.abs() * 1e-9)
}

/// Polls the project's total cost until it is `expected` (re-pricing runs in the background).
async fn wait_for_total(app: &TestApp, expected: f64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let total = summary(app, "").await["total"]["cost"].clone();
        if close(&total, expected) {
            return;
        }
        assert!(Instant::now() < deadline, "total cost stayed {total}, expected {expected}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn spans_are_priced_at_ingest_and_summarised_per_project_trace_and_session() {
    let app = test_app().await;
    let mut cached = llm(1, 1, "gpt-4o", "openai", 1000, 100);
    cached.attributes.push(int_attribute("llm.token_count.prompt_details.cache_read", 200));
    cached.attributes.push(int_attribute("llm.token_count.completion_details.reasoning", 40));
    // GenAI semantic conventions: usage read as OpenInference token counts.
    let mut gen_ai = span(2, 2, None, "CHAIN");
    gen_ai.attributes.clear();
    let gen_ai = with_attributes(
        gen_ai,
        vec![
            string_attribute("gen_ai.operation.name", "chat"),
            string_attribute("gen_ai.request.model", "claude-sonnet-4-5"),
            string_attribute("gen_ai.provider.name", "anthropic"),
            int_attribute("gen_ai.usage.input_tokens", 500),
            int_attribute("gen_ai.usage.output_tokens", 50),
            int_attribute("gen_ai.usage.cache_read.input_tokens", 100),
        ],
    );
    app.ingest(&request(Some("p"), vec![cached, gen_ai, llm(3, 3, "acme-unknown", "", 7, 3), span(4, 4, None, "CHAIN")])).await;

    // gpt-4o: 800 input + 200 cache reads, 100 output (reasoning has no own rate: output's).
    let gpt = 800.0 * 2.5e-6 + 200.0 * 1.25e-6 + 100.0 * 1e-5;
    // claude-sonnet-4-5: 400 input at 3e-6, 100 cache reads at 3e-7, 50 output at 1.5e-5.
    let claude = 400.0 * 3e-6 + 100.0 * 3e-7 + 50.0 * 1.5e-5;
    let all = summary(&app, "").await;
    assert_eq!((all["prompt"]["tokens"].clone(), all["completion"]["tokens"].clone()), (json!(1507), json!(153)), "{all}");
    assert_eq!(all["total"]["tokens"], json!(1660));
    assert!(close(&all["prompt"]["cost"], 800.0 * 2.5e-6 + 200.0 * 1.25e-6 + 400.0 * 3e-6 + 100.0 * 3e-7), "{all}");
    assert!(close(&all["total"]["cost"], gpt + claude), "{all}");
    // A window: the first two spans start at :01 and :02.
    let window = summary(&app, "?start_time=2024-01-01T00:00:02Z&end_time=2024-01-01T00:00:03Z").await;
    assert!(close(&window["total"]["cost"], claude), "{window}");
    let empty = summary(&app, "?start_time=2025-01-01T00:00:00Z").await;
    assert_eq!((empty["total"]["tokens"].clone(), empty["total"]["cost"].clone()), (json!(0), json!(0.0)));

    // Bad input names the problem.
    let bad_time = app.get("/v1/projects/p/cost_summary?start_time=yesterday").await;
    assert_eq!(bad_time.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_time.text().contains("start_time"), "{}", bad_time.text());
    let reversed = app.get("/v1/projects/p/cost_summary?start_time=2024-02-01T00:00:00Z&end_time=2024-01-01T00:00:00Z").await;
    assert_eq!(reversed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reversed.text().contains("start_time must not be after end_time"), "{}", reversed.text());
    assert_eq!(app.get("/v1/projects/nope/cost_summary").await.status, StatusCode::NOT_FOUND);

    // The pages: the project's cost card and columns, the trace's total, tree and breakdown, the session's total.
    let project = app.store.get_project_by_name("p").await.unwrap().unwrap().id;
    let page = app.get(&format!("/projects/{project}?range=all")).await.text();
    assert!(page.contains("<div class=\"label\">Cost</div>"), "{page}");
    assert!(close(&json!(gpt + claude), 0.00523), "the card below reads this total");
    assert!(page.contains("<div class=\"value\">$0.00523</div><div class=\"label\">Cost</div>"), "{page}");
    let trace = app.get(&format!("/projects/{project}/traces/{}", ember_otlp::fixtures::trace_id(1))).await.text();
    assert!(trace.contains("id=\"trace-cost\""), "{trace}");
    assert!(
        trace.contains("id=\"cost-breakdown\"") && trace.contains("prompt cache_read") && trace.contains("completion output"),
        "{trace}"
    );
    assert!(trace.contains("priced as gpt-4o (openai), built-in"), "{trace}");
    let unpriced = app.get(&format!("/projects/{project}/traces/{}", ember_otlp::fixtures::trace_id(3))).await.text();
    assert!(unpriced.contains("no price for model <code>acme-unknown</code>"), "{unpriced}");
    let session = app.store.get_session(None, Some("session-1")).await.unwrap().unwrap();
    let session_page = app.get(&format!("/projects/{project}/sessions/{}", session.rowid)).await.text();
    assert!(session_page.contains("id=\"session-cost\""), "{session_page}");
    let sessions_tab = app.get(&format!("/projects/{project}?tab=sessions&range=all")).await.text();
    assert!(sessions_tab.contains("<th class=\"num\">Cost</th>"), "{sessions_tab}");
}

#[tokio::test]
async fn user_prices_override_from_their_effective_time_and_reprice_stored_spans() {
    let app = test_app().await;
    app.ingest(&request(Some("p"), vec![llm(1, 10, "acme-1", "", 100, 10), llm(2, 40, "acme-1", "", 100, 10)])).await;
    assert!(close(&summary(&app, "").await["total"]["cost"], 0.0));

    // Bad prices are refused with the reason.
    for (body, message) in [
        (json!({"name": " ", "prices": {"input": 0.1, "output": 0.1}}), "name cannot be empty"),
        (json!({"name": "x", "name_pattern": "acme-(", "prices": {"input": 0.1, "output": 0.1}}), "not a valid regular expression"),
        (json!({"name": "x", "prices": {"input": -1, "output": 0.1}}), "prices.input must be a price in USD per token"),
        (json!({"name": "x", "prices": {"input": 0.1, "output": 2.5}}), "prices.output must be a price"),
        (json!({"name": "x", "prices": {"input": 0.1}}), "output"),
        (json!({"name": "x", "prices": {"input": 0.1, "output": 0.1, "video": 1}}), "video"),
        (json!({"name": "x", "prices": {"input": 0.1, "output": 0.1}, "effective_from": "soon"}), "effective_from"),
        (json!({"name": "x", "name_pattern": "a".repeat(1001), "prices": {"input": 0.1, "output": 0.1}}), "longer than 1000"),
    ] {
        let response = app.post_json("/v1/model_prices", &body).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", response.text());
        assert!(response.text().contains(message), "{body}: {}", response.text());
    }

    // From :30 on: the later span is re-priced, the earlier one is not.
    let created = app
        .post_json(
            "/v1/model_prices",
            &json!({"name": "acme", "name_pattern": "^acme-", "effective_from": "2024-01-01T00:00:30Z", "prices": {"input": 0.001, "output": 0.002}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let price = created.json()["data"].clone();
    assert_eq!((price["source"].as_str(), price["provider"].clone()), (Some("user"), Value::Null));
    assert!(price["effective_from"].as_str().unwrap().starts_with("2024-01-01T00:00:30"), "{price}");
    let id = price["id"].as_str().unwrap().to_string();
    wait_for_total(&app, 100.0 * 0.001 + 10.0 * 0.002).await;
    // New spans are priced at once.
    app.ingest(&request(Some("p"), vec![llm(3, 50, "acme-2", "", 1000, 0)])).await;
    assert!(close(&summary(&app, "").await["total"]["cost"], 0.12 + 1.0));

    assert_eq!(app.get(&format!("/v1/model_prices/{id}")).await.json()["data"]["name"], "acme");
    let users = app.get("/v1/model_prices?source=user").await.json();
    assert_eq!(users["data"].as_array().unwrap().len(), 1);
    let built_in = app.get("/v1/model_prices?source=built_in&model=gpt-4o&limit=1000").await.json();
    let gpt_4o = built_in["data"].as_array().unwrap().iter().find(|p| p["name"] == "gpt-4o" && p["provider"] == "openai").cloned().unwrap();
    assert_eq!((gpt_4o["prices"]["input"].clone(), gpt_4o["prices"]["output"].clone()), (json!(2.5e-6), json!(1e-5)));
    assert_eq!(gpt_4o["source"], "built_in");
    assert_eq!(app.get("/v1/model_prices?source=everything").await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Replacing it applies to every span now; deleting it leaves them unpriced again.
    let replaced = app
        .put_json(
            &format!("/v1/model_prices/{id}"),
            &json!({"name": "acme all", "name_pattern": "^acme-", "prices": {"input": 0.0001, "output": 0.0}}),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text());
    wait_for_total(&app, 1200.0 * 0.0001).await;
    assert_eq!(app.delete(&format!("/v1/model_prices/{id}")).await.status, StatusCode::NO_CONTENT);
    wait_for_total(&app, 0.0).await;
    assert_eq!(app.get(&format!("/v1/model_prices/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.delete(&format!("/v1/model_prices/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/v1/model_prices/not-an-id").await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Built-in prices cannot be changed: a user price overrides them.
    let refused = app.delete(&format!("/v1/model_prices/{}", gpt_4o["id"].as_str().unwrap())).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().contains("Built-in prices cannot be changed or deleted"), "{}", refused.text());
}

async fn post_form(app: &TestApp, uri: &str, form: &str) -> TestResponse {
    let request =
        Request::post(uri).header("content-type", "application/x-www-form-urlencoded").body(Body::from(form.to_string())).unwrap();
    app.send(request).await
}

#[tokio::test]
async fn the_settings_page_looks_up_adds_and_deletes_prices() {
    let app = test_app().await;
    let location = |response: &TestResponse| {
        percent_encoding::percent_decode_str(response.headers["location"].to_str().unwrap()).decode_utf8().unwrap().to_string()
    };
    let settings = app.get("/settings?price_model=openai%2FGPT-4o-2030-01-01").await.text();
    assert!(settings.contains("id=\"model-prices\"") && settings.contains("litellm"), "{settings}");
    assert!(
        settings.contains("is priced as <strong>gpt-4o</strong> (openai), built-in: $2.5 in / $10 out; cache read $1.25 per 1M tokens"),
        "{settings}"
    );
    assert!(app.get("/settings?price_model=acme-9").await.text().contains("No price matches <code>acme-9</code>"));

    let bad = post_form(&app, "/settings/model-prices", "name=acme&input=cheap&output=1").await;
    assert!(location(&bad).contains("error=Input: \"cheap\" is not a price"), "{}", location(&bad));
    let bad = post_form(&app, "/settings/model-prices", "name=acme&name_pattern=acme-(&input=1&output=1").await;
    assert!(location(&bad).contains("not a valid regular expression"), "{}", location(&bad));
    let created = post_form(
        &app,
        "/settings/model-prices",
        "name=acme&name_pattern=%5Eacme-&provider=&input=2&output=4&cache_read=0.5&effective_from=",
    )
    .await;
    assert!(location(&created).starts_with("/settings?notice=Added the price acme;"), "{}", location(&created));
    assert!(location(&created).ends_with("#model-prices"));
    let settings = app.get("/settings?price_model=acme-9").await.text();
    assert!(settings.contains("is priced as <strong>acme</strong>, user: $2 in / $4 out; cache read $0.5 per 1M tokens"), "{settings}");
    assert!(settings.contains("<code>^acme-</code>"), "{settings}");

    let id = app.store.list_prices(Some(ember_core::cost::PriceOrigin::User), None, None, 10).await.unwrap().items[0].price.id;
    let deleted = post_form(&app, &format!("/settings/model-prices/{id}/delete"), "").await;
    assert!(location(&deleted).contains("notice=Deleted the price acme"), "{}", location(&deleted));
    assert!(app.get("/settings").await.text().contains("No user-defined prices"));
}
