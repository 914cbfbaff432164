//! Experiments over the REST API: creation (names, versions, splits, the hidden project), runs
//! (409 on a successful one, failed ones replaced), evaluations (upsert), incomplete runs and
//! evaluations, tags, downloads, and every error path.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::{test_app, TestApp};

/// A dataset "arith" of three examples (the third in split "hard") and its examples' node ids.
async fn arith_dataset(app: &TestApp) -> (String, String, Vec<String>) {
    let body = json!({
        "name": "arithmetic", "inputs": [{"q": "1+1"}, {"q": "2+2"}, {"q": "3+3"}],
        "outputs": [{"a": 2}, {"a": 4}, {"a": 6}], "metadata": [{"n": 1}, {"n": 2}, {"n": 3}],
        "splits": [null, null, "hard"], "example_ids": ["one", null, null],
    });
    let created = app.post_json("/v1/datasets/upload?sync=true", &body).await.json()["data"].clone();
    let dataset_id = created["dataset_id"].as_str().unwrap().to_string();
    let examples = app.get(&format!("/v1/datasets/{dataset_id}/examples")).await.json();
    let node_ids = examples["data"]["examples"].as_array().unwrap().iter().map(|e| e["node_id"].as_str().unwrap().to_string()).collect();
    (dataset_id, created["version_id"].as_str().unwrap().to_string(), node_ids)
}

async fn create_experiment(app: &TestApp, dataset_id: &str, body: Value) -> Value {
    let response = app.post_json(&format!("/v1/datasets/{dataset_id}/experiments"), &body).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()["data"].clone()
}

pub(crate) fn run(example: &str, repetition: i64, output: Value, error: Option<&str>) -> Value {
    json!({
        "dataset_example_id": example, "output": output, "repetition_number": repetition,
        "start_time": "2026-11-22T10:00:00+00:00", "end_time": "2026-11-22T10:00:01.5+00:00",
        "trace_id": "0123456789abcdef0123456789abcdef", "error": error,
        // What the Python client also sends; ignored.
        "id": "temp-1234", "experiment_id": "x",
    })
}

async fn post_run(app: &TestApp, experiment_id: &str, body: Value) -> (StatusCode, Value) {
    let response = app.post_json(&format!("/v1/experiments/{experiment_id}/runs"), &body).await;
    let body = if response.status == StatusCode::OK { response.json() } else { json!(response.text()) };
    (response.status, body)
}

pub(crate) fn evaluation(run_id: &str, name: &str, result: Value, error: Option<&str>) -> Value {
    json!({
        "experiment_run_id": run_id, "name": name, "annotator_kind": "CODE",
        "start_time": "2026-11-22T10:00:02+00:00", "end_time": "2026-11-22T10:00:03+00:00",
        "result": result, "error": error, "metadata": {"by": "test"}, "trace_id": null,
    })
}

