//! Users and API keys over GraphQL with authentication on, as Phoenix's UI and its own tests
//! manage them: `createUser`, `patchUser`, `patchViewer`, `deleteUsers`, `users`, `viewer`,
//! `node(User)`, and the create/delete mutations of user and system keys, with Phoenix's
//! messages for refusals.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::auth::{api_key, cookie_value, create_user, send, session, set_cookie, As};
use crate::common::{test_app_with_auth, TestApp, TEST_ADMIN_SECRET};
use ember_service::AuthSettings;

async fn gql(app: &TestApp, who: &As, query: &str, variables: Value) -> (Value, Option<String>) {
    let response = send(app, Method::POST, "/graphql", who, Some(&json!({"query": query, "variables": variables}))).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let cleared = set_cookie(&response, "phoenix-access-token").map(str::to_string);
    (response.json(), cleared)
}

fn error(answer: &Value) -> &str {
    answer["errors"][0]["message"].as_str().unwrap_or_else(|| panic!("no error in {answer}"))
}

const CREATE_USER: &str = "mutation($email: String!, $role: UserRoleInput!) { createUser(input: {email: $email, username: $email, \
                           password: \"first-pass\", role: $role}) { user { id email role { name } passwordNeedsReset authMethod } } }";

#[tokio::test]
async fn admins_manage_users_over_graphql_with_phoenix_rules() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let admin = As::Cookie(session(&app, "admin@localhost", "admin").await);
    let (created, _) = gql(&app, &admin, CREATE_USER, json!({"email": " Ann@X.com ", "role": "MEMBER"})).await;
    let ann = &created["data"]["createUser"]["user"];
    assert_eq!(
        (ann["email"].as_str(), ann["role"]["name"].as_str(), ann["authMethod"].as_str()),
        (Some("ann@x.com"), Some("MEMBER"), Some("LOCAL"))
    );
    let ann_id = ann["id"].as_str().unwrap().to_string();

    // A member may not create users; Phoenix's GraphQL words the refusal its own way.
    let member = As::Cookie(session(&app, "ann@x.com", "first-pass").await);
    let (refused, _) = gql(&app, &member, CREATE_USER, json!({"email": "bob@x.com", "role": "VIEWER"})).await;
    assert_eq!(error(&refused), "Only admin can perform this action");
    assert!(refused["data"].is_null());

    // The list holds the people, never the SYSTEM user.
    let (listed, _) = gql(&app, &admin, "{ users(first: 100) { edges { node { email role { name } } } } }", json!({})).await;
    let emails: Vec<&str> =
        listed["data"]["users"]["edges"].as_array().unwrap().iter().map(|edge| edge["node"]["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["ann@x.com", "admin@localhost"]);

    // An admin's new password must be changed at next sign-in; a new role ends the sessions.
    let patch = "mutation($id: ID!, $role: UserRoleInput, $password: String) { patchUser(input: {userId: $id, newRole: $role, \
                 newPassword: $password}) { user { role { name } passwordNeedsReset } } }";
    let (patched, _) = gql(&app, &admin, patch, json!({"id": ann_id, "role": "VIEWER", "password": "second-pass"})).await;
    assert_eq!(patched["data"]["patchUser"]["user"], json!({"role": {"name": "VIEWER"}, "passwordNeedsReset": true}));
    assert_eq!(send(&app, Method::GET, "/v1/user", &member, None).await.status, StatusCode::UNAUTHORIZED, "the old session ended");
    let own_node = As::Cookie(session(&app, "ann@x.com", "second-pass").await);
    let (node, _) =
        gql(&app, &own_node, "query($id: ID!) { node(id: $id) { ... on User { passwordNeedsReset } } }", json!({"id": ann_id})).await;
    assert_eq!(node["data"]["node"]["passwordNeedsReset"], true);
    let (admin_id, _) = gql(&app, &admin, "{ viewer { id } }", json!({})).await;
    let admin_id = admin_id["data"]["viewer"]["id"].as_str().unwrap().to_string();
    let (own_role, _) = gql(&app, &admin, patch, json!({"id": admin_id, "role": "MEMBER"})).await;
    assert_eq!(error(&own_role), "Cannot modify role for the default admin user");
    let (nothing, _) = gql(&app, &admin, patch, json!({"id": ann_id})).await;
    assert_eq!(error(&nothing), "At least one field must be set");

    // Deleting is all or none; the default admin stays.
    let delete = "mutation($ids: [ID!]!) { deleteUsers(input: {userIds: $ids}) { userIds } }";
    let (kept, _) = gql(&app, &admin, delete, json!({"ids": [ann_id, admin_id]})).await;
    assert_eq!(error(&kept), "Cannot delete the default admin user");
    let (unknown, _) = gql(&app, &admin, delete, json!({"ids": [ann_id, "VXNlcjo5OTk5"]})).await;
    assert_eq!(error(&unknown), "Some user IDs could not be found");
    let (_, key) = api_key(&app, &own_node, "ann's").await;
    let (deleted, _) = gql(&app, &admin, delete, json!({"ids": [ann_id]})).await;
    assert_eq!(deleted["data"]["deleteUsers"]["userIds"], json!([ann_id]));
    assert_eq!(
        send(&app, Method::GET, "/v1/user", &As::Bearer(key), None).await.status,
        StatusCode::UNAUTHORIZED,
        "their key went with them"
    );
}

#[tokio::test]
async fn the_viewer_changes_their_own_name_and_password() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let admin = As::Cookie(session(&app, "admin@localhost", "admin").await);
    create_user(&app, &admin, "cy@x.com", "cy", "VIEWER", "cy-password").await;
    let cy = As::Cookie(session(&app, "cy@x.com", "cy-password").await);
    let patch = "mutation($name: String, $new: String, $current: String) { patchViewer(input: {newUsername: $name, newPassword: $new, \
                 currentPassword: $current}) { user { username } } }";
    let (renamed, cleared) = gql(&app, &cy, patch, json!({"name": "cyrus"})).await;
    assert_eq!((renamed["data"]["patchViewer"]["user"]["username"].as_str(), cleared), (Some("cyrus"), None));
    let (wrong, _) = gql(&app, &cy, patch, json!({"new": "cy-password-2", "current": "not it"})).await;
    assert_eq!(error(&wrong), "Valid current password is required to modify password");
    let (missing, _) = gql(&app, &cy, patch, json!({"new": "cy-password-2"})).await;
    assert_eq!(error(&missing), "current_password is required when modifying password");
    let (changed, cleared) = gql(&app, &cy, patch, json!({"new": "cy-password-2", "current": "cy-password"})).await;
    assert!(changed.get("errors").is_none(), "{changed}");
    assert_eq!(cookie_value(&cleared.expect("the session cookies are cleared")), "\"\"");
    assert_eq!(send(&app, Method::GET, "/v1/user", &cy, None).await.status, StatusCode::UNAUTHORIZED, "every session ended");
    session(&app, "cy@x.com", "cy-password-2").await;
}

