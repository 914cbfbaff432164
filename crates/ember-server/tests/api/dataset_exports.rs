//! Dataset downloads: CSV, JSON lines and the two OpenAI formats, at the latest or an older
//! version, and their errors.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::test_app;

fn lines(text: &str) -> Vec<Value> {
    text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

async fn examples_node_id(app: &crate::common::TestApp, dataset_id: &str) -> String {
    app.get(&format!("/v1/datasets/{dataset_id}/examples")).await.json()["data"]["examples"][0]["node_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn datasets_download_as_csv_jsonl_and_openai_records_at_a_version() {
    let app = test_app().await;
    let chat = json!({
        "name": "chats é", "example_ids": ["a", "b"],
        "inputs": [
            {"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {"name": "f"}}]},
            {"question": "plain", "n": 2},
        ],
        "outputs": [{"messages": [{"role": "assistant", "content": "hello"}]}, {"answer": null}],
        "metadata": [{"source": "log"}, {}],
    });
    let created = app.post_json("/v1/datasets/upload?sync=true", &chat).await.json()["data"].clone();
    let (dataset_id, first_version) = (created["dataset_id"].as_str().unwrap(), created["version_id"].as_str().unwrap());
    let append = json!({"action": "append", "name": "chats é", "inputs": [{"messages": "not a list"}], "outputs": [{"messages": []}]});
    assert_eq!(app.post_json("/v1/datasets/upload", &append).await.status, StatusCode::OK);

    let response = app.get(&format!("/v1/datasets/{dataset_id}/csv")).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.content_type(), "text/csv");
    assert_eq!(response.headers["content-disposition"], "attachment; filename*=UTF-8''chats%20%C3%A9.csv");
    let text = response.text();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    // Phoenix 20.26's columns: dotted keys in first-seen order (PostgreSQL's JSONB orders an
    // object's keys its own way), lists as JSON, a gap turning a number column into floats.
    let mut sorted = header.clone();
    sorted.sort();
    assert_eq!(header[..2], ["id", "node_id"]);
    assert_eq!(
        sorted,
        [
            "id",
            "input.messages",
            "input.n",
            "input.question",
            "input.tools",
            "metadata.source",
            "node_id",
            "output.answer",
            "output.messages"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let cell = |row: usize, column: &str| rows[row][header.iter().position(|h| h == column).unwrap()].to_string();
    assert_eq!(rows.len(), 3);
    assert_eq!(serde_json::from_str::<Value>(&cell(0, "input.messages")).unwrap(), json!([{"role": "user", "content": "hi"}]));
    assert_eq!((cell(0, "id"), cell(0, "node_id")), ("a".to_string(), examples_node_id(&app, dataset_id).await));
    assert_eq!(cell(2, "id"), cell(2, "node_id"), "an example without its own id is named by its GlobalID");
    assert_eq!(
        (cell(0, "metadata.source"), cell(1, "input.question"), cell(1, "input.n"), cell(1, "output.answer"), cell(1, "input.messages")),
        ("log".into(), "plain".into(), "2.0".into(), String::new(), String::new())
    );

    let examples = lines(&app.get(&format!("/v1/datasets/{dataset_id}/jsonl")).await.text());
    assert_eq!(examples.iter().map(|e| e["id"].clone()).collect::<Vec<_>>()[..2], [json!("a"), json!("b")]);
    assert_eq!((&examples[1]["input"], &examples[1]["metadata"]), (&json!({"question": "plain", "n": 2}), &json!({})));
    let keys: Vec<&str> = examples[1].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["id", "node_id", "input", "output", "metadata", "splits"], "Phoenix 20.26's JSONL record");
    assert_eq!(examples[1]["splits"], json!([]));

    let fine_tuning = lines(&app.get(&format!("/v1/datasets/{dataset_id}/jsonl/openai_ft")).await.text());
    assert_eq!(
        fine_tuning[0],
        json!({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}], "tools": [{"type": "function", "function": {"name": "f"}}]})
    );
    assert_eq!((&fine_tuning[1], &fine_tuning[2]), (&json!({"messages": []}), &json!({"messages": []})));

    let evals = lines(&app.get(&format!("/v1/datasets/{dataset_id}/jsonl/openai_evals")).await.text());
    assert_eq!(evals[0], json!({"messages": [{"role": "user", "content": "hi"}], "ideal": "hello"}));
    assert_eq!((&evals[1], &evals[2]), (&json!({"messages": [], "ideal": ""}), &json!({"messages": [], "ideal": ""})));

    // At the first version, without the appended example.
    let old = lines(&app.get(&format!("/v1/datasets/{dataset_id}/jsonl/openai_evals?version_id={first_version}")).await.text());
    assert_eq!(old.len(), 2);

    for uri in [
        "/v1/datasets/not-an-id/csv".to_string(),
        "/v1/datasets/RGF0YXNldDo5OQ==/jsonl".to_string(),
        format!("/v1/datasets/{dataset_id}/jsonl/openai_ft?version_id=bad"),
        format!("/v1/datasets/{dataset_id}/csv?version_id=RGF0YXNldFZlcnNpb246OTk="),
    ] {
        assert_eq!(app.get(&uri).await.status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}");
    }
}