#[tokio::test]
async fn experiments_are_created_read_listed_patched_and_deleted() {
    let app = test_app().await;
    let (dataset_id, first_version, _) = arith_dataset(&app).await;
    app.post_json("/v1/datasets/upload", &json!({"action": "append", "name": "arithmetic", "inputs": [{"q": "4+4"}]})).await;

    // Unnamed: a generated name; the latest version, all four examples.
    let latest = create_experiment(&app, &dataset_id, json!({})).await;
    let name = latest["name"].as_str().unwrap();
    assert!(name.starts_with("arithmet-") && name.len() == "arithmet-".len() + 8, "{name}");
    assert_eq!((latest["example_count"].as_i64(), latest["repetitions"].as_i64()), (Some(4), Some(1)));
    assert_eq!((latest["successful_run_count"].as_i64(), latest["failed_run_count"].as_i64()), (Some(0), Some(0)));
    assert_eq!(latest["missing_run_count"], 4);
    assert_eq!(latest["metadata"], json!({}));
    assert_ne!(latest["dataset_version_id"], first_version.as_str());

    // At the first version, in split "hard", repeated twice.
    let hard = create_experiment(
        &app,
        &dataset_id,
        json!({"name": "hard-one", "description": "d", "metadata": {"model": "m"}, "version_id": first_version, "splits": ["hard"], "repetitions": 2}),
    )
    .await;
    assert_eq!(hard["dataset_version_id"], first_version.as_str());
    assert_eq!((hard["example_count"].as_i64(), hard["missing_run_count"].as_i64()), (Some(1), Some(2)));
    let project = hard["project_name"].as_str().unwrap().to_string();
    assert!(project.starts_with("Experiment-") && project.len() == "Experiment-".len() + 24, "{project}");
    let project_json = app.get(&format!("/v1/projects/{project}")).await.json();
    assert!(project_json["data"]["description"].as_str().unwrap().contains(&dataset_id));

    // The experiment projects are hidden from project lists unless asked for.
    let names =
        |listed: Value| listed["data"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(names(app.get("/v1/projects").await.json()), vec!["default"]);
    assert_eq!(names(app.get("/v1/projects?include_experiment_projects=true").await.json()).len(), 3);

    let hard_id = hard["id"].as_str().unwrap().to_string();
    assert_eq!(app.get(&format!("/v1/experiments/{hard_id}")).await.json()["data"], hard);
    let listed = app.get(&format!("/v1/datasets/{dataset_id}/experiments?limit=1")).await.json();
    assert_eq!(listed["data"][0]["id"], hard_id.as_str());
    let cursor = listed["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/v1/datasets/{dataset_id}/experiments?limit=1&cursor={cursor}")).await.json();
    assert_eq!((rest["data"][0]["id"].clone(), rest["next_cursor"].clone()), (latest["id"].clone(), Value::Null));

    // PATCH changes only what it names; a null description clears it.
    let patched = app.patch_json(&format!("/v1/experiments/{hard_id}"), &json!({"name": "renamed", "description": null})).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());
    let patched = patched.json()["data"].clone();
    assert_eq!(
        (patched["name"].as_str(), &patched["description"], &patched["metadata"]),
        (Some("renamed"), &Value::Null, &json!({"model": "m"}))
    );
    let replaced = app.patch_json(&format!("/v1/experiments/{hard_id}"), &json!({"metadata": {"v": 2}})).await.json()["data"].clone();
    assert_eq!((replaced["name"].as_str(), &replaced["metadata"]), (Some("renamed"), &json!({"v": 2})));

    // Errors name the problem.
    let cases = [
        (format!("/v1/datasets/{}/experiments", "RGF0YXNldDo5OQ=="), json!({}), StatusCode::NOT_FOUND, "does not exist"),
        (
            format!("/v1/datasets/{}/experiments", "not-an-id"),
            json!({}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid dataset ID format: not-an-id",
        ),
        (
            format!("/v1/datasets/{dataset_id}/experiments"),
            json!({"version_id": "RGF0YXNldFZlcnNpb246OTk="}),
            StatusCode::NOT_FOUND,
            "DatasetVersion",
        ),
        (format!("/v1/datasets/{dataset_id}/experiments"), json!({"repetitions": 0}), StatusCode::UNPROCESSABLE_ENTITY, "greater than 0"),
        (format!("/v1/datasets/{dataset_id}/experiments"), json!({"splits": ["nope"]}), StatusCode::NOT_FOUND, "nope"),
        (format!("/v1/datasets/{dataset_id}/experiments"), json!({"metadata": [1]}), StatusCode::UNPROCESSABLE_ENTITY, "metadata"),
    ];
    for (uri, body, status, message) in cases {
        let response = app.post_json(&uri, &body).await;
        assert_eq!(response.status, status, "{uri} {body}: {}", response.text());
        assert!(response.text().contains(message), "{uri} {body}: {}", response.text());
    }
    for (body, message) in [(json!({"name": null}), "name"), (json!({"metadata": null}), "metadata")] {
        let response = app.patch_json(&format!("/v1/experiments/{hard_id}"), &body).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(response.text().contains(message));
    }
    assert_eq!(app.patch_json("/v1/experiments/bad", &json!({})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/v1/experiments/RXhwZXJpbWVudDo5OQ==").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/v1/experiments/bad").await.status, StatusCode::UNPROCESSABLE_ENTITY, "not an experiment id (Phoenix 20.26.1)");
    assert_eq!(app.get(&format!("/v1/experiments/{hard_id}")).await.json()["data"]["name"], "renamed", "nothing changed");

    // Deleting keeps the project unless asked; with delete_project it goes too.
    assert_eq!(app.delete(&format!("/v1/experiments/{hard_id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/v1/experiments/{hard_id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/v1/projects/{project}")).await.status, StatusCode::OK);
    let latest_id = latest["id"].as_str().unwrap();
    let latest_project = latest["project_name"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/v1/experiments/{latest_id}?delete_project=true")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/v1/projects/{latest_project}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.delete(&format!("/v1/experiments/{latest_id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/v1/datasets/{dataset_id}/experiments")).await.json()["data"], json!([]));
}

#[tokio::test]
async fn runs_are_final_once_successful_and_replaced_while_failed() {
    let app = test_app().await;
    let (dataset_id, _, examples) = arith_dataset(&app).await;
    let experiment = create_experiment(&app, &dataset_id, json!({"repetitions": 2})).await;
    let id = experiment["id"].as_str().unwrap().to_string();

    let (status, first) = post_run(&app, &id, run(&examples[0], 1, json!({"a": 2}), None)).await;
    assert_eq!(status, StatusCode::OK);
    let first_id = first["data"]["id"].as_str().unwrap().to_string();
    // The same example and repetition again: 409, and the stored run is unchanged.
    let (status, message) = post_run(&app, &id, run(&examples[0], 1, json!({"a": 99}), None)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message.as_str().unwrap().contains("already exists"));
    // A failed run is replaced by its retry, under the same id.
    let (_, failed) = post_run(&app, &id, run(&examples[1], 1, Value::Null, Some("RuntimeError('boom')"))).await;
    let (status, retried) = post_run(&app, &id, run(&examples[1], 1, json!("text output"), None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(retried["data"]["id"], failed["data"]["id"]);
    // The caller's example id works as well as the node id; output may be any JSON value.
    assert_eq!(post_run(&app, &id, run("one", 2, json!([1, 2]), None)).await.0, StatusCode::OK);
    assert_eq!(post_run(&app, &id, run(&examples[2], 1, Value::Null, Some("ValueError()"))).await.0, StatusCode::OK);

    let experiment = app.get(&format!("/v1/experiments/{id}")).await.json()["data"].clone();
    assert_eq!(
        (experiment["successful_run_count"].as_i64(), experiment["failed_run_count"].as_i64(), experiment["missing_run_count"].as_i64()),
        (Some(3), Some(1), Some(2))
    );

    // Runs in the order recorded, paginated or all at once.
    let all = app.get(&format!("/v1/experiments/{id}/runs")).await.json();
    assert_eq!(all["next_cursor"], Value::Null);
    let runs = all["data"].as_array().unwrap();
    assert_eq!(runs.len(), 4);
    assert_eq!(runs[0]["id"], first_id.as_str());
    assert_eq!(
        (&runs[0]["dataset_example_id"], &runs[0]["output"], &runs[0]["repetition_number"], &runs[0]["experiment_id"]),
        (&json!(examples[0]), &json!({"a": 2}), &json!(1), &json!(id))
    );
    assert_eq!(
        (runs[0]["start_time"].as_str(), runs[0]["end_time"].as_str()),
        (Some("2026-11-22T10:00:00.000000+00:00"), Some("2026-11-22T10:00:01.500000+00:00"))
    );
    assert_eq!(runs[0]["trace_id"], "0123456789abcdef0123456789abcdef");
    assert_eq!((&runs[1]["output"], &runs[1]["error"]), (&json!("text output"), &Value::Null));
    assert_eq!((&runs[2]["dataset_example_id"], &runs[2]["output"]), (&json!(examples[0]), &json!([1, 2])));
    assert_eq!(runs[3]["error"], "ValueError()");
    let page = app.get(&format!("/v1/experiments/{id}/runs?limit=3")).await.json();
    assert_eq!(page["data"].as_array().unwrap().len(), 3);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/v1/experiments/{id}/runs?limit=3&cursor={cursor}")).await.json();
    assert_eq!((rest["data"][0]["id"].clone(), rest["next_cursor"].clone()), (runs[3]["id"].clone(), Value::Null));

    // What is left to run: per example, the repetitions without a successful run.
    let incomplete = app.get(&format!("/v1/experiments/{id}/incomplete-runs")).await.json();
    let todo: Vec<(Value, Value)> = incomplete["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["dataset_example"]["input"].clone(), i["repetition_numbers"].clone()))
        .collect();
    assert_eq!(todo, vec![(json!({"q": "2+2"}), json!([2])), (json!({"q": "3+3"}), json!([1, 2]))]);
    assert_eq!(incomplete["data"][1]["dataset_example"]["metadata"], json!({"n": 3}));
    let first_page = app.get(&format!("/v1/experiments/{id}/incomplete-runs?limit=1")).await.json();
    assert_eq!(first_page["data"][0]["dataset_example"]["input"], json!({"q": "2+2"}));
    let cursor = first_page["next_cursor"].as_str().unwrap();
    let second_page = app.get(&format!("/v1/experiments/{id}/incomplete-runs?limit=1&cursor={cursor}")).await.json();
    assert_eq!(
        (second_page["data"][0]["dataset_example"]["input"].clone(), second_page["next_cursor"].clone()),
        (json!({"q": "3+3"}), Value::Null)
    );

    // Errors: unknown example or experiment, bad repetition, bad time, missing output.
    let mut missing_output = run(&examples[0], 2, json!(1), None);
    missing_output.as_object_mut().unwrap().remove("output");
    let mut bad_time = run(&examples[0], 2, json!(1), None);
    bad_time["start_time"] = json!("yesterday");
    let cases = [
        (id.clone(), run("RGF0YXNldEV4YW1wbGU6OTk=", 1, json!(1), None), StatusCode::NOT_FOUND, "not an example"),
        (id.clone(), run("no-such-id", 1, json!(1), None), StatusCode::NOT_FOUND, "no-such-id"),
        ("RXhwZXJpbWVudDo5OQ==".to_string(), run(&examples[0], 1, json!(1), None), StatusCode::NOT_FOUND, "does not exist"),
        (id.clone(), run(&examples[0], 0, json!(1), None), StatusCode::UNPROCESSABLE_ENTITY, "greater than 0"),
        (id.clone(), bad_time, StatusCode::UNPROCESSABLE_ENTITY, "start_time"),
        (id.clone(), missing_output, StatusCode::UNPROCESSABLE_ENTITY, "output"),
    ];
    for (experiment_id, body, status, message) in cases {
        let (got, text) = post_run(&app, &experiment_id, body.clone()).await;
        assert_eq!(got, status, "{body}: {text}");
        assert!(text.to_string().contains(message), "{body}: {text}");
    }
    assert_eq!(app.get(&format!("/v1/experiments/{id}/runs?cursor=bad")).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get(&format!("/v1/experiments/{id}/runs")).await.json()["data"].as_array().unwrap().len(), 4, "nothing was written");
}

#[tokio::test]
async fn evaluations_upsert_by_run_and_name_and_incomplete_ones_are_listed() {
    let app = test_app().await;
    let (dataset_id, _, examples) = arith_dataset(&app).await;
    let experiment = create_experiment(&app, &dataset_id, json!({})).await;
    let id = experiment["id"].as_str().unwrap().to_string();
    let mut run_ids = Vec::new();
    for (index, example) in examples.iter().enumerate() {
        let error = (index == 2).then_some("failed task");
        run_ids.push(post_run(&app, &id, run(example, 1, json!(index), error)).await.1["data"]["id"].as_str().unwrap().to_string());
    }

    let posted =
        app.post_json("/v1/experiment_evaluations", &evaluation(&run_ids[0], "exact", json!({"score": 1.0, "label": "yes"}), None)).await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.text());
    let evaluation_id = posted.json()["data"]["id"].clone();
    // The same run and name again replaces it.
    let again = app
        .post_json("/v1/experiment_evaluations", &evaluation(&run_ids[0], "exact", json!({"score": 0.5, "explanation": "half"}), None))
        .await;
    assert_eq!(again.json()["data"]["id"], evaluation_id);
    app.post_json("/v1/experiment_evaluations", &evaluation(&run_ids[1], "exact", Value::Null, Some("judge crashed"))).await;

    // Incomplete: successful runs lacking a successful evaluation of a name asked about.
    let incomplete =
        app.get(&format!("/v1/experiments/{id}/incomplete-evaluations?evaluation_name=exact&evaluation_name=fluent")).await.json();
    let listed: Vec<(Value, Value)> =
        incomplete["data"].as_array().unwrap().iter().map(|i| (i["experiment_run"]["id"].clone(), i["evaluation_names"].clone())).collect();
    assert_eq!(listed, vec![(json!(run_ids[0]), json!(["fluent"])), (json!(run_ids[1]), json!(["exact", "fluent"]))]);
    assert_eq!(incomplete["data"][1]["dataset_example"]["input"], json!({"q": "2+2"}));
    // A run with every name asked about evaluated successfully is not listed.
    let exact_only = app.get(&format!("/v1/experiments/{id}/incomplete-evaluations?evaluation_name=exact")).await.json();
    let listed: Vec<(Value, Value)> =
        exact_only["data"].as_array().unwrap().iter().map(|i| (i["experiment_run"]["id"].clone(), i["evaluation_names"].clone())).collect();
    assert_eq!(listed, vec![(json!(run_ids[1]), json!(["exact"]))]);
    assert_eq!(incomplete["data"][1]["experiment_run"]["output"], json!(1));
    let first_page = app.get(&format!("/v1/experiments/{id}/incomplete-evaluations?evaluation_name=fluent&limit=1")).await.json();
    let cursor = first_page["next_cursor"].as_str().unwrap();
    let second =
        app.get(&format!("/v1/experiments/{id}/incomplete-evaluations?evaluation_name=fluent&limit=1&cursor={cursor}")).await.json();
    assert_eq!((second["data"][0]["experiment_run"]["id"].clone(), second["next_cursor"].clone()), (json!(run_ids[1]), Value::Null));
    let no_names = app.get(&format!("/v1/experiments/{id}/incomplete-evaluations")).await;
    assert_eq!(no_names.status, StatusCode::BAD_REQUEST);

    // Stored values, through the JSON download.
    let records = app.get(&format!("/v1/experiments/{id}/json")).await.json();
    let annotation = &records[0]["annotations"][0];
    assert_eq!(
        (&annotation["name"], &annotation["score"], &annotation["label"], &annotation["explanation"], &annotation["metadata"]),
        (&json!("exact"), &json!(0.5), &Value::Null, &json!("half"), &json!({"by": "test"}))
    );
    assert_eq!((&annotation["annotator_kind"], &annotation["start_time"]), (&json!("CODE"), &json!("2026-11-22T10:00:02.000000+00:00")));
    assert_eq!(records[1]["annotations"][0]["error"], "judge crashed");

    let mut bad_kind = evaluation(&run_ids[0], "x", json!({"score": 1}), None);
    bad_kind["annotator_kind"] = json!("ROBOT");
    let cases = [
        (evaluation("RXhwZXJpbWVudFJ1bjo5OQ==", "x", json!({"score": 1}), None), StatusCode::NOT_FOUND, "does not exist"),
        (evaluation("junk", "x", json!({"score": 1}), None), StatusCode::NOT_FOUND, "does not exist"),
        (bad_kind, StatusCode::UNPROCESSABLE_ENTITY, "annotator_kind"),
        (evaluation(&run_ids[0], "x", Value::Null, None), StatusCode::UNPROCESSABLE_ENTITY, "result or error"),
        (evaluation(&run_ids[0], "", json!({"score": 1}), None), StatusCode::UNPROCESSABLE_ENTITY, "name"),
    ];
    for (body, status, message) in cases {
        let response = app.post_json("/v1/experiment_evaluations", &body).await;
        assert_eq!(response.status, status, "{body}: {}", response.text());
        assert!(response.text().contains(message), "{body}: {}", response.text());
    }
}

#[tokio::test]
async fn tags_point_at_one_experiment_per_dataset() {
    let app = test_app().await;
    let (dataset_id, _, _) = arith_dataset(&app).await;
    let first = create_experiment(&app, &dataset_id, json!({"name": "a"})).await["id"].as_str().unwrap().to_string();
    let second = create_experiment(&app, &dataset_id, json!({"name": "b"})).await["id"].as_str().unwrap().to_string();
    let tags = |id: &str| {
        let uri = format!("/v1/experiments/{id}/tags");
        let app = &app;
        async move {
            app.get(&uri).await.json()["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };

    let set = app.post_json(&format!("/v1/experiments/{first}/tags"), &json!({"name": "baseline", "description": "the one to beat"})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    let baseline = set.json()["data"].clone();
    assert_eq!((baseline["name"].as_str(), baseline["description"].as_str()), (Some("baseline"), Some("the one to beat")));
    app.post_json(&format!("/v1/experiments/{first}/tags"), &json!({"name": "prod-2"})).await;
    assert_eq!(tags(&first).await, vec!["baseline", "prod-2"]);

    // Assigning it to the other experiment moves it; the description is replaced.
    let moved = app.post_json(&format!("/v1/experiments/{second}/tags"), &json!({"name": "baseline"})).await.json()["data"].clone();
    assert_eq!((moved["id"].clone(), moved["description"].clone()), (baseline["id"].clone(), Value::Null));
    assert_eq!((tags(&first).await, tags(&second).await), (vec!["prod-2".to_string()], vec!["baseline".to_string()]));

    // Removing never takes another's tag; by name or by id.
    assert_eq!(app.delete(&format!("/v1/experiments/{first}/tags/baseline")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(tags(&second).await, vec!["baseline"]);
    let baseline_id = baseline["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/v1/experiments/{second}/tags/{baseline_id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&format!("/v1/experiments/{first}/tags/prod-2")).await.status, StatusCode::NO_CONTENT);
    assert!(tags(&first).await.is_empty() && tags(&second).await.is_empty());

    for name in ["Baseline", "-x", "x-", "has space", ""] {
        let response = app.post_json(&format!("/v1/experiments/{first}/tags"), &json!({"name": name})).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
    }
    assert_eq!(app.delete(&format!("/v1/experiments/{first}/tags/Bad%20Tag")).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/v1/experiments/bad/tags").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/v1/experiments/RXhwZXJpbWVudDo5OQ==/tags").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn downloads_carry_each_run_with_its_example_at_the_experiment_version() {
    let app = test_app().await;
    let (dataset_id, _, examples) = arith_dataset(&app).await;
    let experiment = create_experiment(&app, &dataset_id, json!({"name": "calc \"v1\""})).await;
    let id = experiment["id"].as_str().unwrap().to_string();
    assert_eq!(app.get(&format!("/v1/experiments/{id}/json")).await.status, StatusCode::NOT_FOUND, "no runs yet");
    assert_eq!(app.get(&format!("/v1/experiments/{id}/csv")).await.status, StatusCode::NOT_FOUND);

    let run_id = post_run(&app, &id, run(&examples[1], 1, json!({"a": 4}), None)).await.1["data"]["id"].as_str().unwrap().to_string();
    post_run(&app, &id, run(&examples[0], 1, json!("two"), None)).await;
    app.post_json("/v1/experiment_evaluations", &evaluation(&run_id, "exact", json!({"score": 1.0, "label": "right"}), None)).await;
    // The dataset changes after the experiment: downloads still show the example it ran on.
    let update = json!({"action": "append", "name": "arithmetic", "inputs": [{"q": "CHANGED"}], "example_ids": ["one"]});
    assert_eq!(app.post_json("/v1/datasets/upload", &update).await.status, StatusCode::OK);

    let response = app.get(&format!("/v1/experiments/{id}/json")).await;
    assert_eq!(response.headers["content-disposition"], "attachment; filename=\"calc v1.json\"");
    let records = response.json();
    assert_eq!(records.as_array().unwrap().len(), 2);
    let first = &records[0];
    assert_eq!(
        (&first["example_id"], &first["input"], &first["reference_output"], &first["output"], &first["metadata"]),
        (&json!(examples[0]), &json!({"q": "1+1"}), &json!({"a": 2}), &json!("two"), &json!({"n": 1}))
    );
    assert_eq!((&first["latency_ms"], &first["repetition_number"], &first["error"]), (&json!(1500.0), &json!(1), &Value::Null));
    assert_eq!((&first["prompt_token_count"], &first["annotations"]), (&Value::Null, &json!([])));
    assert_eq!(records[1]["annotations"][0]["label"], "right");

    let response = app.get(&format!("/v1/experiments/{id}/csv")).await;
    assert_eq!(response.content_type(), "text/csv");
    let text = response.text();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&header[..6], ["example_id", "repetition_number", "input", "reference_output", "output", "metadata"]);
    assert!(header.contains(&"annotation_exact_score".to_string()) && header.contains(&"annotation_exact_label".to_string()));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!((&rows[0][column("input")], &rows[0][column("output")]), ("{\"q\":\"1+1\"}", "two"));
    assert_eq!((&rows[0][column("annotation_exact_score")], &rows[1][column("annotation_exact_score")]), ("", "1"));
    assert_eq!((&rows[1][column("output")], &rows[1][column("latency_ms")]), ("{\"a\":4}", "1500"));
}
