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

/// A root span of its own trace `hours` hours into 2024, with about 8 KB of input that
/// compresses little.
fn sized_span(trace: u8, hours: u64) -> ember_otlp::trace::Span {
    let mut s = span(trace, trace, None, "CHAIN");
    s.start_time_unix_nano = 1_704_067_200_000_000_000 + hours * 3_600_000_000_000 + 1_000;
    s.end_time_unix_nano = s.start_time_unix_nano + 1_000_000;
    let mut state = 0x2545_f491_4f6c_dd1d_u64 ^ u64::from(trace);
    let text: String = (0..8 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'a' + (state % 26) as u8)
        })
        .collect();
    s.attributes.retain(|kv| kv.key != "input.value");
    s.attributes.push(ember_otlp::fixtures::string_attribute("input.value", &text));
    s
}

#[tokio::test]
async fn a_project_byte_budget_deletes_its_oldest_hours_and_keeps_the_charts() {
    let app = test_app().await;
    app.ingest(&request(Some("p"), vec![sized_span(1, 0), sized_span(2, 1), sized_span(3, 2)])).await;
    app.ingest(&request(Some("q"), vec![sized_span(9, 0)])).await;
    let budget = app.get("/v1/projects/p/byte_budget").await;
    assert_eq!(budget.status, StatusCode::OK, "{}", budget.text());
    let budget = budget.json()["data"].clone();
    assert_eq!(budget["max_bytes"], Value::Null);
    let used = budget["used_bytes"].as_i64().unwrap();
    assert!(used > 3 * 8 * 1024 / 2, "{budget}");

    for (body, status, message) in [
        (json!({"max_bytes": 0}), StatusCode::UNPROCESSABLE_ENTITY, "max_bytes must be a number of bytes ≥ 1"),
        (json!({"max_bytes": "lots"}), StatusCode::UNPROCESSABLE_ENTITY, "max_bytes"),
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY, "max_bytes"),
        (json!({"max_bytes": 1, "min_bytes": 1}), StatusCode::UNPROCESSABLE_ENTITY, "min_bytes"),
    ] {
        let response = app.put_json("/v1/projects/p/byte_budget", &body).await;
        assert_eq!(response.status, status, "{body}: {}", response.text());
        assert!(response.text().contains(message), "{body}: {}", response.text());
    }
    assert_eq!(app.put_json("/v1/projects/nope/byte_budget", &json!({"max_bytes": 1})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/v1/projects/nope/byte_budget").await.status, StatusCode::NOT_FOUND);

    // A budget of 60 % keeps under 54 %: the newest of three equal hours.
    let set = app.put_json("/v1/projects/p/byte_budget", &json!({"max_bytes": used * 6 / 10})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    assert_eq!(set.json()["data"]["max_bytes"], json!(used * 6 / 10));
    assert_eq!(app.services.storage().enforce_project_budgets().await.unwrap(), 2);
    assert_eq!(trace_count(&app, "p").await, 1);
    assert_eq!(trace_count(&app, "q").await, 1, "another project keeps its traces");
    let after = app.get("/v1/projects/p/byte_budget").await.json()["data"].clone();
    assert!(after["used_bytes"].as_i64().unwrap() <= used * 6 / 10 * 9 / 10, "{after}");
    // The charts still count the deleted hours.
    let p = app.store.get_project_by_name("p").await.unwrap().unwrap().id;
    let window = ember_store::ActivityWindow { start: 0, end: i64::MAX / 2, bins: 1, latency_per_bin: false };
    assert_eq!(app.store.project_activity(&[p], window).await.unwrap()[&p].traces, 3);
    assert_eq!(app.services.storage().enforce_project_budgets().await.unwrap(), 0, "within budget now");

    // null clears it.
    let cleared = app.put_json("/v1/projects/p/byte_budget", &json!({"max_bytes": null})).await;
    assert_eq!(cleared.json()["data"]["max_bytes"], Value::Null);
}