#[tokio::test]
async fn api_keys_over_graphql_keep_the_api_key_rules() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let admin = As::Cookie(session(&app, "admin@localhost", "admin").await);
    create_user(&app, &admin, "dee@x.com", "dee", "MEMBER", "dee-password").await;
    create_user(&app, &admin, "eve@x.com", "eve", "MEMBER", "eve-password").await;
    let dee = As::Cookie(session(&app, "dee@x.com", "dee-password").await);
    let eve = As::Cookie(session(&app, "eve@x.com", "eve-password").await);
    let create = |kind: &str| {
        format!("mutation {{ create{kind}ApiKey(input: {{name: \"k\", expiresAt: \"2199-01-02T03:04:05.123456+00:00\"}}) {{ jwt apiKey {{ id name expiresAt }} }} }}")
    };

    let (created, _) = gql(&app, &dee, &create("User"), json!({})).await;
    let key = &created["data"]["createUserApiKey"];
    assert!(created.get("errors").is_none(), "{created}");
    assert_eq!(key["apiKey"]["expiresAt"], "2199-01-02T03:04:05.123456+00:00");
    let (key_id, jwt) = (key["apiKey"]["id"].as_str().unwrap().to_string(), As::Bearer(key["jwt"].as_str().unwrap().to_string()));
    let (from_key, _) = gql(&app, &jwt, &create("User"), json!({})).await;
    assert_eq!(error(&from_key), "API keys cannot create API keys");
    // Over REST too, and before the body is read (Phoenix answers a bodiless request 403).
    let bodiless = send(&app, Method::POST, "/v1/user/api_keys", &jwt, None).await;
    assert_eq!((bodiless.status, bodiless.text()), (StatusCode::FORBIDDEN, "API keys cannot create API keys".into()));
    let (system_by_member, _) = gql(&app, &dee, &create("System"), json!({})).await;
    assert_eq!(error(&system_by_member), "Only admin can perform this action");

    // Another member cannot revoke it, and cannot tell it from a key that does not exist.
    let delete = |kind: &str| format!("mutation($id: ID!) {{ delete{kind}ApiKey(input: {{id: $id}}) {{ apiKeyId }} }}");
    let (theirs, _) = gql(&app, &eve, &delete("User"), json!({"id": key_id})).await;
    let (missing, _) = gql(&app, &eve, &delete("User"), json!({"id": "VXNlckFwaUtleTo5OTk5OTk="})).await;
    assert_eq!((error(&theirs), error(&missing)), ("API key not found", "API key not found"));

    // A system key: made by the admin secret, no admin itself, and owning no personal keys.
    let secret = As::Bearer(TEST_ADMIN_SECRET.to_string());
    let (system, _) = gql(&app, &secret, &create("System"), json!({})).await;
    let system_key = As::Bearer(system["data"]["createSystemApiKey"]["jwt"].as_str().unwrap().to_string());
    let (own_keys, _) = gql(&app, &system_key, "{ viewer { apiKeys { id } } }", json!({})).await;
    assert_eq!(own_keys["data"]["viewer"]["apiKeys"], json!([]));
    let (listing, _) = gql(&app, &system_key, "{ systemApiKeys { id } }", json!({})).await;
    assert_eq!(error(&listing), "Only admin can perform this action");
    let relabeled = ember_core::GlobalId::encode(
        ember_core::GlobalType::SystemApiKey,
        ember_core::GlobalId::decode_as(&key_id, ember_core::GlobalType::UserApiKey).unwrap(),
    );
    let (across, _) = gql(&app, &admin, &delete("System"), json!({"id": relabeled})).await;
    assert_eq!(error(&across), "API key not found");

    let (listed, _) = gql(&app, &admin, "{ userApiKeys { id } systemApiKeys { id } }", json!({})).await;
    assert_eq!(listed["data"]["userApiKeys"], json!([{"id": key_id}]));
    assert_eq!(listed["data"]["systemApiKeys"].as_array().unwrap().len(), 1);
    let (revoked, _) = gql(&app, &dee, &delete("User"), json!({"id": key_id})).await;
    assert_eq!(revoked["data"]["deleteUserApiKey"]["apiKeyId"], key_id.as_str());
    assert_eq!(send(&app, Method::GET, "/v1/user", &jwt, None).await.status, StatusCode::UNAUTHORIZED);
}

