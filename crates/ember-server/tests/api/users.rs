//! Users with authentication off, as Phoenix 20.26.1 answers (observed with `phoenix serve`).

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::test_app;

fn local(email: &str, username: &str, role: &str) -> Value {
    json!({"user": {"email": email, "username": username, "role": role, "auth_method": "LOCAL", "password": "password123"}, "send_welcome_email": false})
}

#[tokio::test]
async fn users_are_listed_created_and_deleted_as_phoenix_does_with_auth_off() {
    let app = test_app().await;
    // Every database has the system user and the default admin; newest first, with a cursor.
    let first = app.get("/v1/users?limit=1").await.json();
    assert_eq!(first["data"][0]["username"], "admin");
    assert_eq!((&first["data"][0]["role"], &first["data"][0]["password_needs_reset"]), (&json!("ADMIN"), &json!(true)));
    assert_eq!(first["next_cursor"], "VXNlcjox");
    let rest = app.get("/v1/users?limit=1&cursor=VXNlcjox").await.json();
    assert_eq!(
        (&rest["data"][0]["username"], &rest["data"][0]["role"], &rest["next_cursor"]),
        (&json!("system"), &json!("SYSTEM"), &Value::Null)
    );
    let bad = app.get("/v1/users?cursor=nope").await;
    assert_eq!((bad.status, bad.text()), (StatusCode::UNPROCESSABLE_ENTITY, "Invalid cursor format: nope".into()));

    let created = app.post_json("/v1/users", &local("  Alice@X.com ", "alice", "MEMBER")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let alice = created.json()["data"].clone();
    assert_eq!(
        (&alice["email"], &alice["username"], &alice["role"], &alice["auth_method"], &alice["password_needs_reset"]),
        (&json!("alice@x.com"), &json!("alice"), &json!("MEMBER"), &json!("LOCAL"), &json!(true)),
        "emails are trimmed and lowercased, as Phoenix keeps them"
    );
    assert!(!created.text().contains("password123") && !created.text().contains("argon2"), "no password or hash is returned");
    let alice_rowid = ember_core::GlobalId::decode(alice["id"].as_str().unwrap()).unwrap().rowid;
    let hash = app.store.password_hash(alice_rowid).await.unwrap().unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");

    for (body, status, message) in [
        (local("alice@x.com", "alice2", "MEMBER"), StatusCode::CONFLICT, "Email already exists"),
        (local("b@x.com", "alice", "MEMBER"), StatusCode::CONFLICT, "Username already exists"),
        (local("s@x.com", "sys2", "SYSTEM"), StatusCode::BAD_REQUEST, "Cannot create users with SYSTEM role"),
        (local("notanemail", "eve", "VIEWER"), StatusCode::UNPROCESSABLE_ENTITY, "\"notanemail\" is not an email address"),
    ] {
        let refused = app.post_json("/v1/users", &body).await;
        assert_eq!((refused.status, refused.text()), (status, message.to_string()), "{body}");
    }
    let mut short = local("d@x.com", "dave", "VIEWER");
    short["user"]["password"] = json!("abc");
    let refused = app.post_json("/v1/users", &short).await;
    assert_eq!((refused.status, refused.text()), (StatusCode::UNPROCESSABLE_ENTITY, "Password must be at least 4 characters long".into()));
    let mut bad_role = local("r@x.com", "rob", "OWNER");
    bad_role["user"]["role"] = json!("OWNER");
    assert_eq!(app.post_json("/v1/users", &bad_role).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    let oauth = json!({"user": {"email": "o@x.com", "username": "oscar", "role": "ADMIN", "auth_method": "OAUTH2", "oauth2_client_id": "cid", "oauth2_user_id": "uid"}});
    let oscar = app.post_json("/v1/users", &oauth).await.json()["data"].clone();
    assert_eq!((&oscar["oauth2_client_id"], &oscar.get("password_needs_reset")), (&json!("cid"), &None));
    let ldap = json!({"user": {"email": "l@x.com", "username": "larry", "role": "VIEWER", "auth_method": "LDAP"}});
    assert_eq!(app.post_json("/v1/users", &ldap).await.json()["data"]["auth_method"], "LDAP");
    let listed: Vec<String> =
        app.get("/v1/users").await.json()["data"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_string()).collect();
    assert_eq!(listed, ["larry", "oscar", "alice", "admin", "system"]);

    for (id, status, message) in [
        ("VXNlcjoy", StatusCode::FORBIDDEN, "Cannot delete the default admin or system user"),
        ("VXNlcjox", StatusCode::FORBIDDEN, "Cannot delete the default admin or system user"),
        ("nope", StatusCode::UNPROCESSABLE_ENTITY, "Invalid User GlobalID format: nope"),
        ("VXNlcjo5OTk=", StatusCode::NOT_FOUND, "User not found"),
    ] {
        let refused = app.delete(&format!("/v1/users/{id}")).await;
        assert_eq!((refused.status, refused.text()), (status, message.to_string()), "{id}");
    }
    let alice_id = alice["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/v1/users/{alice_id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&format!("/v1/users/{alice_id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.post_json("/v1/users", &local("alice@x.com", "alice", "MEMBER")).await.status,
        StatusCode::CREATED,
        "the email is free again"
    );
}

#[tokio::test]
async fn the_viewer_is_anonymous_and_api_keys_need_authentication() {
    let app = test_app().await;
    assert_eq!(app.get("/v1/user").await.json(), json!({"data": {"auth_method": "ANONYMOUS"}}));
    let message = "This action requires authentication to be enabled. Set the PHOENIX_ENABLE_AUTH environment variable to true.";
    let key = json!({"data": {"name": "k"}});
    for answered in [
        app.get("/v1/user/api_keys").await,
        app.post_json("/v1/user/api_keys", &key).await,
        app.delete("/v1/user/api_keys/QXBpS2V5OjE=").await,
        app.get("/v1/system/api_keys").await,
        app.post_json("/v1/system/api_keys", &key).await,
        app.delete("/v1/system/api_keys/QXBpS2V5OjE=").await,
        app.get("/v1/users/api_keys").await,
    ] {
        assert_eq!((answered.status, answered.text()), (StatusCode::FORBIDDEN, message.to_string()));
    }
}
