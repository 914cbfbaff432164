//! Dataset labels: CRUD with validation and conflicts, and the labels applied to a dataset.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};

use crate::common::test_app;

fn names(response: &Value) -> Vec<String> {
    response["data"].as_array().unwrap().iter().map(|label| label["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn labels_are_created_changed_applied_and_deleted() {
    let app = test_app().await;
    let created = app.post_json("/v1/dataset_labels", &json!({"name": "golden", "color": "#00cc88", "description": "curated"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let golden = created.json()["data"].clone();
    assert_eq!(
        (golden["name"].as_str(), golden["color"].as_str(), golden["description"].as_str()),
        (Some("golden"), Some("#00cc88"), Some("curated"))
    );
    let golden_id = golden["id"].as_str().unwrap().to_string();
    let stale = app.post_json("/v1/dataset_labels", &json!({"name": "stale", "color": "#aa0000"})).await.json()["data"].clone();
    let stale_id = stale["id"].as_str().unwrap().to_string();
    assert_eq!(stale["description"], Value::Null);

    // Bad input names the problem; a taken name is a 409.
    for (body, status, message) in [
        (json!({"name": "golden", "color": "#00cc88"}), StatusCode::CONFLICT, "golden"),
        (json!({"name": "", "color": "#00cc88"}), StatusCode::UNPROCESSABLE_ENTITY, "name"),
        (json!({"name": "x", "color": "#00CC88"}), StatusCode::UNPROCESSABLE_ENTITY, "color"),
        (json!({"name": "x"}), StatusCode::UNPROCESSABLE_ENTITY, "color"),
    ] {
        let response = app.post_json("/v1/dataset_labels", &body).await;
        assert_eq!(response.status, status, "{body}: {}", response.text());
        assert!(response.text().contains(message), "{body}: {}", response.text());
    }

    // PATCH changes what it names; a null description clears it; null names and colors are refused.
    let changed = app.patch_json(&format!("/v1/dataset_labels/{golden_id}"), &json!({"color": "#112233", "description": null})).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    assert_eq!(changed.json()["data"], json!({"id": golden_id, "name": "golden", "description": null, "color": "#112233"}));
    assert_eq!(
        app.patch_json(&format!("/v1/dataset_labels/{golden_id}"), &json!({"name": null})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(app.patch_json(&format!("/v1/dataset_labels/{golden_id}"), &json!({"name": "stale"})).await.status, StatusCode::CONFLICT);
    assert_eq!(app.get(&format!("/v1/dataset_labels/{golden_id}")).await.json()["data"]["name"], "golden");
    assert_eq!(app.get("/v1/dataset_labels/nope").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/v1/dataset_labels/RGF0YXNldExhYmVsOjk5").await.status, StatusCode::NOT_FOUND);
    assert_eq!(names(&app.get("/v1/dataset_labels").await.json()), vec!["stale", "golden"]);

    // Applied to a dataset by name or id: add (idempotent), replace the set, remove.
    app.post_json("/v1/datasets/upload?sync=true", &json!({"name": "qa", "inputs": [{}]})).await;
    let add = app.send(Request::put(format!("/v1/datasets/qa/labels/{golden_id}")).body(Body::empty()).unwrap()).await;
    assert_eq!(add.status, StatusCode::OK, "{}", add.text());
    app.send(Request::put(format!("/v1/datasets/qa/labels/{golden_id}")).body(Body::empty()).unwrap()).await;
    assert_eq!(names(&app.get("/v1/datasets/qa/labels").await.json()), vec!["golden"]);
    let set = app.put_json("/v1/datasets/qa/labels", &json!({"dataset_label_ids": [stale_id, golden_id]})).await;
    assert_eq!(names(&set.json()), vec!["golden", "stale"]);
    let unknown = app.put_json("/v1/datasets/qa/labels", &json!({"dataset_label_ids": ["RGF0YXNldExhYmVsOjk5"]})).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(names(&app.get("/v1/datasets/qa/labels").await.json()), vec!["golden", "stale"], "a refused set changes nothing");
    assert_eq!(app.delete(&format!("/v1/datasets/qa/labels/{stale_id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/v1/datasets/nope/labels").await.status, StatusCode::NOT_FOUND);

    // Deleting a label takes it off every dataset.
    assert_eq!(app.delete(&format!("/v1/dataset_labels/{golden_id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/v1/datasets/qa/labels").await.json()["data"], json!([]));
    assert_eq!(app.delete(&format!("/v1/dataset_labels/{golden_id}")).await.status, StatusCode::NOT_FOUND);
}