/// An app with the default admin, two MEMBERs (fay and gus), and a span fay sent to `p`.
async fn two_members_and_a_span() -> (TestApp, As, As, As) {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let admin = As::Cookie(session(&app, "admin@localhost", "admin").await);
    create_user(&app, &admin, "fay@x.com", "fay", "MEMBER", "fay-password").await;
    create_user(&app, &admin, "gus@x.com", "gus", "MEMBER", "gus-password").await;
    let (fay, gus) =
        (As::Cookie(session(&app, "fay@x.com", "fay-password").await), As::Cookie(session(&app, "gus@x.com", "gus-password").await));
    assert_eq!(crate::project_access::export_as(&app, &fay, "p", 1).await.status, StatusCode::OK);
    (app, admin, fay, gus)
}

#[tokio::test]
async fn only_its_author_changes_an_annotation_and_only_they_or_an_admin_delete_it() {
    let (app, admin, fay, gus) = two_members_and_a_span().await;
    let annotation =
        json!({"data": [{"span_id": ember_otlp::fixtures::span_id(1), "name": "q", "annotator_kind": "HUMAN", "result": {"label": "ok"}}]});
    let created = send(&app, Method::POST, "/v1/span_annotations?sync=true", &fay, Some(&annotation)).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let id = created.json()["data"][0]["id"].as_str().unwrap().to_string();

    let patch =
        "mutation($id: ID!) { patchSpanAnnotations(input: [{annotationId: $id, label: \"changed\"}]) { spanAnnotations { label } } }";
    let delete = "mutation($id: ID!) { deleteSpanAnnotations(input: {annotationIds: [$id]}) { spanAnnotations { id } } }";
    let not_yours = "At least one span annotation is not associated with the current user.";
    for who in [&gus, &admin] {
        let (refused, _) = gql(&app, who, patch, json!({"id": id})).await;
        assert_eq!(error(&refused), not_yours);
    }
    let (refused, _) = gql(&app, &gus, delete, json!({"id": id})).await;
    assert_eq!(error(&refused), not_yours);
    let (patched, _) = gql(&app, &fay, patch, json!({"id": id})).await;
    assert_eq!(patched["data"]["patchSpanAnnotations"]["spanAnnotations"][0]["label"], "changed");
    let (deleted, _) = gql(&app, &admin, delete, json!({"id": id})).await;
    assert_eq!(deleted["data"]["deleteSpanAnnotations"]["spanAnnotations"][0]["id"], id.as_str(), "{deleted}");
}

