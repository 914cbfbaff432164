//! `/v1/projects` and the meta endpoints.

use crate::common::test_app;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn health_version_and_openapi_carry_the_version_header() {
    let app = test_app().await;
    let health = app.get("/healthz").await;
    assert_eq!((health.status, health.text().as_str()), (StatusCode::OK, "OK"));
    assert_eq!(app.get("/readyz").await.json(), json!({}));
    let version = app.get("/arize_phoenix_version").await;
    assert_eq!(version.text(), ember_server::PHOENIX_COMPATIBLE_VERSION);
    for response in [health, version, app.get("/no/such/route").await, app.get("/v1/projects/nope").await] {
        assert_eq!(response.headers.get("x-phoenix-server-version").unwrap(), ember_server::PHOENIX_COMPATIBLE_VERSION);
    }
    let document = app.get("/openapi.json").await.json();
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["paths"]["/v1/projects/{project_identifier}/spans"]["get"]["parameters"].as_array().unwrap().len() > 5);
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = test_app().await;
    let document = app.get("/openapi.json").await.json();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            let uri = path.replace("{project_identifier}", "default").replace(['{', '}'], "");
            let request =
                axum::http::Request::builder().method(method.to_uppercase().as_str()).uri(&uri).body(axum::body::Body::empty()).unwrap();
            let response = app.send(request).await;
            assert_ne!(response.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert_ne!(response.text(), "Not Found", "{method} {path} fell through to the fallback");
        }
    }
}

#[tokio::test]
async fn projects_crud_with_phoenix_errors() {
    let app = test_app().await;
    let created = app.post_json("/v1/projects", &json!({"name": "alpha", "description": "first"})).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let alpha = created.json()["data"].clone();
    assert_eq!(alpha["name"], "alpha");
    assert_eq!(alpha["description"], "first");
    let id = alpha["id"].as_str().unwrap().to_string();

    assert_eq!(app.get(&format!("/v1/projects/{id}")).await.json()["data"], alpha);
    assert_eq!(app.get("/v1/projects/alpha").await.json()["data"], alpha);

    let duplicate = app.post_json("/v1/projects", &json!({"name": "alpha"})).await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert!(duplicate.text().contains("alpha"));
    let empty = app.post_json("/v1/projects", &json!({"name": "  "})).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty.json()["detail"][0]["loc"], json!(["body", "name"]));
    let missing = app.post_json("/v1/projects", &json!({"description": "no name"})).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.json()["detail"][0]["msg"].as_str().unwrap().contains("name"));

    let updated = app.put_json(&format!("/v1/projects/{id}"), &json!({"description": "second", "name": "ignored"})).await;
    assert_eq!(updated.json()["data"], json!({"name": "alpha", "description": "second", "id": id}));

    let page = app.get("/v1/projects?limit=1").await.json();
    assert_eq!(page["data"][0]["name"], "alpha", "newest first");
    let next = page["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/v1/projects?limit=1&cursor={next}")).await.json();
    assert_eq!(rest["data"][0]["name"], "default");
    assert_eq!(rest["next_cursor"], json!(null));
    assert_eq!(app.get("/v1/projects?name_contains=ALP").await.json()["data"].as_array().unwrap().len(), 1);

    let bad_limit = app.get("/v1/projects?limit=0").await;
    assert_eq!(bad_limit.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_limit.json()["detail"][0]["loc"], json!(["query", "limit"]));
    assert_eq!(app.get("/v1/projects?limit=abc").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad_cursor = app.get("/v1/projects?cursor=garbage").await;
    assert_eq!(bad_cursor.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_cursor.text().contains("Invalid cursor"));

    let default_delete = app.delete("/v1/projects/default").await;
    assert_eq!(default_delete.status, StatusCode::FORBIDDEN);
    assert!(default_delete.text().contains("default project"));
    assert_eq!(app.delete(&format!("/v1/projects/{id}")).await.status, StatusCode::NO_CONTENT);
    let gone = app.get(&format!("/v1/projects/{id}")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(gone.content_type().starts_with("text/plain"));
    assert_eq!(app.delete("/v1/projects/alpha").await.status, StatusCode::NOT_FOUND);
    let malformed = app.send(axum::http::Request::post("/v1/projects").body(axum::body::Body::from("{oops")).unwrap()).await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(malformed.json()["detail"][0]["type"], "json_invalid");
}

#[tokio::test]
async fn deleting_a_project_deletes_its_spans() {
    let app = test_app().await;
    app.ingest(&ember_otlp::fixtures::request(Some("doomed"), vec![ember_otlp::fixtures::span(1, 1, None, "CHAIN")])).await;
    assert_eq!(app.delete("/v1/projects/doomed").await.status, StatusCode::NO_CONTENT);
    assert!(app.store.get_span(None, Some(&ember_otlp::fixtures::span_id(1))).await.unwrap().is_none());
}
