//! Per-project access with authentication on: a restricted project is hidden from users not
//! granted it on every path that can reach it (lists, project routes, span and trace ids,
//! GraphQL `node`, annotations, ingestion), a VIEWER grant reads but does not write, a key scoped
//! to a project reaches only that project, an ingest-only key only sends spans, and admins read
//! the audit log of every change.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use ember_otlp::fixtures::{request, span, span_id, string_attribute, trace_id, with_attributes};
use ember_service::AuthSettings;
use prost::Message;
use serde_json::{json, Value};

use crate::auth::{api_key, create_user, form, location, send, session, As};
use crate::common::{test_app_with_auth, TestApp, TestResponse};

pub(crate) async fn export_as(app: &TestApp, who: &As, project: &str, id: u8) -> TestResponse {
    let body = request(Some(project), vec![span(id, id, None, "LLM")]).encode_to_vec();
    let request = who.apply(Request::post("/v1/traces").header(header::CONTENT_TYPE, "application/x-protobuf"));
    app.send(request.body(Body::from(body)).unwrap()).await
}

async fn project_names(app: &TestApp, who: &As) -> Vec<String> {
    let listed = send(app, Method::GET, "/v1/projects", who, None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    listed.json()["data"].as_array().unwrap().iter().map(|project| project["name"].as_str().unwrap().to_string()).collect()
}

async fn user_id(app: &TestApp, who: &As) -> String {
    send(app, Method::GET, "/v1/user", who, None).await.json()["data"]["id"].as_str().unwrap().to_string()
}

async fn set_access(app: &TestApp, admin: &As, project: &str, access: Value) -> TestResponse {
    send(app, Method::PUT, &format!("/v1/projects/{project}/access"), admin, Some(&json!({"data": access}))).await
}

struct Setup {
    app: TestApp,
    admin: As,
    /// A MEMBER granted nothing.
    outsider: As,
    /// A MEMBER granted VIEWER on `secret`.
    reader: As,
    /// A MEMBER granted MEMBER on `secret`.
    writer: As,
}

/// `secret` (restricted, one span) and `open` (one span); three members.
async fn setup() -> Setup {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let admin = As::Cookie(session(&app, "admin@localhost", "admin").await);
    for name in ["outsider", "reader", "writer"] {
        create_user(&app, &admin, &format!("{name}@x.com"), name, "MEMBER", &format!("{name}-password")).await;
    }
    let login = |name: &'static str| {
        let app = &app;
        async move { As::Cookie(session(app, &format!("{name}@x.com"), &format!("{name}-password")).await) }
    };
    let (outsider, reader, writer) = (login("outsider").await, login("reader").await, login("writer").await);
    assert_eq!(export_as(&app, &admin, "secret", 1).await.status, StatusCode::OK);
    assert_eq!(export_as(&app, &admin, "open", 2).await.status, StatusCode::OK);
    let (reader_id, writer_id) = (user_id(&app, &reader).await, user_id(&app, &writer).await);
    let grants = json!({"restricted": true, "grants": [
        {"user_id": reader_id, "level": "VIEWER"},
        {"user_id": writer_id, "level": "MEMBER"},
    ]});
    let set = set_access(&app, &admin, "secret", grants.clone()).await;
    assert_eq!((set.status, set.json()["data"].clone()), (StatusCode::OK, grants));
    Setup { app, admin, outsider, reader, writer }
}

