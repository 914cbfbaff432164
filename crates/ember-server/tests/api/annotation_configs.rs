//! `/v1/annotation_configs` and their assignment to projects.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::{test_app, TestApp};

fn categorical(name: &str) -> Value {
    json!({
        "type": "CATEGORICAL", "name": name, "description": "is it right?", "optimization_direction": "MAXIMIZE",
        "values": [{"label": "correct", "score": 1}, {"label": "incorrect", "score": 0}],
    })
}

fn names(response: &Value) -> Vec<String> {
    response["data"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_string()).collect()
}

async fn create(app: &TestApp, body: &Value) -> Value {
    let response = app.post_json("/v1/annotation_configs", body).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()["data"].clone()
}

#[tokio::test]
async fn configs_are_created_read_updated_and_deleted() {
    let app = test_app().await;
    let initial = app.get("/v1/annotation_configs").await.json();
    assert_eq!(names(&initial), vec!["user_feedback"], "Phoenix's default config exists from the start");
    assert_eq!(initial["data"][0]["values"], json!([{"label": "positive", "score": 1.0}, {"label": "negative", "score": 0.0}]));

    let correctness = create(&app, &categorical("correctness")).await;
    assert_eq!(correctness["type"], "CATEGORICAL");
    assert_eq!(correctness["optimization_direction"], "MAXIMIZE");
    assert_eq!(correctness["values"][1], json!({"label": "incorrect", "score": 0.0}));
    let id = correctness["id"].as_str().unwrap().to_string();
    let range = create(
        &app,
        &json!({"type": "CONTINUOUS", "name": "quality", "optimization_direction": "MINIMIZE", "lower_bound": 0, "upper_bound": 10}),
    )
    .await;
    assert_eq!((range["lower_bound"].as_f64(), range["upper_bound"].as_f64()), (Some(0.0), Some(10.0)));
    let free = create(&app, &json!({"type": "FREEFORM", "name": "comments"})).await;
    assert_eq!(free["optimization_direction"], Value::Null);

    assert_eq!(app.get(&format!("/v1/annotation_configs/{id}")).await.json()["data"], correctness);
    assert_eq!(app.get("/v1/annotation_configs/correctness").await.json()["data"], correctness);
    let listed = app.get("/v1/annotation_configs?limit=2").await.json();
    assert_eq!(names(&listed), vec!["comments", "quality"]);
    let rest = app.get(&format!("/v1/annotation_configs?cursor={}", listed["next_cursor"].as_str().unwrap())).await.json();
    assert_eq!(names(&rest), vec!["correctness", "user_feedback"]);

    let taken = app.post_json("/v1/annotation_configs", &categorical("quality")).await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert!(taken.text().contains("quality"), "{}", taken.text());

    let mut renamed = categorical("accuracy");
    renamed["values"] = json!([{"label": "yes"}]);
    let updated = app.put_json(&format!("/v1/annotation_configs/{id}"), &renamed).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text());
    assert_eq!(updated.json()["data"]["name"], "accuracy");
    assert_eq!(updated.json()["data"]["values"], json!([{"label": "yes", "score": null}]));
    assert_eq!(updated.json()["data"]["id"], id.as_str());
    assert_eq!(app.put_json(&format!("/v1/annotation_configs/{id}"), &categorical("quality")).await.status, StatusCode::CONFLICT);

    let deleted = app.delete(&format!("/v1/annotation_configs/{id}")).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.json()["data"]["name"], "accuracy");
    assert_eq!(app.get(&format!("/v1/annotation_configs/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.delete(&format!("/v1/annotation_configs/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.put_json(&format!("/v1/annotation_configs/{id}"), &categorical("x")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invalid_configs_name_the_problem() {
    let app = test_app().await;
    let mut empty = categorical("a");
    empty["values"] = json!([]);
    let mut repeated = categorical("a");
    repeated["values"] = json!([{"label": "x"}, {"label": "x"}]);
    let mut direction = categorical("a");
    direction["optimization_direction"] = json!("SIDEWAYS");
    for (body, status, needle) in [
        (empty, StatusCode::UNPROCESSABLE_ENTITY, "at least one value"),
        (repeated, StatusCode::UNPROCESSABLE_ENTITY, "more than once"),
        (direction, StatusCode::UNPROCESSABLE_ENTITY, "SIDEWAYS"),
        (
            json!({"type": "CONTINUOUS", "name": "a", "optimization_direction": "NONE", "lower_bound": 5, "upper_bound": 5}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "strictly less",
        ),
        (json!({"type": "RANKING", "name": "a"}), StatusCode::UNPROCESSABLE_ENTITY, "RANKING"),
        (json!({"type": "FREEFORM", "name": " "}), StatusCode::UNPROCESSABLE_ENTITY, "empty"),
        (json!({"type": "FREEFORM", "name": "note"}), StatusCode::CONFLICT, "'note'"),
    ] {
        let response = app.post_json("/v1/annotation_configs", &body).await;
        assert_eq!(response.status, status, "{body}: {}", response.text());
        assert!(response.text().contains(needle), "{body}: {}", response.text());
    }
    assert_eq!(names(&app.get("/v1/annotation_configs").await.json()), vec!["user_feedback"], "nothing was created");
    let bad_id = app.put_json("/v1/annotation_configs/user_feedback", &categorical("x")).await;
    assert_eq!(bad_id.status, StatusCode::UNPROCESSABLE_ENTITY, "update takes an id, not a name");
}

#[tokio::test]
async fn projects_are_assigned_configs_one_by_one_or_as_a_set() {
    let app = test_app().await;
    app.post_json("/v1/projects", &json!({"name": "p"})).await;
    let first = create(&app, &categorical("first")).await["id"].as_str().unwrap().to_string();
    let second = create(&app, &categorical("second")).await["id"].as_str().unwrap().to_string();

    let assigned = app.put_json(&format!("/v1/projects/p/annotation_configs/{first}"), &json!({})).await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.text());
    assert_eq!(assigned.json()["data"]["name"], "first");
    assert_eq!(app.put_json("/v1/projects/p/annotation_configs/second", &json!({})).await.status, StatusCode::OK, "by name too");
    assert_eq!(names(&app.get("/v1/projects/p/annotation_configs").await.json()), vec!["second", "first"]);

    assert_eq!(app.delete(&format!("/v1/projects/p/annotation_configs/{first}")).await.status, StatusCode::NO_CONTENT);
    // Unassigning what is not assigned is done already (Phoenix 20.26.1 answers 204 too).
    assert_eq!(app.delete(&format!("/v1/projects/p/annotation_configs/{first}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.delete("/v1/projects/p/annotation_configs/nope").await.status, StatusCode::NOT_FOUND);
    assert_eq!(names(&app.get("/v1/projects/p/annotation_configs").await.json()), vec!["second"]);

    let set = app.put_json("/v1/projects/p/annotation_configs", &json!({"annotation_config_ids": [first, "user_feedback"]})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    assert_eq!(names(&set.json()), vec!["first", "user_feedback"]);
    let unknown = app.put_json("/v1/projects/p/annotation_configs", &json!({"annotation_config_ids": [second, "nope"]})).await;
    // An unknown id in the body is a 422 in Phoenix 20.26.1's words (observed).
    assert_eq!((unknown.status, unknown.text()), (StatusCode::UNPROCESSABLE_ENTITY, "Invalid annotation configuration ID: nope".into()));
    assert_eq!(names(&app.get("/v1/projects/p/annotation_configs").await.json()), vec!["first", "user_feedback"], "unchanged");

    // Deleting a config takes it off its projects.
    app.delete(&format!("/v1/annotation_configs/{first}")).await;
    assert_eq!(names(&app.get("/v1/projects/p/annotation_configs").await.json()), vec!["user_feedback"]);
    let cleared = app.put_json("/v1/projects/p/annotation_configs", &json!({"annotation_config_ids": []})).await;
    assert_eq!(cleared.json()["data"], json!([]));
    assert_eq!(app.get("/v1/projects/nope/annotation_configs").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.put_json("/v1/projects/p/annotation_configs/nope", &json!({})).await.status, StatusCode::NOT_FOUND);
}
