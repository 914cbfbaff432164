//! The prompt hub through `POST /graphql`: chat prompts made with Phoenix's typed inputs read
//! back through REST exactly as REST would have stored them, versions and tags, and prompt labels
//! filtering the `prompts` list.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::{test_app, TestApp};

async fn graphql(app: &TestApp, query: &str, variables: Value) -> Value {
    let response = app.post_json("/graphql", &json!({"query": query, "variables": variables})).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()
}

const CREATE: &str = "mutation ($input: CreateChatPromptInput!) { createChatPrompt(input: $input) { id name description metadata \
                      versionTags { id name } } }";

/// A version input with every kind of content part, tools, a tool choice and a response format.
fn full_version() -> Value {
    json!({
        "description": "answers with tools",
        "templateFormat": "MUSTACHE",
        "template": {"messages": [
            {"role": "SYSTEM", "content": [{"text": {"text": "You help."}}]},
            {"role": "USER", "content": [{"text": {"text": "Weather in {{city}}?"}}]},
            {"role": "AI", "content": [{"toolCall": {"toolCallId": "call-1",
                "toolCall": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}}]},
            {"role": "TOOL", "content": [{"toolResult": {"toolCallId": "call-1", "result": {"celsius": 3}}}]},
        ]},
        "invocationParameters": {"anthropic": {
            "maxTokens": 4096, "temperature": 0.5, "stopSequences": ["END"],
            "thinking": {"enabled": {"budgetTokens": 1024, "display": "SUMMARIZED"}},
            "outputConfig": {"effort": "HIGH"},
            "extraBody": {"keepCamelCase": true},
        }},
        "tools": {
            "tools": [
                {"function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object"}, "strict": true}},
                {"raw": {"type": "web_search_20250305", "name": "web_search"}},
            ],
            "toolChoice": {"functionName": "get_weather"},
            "disableParallelToolCalls": true,
        },
        "responseFormat": {"type": "json_schema", "jsonSchema": {"name": "answer", "schema": {"type": "object"}, "strict": true}},
        "modelProvider": "ANTHROPIC",
        "modelName": "claude-sonnet-4",
    })
}