#[tokio::test]
async fn trace_annotations_follow_the_same_authorship_rules_and_name_their_author() {
    let (app, admin, fay, gus) = two_members_and_a_span().await;
    let (span, _) =
        gql(&app, &fay, "{ projects { edges { node { spans(first: 1) { edges { node { trace { id traceId } } } } } } } }", json!({})).await;
    let trace = &span["data"]["projects"]["edges"][0]["node"]["spans"]["edges"][0]["node"]["trace"];
    let trace_gid = trace["id"].as_str().unwrap().to_string();

    let fields = "id name label trace { traceId } user { id email username }";
    let create = format!(
        "mutation($trace: ID!) {{ createTraceAnnotations(input: [{{traceId: $trace, name: \"q\", annotatorKind: HUMAN, label: \"correct\", \
         metadata: {{}}, source: APP, identifier: \"i\"}}]) {{ traceAnnotations {{ {fields} }} }} }}"
    );
    let (created, _) = gql(&app, &fay, &create, json!({"trace": trace_gid})).await;
    let original = created["data"]["createTraceAnnotations"]["traceAnnotations"][0].clone();
    assert_eq!(original["trace"]["traceId"], trace["traceId"], "{created}");
    assert_eq!((original["user"]["email"].as_str(), original["user"]["username"].as_str()), (Some("fay@x.com"), Some("fay")));
    let id = original["id"].as_str().unwrap().to_string();

    let patch = format!(
        "mutation($id: ID!) {{ patchTraceAnnotations(input: [{{annotationId: $id, label: \"incorrect\"}}]) {{ traceAnnotations {{ {fields} }} }} }}"
    );
    let delete = "mutation($id: ID!) { deleteTraceAnnotations(input: {annotationIds: [$id]}) { traceAnnotations { id } } }";
    let read = format!("query($id: ID!) {{ node(id: $id) {{ ... on TraceAnnotation {{ {fields} }} }} }}");
    for who in [&gus, &admin] {
        let (refused, _) = gql(&app, who, &patch, json!({"id": id})).await;
        assert_eq!(error(&refused), "At least one trace annotation is not associated with the current user.");
        let (unchanged, _) = gql(&app, who, &read, json!({"id": id})).await;
        assert_eq!(unchanged["data"]["node"], original, "anyone who reads the trace sees the annotation and its author");
    }
    let (refused, _) = gql(&app, &gus, delete, json!({"id": id})).await;
    assert_eq!(
        error(&refused),
        "At least one trace annotation is not associated with the current user and the current user is not an admin."
    );
    let (patched, _) = gql(&app, &fay, &patch, json!({"id": id})).await;
    assert_eq!(patched["data"]["patchTraceAnnotations"]["traceAnnotations"][0]["label"], "incorrect");
    let (deleted, _) = gql(&app, &admin, delete, json!({"id": id})).await;
    assert_eq!(deleted["data"]["deleteTraceAnnotations"]["traceAnnotations"][0]["id"], id.as_str(), "{deleted}");
    let (gone, _) = gql(&app, &admin, &read, json!({"id": id})).await;
    assert!(gone["errors"][0]["message"].as_str().is_some_and(|message| message.starts_with("no TraceAnnotation")), "{gone}");
}

#[tokio::test]
async fn prompt_versions_record_who_wrote_them() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let admin = As::Cookie(session(&app, "admin@localhost", "admin").await);
    create_user(&app, &admin, "fay@x.com", "fay", "MEMBER", "fay-password").await;
    let fay = As::Cookie(session(&app, "fay@x.com", "fay-password").await);
    let version = json!({"templateFormat": "MUSTACHE", "template": {"messages": [{"role": "USER", "content": [{"text": {"text": "hi"}}]}]},
                         "invocationParameters": {"openai": {"temperature": 0.4}}, "modelProvider": "OPENAI", "modelName": "o1-mini"});
    let create = "mutation($input: CreateChatPromptInput!) { createChatPrompt(input: $input) { id promptVersions { edges { node { user { id email } } } } } }";
    let (created, _) = gql(&app, &fay, create, json!({"input": {"name": "greeting", "promptVersion": version}})).await;
    let (fay_id, _) = gql(&app, &fay, "{ viewer { id } }", json!({})).await;
    let prompt = &created["data"]["createChatPrompt"];
    assert_eq!(prompt["promptVersions"]["edges"][0]["node"]["user"], json!({"id": fay_id["data"]["viewer"]["id"], "email": "fay@x.com"}));

    let append = "mutation($input: CreateChatPromptVersionInput!) { createChatPromptVersion(input: $input) { promptVersions { edges { node { user { email } } } } } }";
    let (appended, _) = gql(&app, &admin, append, json!({"input": {"promptId": prompt["id"], "promptVersion": version}})).await;
    let authors: Vec<&Value> = appended["data"]["createChatPromptVersion"]["promptVersions"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| &edge["node"]["user"]["email"])
        .collect();
    assert_eq!(authors, [&json!("admin@localhost"), &json!("fay@x.com")], "newest first, each with its own author");
}