#[tokio::test]
async fn a_restricted_project_is_hidden_from_everyone_not_granted_it() {
    let Setup { app, admin, outsider, reader, writer } = setup().await;
    assert_eq!(project_names(&app, &outsider).await, ["open", "default"]);
    assert_eq!(project_names(&app, &reader).await, ["open", "secret", "default"]);
    assert_eq!(project_names(&app, &admin).await, ["open", "secret", "default"]);

    // Every project route answers the outsider, and an admin's key scoped to another project, as
    // for a project that does not exist.
    let scoped = send(&app, Method::POST, "/v1/user/api_keys", &admin, Some(&json!({"data": {"name": "k", "project": "open"}}))).await;
    let scoped = As::Bearer(scoped.json()["data"]["key"].as_str().unwrap().to_string());
    let table = ember_server::app::api_routes(0);
    let mut compared = 0;
    for route in table.routes().iter().filter(|route| route.path.contains("{project_identifier}")) {
        let uri = |project: &str| {
            route
                .path
                .replace("{project_identifier}", project)
                .split('/')
                .map(|s| if s.starts_with('{') { "x" } else { s })
                .collect::<Vec<_>>()
                .join("/")
        };
        let body = (route.method != Method::GET).then(|| json!({}));
        for (name, who) in [("outsider", &outsider), ("key scoped to another project", &scoped)] {
            let hidden = send(&app, route.method.clone(), &uri("secret"), who, body.as_ref()).await;
            let missing = send(&app, route.method.clone(), &uri("no-such-project"), who, body.as_ref()).await;
            let context = format!("{} {} as {name}", route.method, route.path);
            assert_eq!(hidden.status, missing.status, "{context}: {}", hidden.text());
            assert_eq!(hidden.text().replace("secret", "P"), missing.text().replace("no-such-project", "P"), "{context}");
            compared += 1;
        }
    }
    assert!(compared > 40, "{compared} project routes compared");

    // Ids reach no further: the span by id, GraphQL node, annotations on it, deleting it.
    let secret_span = span_id(1);
    let spans = send(&app, Method::GET, "/v1/projects/secret/spans", &reader, None).await;
    assert_eq!(spans.status, StatusCode::OK);
    let span_gid = spans.json()["data"][0]["id"].as_str().unwrap().to_string();
    let node = json!({"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": span_gid}});
    let by_outsider = send(&app, Method::POST, "/graphql", &outsider, Some(&node)).await.json();
    assert!(by_outsider["data"].is_null() && by_outsider["errors"][0]["message"].as_str().unwrap().starts_with("no Span"), "{by_outsider}");
    let by_reader = send(&app, Method::POST, "/graphql", &reader, Some(&node)).await.json();
    assert_eq!(by_reader["data"]["node"]["id"], span_gid.as_str());
    let annotation = json!({"data": [{"span_id": secret_span, "name": "q", "annotator_kind": "HUMAN", "result": {"label": "ok"}}]});
    let annotated = send(&app, Method::POST, "/v1/span_annotations", &outsider, Some(&annotation)).await;
    assert_eq!(annotated.status, StatusCode::NOT_FOUND, "{}", annotated.text());
    assert_eq!(send(&app, Method::DELETE, &format!("/v1/spans/{secret_span}"), &outsider, None).await.status, StatusCode::NOT_FOUND);

    // A VIEWER grant reads but does not write; a MEMBER grant writes.
    let refused = send(&app, Method::POST, "/v1/span_annotations", &reader, Some(&annotation)).await;
    assert_eq!((refused.status, refused.text()), (StatusCode::FORBIDDEN, "You may read this project but not change it.".into()));
    assert_eq!(send(&app, Method::POST, "/v1/span_annotations", &writer, Some(&annotation)).await.status, StatusCode::OK);
    assert_eq!(export_as(&app, &reader, "secret", 3).await.status, StatusCode::FORBIDDEN);
    assert_eq!(export_as(&app, &outsider, "secret", 4).await.status, StatusCode::FORBIDDEN);
    assert_eq!(export_as(&app, &writer, "secret", 5).await.status, StatusCode::OK);

    // Opening the project again shows it to everyone.
    assert_eq!(set_access(&app, &admin, "secret", json!({"restricted": false})).await.status, StatusCode::OK);
    assert_eq!(project_names(&app, &outsider).await, ["open", "secret", "default"]);
}

