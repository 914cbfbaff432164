//! Authentication on a real server (`PHOENIX_ENABLE_AUTH`): OTLP/gRPC and OTLP/HTTP with and
//! without keys, the CLI with `PHOENIX_API_KEY`, and a log that never shows a secret.

use ember_otlp::collector::trace_service_client::TraceServiceClient;
use ember_otlp::fixtures::{request, span};
use serde_json::{json, Value};
use tonic::metadata::MetadataValue;

use crate::process::Ember;

const SECRET: &str = "e2e-server-secret-0123456789abcdefgh";
const ADMIN_SECRET: &str = "e2e-admin-secret-0123456789abcdefghi";
const ADMIN_PASSWORD: &str = "Initial-Admin-Pass-42";
const VIEWER_PASSWORD: &str = "viewer-only-pass-77";

/// Signs in; the access token.
async fn sign_in(ember: &Ember, email: &str, password: &str) -> String {
    let response =
        ember.client.post(format!("{}/auth/login", ember.http)).json(&json!({"email": email, "password": password})).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_string())
        .find(|line| line.starts_with("phoenix-access-token="))
        .expect("access cookie");
    cookie.split(';').next().unwrap().trim_start_matches("phoenix-access-token=").to_string()
}

async fn post(ember: &Ember, path: &str, bearer: &str, body: Value) -> Value {
    let response = ember.client.post(format!("{}{path}", ember.http)).bearer_auth(bearer).json(&body).send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "POST {path}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

fn with_key<T>(message: T, key: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("authorization", MetadataValue::try_from(format!("Bearer {key}")).unwrap());
    request
}

#[tokio::test]
async fn keys_guard_grpc_http_and_the_cli_and_the_log_shows_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ember.log");
    let env = [
        ("PHOENIX_ENABLE_AUTH", "true"),
        ("PHOENIX_SECRET", SECRET),
        ("PHOENIX_ADMIN_SECRET", ADMIN_SECRET),
        ("PHOENIX_DEFAULT_ADMIN_INITIAL_PASSWORD", ADMIN_PASSWORD),
        ("RUST_LOG", "debug"),
    ];
    let ember = Ember::start_logging_to(dir.path(), &env, &log).await;

    let anonymous = ember.client.get(format!("{}/v1/projects", ember.http)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let admin = sign_in(&ember, "admin@localhost", ADMIN_PASSWORD).await;
    let user = json!({"user": {"email": "viewer@x.com", "username": "viewer", "role": "VIEWER", "auth_method": "LOCAL", "password": VIEWER_PASSWORD}});
    post(&ember, "/v1/users", &admin, user).await;
    let viewer = sign_in(&ember, "viewer@x.com", VIEWER_PASSWORD).await;
    let viewer_key =
        post(&ember, "/v1/user/api_keys", &viewer, json!({"data": {"name": "viewer"}})).await["data"]["key"].as_str().unwrap().to_string();
    let system_key = post(&ember, "/v1/system/api_keys", ADMIN_SECRET, json!({"data": {"name": "collector"}})).await["data"]["key"]
        .as_str()
        .unwrap()
        .to_string();

    // OTLP/gRPC: no key or a bad one is UNAUTHENTICATED, a VIEWER's key PERMISSION_DENIED.
    let mut grpc = TraceServiceClient::connect(ember.grpc.clone()).await.unwrap();
    let export = || request(Some("guarded"), vec![span(1, 1, None, "LLM")]);
    assert_eq!(grpc.export(export()).await.unwrap_err().code(), tonic::Code::Unauthenticated);
    assert_eq!(grpc.export(with_key(export(), "not-a-key")).await.unwrap_err().code(), tonic::Code::Unauthenticated);
    assert_eq!(grpc.export(with_key(export(), &viewer_key)).await.unwrap_err().code(), tonic::Code::PermissionDenied);
    grpc.export(with_key(export(), &system_key)).await.expect("a system key writes");

    // OTLP/HTTP likewise.
    use prost::Message;
    let http_export = |key: Option<&str>| {
        let builder = ember
            .client
            .post(format!("{}/v1/traces", ember.http))
            .header("content-type", "application/x-protobuf")
            .body(request(Some("guarded"), vec![span(2, 2, None, "LLM")]).encode_to_vec());
        match key {
            Some(key) => builder.bearer_auth(key),
            None => builder,
        }
        .send()
    };
    assert_eq!(http_export(None).await.unwrap().status(), 401);
    assert_eq!(http_export(Some(&viewer_key)).await.unwrap().status(), 403);
    assert_eq!(http_export(Some(&system_key)).await.unwrap().status(), 200);
    let spans = ember.client.get(format!("{}/v1/projects/guarded/spans", ember.http)).bearer_auth(&viewer_key).send().await.unwrap();
    assert_eq!(spans.json::<Value>().await.unwrap()["data"].as_array().unwrap().len(), 2, "a viewer reads");

    // The CLI sends PHOENIX_API_KEY.
    let cli = |key: Option<&str>| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ember"));
        command.args(["datasets", "list", "--json"]).env("PHOENIX_ENDPOINT", &ember.http).env_remove("PHOENIX_CLIENT_HEADERS");
        match key {
            Some(key) => command.env("PHOENIX_API_KEY", key),
            None => command.env_remove("PHOENIX_API_KEY"),
        };
        command.output()
    };
    let refused = cli(None).await.unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("401"), "{}", String::from_utf8_lossy(&refused.stderr));
    let listed = cli(Some(&viewer_key)).await.unwrap();
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));

    // A wrong password is logged as a failed sign-in, without the password.
    let wrong = ember
        .client
        .post(format!("{}/auth/login", ember.http))
        .json(&json!({"email": "viewer@x.com", "password": "Wrong-Guess-99"}))
        .send()
        .await;
    assert_eq!(wrong.unwrap().status(), 401);
    // The failed sign-in reaches the audit log (written in the background, so polled).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let entries = ember.client.get(format!("{}/v1/audit_log", ember.http)).bearer_auth(&admin).send().await.unwrap();
        let entries: Value = entries.json().await.unwrap();
        if entries["data"].as_array().unwrap().iter().any(|entry| entry["action"] == "sign_in_failed") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no failed sign-in in {entries}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    ember.terminate().await;

    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("signed_in") && log.contains("sign_in_failed"), "sign-ins are logged: {log}");
    for secret in [SECRET, ADMIN_SECRET, ADMIN_PASSWORD, VIEWER_PASSWORD, "Wrong-Guess-99", &admin, &viewer, &viewer_key, &system_key] {
        assert!(!log.contains(secret), "the log shows a secret ({}…)", &secret[..8]);
    }
}

