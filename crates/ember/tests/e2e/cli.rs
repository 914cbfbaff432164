//! The client commands of the real binary against a real server: `ember datasets` and
//! `ember experiments run` with a command task and with an HTTP task, and `ember prompts`.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::process::Ember;
use axum::routing::post;
use axum::Json;
use serde_json::{json, Value};

/// What a finished `ember` client command printed.
struct Finished {
    success: bool,
    stdout: String,
    stderr: String,
}

async fn ember_cli(ember: &Ember, args: &[&str]) -> Finished {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_ember"))
        .args(args)
        .env("PHOENIX_ENDPOINT", &ember.http)
        .env_remove("PHOENIX_API_KEY")
        .env_remove("PHOENIX_CLIENT_HEADERS")
        .output()
        .await
        .expect("run ember");
    Finished {
        success: output.status.success(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

async fn ember_ok(ember: &Ember, args: &[&str]) -> String {
    let finished = ember_cli(ember, args).await;
    assert!(finished.success, "ember {args:?} failed:\n{}\n{}", finished.stdout, finished.stderr);
    finished.stdout
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

async fn examples(ember: &Ember, dataset_id: &str) -> Vec<Value> {
    ember.get_json(&format!("/v1/datasets/{dataset_id}/examples")).await["data"]["examples"].as_array().unwrap().clone()
}

fn without_ids(examples: &[Value]) -> Vec<Value> {
    let mut stripped: Vec<Value> =
        examples.iter().map(|example| json!([example["input"], example["output"], example["metadata"]])).collect();
    stripped.sort_by_key(|value| value.to_string());
    stripped
}

async fn dataset_named(ember: &Ember, name: &str) -> Value {
    let page = ember.get_json(&format!("/v1/datasets?name={name}")).await;
    page["data"][0].clone()
}

#[tokio::test]
async fn datasets_upload_list_and_download_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let ember = Ember::start(dir.path(), &[]).await;
    let csv = write(dir.path(), "qa.csv", "question,answer,level\n2+2,4,easy\n\"3+3, twice\",12,hard\n");

    let refused = ember_cli(&ember, &["datasets", "upload", &csv, "--name", "qa"]).await;
    assert!(!refused.success);
    assert!(refused.stderr.contains("a CSV upload needs --input-keys"), "{}", refused.stderr);
    assert!(ember.get_json("/v1/datasets").await["data"].as_array().unwrap().is_empty(), "nothing was created");

    let printed = ember_ok(
        &ember,
        &[
            "datasets",
            "upload",
            &csv,
            "--name",
            "qa",
            "--description",
            "sums",
            "--input-keys",
            "question",
            "--output-keys",
            "answer",
            "--metadata-keys",
            "level",
        ],
    )
    .await;
    assert!(printed.contains("2 examples created, 0 updated, 0 deleted"), "{printed}");
    let qa = dataset_named(&ember, "qa").await;
    assert_eq!(qa["description"], "sums");
    let stored = examples(&ember, qa["id"].as_str().unwrap()).await;
    assert_eq!(
        without_ids(&stored),
        vec![
            json!([{"question": "2+2"}, {"answer": "4"}, {"level": "easy"}]),
            json!([{"question": "3+3, twice"}, {"answer": "12"}, {"level": "hard"}]),
        ]
    );

    let listed: Value = serde_json::from_str(&ember_ok(&ember, &["datasets", "list", "--json"]).await).unwrap();
    assert_eq!(listed[0]["name"], "qa");
    assert_eq!(listed[0]["example_count"], 2);
    let table = ember_ok(&ember, &["datasets", "list"]).await;
    assert!(table.lines().any(|line| line.contains("qa") && line.contains(qa["id"].as_str().unwrap()) && line.contains(" 2 ")), "{table}");

    // The JSONL download uploads again as records, without naming keys.
    let jsonl = dir.path().join("qa.jsonl").display().to_string();
    ember_ok(&ember, &["datasets", "download", "qa", "--format", "jsonl", "--output", &jsonl]).await;
    assert_eq!(std::fs::read_to_string(&jsonl).unwrap().lines().count(), 2);
    let printed = ember_ok(&ember, &["datasets", "upload", &jsonl, "--name", "qa-copy"]).await;
    assert!(printed.contains("2 examples created"), "{printed}");
    let copy = dataset_named(&ember, "qa-copy").await;
    assert_eq!(without_ids(&examples(&ember, copy["id"].as_str().unwrap()).await), without_ids(&stored));

    // Appending a JSONL file by keys; downloads to stdout at the first version still show two.
    let more = write(dir.path(), "more.jsonl", "{\"q\": \"5+5\", \"a\": \"10\", \"tag\": \"x\"}\n");
    let first_version = ember.get_json(&format!("/v1/datasets/{}/versions", qa["id"].as_str().unwrap())).await["data"][0]["version_id"]
        .as_str()
        .unwrap()
        .to_string();
    ember_ok(&ember, &["datasets", "upload", &more, "--name", "qa", "--action", "append", "--input-keys", "q", "--output-keys", "a"]).await;
    let csv_now = ember_ok(&ember, &["datasets", "download", qa["id"].as_str().unwrap(), "--format", "csv"]).await;
    assert_eq!(csv_now.lines().count(), 4, "{csv_now}");
    assert!(csv_now.contains("5+5"));
    let csv_then = ember_ok(&ember, &["datasets", "download", "qa", "--format", "csv", "--version-id", &first_version]).await;
    assert_eq!(csv_then.lines().count(), 3, "{csv_then}");
    assert!(!csv_then.contains("5+5"));
    let evals = ember_ok(&ember, &["datasets", "download", "qa", "--format", "openai-evals", "--version-id", &first_version]).await;
    assert_eq!(evals.lines().count(), 2);

    let missing = ember_cli(&ember, &["datasets", "download", "nope"]).await;
    assert!(!missing.success);
    assert!(missing.stderr.contains("there is no dataset named `nope`"), "{}", missing.stderr);
    let bad_line = write(dir.path(), "bad.jsonl", "{\"input\": {\"q\": 1}}\n{\"question\": 2}\n");
    let refused = ember_cli(&ember, &["datasets", "upload", &bad_line, "--name", "bad"]).await;
    assert!(refused.stderr.contains("line 2 has no `input` object"), "{}", refused.stderr);
    let unreachable = tokio::process::Command::new(env!("CARGO_BIN_EXE_ember"))
        .args(["datasets", "list", "--endpoint", "http://127.0.0.1:9"])
        .output()
        .await
        .unwrap();
    assert!(!unreachable.status.success());
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("GET /v1/datasets"));
}

/// Creates a dataset of sums over REST; the last expected answer is wrong on purpose.
async fn sums_dataset(ember: &Ember, name: &str, questions: &[(&str, &str)]) -> String {
    let body = json!({
        "action": "create",
        "name": name,
        "inputs": questions.iter().map(|(question, _)| json!({"question": question})).collect::<Vec<_>>(),
        "outputs": questions.iter().map(|(_, answer)| json!({"answer": answer})).collect::<Vec<_>>(),
    });
    let response = ember.client.post(format!("{}/v1/datasets/upload?sync=true", ember.http)).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["data"]["dataset_id"].as_str().unwrap().to_string()
}

/// The cells of the summary's table rows.
fn table_rows(summary: &str) -> Vec<Vec<String>> {
    summary
        .lines()
        .filter(|line| line.starts_with('│'))
        .map(|line| line.split(['│', '┆']).map(str::trim).filter(|cell| !cell.is_empty()).map(str::to_string).collect())
        .collect()
}

/// The experiment the CLI reported creating (its id is in the summary's first line).
fn experiment_id_in(summary: &str) -> String {
    let first = summary.lines().next().unwrap();
    let start = first.find('(').unwrap() + 1;
    let end = first[start..].find(')').unwrap() + start;
    first[start..end].to_string()
}

async fn spans_of(ember: &Ember, project: &str) -> Vec<Value> {
    ember.get_json(&format!("/v1/projects/{project}/spans?limit=1000")).await["data"].as_array().unwrap().clone()
}

const SUM_COMMAND: &str = r#"python3 -c '
import json, sys
example = json.load(sys.stdin)
left, right = example["input"]["question"].split("+")
print(json.dumps({"answer": str(int(left) + int(right))}))
'"#;

#[tokio::test]
async fn experiments_run_a_command_task_and_record_runs_traces_and_evaluations() {
    let dir = tempfile::tempdir().unwrap();
    let ember = Ember::start(dir.path(), &[]).await;
    let dataset_id = sums_dataset(&ember, "sums", &[("2+2", "4"), ("3+3", "6"), ("4+4", "9"), ("boom", "0")]).await;

    let summary = ember_ok(
        &ember,
        &[
            "experiments",
            "run",
            "--dataset",
            "sums",
            "--command",
            SUM_COMMAND,
            "--name",
            "python-sums",
            "--description",
            "adds",
            "--metadata",
            r#"{"model": "python"}"#,
            "--repetitions",
            "2",
            "--retries",
            "1",
            "--concurrency",
            "3",
            "-e",
            "exact_match",
            "-e",
            r#"digits:regex=^\{"answer":"\d+"\}$"#,
            "-e",
            "numeric",
        ],
    )
    .await;
    let experiment_id = experiment_id_in(&summary);
    assert!(summary.contains("Experiment python-sums"), "{summary}");
    // 8 runs: 6 succeeded, the two `boom` repetitions failed; exact_match passed 4 of 6.
    let rows = table_rows(&summary);
    assert_eq!(rows[1][..3], ["8", "6", "2"], "{summary}");
    assert_eq!(rows[3], ["exact_match", "6", "4", "0.667"], "{summary}");
    assert_eq!(rows[4], ["digits", "6", "6", "1.000"], "{summary}");
    assert_eq!(rows[5], ["numeric", "6", "4", "0.667"], "{summary}");
    assert!(summary.contains("CommandFailed: exit status: 1"), "{summary}");

    let experiment = ember.get_json(&format!("/v1/experiments/{experiment_id}")).await["data"].clone();
    assert_eq!(experiment["dataset_id"], dataset_id.as_str());
    assert_eq!(experiment["repetitions"], 2);
    assert_eq!(experiment["metadata"], json!({"model": "python"}));
    assert_eq!(experiment["description"], "adds");
    assert_eq!((experiment["successful_run_count"].as_u64(), experiment["failed_run_count"].as_u64()), (Some(6), Some(2)));
    let project = experiment["project_name"].as_str().unwrap().to_string();

    let runs = ember.get_json(&format!("/v1/experiments/{experiment_id}/runs")).await["data"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 8);
    let examples: HashMap<String, Value> =
        examples(&ember, &dataset_id).await.into_iter().map(|example| (example["id"].as_str().unwrap().to_string(), example)).collect();
    for run in &runs {
        let question = examples[run["dataset_example_id"].as_str().unwrap()]["input"]["question"].as_str().unwrap();
        assert_eq!(run["trace_id"].as_str().unwrap().len(), 32);
        if question == "boom" {
            assert!(run["error"].as_str().unwrap().starts_with("CommandFailed: exit status: 1: Traceback"), "{run}");
            assert_eq!(run["output"], Value::Null);
        } else {
            let (left, right) = question.split_once('+').unwrap();
            let sum = left.parse::<i64>().unwrap() + right.parse::<i64>().unwrap();
            assert_eq!(run["output"], json!({"answer": sum.to_string()}));
            assert_eq!(run["error"], Value::Null);
        }
    }

    // Every attempt is a CHAIN span in the experiment's project: 6 successes, and 2 × 2 attempts
    // at `boom`. The recorded runs point at traces there.
    let task_spans = spans_of(&ember, &project).await;
    assert_eq!(task_spans.len(), 10);
    assert!(task_spans.iter().all(|span| span["name"] == "Task: python3" && span["span_kind"] == "CHAIN" && span["parent_id"].is_null()));
    assert_eq!(task_spans.iter().filter(|span| span["status_code"] == "ERROR").count(), 4);
    let failed_span = task_spans.iter().find(|span| span["status_code"] == "ERROR").unwrap();
    assert_eq!(failed_span["events"][0]["name"], "exception");
    assert_eq!(failed_span["events"][0]["attributes"]["exception.type"], "CommandFailed");
    let ok_span = task_spans.iter().find(|span| span["status_code"] == "OK").unwrap();
    // Attributes as the Python client writes them: `json.dumps` spacing, JSON mime types.
    assert_eq!(ok_span["attributes"]["input.mime_type"], "application/json");
    assert_eq!(ok_span["attributes"]["output.mime_type"], "application/json");
    let input = ok_span["attributes"]["input.value"].as_str().unwrap();
    let question = serde_json::from_str::<Value>(input).unwrap()["question"].as_str().unwrap().to_string();
    assert_eq!(input, format!(r#"{{"question": "{question}"}}"#));
    assert!(ok_span["attributes"]["output.value"].as_str().unwrap().starts_with(r#"{"answer": ""#));
    let traces: HashSet<&str> = task_spans.iter().map(|span| span["context"]["trace_id"].as_str().unwrap()).collect();
    assert!(runs.iter().all(|run| traces.contains(run["trace_id"].as_str().unwrap())));

    // 6 successful runs × 3 evaluators, each an EVALUATOR span in `evaluators` and an evaluation.
    let evaluator_spans = spans_of(&ember, "evaluators").await;
    assert_eq!(evaluator_spans.len(), 18);
    assert!(evaluator_spans
        .iter()
        .all(|span| span["span_kind"] == "EVALUATOR" && span["name"].as_str().unwrap().starts_with("Evaluation: ")));
    let download = ember.get_json(&format!("/v1/experiments/{experiment_id}/json")).await;
    let rows = download.as_array().unwrap();
    assert_eq!(rows.len(), 8);
    let nine = rows.iter().find(|row| row["reference_output"] == json!({"answer": "9"})).unwrap();
    let annotations: HashMap<&str, &Value> =
        nine["annotations"].as_array().unwrap().iter().map(|a| (a["name"].as_str().unwrap(), a)).collect();
    assert_eq!(annotations["exact_match"]["score"], 0.0);
    assert_eq!(annotations["exact_match"]["label"], "False");
    assert_eq!(annotations["exact_match"]["annotator_kind"], "CODE");
    assert_eq!(annotations["numeric"]["explanation"], "8 is 1 from 9, outside the tolerance 0");
    assert_eq!(annotations["digits"]["score"], 1.0);
    let evaluator_traces: HashSet<&str> = evaluator_spans.iter().map(|span| span["context"]["trace_id"].as_str().unwrap()).collect();
    assert!(evaluator_traces.contains(annotations["digits"]["trace_id"].as_str().unwrap()));
    let boom = rows.iter().find(|row| row["input"] == json!({"question": "boom"})).unwrap();
    assert!(boom["annotations"].as_array().unwrap().is_empty(), "failed runs are not evaluated");

    // The experiment project stays hidden from project lists, as the Python client's are.
    let projects = ember.get_json("/v1/projects").await;
    assert!(projects["data"].as_array().unwrap().iter().all(|p| p["name"] != project.as_str()));

    let bad = ember_cli(&ember, &["experiments", "run", "--dataset", "sums", "--command", "cat", "-e", "fuzzy"]).await;
    assert!(!bad.success);
    assert!(bad.stderr.contains("evaluator `fuzzy`: unknown kind `fuzzy`"), "{}", bad.stderr);
    let twice =
        ember_cli(&ember, &["experiments", "run", "--dataset", "sums", "--command", "cat", "-e", "contains=a", "-e", "contains=b"]).await;
    assert!(twice.stderr.contains("two evaluators are named `contains`"), "{}", twice.stderr);
    let neither = ember_cli(&ember, &["experiments", "run", "--dataset", "sums"]).await;
    assert!(!neither.success);
    let experiments = ember.get_json(&format!("/v1/datasets/{dataset_id}/experiments")).await;
    assert_eq!(experiments["data"].as_array().unwrap().len(), 1, "rejected runs create no experiment");
}

/// An HTTP task: answers sums, fails with a 500 on anything else.
async fn start_task_server() -> String {
    async fn answer(Json(example): Json<Value>) -> Result<Json<Value>, (axum::http::StatusCode, String)> {
        let question = example["input"]["question"].as_str().unwrap_or_default();
        match question.split_once('+').and_then(|(left, right)| Some(left.trim().parse::<i64>().ok()? + right.trim().parse::<i64>().ok()?))
        {
            Some(sum) => Ok(Json(json!({"answer": sum, "metadata_seen": example["metadata"]}))),
            None => Err((axum::http::StatusCode::INTERNAL_SERVER_ERROR, format!("cannot add {question}"))),
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().route("/answer", post(answer))).await.unwrap() });
    format!("http://{address}/answer")
}

#[tokio::test]
async fn experiments_run_an_http_task() {
    let dir = tempfile::tempdir().unwrap();
    let ember = Ember::start(dir.path(), &[]).await;
    let dataset_id = sums_dataset(&ember, "http-sums", &[("1+1", "2"), ("2+5", "7"), ("x", "0")]).await;
    let url = start_task_server().await;
    let schema =
        write(dir.path(), "schema.json", r#"{"type": "object", "required": ["answer"], "properties": {"answer": {"type": "integer"}}}"#);

    let summary = ember_ok(
        &ember,
        &[
            "experiments",
            "run",
            "--dataset",
            &dataset_id,
            "--url",
            &url,
            "--task-name",
            "adder",
            "--retries",
            "0",
            "-e",
            &format!("json_schema=@{schema}"),
            "-e",
            "close:numeric=0.5",
            "-e",
            "contains=answer",
        ],
    )
    .await;
    let experiment_id = experiment_id_in(&summary);
    assert!(summary.contains("HttpError: POST"), "{summary}");
    assert!(summary.contains("500 Internal Server Error: cannot add x"), "{summary}");

    let experiment = ember.get_json(&format!("/v1/experiments/{experiment_id}")).await["data"].clone();
    assert_eq!((experiment["successful_run_count"].as_u64(), experiment["failed_run_count"].as_u64()), (Some(2), Some(1)));
    assert!(experiment["name"].as_str().unwrap().starts_with("http-sum-"), "a generated name: {}", experiment["name"]);
    let rows = ember.get_json(&format!("/v1/experiments/{experiment_id}/json")).await;
    let mut scores: Vec<(i64, String, f64)> = Vec::new();
    for row in rows.as_array().unwrap() {
        if row["error"].is_string() {
            continue;
        }
        assert_eq!(row["output"]["metadata_seen"], json!({}), "the task received the whole example");
        for annotation in row["annotations"].as_array().unwrap() {
            scores.push((
                row["output"]["answer"].as_i64().unwrap(),
                annotation["name"].as_str().unwrap().to_string(),
                annotation["score"].as_f64().unwrap(),
            ));
        }
    }
    scores.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    assert_eq!(
        scores,
        vec![
            (2, "close".into(), 1.0),
            (2, "contains".into(), 1.0),
            (2, "json_schema".into(), 1.0),
            (7, "close".into(), 1.0),
            (7, "contains".into(), 1.0),
            (7, "json_schema".into(), 1.0),
        ]
    );
    let task_spans = spans_of(&ember, experiment["project_name"].as_str().unwrap()).await;
    assert_eq!(task_spans.len(), 3, "no retries: one attempt per example");
    assert!(task_spans.iter().all(|span| span["name"] == "Task: adder"));
}

#[tokio::test]
async fn prompts_are_pushed_fetched_tagged_and_rendered() {
    let dir = tempfile::tempdir().unwrap();
    let ember = Ember::start(dir.path(), &[]).await;
    let version = json!({
        "description": "asks",
        "model_provider": "ANTHROPIC", "model_name": "claude-sonnet-4-5",
        "template": {"type": "chat", "messages": [
            {"role": "system", "content": "You answer {{ tone }}."},
            {"role": "user", "content": [{"type": "text", "text": "{{ question }}"}]},
        ]},
        "template_type": "CHAT", "template_format": "MUSTACHE",
        "invocation_parameters": {"type": "anthropic", "anthropic": {"max_tokens": 256, "temperature": 0.3}},
    });
    let file = write(dir.path(), "version.json", &version.to_string());
    let first = ember_ok(&ember, &["prompts", "push", "qa", "--file", &file, "--description", "Q&A", "--tag", "production"]).await;
    let first = first.trim().to_string();
    let mut second_version = version.clone();
    second_version["model_name"] = json!("claude-haiku-4-5");
    let second_file = write(dir.path(), "second.json", &second_version.to_string());
    let second = ember_ok(&ember, &["prompts", "push", "qa", "--file", &second_file]).await.trim().to_string();
    assert_ne!(first, second);

    // get: the latest, a tagged version and one by id, as the API shows them.
    let latest: Value = serde_json::from_str(&ember_ok(&ember, &["prompts", "get", "qa"]).await).unwrap();
    assert_eq!((latest["id"].as_str(), latest["model_name"].as_str()), (Some(second.as_str()), Some("claude-haiku-4-5")));
    let production: Value = serde_json::from_str(&ember_ok(&ember, &["prompts", "get", "qa", "--tag", "production"]).await).unwrap();
    assert_eq!(production["id"], json!(first));
    let mut expected = version.clone();
    expected["id"] = json!(first);
    assert_eq!(production, expected);

    // tag moves production to the latest version; --delete removes it.
    ember_ok(&ember, &["prompts", "tag", "qa", "production"]).await;
    let production: Value = serde_json::from_str(&ember_ok(&ember, &["prompts", "get", "qa", "--tag", "production"]).await).unwrap();
    assert_eq!(production["id"], json!(second));
    ember_ok(&ember, &["prompts", "tag", "qa", "staging", "--version-id", &first]).await;
    assert_eq!(ember.get_json(&format!("/v1/prompt_versions/{first}/tags")).await["data"][0]["name"], "staging");
    ember_ok(&ember, &["prompts", "tag", "qa", "production", "--delete"]).await;
    assert!(!ember_cli(&ember, &["prompts", "get", "qa", "--tag", "production"]).await.success);

    // render: the provider's body with the variables in; from the server or a file.
    let rendered: Value = serde_json::from_str(
        &ember_ok(&ember, &["prompts", "render", "qa", "--tag", "staging", "--var", "tone=briefly", "--var", "question=2+2?"]).await,
    )
    .unwrap();
    assert_eq!(
        rendered,
        json!({"messages": [{"role": "user", "content": "2+2?"}], "model": "claude-sonnet-4-5", "max_tokens": 256,
               "temperature": 0.3, "system": "You answer briefly."})
    );
    let variables = write(dir.path(), "vars.json", r#"{"tone": "in French", "question": "Bonjour?"}"#);
    let openai: Value = serde_json::from_str(
        &ember_ok(&ember, &["prompts", "render", "--file", &file, "--sdk", "openai", "--variables-file", &variables]).await,
    )
    .unwrap();
    assert_eq!(openai["messages"][0], json!({"role": "system", "content": "You answer in French."}));
    assert_eq!(openai["max_completion_tokens"], json!(256));

    let listed: Value = serde_json::from_str(&ember_ok(&ember, &["prompts", "list", "--json"]).await).unwrap();
    assert_eq!((listed[0]["name"].as_str(), listed[0]["description"].as_str()), (Some("qa"), Some("Q&A")));

    // Mistakes are named: a missing variable, a bad file, an unknown prompt, a bad name.
    let missing = ember_cli(&ember, &["prompts", "render", "qa", "--var", "tone=x"]).await;
    assert!(!missing.success && missing.stderr.contains("Missing template variable(s): question"), "{}", missing.stderr);
    let bad = write(dir.path(), "bad.json", &json!({"model_provider": "OPENAI"}).to_string());
    let refused = ember_cli(&ember, &["prompts", "push", "qa", "--file", &bad]).await;
    assert!(!refused.success && refused.stderr.contains("missing field `model_name`"), "{}", refused.stderr);
    let unknown = ember_cli(&ember, &["prompts", "get", "nope"]).await;
    assert!(!unknown.success && unknown.stderr.contains("404"), "{}", unknown.stderr);
    let bad_name = ember_cli(&ember, &["prompts", "push", "Not A Name", "--file", &file]).await;
    assert!(!bad_name.success && bad_name.stderr.contains("String should match pattern"), "{}", bad_name.stderr);
    ember.terminate().await;
}
