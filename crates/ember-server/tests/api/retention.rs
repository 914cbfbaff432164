//! Retention policies over REST: the default policy, CRUD with Phoenix's rules, a project's
//! policy (Phoenix's `PATCH /v1/projects/{p}/retention`), and "apply now" reaching the sweeper.

use std::time::Duration;

use axum::http::StatusCode;
use ember_otlp::fixtures::{request, span};
use serde_json::{json, Value};

use crate::common::{test_app, TestApp};

const DEFAULT_ID: &str = "UHJvamVjdFRyYWNlUmV0ZW50aW9uUG9saWN5OjA="; // ProjectTraceRetentionPolicy:0

async fn trace_count(app: &TestApp, project: &str) -> usize {
    let response = app.get(&format!("/v1/projects/{project}/traces?limit=100")).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()["data"].as_array().unwrap().len()
}

#[tokio::test]
async fn policies_are_created_assigned_applied_and_deleted() {
    let app = test_app().await;
    app.ingest(&request(Some("kept"), vec![span(1, 1, None, "CHAIN")])).await;
    app.ingest(&request(Some("swept"), vec![span(2, 2, None, "CHAIN"), span(2, 3, Some(2), "LLM"), span(4, 4, None, "CHAIN")])).await;

    // The default policy exists from the start and keeps traces for ever.
    let listed = app.get("/v1/retention_policies").await.json();
    assert_eq!(listed["data"][0]["id"], DEFAULT_ID);
    assert_eq!((listed["data"][0]["name"].as_str(), listed["data"][0]["cron_expression"].as_str()), (Some("Default"), Some("0 0 * * 0")));
    assert_eq!(listed["data"][0]["rule"], json!({"type": "max_days", "max_days": 0.0}));
    assert_eq!(listed["data"][0]["project_ids"].as_array().unwrap().len(), 3, "default, kept and swept follow it");

    // Bad input names the problem.
    for (body, message) in [
        (json!({"name": " ", "cron_expression": "0 0 * * 0", "rule": {"type": "max_days", "max_days": 1}}), "Name cannot be empty"),
        (json!({"name": "x", "cron_expression": "5 0 * * 0", "rule": {"type": "max_days", "max_days": 1}}), "Minute field must be '0'"),
        (json!({"name": "x", "cron_expression": "0 0 1 * 0", "rule": {"type": "max_days", "max_days": 1}}), "Day-of-month and month"),
        (json!({"name": "x", "cron_expression": "0 0 * * 0", "rule": {"type": "max_days", "max_days": -1}}), "max_days"),
        (json!({"name": "x", "cron_expression": "0 0 * * 0", "rule": {"type": "forever"}}), "rule"),
        (json!({"name": "x", "cron_expression": "0 0 * * 0"}), "rule"),
    ] {
        let response = app.post_json("/v1/retention_policies", &body).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", response.text());
        assert!(response.text().contains(message), "{body}: {}", response.text());
    }
    let unknown_project =
        json!({"name": "x", "cron_expression": "0 0 * * 0", "rule": {"type": "max_count", "max_count": 1}, "project_ids": ["nope"]});
    assert_eq!(app.post_json("/v1/retention_policies", &unknown_project).await.status, StatusCode::NOT_FOUND);

    let created = app
        .post_json(
            "/v1/retention_policies",
            &json!({"name": "a day", "cron_expression": "0 */6 * * *", "rule": {"type": "max_days_or_count", "max_days": 1, "max_count": 1000}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let policy = created.json()["data"].clone();
    let id = policy["id"].as_str().unwrap().to_string();
    assert_eq!(policy["rule"], json!({"type": "max_days_or_count", "max_days": 1.0, "max_count": 1000}));
    assert_eq!((policy["project_ids"].clone(), policy["last_applied_at"].clone()), (json!([]), Value::Null));
    assert!(
        policy["next_run_at"].as_str().is_some_and(|next| next.ends_with(":00:00.000000+00:00") || next.contains(":00:00")),
        "{policy}"
    );

    // Phoenix's project assignment: the field is required, null resets to the default.
    let assigned = app.patch_json("/v1/projects/swept/retention", &json!({"policy_id": id})).await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.text());
    let swept_id = assigned.json()["data"]["project_id"].as_str().unwrap().to_string();
    assert_eq!(assigned.json()["data"]["policy_id"], json!(id));
    for (body, status) in [
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"policy_id": "not-an-id"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"policy_id": 3}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"policy_id": "UHJvamVjdFRyYWNlUmV0ZW50aW9uUG9saWN5Ojk5"}), StatusCode::NOT_FOUND),
    ] {
        assert_eq!(app.patch_json("/v1/projects/swept/retention", &body).await.status, status, "{body}");
    }
    assert_eq!(app.patch_json("/v1/projects/nope/retention", &json!({"policy_id": null})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/v1/projects/nope/retention").await.status, StatusCode::NOT_FOUND);
    for (uri, status, message) in [
        ("/v1/retention_policies/not-an-id", StatusCode::UNPROCESSABLE_ENTITY, "Invalid retention policy ID: not-an-id"),
        ("/v1/retention_policies/UHJvamVjdFRyYWNlUmV0ZW50aW9uUG9saWN5Ojk5", StatusCode::NOT_FOUND, "not found"),
    ] {
        let got = app.get(uri).await;
        assert_eq!((got.status, got.text().contains(message)), (status, true), "GET {uri}: {}", got.text());
        let applied = app.post_json(&format!("{uri}/apply"), &json!({})).await;
        assert_eq!((applied.status, applied.text().contains(message)), (status, true), "apply {uri}: {}", applied.text());
    }
    let unknown_field = app.patch_json(&format!("/v1/retention_policies/{id}"), &json!({"schedule": "0 0 * * 0"})).await;
    assert_eq!(unknown_field.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown_field.text());
    assert_eq!(app.get("/v1/projects/swept/retention").await.json()["data"]["id"], json!(id));
    assert_eq!(app.get(&format!("/v1/retention_policies/{id}")).await.json()["data"]["project_ids"], json!([swept_id]));

    // "Apply now" wakes the sweeper, which deletes the project's traces older than a day.
    let services = app.services.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sweeper = tokio::spawn(async move {
        services
            .retention()
            .keep_swept(async {
                stopped.await.ok();
            })
            .await
    });
    let applied = app.post_json(&format!("/v1/retention_policies/{id}/apply"), &json!({})).await;
    assert_eq!(applied.status, StatusCode::ACCEPTED, "{}", applied.text());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while trace_count(&app, "swept").await > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the sweep did not happen");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(trace_count(&app, "kept").await, 1, "projects following the default keep their traces");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while app.get(&format!("/v1/retention_policies/{id}")).await.json()["data"]["last_applied_at"].is_null() {
        assert!(tokio::time::Instant::now() < deadline, "the application was not recorded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(()).unwrap();
    sweeper.await.unwrap();

    // Changes: the default keeps its name; a project may not be both added and removed.
    let renamed =
        app.patch_json(&format!("/v1/retention_policies/{id}"), &json!({"name": "a day!", "remove_project_ids": ["swept"]})).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text());
    assert_eq!((renamed.json()["data"]["name"].clone(), renamed.json()["data"]["project_ids"].clone()), (json!("a day!"), json!([])));
    let both = json!({"add_project_ids": ["kept"], "remove_project_ids": ["kept"]});
    assert_eq!(app.patch_json(&format!("/v1/retention_policies/{id}"), &both).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let rename_default = app.patch_json(&format!("/v1/retention_policies/{DEFAULT_ID}"), &json!({"name": "Mine"})).await;
    assert_eq!(rename_default.status, StatusCode::UNPROCESSABLE_ENTITY);
    let default_days =
        app.patch_json(&format!("/v1/retention_policies/{DEFAULT_ID}"), &json!({"rule": {"type": "max_days", "max_days": 30}})).await;
    assert_eq!(default_days.json()["data"]["rule"], json!({"type": "max_days", "max_days": 30.0}), "{}", default_days.text());

    // Deleting: never the default; a deleted policy's projects follow the default.
    app.patch_json("/v1/projects/kept/retention", &json!({"policy_id": id})).await;
    assert_eq!(app.delete(&format!("/v1/retention_policies/{DEFAULT_ID}")).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.delete(&format!("/v1/retention_policies/{id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&format!("/v1/retention_policies/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/v1/projects/kept/retention").await.json()["data"]["id"], DEFAULT_ID);
    let reset = app.patch_json("/v1/projects/kept/retention", &json!({"policy_id": DEFAULT_ID})).await.json();
    assert_eq!(reset["data"]["policy_id"], Value::Null, "naming the default is a reset, as in Phoenix");
}