#[tokio::test]
async fn scoped_keys_reach_one_project_and_ingest_only_keys_only_send_spans() {
    let Setup { app, admin, outsider, .. } = setup().await;
    let scoped = send(&app, Method::POST, "/v1/user/api_keys", &outsider, Some(&json!({"data": {"name": "k", "project": "open"}}))).await;
    assert_eq!(scoped.status, StatusCode::CREATED, "{}", scoped.text());
    assert!(scoped.json()["data"]["project_id"].as_str().is_some());
    let scoped = As::Bearer(scoped.json()["data"]["key"].as_str().unwrap().to_string());
    assert_eq!(project_names(&app, &scoped).await, ["open"]);
    assert_eq!(send(&app, Method::GET, "/v1/projects/default/spans", &scoped, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(send(&app, Method::GET, "/v1/projects/open/spans", &scoped, None).await.status, StatusCode::OK);
    assert_eq!(export_as(&app, &scoped, "open", 6).await.status, StatusCode::OK);
    assert_eq!(export_as(&app, &scoped, "brand-new", 7).await.status, StatusCode::FORBIDDEN, "no project of its own making");
    // A key cannot be scoped to a project its owner cannot see.
    let hidden = send(&app, Method::POST, "/v1/user/api_keys", &outsider, Some(&json!({"data": {"name": "k", "project": "secret"}}))).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);

    let ingest = json!({"data": {"name": "collector", "project": "open", "ingest_only": true}});
    let ingest =
        send(&app, Method::POST, "/v1/system/api_keys", &admin, Some(&ingest)).await.json()["data"]["key"].as_str().unwrap().to_string();
    let ingest = As::Bearer(ingest);
    assert_eq!(export_as(&app, &ingest, "open", 8).await.status, StatusCode::OK);
    assert_eq!(export_as(&app, &ingest, "default", 9).await.status, StatusCode::FORBIDDEN);
    assert!(project_names(&app, &ingest).await.is_empty());
    assert_eq!(send(&app, Method::GET, "/v1/projects/open/spans", &ingest, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(send(&app, Method::GET, "/v1/users", &ingest, None).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn admins_read_the_audit_log_of_sign_ins_keys_and_access() {
    let Setup { app, admin, outsider, .. } = setup().await;
    api_key(&app, &outsider, "laptop").await;
    assert_eq!(send(&app, Method::GET, "/v1/audit_log", &outsider, None).await.status, StatusCode::FORBIDDEN);
    let log = send(&app, Method::GET, "/v1/audit_log?limit=100", &admin, None).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text());
    let actions: Vec<String> =
        log.json()["data"].as_array().unwrap().iter().map(|entry| entry["action"].as_str().unwrap().to_string()).collect();
    assert_eq!(actions[0], "api_key_created");
    assert_eq!(actions[1], "project_access_changed");
    for expected in ["signed_in", "user_created"] {
        assert!(actions.iter().any(|action| action == expected), "{expected} in {actions:?}");
    }
    let change = &log.json()["data"][1];
    assert_eq!(
        change["detail"],
        json!({"action": "project_access_changed", "project_id": change["detail"]["project_id"], "restricted": true, "grants": 2})
    );
    let invalid = set_access(&app, &admin, "secret", json!({"restricted": true, "grants": [{"role": "ADMIN", "level": "VIEWER"}]})).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", invalid.text());
    assert!(invalid.text().contains("MEMBER or VIEWER"), "{}", invalid.text());
    // Bad input names the problem.
    let malformed =
        set_access(&app, &admin, "secret", json!({"restricted": true, "grants": [{"user_id": "nope", "level": "VIEWER"}]})).await;
    assert_eq!((malformed.status, malformed.text()), (StatusCode::UNPROCESSABLE_ENTITY, "Invalid User GlobalID format: nope".into()));
    let unknown = json!({"restricted": true, "grants": [{"user_id": "VXNlcjo5OTk5", "level": "VIEWER"}]});
    let unknown = set_access(&app, &admin, "secret", unknown).await;
    assert_eq!((unknown.status, unknown.text()), (StatusCode::NOT_FOUND, "User not found: 9999".into()));
    let both = set_access(
        &app,
        &admin,
        "secret",
        json!({"restricted": true, "grants": [{"user_id": "VXNlcjo5OTk5", "role": "MEMBER", "level": "VIEWER"}]}),
    )
    .await;
    assert_eq!(both.status, StatusCode::UNPROCESSABLE_ENTITY);
    let many: Vec<Value> = (0..1001).map(|_| json!({"role": "VIEWER", "level": "VIEWER"})).collect();
    let too_many = set_access(&app, &admin, "secret", json!({"restricted": true, "grants": many})).await;
    assert_eq!(too_many.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_many.text().contains("at most 1000 grants"), "{}", too_many.text());
    let bad_cursor = send(&app, Method::GET, "/v1/audit_log?cursor=abc", &admin, None).await;
    assert_eq!((bad_cursor.status, bad_cursor.text()), (StatusCode::UNPROCESSABLE_ENTITY, "Invalid cursor format: abc".into()));
    let paged = send(&app, Method::GET, "/v1/audit_log?limit=1", &admin, None).await.json();
    let next = paged["next_cursor"].as_str().expect("a next page").to_string();
    let second = send(&app, Method::GET, &format!("/v1/audit_log?limit=1&cursor={next}"), &admin, None).await.json();
    assert_ne!(second["data"][0]["id"], paged["data"][0]["id"]);
}

#[tokio::test]
async fn admins_manage_access_and_read_the_audit_log_in_the_web_ui() {
    let Setup { app, admin, outsider, .. } = setup().await;
    // The web UI first asks the default admin for a password of their own.
    let changed = form(&app, "/account/password", &admin, &[("current", "admin"), ("new", "admin-password-2")]).await;
    assert_eq!(location(&changed), "/login?notice=Your%20password%20is%20changed%3A%20sign%20in%20with%20it%2E");
    let admin = As::Cookie(session(&app, "admin@localhost", "admin-password-2").await);
    let open = send(&app, Method::GET, "/v1/projects/open", &admin, None).await.json()["data"]["id"].as_str().unwrap().to_string();
    let open_id = ember_core::GlobalId::decode_as(&open, ember_core::GlobalType::Project).unwrap();
    let page = format!("/projects/{open_id}/access");
    let restricted = form(&app, &format!("{page}/restricted"), &admin, &[("restricted", "true")]).await;
    assert_eq!(
        (restricted.status, location(&restricted).starts_with(&format!("{page}?notice="))),
        (StatusCode::SEE_OTHER, true),
        "{}",
        location(&restricted)
    );
    let granted = form(&app, &format!("{page}/grants"), &admin, &[("subject", "outsider@x.com"), ("level", "VIEWER")]).await;
    assert!(location(&granted).contains("notice="), "{}", location(&granted));
    let unknown = form(&app, &format!("{page}/grants"), &admin, &[("subject", "nobody@x.com"), ("level", "VIEWER")]).await;
    assert!(location(&unknown).contains("error="), "{}", location(&unknown));
    let shown = send(&app, Method::GET, &page, &admin, None).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.text().contains("outsider@x.com") && shown.text().contains("Restricted"), "{}", shown.text());
    assert_eq!(project_names(&app, &outsider).await, ["open", "default"], "the outsider was granted it");

    // Not for members: the page, its forms and the audit log.
    form(&app, "/account/password", &outsider, &[("current", "outsider-password"), ("new", "outsider-password-2")]).await;
    let outsider = As::Cookie(session(&app, "outsider@x.com", "outsider-password-2").await);
    assert_eq!(send(&app, Method::GET, &page, &outsider, None).await.status, StatusCode::FORBIDDEN);
    let refused = form(&app, &format!("{page}/grants/0/delete"), &outsider, &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "refused before the form is read");
    assert_eq!(send(&app, Method::GET, "/audit", &outsider, None).await.status, StatusCode::FORBIDDEN);
    let audit = send(&app, Method::GET, "/audit", &admin, None).await;
    assert!(audit.text().contains("project access changed"), "{}", audit.text());
    let revoked = form(&app, &format!("{page}/grants/0/delete"), &admin, &[]).await;
    assert!(location(&revoked).contains("notice="), "{}", location(&revoked));
    assert_eq!(project_names(&app, &outsider).await, ["default"]);
}

/// A batch that reaches several projects is checked project by project (each project's rights
/// once, however many of its targets the batch names): all or nothing for annotations, and
/// sessions the caller may not change are skipped by a bulk delete.
#[tokio::test]
async fn batches_across_projects_are_checked_per_project() {
    let Setup { app, admin, outsider, reader, writer } = setup().await;
    // Two more traces in each project, each the only trace of a session named alike in both.
    for (project, first) in [("secret", 10u8), ("open", 20u8)] {
        let spans: Vec<_> = (first..first + 2)
            .map(|id| with_attributes(span(id, id, None, "LLM"), vec![string_attribute("session.id", &format!("s{}", id - first))]))
            .collect();
        let body = request(Some(project), spans).encode_to_vec();
        let export = admin.apply(Request::post("/v1/traces").header(header::CONTENT_TYPE, "application/x-protobuf"));
        assert_eq!(app.send(export.body(Body::from(body)).unwrap()).await.status, StatusCode::OK);
    }
    let annotations = |traces: &[u8]| {
        let data: Vec<Value> = traces
            .iter()
            .map(|trace| json!({"trace_id": trace_id(*trace), "name": "q", "annotator_kind": "HUMAN", "result": {"label": "ok"}}))
            .collect();
        json!({"data": data})
    };
    let mixed = annotations(&[20, 10, 21, 11]);
    let hidden = send(&app, Method::POST, "/v1/trace_annotations?sync=true", &outsider, Some(&mixed)).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.text());
    let read_only = send(&app, Method::POST, "/v1/trace_annotations?sync=true", &reader, Some(&mixed)).await;
    assert_eq!(read_only.status, StatusCode::FORBIDDEN, "{}", read_only.text());
    let written = send(&app, Method::POST, "/v1/trace_annotations?sync=true", &writer, Some(&mixed)).await;
    assert_eq!((written.status, written.json()["data"].as_array().map(Vec::len)), (StatusCode::OK, Some(4)), "{}", written.text());
    let open_only = send(&app, Method::POST, "/v1/trace_annotations?sync=true", &outsider, Some(&annotations(&[20, 21]))).await;
    assert_eq!(open_only.status, StatusCode::OK, "{}", open_only.text());

    // A `session.id` names one session per project: the outsider finds the open project's `s0`
    // (though the hidden project's is older), and its traces.
    let found = send(&app, Method::GET, "/v1/sessions/s0", &outsider, None).await;
    assert_eq!(found.json()["data"]["traces"][0]["trace_id"], trace_id(20), "{}", found.text());
    let traces = send(&app, Method::GET, "/v1/projects/open/traces?session_identifier=s0", &outsider, None).await;
    let traces: Vec<Value> = traces.json()["data"].as_array().unwrap().iter().map(|trace| trace["trace_id"].clone()).collect();
    assert_eq!(traces, [json!(trace_id(20))]);

    // The outsider's bulk delete of all four sessions (by GlobalID, as if guessed) deletes the
    // open project's only.
    let sessions = |project: &'static str| {
        let (app, admin) = (&app, &admin);
        async move {
            let listed = send(app, Method::GET, &format!("/v1/projects/{project}/sessions"), admin, None).await.json();
            listed["data"].as_array().unwrap().iter().map(|session| session["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
        }
    };
    let every = [sessions("open").await, sessions("secret").await].concat();
    assert_eq!(every.len(), 4);
    let delete = json!({"session_identifiers": every});
    assert_eq!(send(&app, Method::POST, "/v1/sessions/delete", &outsider, Some(&delete)).await.status, StatusCode::NO_CONTENT);
    assert_eq!((sessions("open").await.len(), sessions("secret").await.len()), (0, 2), "the hidden project's sessions stay");
}