#[tokio::test]
async fn a_secret_is_a_node_and_only_admins_see_its_value() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let admin = As::Cookie(session(&app, "admin@localhost", "admin").await);
    create_user(&app, &admin, "fay@x.com", "fay", "MEMBER", "fay-password").await;
    let fay = As::Cookie(session(&app, "fay@x.com", "fay-password").await);
    let upsert =
        "mutation { upsertOrDeleteSecrets(input: {secrets: [{key: \"OPENAI_API_KEY\", value: \"sk-test\"}]}) { upsertedSecrets { id } } }";
    let (refused, _) = gql(&app, &fay, upsert, json!({})).await;
    assert_eq!(error(&refused), "Only admin can perform this action");
    let (upserted, _) = gql(&app, &admin, upsert, json!({})).await;
    let id = upserted["data"]["upsertOrDeleteSecrets"]["upsertedSecrets"][0]["id"].as_str().unwrap().to_string();

    let read = "query($id: ID!) { node(id: $id) { id ... on Secret { key value { __typename ... on DecryptedSecret { value } } } } }";
    let (seen, _) = gql(&app, &admin, read, json!({"id": id})).await;
    assert_eq!((seen["data"]["node"]["id"].as_str(), seen["data"]["node"]["key"].as_str()), (Some(id.as_str()), Some("OPENAI_API_KEY")));
    assert_eq!(seen["data"]["node"]["value"]["__typename"], "DecryptedSecret");
    let redacted = seen["data"]["node"]["value"]["value"].as_str().unwrap();
    assert!(redacted.contains("REDACTED") && !redacted.contains("sk-test"), "{redacted}");

    let (withheld, _) = gql(&app, &fay, read, json!({"id": id})).await;
    assert_eq!(error(&withheld), "Only admin can perform this action");
    let (keys_only, _) = gql(&app, &fay, "{ secrets { edges { node { key } } } }", json!({})).await;
    assert_eq!(keys_only["data"]["secrets"]["edges"][0]["node"]["key"], "OPENAI_API_KEY", "members see which keys exist");
    let (unknown, _) = gql(&app, &admin, read, json!({"id": "U2VjcmV0Ok5PTkU="})).await;
    assert!(error(&unknown).starts_with("no secret with id"), "{unknown}");
}

/// Phoenix's GraphQL makes a key whose expiry has passed (its REST API refuses one): the key is
/// made, and refused as expired from the start.
#[tokio::test]
async fn graphql_makes_a_key_already_expired_which_never_authenticates() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let admin = As::Cookie(session(&app, "admin@localhost", "admin").await);
    for kind in ["User", "System"] {
        let create = format!(
            "mutation {{ create{kind}ApiKey(input: {{name: \"late\", expiresAt: \"2001-01-01T00:00:00+00:00\"}}) {{ jwt apiKey {{ expiresAt }} }} }}"
        );
        let (created, _) = gql(&app, &admin, &create, json!({})).await;
        let key = &created["data"][format!("create{kind}ApiKey")];
        assert_eq!(key["apiKey"]["expiresAt"], "2001-01-01T00:00:00.000000+00:00", "{created}");
        let refused = send(&app, Method::GET, "/v1/projects", &As::Bearer(key["jwt"].as_str().unwrap().to_string()), None).await;
        assert_eq!((refused.status, refused.text()), (StatusCode::UNAUTHORIZED, "Expired token".into()), "{kind} key");
    }
    let rest = json!({"data": {"name": "late", "expires_at": "2001-01-01T00:00:00Z"}});
    let past = send(&app, Method::POST, "/v1/user/api_keys", &admin, Some(&rest)).await;
    assert_eq!((past.status, past.text()), (StatusCode::UNPROCESSABLE_ENTITY, "Expiration time must be in the future".into()));
}
