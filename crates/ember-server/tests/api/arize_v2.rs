//! Arize AX's REST API v2 as the `arize` SDK reads it: spaces under any name, projects with AX's
//! pagination and ids the SDK recognises as ids, and errors as problems.

use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ember_otlp::fixtures::{request, span};
use ember_wire::{AxProject, AxProjects, AxSpaces};

use crate::common::test_app;

#[tokio::test]
async fn spaces_answer_to_any_name_and_projects_list_with_pagination() {
    let app = test_app().await;
    for (project, id) in [("alpha-app", 1), ("beta-app", 2), ("gamma", 3)] {
        app.ingest(&request(Some(project), vec![span(id, id, None, "LLM")])).await;
    }
    // The SDK resolves a space name first, then matches it exactly.
    let spaces: AxSpaces = serde_json::from_str(&app.get("/v2/spaces?name=My%20Space&limit=100").await.text()).unwrap();
    assert_eq!(spaces.spaces.len(), 1);
    assert_eq!(spaces.spaces[0].name, "My Space");
    let decoded = String::from_utf8(STANDARD.decode(&spaces.spaces[0].id).unwrap()).unwrap();
    assert!(decoded.contains(':'), "the SDK takes a value that decodes to `Type:…` for an id: {decoded}");
    assert_eq!(app.get("/v2/spaces").await.json()["spaces"][0]["name"], "default");

    // Projects, newest first, named by a substring in any case, within the space asked for.
    let space_id = &spaces.spaces[0].id;
    let listed = app.get(&format!("/v2/projects?space_id={space_id}&name=APP&limit=1")).await;
    assert_eq!(listed.headers["content-type"], "application/json");
    let first: AxProjects = serde_json::from_str(&listed.text()).unwrap();
    assert_eq!(
        first.projects.iter().map(|p| (p.name.as_str(), p.space_id.as_str())).collect::<Vec<_>>(),
        [("beta-app", space_id.as_str())]
    );
    assert!(first.pagination.has_more);
    let cursor = first.pagination.next_cursor.unwrap();
    let second: AxProjects =
        serde_json::from_str(&app.get(&format!("/v2/projects?name=app&limit=1&cursor={cursor}")).await.text()).unwrap();
    assert_eq!(second.projects[0].name, "alpha-app");
    assert_eq!((second.pagination.has_more, second.pagination.next_cursor), (false, None));

    // One project by id or name; its id is the one Phoenix's API gives.
    let by_id: AxProject = serde_json::from_str(&app.get(&format!("/v2/projects/{}", second.projects[0].id)).await.text()).unwrap();
    assert_eq!(by_id.name, "alpha-app");
    assert_eq!(app.get("/v1/projects/alpha-app").await.json()["data"]["id"], by_id.id.as_str());
}

#[tokio::test]
async fn errors_are_problems() {
    let app = test_app().await;
    let missing = app.get("/v2/projects/no-such-project").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.headers["content-type"], "application/problem+json");
    let problem = missing.json();
    assert_eq!((problem["status"].as_u64(), problem["title"].as_str()), (Some(404), Some("Not Found")));
    assert!(problem["detail"].as_str().unwrap().contains("no-such-project"), "{problem}");
    let bad_limit = app.get("/v2/projects?limit=5000").await;
    assert_eq!(
        (bad_limit.status, bad_limit.headers["content-type"].to_str().unwrap()),
        (StatusCode::UNPROCESSABLE_ENTITY, "application/problem+json")
    );
    let bad_cursor = app.get("/v2/projects?cursor=nonsense").await;
    assert_eq!(bad_cursor.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad_cursor.text());
}