/// The same version as REST's `PromptVersionData` has it.
fn full_version_as_rest() -> Value {
    json!({
        "description": "answers with tools",
        "model_provider": "ANTHROPIC",
        "model_name": "claude-sonnet-4",
        "template": {"type": "chat", "messages": [
            {"role": "system", "content": [{"type": "text", "text": "You help."}]},
            {"role": "user", "content": [{"type": "text", "text": "Weather in {{city}}?"}]},
            {"role": "ai", "content": [{"type": "tool_call", "tool_call_id": "call-1",
                "tool_call": {"type": "function", "name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}]},
            {"role": "tool", "content": [{"type": "tool_result", "tool_call_id": "call-1", "tool_result": {"celsius": 3}}]},
        ]},
        "template_type": "CHAT",
        "template_format": "MUSTACHE",
        "invocation_parameters": {"type": "anthropic", "anthropic": {
            "max_tokens": 4096, "temperature": 0.5, "stop_sequences": ["END"],
            "output_config": {"effort": "high"},
            "thinking": {"type": "enabled", "budget_tokens": 1024, "display": "summarized"},
            "extra_body": {"keepCamelCase": true},
        }},
        "tools": {
            "type": "tools",
            "tools": [
                {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object"}, "strict": true}},
                {"type": "raw", "raw": {"type": "web_search_20250305", "name": "web_search"}},
            ],
            "tool_choice": {"type": "specific_function", "function_name": "get_weather"},
            "disable_parallel_tool_calls": true,
        },
        "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": true}},
    })
}

/// A minimal OpenAI version input.
fn openai_version(model: &str) -> Value {
    json!({
        "templateFormat": "NONE",
        "template": {"messages": [{"role": "USER", "content": [{"text": {"text": "hello"}}]}]},
        "invocationParameters": {"openai": {"temperature": 0.1, "reasoningEffort": "LOW"}},
        "modelProvider": "OPENAI",
        "modelName": model,
    })
}

#[tokio::test]
async fn chat_prompts_made_through_the_graph_read_back_through_rest() {
    let app = test_app().await;
    let input = json!({"name": "weather", "description": "asks", "metadata": {"team": "a"}, "promptVersion": full_version(),
                       "tags": [{"name": "production", "description": "live"}]});
    let created = graphql(&app, CREATE, json!({"input": input})).await;
    let prompt = &created["data"]["createChatPrompt"];
    assert_eq!((prompt["name"].as_str(), prompt["description"].as_str()), (Some("weather"), Some("asks")), "{created}");
    assert_eq!(prompt["metadata"], json!({"team": "a"}));
    assert_eq!(prompt["versionTags"][0]["name"], "production");
    let prompt_id = prompt["id"].as_str().unwrap().to_string();

    // REST reads the version in its own shape: camelCase fields, enum names and one-of inputs
    // become what `POST /v1/prompts` would have stored.
    let latest = app.get("/v1/prompts/weather/latest").await.json();
    let mut data = latest["data"].clone();
    let version_id = data.as_object_mut().unwrap().remove("id").unwrap();
    assert_eq!(data, full_version_as_rest());

    // The tag is a node; the prompt's version by tag is the latest.
    let tag_id = prompt["versionTags"][0]["id"].clone();
    let tag = graphql(
        &app,
        "query ($id: ID!) { node(id: $id) { ... on PromptVersionTag { name description promptVersionId user { id } } } }",
        json!({"id": tag_id}),
    )
    .await;
    assert_eq!(tag["data"]["node"], json!({"name": "production", "description": "live", "promptVersionId": version_id, "user": null}));
    let by_tag = "query ($id: ID!) { node(id: $id) { ... on Prompt { version(tagName: \"production\") { id templateType templateFormat modelProvider } } } }";
    let tagged = graphql(&app, by_tag, json!({"id": prompt_id})).await;
    assert_eq!(
        tagged["data"]["node"]["version"],
        json!({"id": version_id, "templateType": "CHAT", "templateFormat": "MUSTACHE", "modelProvider": "ANTHROPIC"})
    );

    // A second version, tagged through the graph; the tag moves to it.
    let add = "mutation ($input: CreateChatPromptVersionInput!) { createChatPromptVersion(input: $input) { promptVersions { edges { node { id modelName } } } } }";
    let added = graphql(&app, add, json!({"input": {"promptId": prompt_id, "promptVersion": openai_version("gpt-4o")}})).await;
    let versions = &added["data"]["createChatPromptVersion"]["promptVersions"]["edges"];
    assert_eq!(versions.as_array().map(Vec::len), Some(2), "{added}");
    assert_eq!(versions[0]["node"]["modelName"], "gpt-4o", "newest first");
    let second_id = versions[0]["node"]["id"].clone();
    let openai = app.get("/v1/prompts/weather/latest").await.json();
    assert_eq!(
        openai["data"]["invocation_parameters"],
        json!({"type": "openai", "openai": {"temperature": 0.1, "reasoning_effort": "low"}})
    );
    let set = "mutation ($input: SetPromptVersionTagInput!) { setPromptVersionTag(input: $input) { promptVersionTag { id promptVersionId } prompt { id } } }";
    let moved = graphql(&app, set, json!({"input": {"promptVersionId": second_id, "name": "production"}})).await;
    assert_eq!(moved["data"]["setPromptVersionTag"]["promptVersionTag"]["promptVersionId"], second_id);
    let production = app.get("/v1/prompts/weather/tags/production").await.json();
    assert_eq!(production["data"]["id"], second_id);
    let moved_tag = moved["data"]["setPromptVersionTag"]["promptVersionTag"]["id"].clone();
    let delete = "mutation ($input: DeletePromptVersionTagInput!) { deletePromptVersionTag(input: $input) { promptVersionTag { id } prompt { versionTags { name } } } }";
    let deleted = graphql(&app, delete, json!({"input": {"promptVersionTagId": moved_tag}})).await;
    assert_eq!(deleted["data"]["deletePromptVersionTag"]["prompt"]["versionTags"], json!([]), "{deleted}");
    assert_eq!(app.get("/v1/prompts/weather/tags/production").await.status, StatusCode::NOT_FOUND);

    // A taken name, a bad name and parameters REST would refuse are refused, naming the problem.
    let again = graphql(&app, CREATE, json!({"input": {"name": "weather", "promptVersion": openai_version("x")}})).await;
    assert!(again["errors"][0]["message"].as_str().unwrap().contains("already exists"), "{again}");
    let bad_name = graphql(&app, CREATE, json!({"input": {"name": "Not An Identifier", "promptVersion": openai_version("x")}})).await;
    assert!(bad_name["errors"][0]["message"].as_str().unwrap().contains("String should match pattern"), "{bad_name}");
    let mut typo = openai_version("x");
    typo["invocationParameters"] = json!({"openai": {"temperatur": 1}});
    let refused = graphql(&app, CREATE, json!({"input": {"name": "typo", "promptVersion": typo}})).await;
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("temperatur"), "{refused}");
    let mut no_content = openai_version("x");
    no_content["template"]["messages"][0]["content"] = json!([]);
    let empty = graphql(&app, CREATE, json!({"input": {"name": "empty", "promptVersion": no_content}})).await;
    assert!(empty["errors"][0]["message"].as_str().unwrap().contains("at least one content part"), "{empty}");
    assert_eq!(app.get("/v1/prompts/typo/latest").await.status, StatusCode::NOT_FOUND, "nothing was stored");
}

#[tokio::test]
async fn prompt_labels_filter_the_prompt_list() {
    let app = test_app().await;
    let mut ids = Vec::new();
    for name in ["test-prompt", "another-prompt", "test-another"] {
        let created = graphql(&app, CREATE, json!({"input": {"name": name, "promptVersion": openai_version("gpt-4o")}})).await;
        ids.push(created["data"]["createChatPrompt"]["id"].as_str().unwrap().to_string());
    }
    let create_label = "mutation ($input: CreatePromptLabelInput!) { createPromptLabel(input: $input) { promptLabels { id name color } } }";
    let mut labels = Vec::new();
    for (name, color) in [("red", "#FF0000"), ("green", "#00ff00")] {
        let created = graphql(&app, create_label, json!({"input": {"name": name, "description": "a label", "color": color}})).await;
        assert_eq!(created["data"]["createPromptLabel"]["promptLabels"][0]["color"], color, "{created}");
        labels.push(created["data"]["createPromptLabel"]["promptLabels"][0]["id"].as_str().unwrap().to_string());
    }
    let taken = graphql(&app, create_label, json!({"input": {"name": "red", "color": "#000000"}})).await;
    assert!(taken["errors"][0]["message"].as_str().unwrap().contains("already exists"), "{taken}");
    let bad_color = graphql(&app, create_label, json!({"input": {"name": "blue", "color": "blue"}})).await;
    assert!(bad_color["errors"][0]["message"].as_str().unwrap().contains("hex color"), "{bad_color}");

    let set = "mutation ($input: SetPromptLabelsInput!) { setPromptLabels(input: $input) { query { __typename } } }";
    for (prompt, prompt_labels) in [(0, vec![0]), (1, vec![0, 1]), (2, vec![1])] {
        let label_ids: Vec<&String> = prompt_labels.iter().map(|index| &labels[*index]).collect();
        let set = graphql(&app, set, json!({"input": {"promptId": ids[prompt], "promptLabelIds": label_ids}})).await;
        assert!(set.get("errors").is_none(), "{set}");
    }
    let list = "query ($filter: PromptFilter, $labelIds: [ID!]) { prompts(first: 10, filter: $filter, labelIds: $labelIds) { edges { node { name labels { name usageCount } } } } }";
    let names = |answer: &Value| -> Vec<String> {
        answer["data"]["prompts"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|edge| edge["node"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    let by_name = graphql(&app, list, json!({"filter": {"col": "name", "value": "TEST"}, "labelIds": null})).await;
    assert_eq!(names(&by_name), ["test-another", "test-prompt"], "{by_name}");
    let by_red = graphql(&app, list, json!({"filter": null, "labelIds": [labels[0]]})).await;
    assert_eq!(names(&by_red), ["another-prompt", "test-prompt"]);
    let by_either = graphql(&app, list, json!({"filter": null, "labelIds": [labels[0], labels[1]]})).await;
    assert_eq!(names(&by_either), ["test-another", "another-prompt", "test-prompt"]);
    let both = graphql(&app, list, json!({"filter": {"col": "name", "value": "test"}, "labelIds": [labels[1]]})).await;
    assert_eq!(names(&both), ["test-another"]);
    assert_eq!(
        by_red["data"]["prompts"]["edges"][0]["node"]["labels"],
        json!([{"name": "red", "usageCount": 2}, {"name": "green", "usageCount": 2}])
    );

    // Unknown labels change nothing; unsetting and deleting take labels off.
    let unknown = graphql(&app, set, json!({"input": {"promptId": ids[2], "promptLabelIds": [labels[0], "UHJvbXB0TGFiZWw6OTk5"]}})).await;
    assert!(unknown["errors"][0]["message"].as_str().unwrap().contains("does not exist"), "{unknown}");
    let unset = "mutation ($input: UnsetPromptLabelsInput!) { unsetPromptLabels(input: $input) { query { __typename } } }";
    graphql(&app, unset, json!({"input": {"promptId": ids[1], "promptLabelIds": [labels[0]]}})).await;
    let by_red = graphql(&app, list, json!({"filter": null, "labelIds": [labels[0]]})).await;
    assert_eq!(names(&by_red), ["test-prompt"]);
    let delete = "mutation ($input: DeletePromptLabelsInput!) { deletePromptLabels(input: $input) { deletedPromptLabelIds } }";
    let deleted = graphql(&app, delete, json!({"input": {"promptLabelIds": [labels[1]]}})).await;
    assert_eq!(deleted["data"]["deletePromptLabels"]["deletedPromptLabelIds"], json!([labels[1]]));
    let by_green = graphql(&app, list, json!({"filter": null, "labelIds": [labels[1]]})).await;
    assert_eq!(names(&by_green), Vec::<String>::new());
    let remaining = graphql(&app, "{ promptLabels { edges { node { name } } } }", json!({})).await;
    assert_eq!(remaining["data"]["promptLabels"]["edges"], json!([{"node": {"name": "red"}}]));
}