/// Phoenix's per-client limit on the sign-in routes: a burst of 12, then 429, whatever the
/// emails tried; `PHOENIX_DISABLE_RATE_LIMIT` lifts it.
#[tokio::test]
async fn one_client_may_not_hammer_the_sign_in_routes_unless_the_limit_is_off() {
    for (disabled, expected_last) in [("false", 429), ("true", 401)] {
        let dir = tempfile::tempdir().unwrap();
        let env = [("PHOENIX_ENABLE_AUTH", "true"), ("PHOENIX_SECRET", SECRET), ("PHOENIX_DISABLE_RATE_LIMIT", disabled)];
        let ember = Ember::start(dir.path(), &env).await;
        let mut statuses = Vec::new();
        for attempt in 0..13 {
            // A different email each time: the per-email lockout never applies.
            let body = json!({"email": format!("guess{attempt}@x.com"), "password": "wrong"});
            statuses.push(ember.client.post(format!("{}/auth/login", ember.http)).json(&body).send().await.unwrap().status().as_u16());
        }
        assert!(statuses[..12].iter().all(|status| *status == 401), "{statuses:?}");
        assert_eq!(statuses[12], expected_last, "PHOENIX_DISABLE_RATE_LIMIT={disabled}: {statuses:?}");
        // The reset routes and the UI's sign-in form share the client's allowance, as in Phoenix.
        let reset = ember.client.post(format!("{}/auth/password-reset", ember.http)).json(&json!({"token": "x", "password": "p"}));
        assert_eq!(reset.send().await.unwrap().status().as_u16(), expected_last, "PHOENIX_DISABLE_RATE_LIMIT={disabled}");
        let form = ember.client.post(format!("{}/login", ember.http)).form(&[("email", "guess@x.com"), ("password", "wrong")]);
        let form_status = form.send().await.unwrap().status().as_u16();
        assert_eq!(form_status == 429, disabled == "false", "the sign-in form: {form_status}");
        // Other routes are not limited, nor the login page itself.
        assert_eq!(ember.client.get(format!("{}/healthz", ember.http)).send().await.unwrap().status(), 200);
        assert_eq!(ember.client.get(format!("{}/login", ember.http)).send().await.unwrap().status(), 200);
        ember.terminate().await;
    }
}

