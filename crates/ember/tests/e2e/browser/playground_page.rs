//! The playground page and dataset upload in Chromium, against a local OpenAI-compatible stub
//! (the one fake: no LLM provider runs here). The stub answers a capital for "Capital of X"
//! and otherwise echoes the last user message, streamed or whole as asked.

use axum::body::Body;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Json;
use serde_json::{json, Value};

use super::driver::{self, Browser};
use super::{project_id, seed};
use crate::process::Ember;

/// The stub's answer to a request's last user message.
fn answer_to(request: &Value) -> String {
    let last = request["messages"].as_array().and_then(|messages| messages.iter().rev().find(|m| m["role"] == "user"));
    let text = last.and_then(|message| message["content"].as_str()).unwrap_or_default();
    match text.strip_prefix("Capital of ") {
        Some("France?") => "Paris".into(),
        Some("Peru?") => "Lima".into(),
        Some(_) => "Paro".into(),
        None => format!("Hello from the stub: {text}"),
    }
}

async fn stub_provider() -> String {
    let handler = |Json(request): Json<Value>| async move {
        let answer = answer_to(&request);
        if request.get("tools").is_some() && request["stream"] == json!(true) {
            // The model calls the first tool, its arguments in two pieces.
            let name = request["tools"][0]["function"]["name"].clone();
            let call = |call: Value| {
                format!("data: {}\n\n", json!({"choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": null}]}))
            };
            let frames = [
                call(json!({"index": 0, "id": "call_1", "type": "function", "function": {"name": name, "arguments": "{\"city\":"}})),
                call(json!({"index": 0, "function": {"arguments": " \"Paris\"}"}})),
                "data: [DONE]\n\n".to_string(),
            ];
            return ([("content-type", "text/event-stream")], Body::from(frames.concat())).into_response();
        }
        if request["stream"] != json!(true) {
            return Json(json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 2}}))
            .into_response();
        }
        // The answer in two pieces, then the usage and the end.
        let (head, tail) = answer.split_at(answer.len() / 2);
        let mut frames = String::new();
        for piece in [head, tail] {
            frames
                .push_str(&format!("data: {}\n\n", json!({"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": null}]})));
        }
        frames.push_str(&format!("data: {}\n\n", json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})));
        frames.push_str(&format!(
            "data: {}\n\ndata: [DONE]\n\n",
            json!({"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3}})
        ));
        ([("content-type", "text/event-stream")], Body::from(frames)).into_response()
    };
    let router = axum::Router::new().route("/v1/chat/completions", post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{address}/v1")
}

/// Chooses `value` in the select `css` as a person would (the page hears the change).
async fn choose(browser: &Browser, css: &str, value: &str) {
    let script = "const s = document.querySelector(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change', {bubbles: true})); return s.value;";
    let chosen = browser.client.execute(script, vec![json!(css), json!(value)]).await.unwrap();
    assert_eq!(chosen, json!(value), "{css} has no option {value}");
}

/// The playground in Chromium: opened from an LLM span and from a prompt version (prefilled),
/// a streamed run with its usage and trace, a tool call shown, a second variant whose provider has no key
/// (explained beside it and when run), up to four variants, saving as a prompt version (a bad
/// name refused in place), and a run over a dataset with an evaluator (a bad evaluator
/// refused in place) whose runs and evaluations land on the experiment page.
#[tokio::test]
async fn the_playground_runs_compares_saves_and_runs_over_a_dataset_in_chromium() {
    if !driver::available() {
        return;
    }
    let base_url = stub_provider().await;
    let dir = tempfile::tempdir().unwrap();
    let ember = Ember::start(dir.path(), &[("OPENAI_API_KEY", "k"), ("OPENAI_BASE_URL", &base_url)]).await;
    seed::support_bot(&ember).await;
    let (dataset, _) = seed::dataset_with_experiments(&ember).await;
    seed::prompt_with_two_versions(&ember).await;
    let browser = Browser::start(&ember.http).await;

    // From an LLM span: its model and messages, taken as sent.
    let project = project_id(&ember, seed::PROJECT).await;
    browser.goto(&format!("/projects/{project}/traces/{}?span={}", seed::AGENT_TRACE, seed::LLM_SPAN)).await;
    browser.click("#open-in-playground").await;
    browser.wait_for("#playground-source").await;
    assert!(browser.text("#playground-source").await.contains(seed::LLM_SPAN));
    let field = |css: &str| format!("return document.querySelector({css:?}).value");
    let value = |css: &str| {
        let script = field(css);
        let client = browser.client.clone();
        async move { client.execute(&script, vec![]).await.unwrap() }
    };
    assert_eq!(value("[data-variant] [name=model_name]").await, json!("gpt-4o-mini"));
    assert_eq!(value("[data-variant] [data-message]:nth-child(2) [name=content]").await, json!("Where is my order #1234?"));
    assert_eq!(value("[data-variant] [name=template_format]").await, json!("NONE"));

    // A fresh page: the default prompt runs, streamed, with its usage and trace.
    browser.goto("/playground").await;
    browser.click("[data-variant] [data-run-variant]").await;
    browser.wait_for_text("[data-variant] [data-run-status]", "done").await;
    assert_eq!(browser.text("[data-variant] [data-output]").await, "Hello from the stub: What is ember?");
    assert!(browser.text("[data-variant] [data-usage]").await.contains("7 prompt + 3 completion tokens"));
    let traced = ember.get_json("/v1/projects/playground/spans").await;
    assert_eq!(traced["data"].as_array().unwrap().len(), 1, "the run is traced in the playground project");

    // A second variant on a provider without a key: explained beside it, and when it runs.
    browser.click("#add-variant").await;
    assert_eq!(browser.count("[data-variant]").await, 2);
    choose(&browser, "[data-variant]:nth-child(2) [name=provider]", "ANTHROPIC").await;
    browser.wait_for_text("[data-variant]:nth-child(2) [data-provider-note]", "no API key for anthropic").await;
    browser.fill("[data-variant]:nth-child(2) [name=model_name]", "claude-3-5-haiku").await;
    browser.click("#run-all").await;
    browser.wait_for_text("[data-variant]:nth-child(2) [data-run-error]", "no API key for anthropic: set ANTHROPIC_API_KEY").await;
    browser.wait_for_text("[data-variant]:nth-child(1) [data-run-status]", "done").await;
    // A variable the template names but the page does not give is named.
    browser.fill("#playground-variables", "{}").await;
    browser.click("[data-variant]:nth-child(1) [data-run-variant]").await;
    browser.wait_for_text("[data-variant]:nth-child(1) [data-run-error]", "Missing template variable(s): question").await;
    browser.fill("#playground-variables", "{\"question\": \"Why?\"}").await;
    // With a tool, the call the model asks for is shown.
    browser.click("[data-variant]:nth-child(1) details.settings summary").await;
    browser.fill("[data-variant]:nth-child(1) [name=tools]", r#"[{"type": "function", "function": {"name": "weather"}}]"#).await;
    browser.click("[data-variant]:nth-child(1) [data-run-variant]").await;
    browser.wait_for_text("[data-variant]:nth-child(1) [data-tool-calls]", r#"→ weather({"city": "Paris"})"#).await;
    browser.fill("[data-variant]:nth-child(1) [name=tools]", "").await;
    // Four at most.
    browser.click("#add-variant").await;
    browser.click("#add-variant").await;
    assert_eq!(browser.count("[data-variant]").await, 4);
    assert_eq!(browser.client.execute("return document.getElementById('add-variant').disabled", vec![]).await.unwrap(), json!(true));
    browser.screenshot("playground-variants").await;
    browser.assert_same_origin().await;

    // Saved as a prompt version: a bad name is refused in the form, a good one makes a prompt.
    browser.fill("#save-prompt [name=prompt_name]", "Not A Name").await;
    browser.click("#save-prompt button[type=submit]").await;
    browser.wait_for_text("#save-prompt [data-form-error]", "String should match pattern").await;
    browser.fill("#save-prompt [name=prompt_name]", "stub-chat").await;
    browser.fill("#save-prompt [name=description]", "from the playground").await;
    browser.click("#save-prompt button[type=submit]").await;
    browser.wait_for("#prompt-versions").await;
    let saved = ember.get_json("/v1/prompts/stub-chat/latest").await;
    assert_eq!(saved["data"]["model_name"], "gpt-4o-mini");
    assert_eq!(saved["data"]["description"], "from the playground");
    assert_eq!(saved["data"]["template"]["messages"][1]["content"], "{{question}}");

    // A prompt version opens prefilled.
    let prompts = ember.get_json("/v1/prompts").await;
    let capital_qa =
        prompts["data"].as_array().unwrap().iter().find(|p| p["name"] == "capital-qa").unwrap()["id"].as_str().unwrap().to_string();
    browser.goto(&format!("/prompts/{}", seed::rowid(&capital_qa))).await;
    browser.click("#prompt-versions tbody tr:last-child .open-in-playground").await;
    browser.wait_for("#playground-source").await;
    assert!(browser.text("#playground-source").await.contains("capital-qa"));
    assert_eq!(value("[data-variant] [data-message] [name=content]").await, json!("Answer briefly: {{question}}"));
    assert_eq!(value("[data-variant] [name=invocation_parameters]").await, json!("{\n  \"temperature\": 0.2\n}"));

    // Over a dataset: a bad evaluator refused in place, then the experiment with its runs.
    browser.fill("[data-variant] [data-message] [name=content]", "Capital of {{q}}").await;
    choose(&browser, "#run-dataset [name=dataset_id]", &dataset.to_string()).await;
    browser.fill("#run-dataset [name=evaluators]", "bogus").await;
    browser.click("#run-dataset button[type=submit]").await;
    browser.wait_for_text("#run-dataset [data-form-error]", "bogus").await;
    browser.fill("#run-dataset [name=evaluators]", "exact_match").await;
    browser.fill("#run-dataset [name=name]", "playground-capitals").await;
    browser.click("#run-dataset button[type=submit]").await;
    browser.wait_for("#runs").await;
    let path = browser.current_path().await;
    assert!(path.starts_with(&format!("/datasets/{dataset}/experiments/")), "{path}");
    let experiment_id = ember_core::GlobalId::encode(ember_core::GlobalType::Experiment, path.rsplit('/').next().unwrap().parse().unwrap());
    let evaluations = poll_evaluations(&ember, &experiment_id, 3).await;
    let mut results: Vec<(String, f64)> = evaluations
        .iter()
        .map(|run| (run["output"].as_str().unwrap_or_default().to_string(), run["evaluations"]["exact_match"]["score"].as_f64().unwrap()))
        .collect();
    results.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(results, [("Lima".to_string(), 1.0), ("Paris".to_string(), 1.0), ("Paro".to_string(), 0.0)]);
    browser.goto(&path).await;
    assert_eq!(browser.count("#runs tbody tr").await, 3);
    assert!(browser.text("#runs").await.contains("Paro"));
    assert_eq!(browser.count("#runs a.task-trace").await, 3, "each run links to its task trace");
    browser.screenshot("playground-experiment").await;
    browser.close().await;
    ember.terminate().await;
}

/// The experiment's runs with their evaluations by name, once `count` runs each have one
/// (the playground records them in the background).
async fn poll_evaluations(ember: &Ember, experiment_id: &str, count: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        // 404 until the first run is recorded.
        let response = ember.client.get(format!("{}/v1/experiments/{experiment_id}/json", ember.http)).send().await.unwrap();
        let runs: Vec<Value> = match response.status().is_success() {
            true => response.json().await.unwrap(),
            false => Vec::new(),
        };
        let evaluated = runs.iter().filter(|run| run["annotations"].as_array().is_some_and(|a| !a.is_empty())).count();
        if runs.len() == count && evaluated == count {
            return runs
                .into_iter()
                .map(|run| {
                    let evaluations: serde_json::Map<String, Value> = run["annotations"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|a| (a["name"].as_str().unwrap().to_string(), a.clone()))
                        .collect();
                    json!({"output": run["output"], "evaluations": evaluations})
                })
                .collect();
        }
        assert!(std::time::Instant::now() < deadline, "the experiment has {} runs, {evaluated} evaluated: {runs:?}", runs.len());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Uploading a file from the datasets page: its columns offered once it is picked, the chosen
/// ones making the examples; a file refused with the reason shown on the page.
#[tokio::test]
async fn a_dataset_is_uploaded_from_a_file_in_chromium() {
    if !driver::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ember = Ember::start(dir.path(), &[]).await;
    let browser = Browser::start(&ember.http).await;
    let csv = dir.path().join("capitals.csv");
    std::fs::write(&csv, "question,answer,topic\n\"Capital of France, please?\",Paris,geo\nCapital of Peru?,Lima,geo\n").unwrap();
    let jsonl = dir.path().join("sums.jsonl");
    std::fs::write(&jsonl, "{\"a\": 1, \"b\": 2, \"sum\": 3}\n{\"a\": 2, \"b\": 2, \"sum\": 4}\n").unwrap();

    browser.goto("/datasets").await;
    let file_input = browser.client.find(fantoccini::Locator::Css("#upload-form [name=file]")).await.unwrap();
    file_input.send_keys(csv.to_str().unwrap()).await.unwrap();
    browser.wait_for_text("[data-upload-hint]", "3 columns").await;
    assert_eq!(browser.count("#upload-columns tbody tr").await, 3);
    // `question` is ticked as input and `answer` as output by their names; `topic` made metadata.
    browser.click("#upload-columns tbody tr:nth-child(3) input[name='metadata_keys[]']").await;
    browser.fill("#upload-form [name=name]", "capitals-file").await;
    browser.click("#upload-form button[type=submit]").await;
    browser.wait_for(".notice").await;
    assert!(browser.text(".notice").await.contains("2 examples added"), "{}", browser.text(".notice").await);
    let datasets = ember.get_json("/v1/datasets?name=capitals-file").await;
    let id = datasets["data"][0]["id"].as_str().unwrap().to_string();
    let examples = ember.get_json(&format!("/v1/datasets/{id}/examples")).await;
    let first = &examples["data"]["examples"][0];
    assert_eq!(first["input"], json!({"question": "Capital of France, please?"}));
    assert_eq!(first["output"], json!({"answer": "Paris"}));
    assert_eq!(first["metadata"], json!({"topic": "geo"}));

    // JSON lines, chosen column by column.
    browser.goto("/datasets").await;
    let file_input = browser.client.find(fantoccini::Locator::Css("#upload-form [name=file]")).await.unwrap();
    file_input.send_keys(jsonl.to_str().unwrap()).await.unwrap();
    browser.wait_for_text("[data-upload-hint]", "3 columns").await;
    browser.click("#upload-columns tbody tr:nth-child(2) input[name='input_keys[]']").await;
    browser.click("#upload-columns tbody tr:nth-child(3) input[name='output_keys[]']").await;
    browser.fill("#upload-form [name=name]", "sums").await;
    browser.click("#upload-form button[type=submit]").await;
    browser.wait_for(".notice").await;
    let datasets = ember.get_json("/v1/datasets?name=sums").await;
    let id = datasets["data"][0]["id"].as_str().unwrap().to_string();
    let examples = ember.get_json(&format!("/v1/datasets/{id}/examples")).await;
    assert_eq!(examples["data"]["examples"][0]["input"], json!({"a": 1, "b": 2}));
    assert_eq!(examples["data"]["examples"][0]["output"], json!({"sum": 3}));

    // The same name again is refused, with the reason on the page.
    browser.goto("/datasets").await;
    let file_input = browser.client.find(fantoccini::Locator::Css("#upload-form [name=file]")).await.unwrap();
    file_input.send_keys(csv.to_str().unwrap()).await.unwrap();
    browser.wait_for_text("[data-upload-hint]", "3 columns").await;
    browser.fill("#upload-form [name=name]", "sums").await;
    browser.click("#upload-form button[type=submit]").await;
    browser.wait_for("#upload-error").await;
    assert!(browser.text("#upload-error").await.contains("sums"), "{}", browser.text("#upload-error").await);
    browser.screenshot("dataset-upload").await;
    browser.close().await;
    ember.terminate().await;
}