/// OTLP over gRPC and over HTTP × every kind of caller: no valid credential is UNAUTHENTICATED
/// (401), a VIEWER or a key scoped to another project PERMISSION_DENIED (403), every other caller
/// commits its spans — and exactly those spans are stored.
#[tokio::test]
async fn otlp_over_grpc_and_http_answers_every_kind_of_caller() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("PHOENIX_ENABLE_AUTH", "true"),
        ("PHOENIX_SECRET", SECRET),
        ("PHOENIX_ADMIN_SECRET", ADMIN_SECRET),
        ("PHOENIX_DEFAULT_ADMIN_INITIAL_PASSWORD", ADMIN_PASSWORD),
    ];
    let ember = Ember::start(dir.path(), &env).await;
    let mut grpc = TraceServiceClient::connect(ember.grpc.clone()).await.unwrap();
    // One span each (a span id names one span, wherever it is sent again).
    for (project, id) in [("guarded", 200), ("other", 201)] {
        let export = with_key(request(Some(project), vec![span(id, id, None, "LLM")]), ADMIN_SECRET);
        grpc.export(export).await.expect("the admin secret writes");
    }
    let admin = sign_in(&ember, "admin@localhost", ADMIN_PASSWORD).await;
    for (email, role) in [("viewer@x.com", "VIEWER"), ("member@x.com", "MEMBER")] {
        let user = json!({"user": {"email": email, "username": role, "role": role, "auth_method": "LOCAL", "password": VIEWER_PASSWORD}});
        post(&ember, "/v1/users", &admin, user).await;
    }
    let (viewer, member) = (sign_in(&ember, "viewer@x.com", VIEWER_PASSWORD).await, sign_in(&ember, "member@x.com", VIEWER_PASSWORD).await);
    let key = |session: String, data: Value| {
        let ember = &ember;
        async move { post(ember, "/v1/user/api_keys", &session, json!({"data": data})).await["data"].clone() }
    };
    let viewer_key = key(viewer.clone(), json!({"name": "v"})).await["key"].as_str().unwrap().to_string();
    let member_key = key(member.clone(), json!({"name": "m"})).await["key"].as_str().unwrap().to_string();
    let admin_key = key(admin.clone(), json!({"name": "a"})).await["key"].as_str().unwrap().to_string();
    let scoped = key(member.clone(), json!({"name": "s", "project": "guarded"})).await["key"].as_str().unwrap().to_string();
    let elsewhere = key(member.clone(), json!({"name": "e", "project": "other"})).await["key"].as_str().unwrap().to_string();
    let ingest_only =
        key(member.clone(), json!({"name": "i", "project": "guarded", "ingest_only": true})).await["key"].as_str().unwrap().to_string();
    let revoked = key(member.clone(), json!({"name": "r"})).await;
    let revoked_id = revoked["id"].as_str().unwrap();
    let deleted = ember.client.delete(format!("{}/v1/user/api_keys/{revoked_id}", ember.http)).bearer_auth(&member).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let system_key = post(&ember, "/v1/system/api_keys", ADMIN_SECRET, json!({"data": {"name": "collector"}})).await["data"]["key"]
        .as_str()
        .unwrap()
        .to_string();

    use prost::Message;
    use tonic::Code;
    let callers: [(&str, Option<&str>, Code, u16); 12] = [
        ("no key", None, Code::Unauthenticated, 401),
        ("a bad key", Some("not-a-key"), Code::Unauthenticated, 401),
        ("a revoked key", Some(revoked["key"].as_str().unwrap()), Code::Unauthenticated, 401),
        ("a viewer's key", Some(&viewer_key), Code::PermissionDenied, 403),
        ("a key for another project", Some(&elsewhere), Code::PermissionDenied, 403),
        ("a member's key", Some(&member_key), Code::Ok, 200),
        ("a member's session", Some(&member), Code::Ok, 200),
        ("an admin's key", Some(&admin_key), Code::Ok, 200),
        ("a system key", Some(&system_key), Code::Ok, 200),
        ("the admin secret", Some(ADMIN_SECRET), Code::Ok, 200),
        ("a key for this project", Some(&scoped), Code::Ok, 200),
        ("an ingest-only key for this project", Some(&ingest_only), Code::Ok, 200),
    ];
    let mut committed = 0;
    for (index, (caller, bearer, code, status)) in callers.iter().enumerate() {
        // Distinct span ids per send, so that every accepted export adds a span.
        let (grpc_span, http_span) = (span(1, 2 * index as u8, None, "LLM"), span(1, 2 * index as u8 + 1, None, "LLM"));
        let message = request(Some("guarded"), vec![grpc_span]);
        let answer = match bearer {
            Some(bearer) => grpc.export(with_key(message, bearer)).await,
            None => grpc.export(message).await,
        };
        assert_eq!(answer.map(|_| Code::Ok).unwrap_or_else(|status| status.code()), *code, "gRPC with {caller}");
        let builder = ember
            .client
            .post(format!("{}/v1/traces", ember.http))
            .header("content-type", "application/x-protobuf")
            .body(request(Some("guarded"), vec![http_span]).encode_to_vec());
        let builder = match bearer {
            Some(bearer) => builder.bearer_auth(bearer),
            None => builder,
        };
        assert_eq!(builder.send().await.unwrap().status().as_u16(), *status, "HTTP with {caller}");
        if *code == Code::Ok {
            committed += 2;
        }
    }
    let spans = ember.client.get(format!("{}/v1/projects/guarded/spans?limit=1000", ember.http)).bearer_auth(&admin).send().await.unwrap();
    let stored = spans.json::<Value>().await.unwrap()["data"].as_array().unwrap().len();
    assert_eq!(stored, committed + 1, "the accepted exports, and nothing from the refused ones");
    ember.terminate().await;
}
