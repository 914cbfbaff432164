//! Authentication on (`PHOENIX_ENABLE_AUTH`): signing in, sessions, API keys, and the role ×
//! route matrix generated from the route table, as Phoenix 20.26 answers.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use ember_server::app::Access;
use ember_service::auth::tokens::TokenSigner;
use ember_service::AuthSettings;
use ember_store::{NewToken, TokenKind};
use serde_json::{json, Value};

use crate::common::{test_app_with_auth, TestApp, TestResponse, TEST_ADMIN_SECRET, TEST_SECRET};

/// How a request proves who it is.
#[derive(Debug, Clone)]
pub(crate) enum As {
    Nobody,
    Bearer(String),
    Cookie(String),
}

impl As {
    pub(crate) fn apply(&self, request: axum::http::request::Builder) -> axum::http::request::Builder {
        match self {
            As::Nobody => request,
            As::Bearer(token) => request.header(header::AUTHORIZATION, format!("Bearer {token}")),
            As::Cookie(token) => request.header(header::COOKIE, format!("phoenix-access-token={token}")),
        }
    }
}

pub(crate) async fn send(app: &TestApp, method: Method, uri: &str, who: &As, body: Option<&Value>) -> TestResponse {
    let request = who.apply(Request::builder().method(method).uri(uri));
    let request = match body {
        Some(body) => request.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    };
    app.send(request.unwrap()).await
}

pub(crate) async fn login(app: &TestApp, email: &str, password: &str) -> TestResponse {
    app.post_json("/auth/login", &json!({"email": email, "password": password})).await
}

/// The value of a `Set-Cookie` of the response.
pub(crate) fn set_cookie<'r>(response: &'r TestResponse, name: &str) -> Option<&'r str> {
    response
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|line| line.starts_with(&format!("{name}=")))
}

pub(crate) fn cookie_value(line: &str) -> String {
    line.split(';').next().unwrap().split_once('=').unwrap().1.to_string()
}

/// Signs in and returns the session's access token.
pub(crate) async fn session(app: &TestApp, email: &str, password: &str) -> String {
    let response = login(app, email, password).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT, "{}", response.text());
    cookie_value(set_cookie(&response, "phoenix-access-token").unwrap())
}

/// Creates a user as the default admin; returns nothing (sign in to use it).
pub(crate) async fn create_user(app: &TestApp, admin: &As, email: &str, username: &str, role: &str, password: &str) {
    let body = json!({"user": {"email": email, "username": username, "role": role, "auth_method": "LOCAL", "password": password}});
    let created = send(app, Method::POST, "/v1/users", admin, Some(&body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
}

/// A personal API key of the signed-in session.
pub(crate) async fn api_key(app: &TestApp, session: &As, name: &str) -> (String, String) {
    let created = send(app, Method::POST, "/v1/user/api_keys", session, Some(&json!({"data": {"name": name}}))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let data = created.json()["data"].clone();
    (data["id"].as_str().unwrap().to_string(), data["key"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn signing_in_sets_the_session_cookies_and_the_session_is_the_caller() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let response = login(&app, "admin@localhost", "admin").await;
    assert_eq!(response.status, StatusCode::NO_CONTENT, "{}", response.text());
    let access = set_cookie(&response, "phoenix-access-token").expect("access cookie");
    let refresh = set_cookie(&response, "phoenix-refresh-token").expect("refresh cookie");
    for (line, max_age) in [(access, "Max-Age=600"), (refresh, "Max-Age=604800")] {
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", max_age] {
            assert!(line.contains(attribute), "{attribute} in {line}");
        }
        assert!(!line.contains("Secure"), "{line}");
    }
    // Phoenix's tokens: a JWT whose only claim names the stored row.
    let token = cookie_value(access);
    assert!(token.starts_with("eyJ") && token.split('.').count() == 3, "{token}");

    let me = send(&app, Method::GET, "/v1/user", &As::Cookie(token.clone()), None).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
    let user = me.json()["data"].clone();
    assert_eq!((&user["username"], &user["role"], &user["password_needs_reset"]), (&json!("admin"), &json!("ADMIN"), &json!(true)));
    let as_bearer = send(&app, Method::GET, "/v1/user", &As::Bearer(token), None).await;
    assert_eq!(as_bearer.json()["data"]["username"], "admin", "the access token works as a bearer token too");

    for (body, message) in [
        (json!({"email": "admin@localhost", "password": "wrong"}), "Invalid email and/or password"),
        (json!({"email": "nobody@localhost", "password": "admin"}), "Invalid email and/or password"),
        (json!({"email": "admin@localhost"}), "Email and password required"),
        (json!({}), "Email and password required"),
    ] {
        let refused = app.post_json("/auth/login", &body).await;
        assert_eq!((refused.status, refused.text()), (StatusCode::UNAUTHORIZED, message.to_string()), "{body}");
        assert!(set_cookie(&refused, "phoenix-access-token").is_none());
    }
    let case_blind = login(&app, "  ADMIN@localhost ", "admin").await;
    assert_eq!(case_blind.status, StatusCode::NO_CONTENT, "emails are trimmed and compared without case");
}

#[tokio::test]
async fn refreshing_replaces_both_tokens_and_signing_out_revokes_them() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let response = login(&app, "admin@localhost", "admin").await;
    let access = cookie_value(set_cookie(&response, "phoenix-access-token").unwrap());
    let refresh = cookie_value(set_cookie(&response, "phoenix-refresh-token").unwrap());
    let refresh_request = |refresh: &str, access: &str| {
        Request::post("/auth/refresh")
            .header(header::COOKIE, format!("phoenix-refresh-token={refresh}; phoenix-access-token={access}"))
            .body(Body::empty())
            .unwrap()
    };
    let refreshed = app.send(refresh_request(&refresh, &access)).await;
    assert_eq!(refreshed.status, StatusCode::NO_CONTENT, "{}", refreshed.text());
    let new_access = cookie_value(set_cookie(&refreshed, "phoenix-access-token").unwrap());
    let new_refresh = cookie_value(set_cookie(&refreshed, "phoenix-refresh-token").unwrap());
    assert_ne!((&new_access, &new_refresh), (&access, &refresh));
    // The old pair is used up.
    assert_eq!(send(&app, Method::GET, "/v1/projects", &As::Cookie(access.clone()), None).await.status, StatusCode::UNAUTHORIZED);
    let again = app.send(refresh_request(&refresh, &access)).await;
    assert_eq!((again.status, again.text()), (StatusCode::UNAUTHORIZED, "Invalid refresh token".into()));
    let missing = app.send(Request::post("/auth/refresh").body(Body::empty()).unwrap()).await;
    assert_eq!((missing.status, missing.text()), (StatusCode::UNAUTHORIZED, "Missing refresh token".into()));
    assert_eq!(send(&app, Method::GET, "/v1/projects", &As::Cookie(new_access.clone()), None).await.status, StatusCode::OK);

    // Signing out ends every session of the user, clears the cookies and goes to the login page.
    let other_session = session(&app, "admin@localhost", "admin").await;
    let logout = send(&app, Method::GET, "/auth/logout", &As::Cookie(new_access.clone()), None).await;
    assert_eq!(logout.status, StatusCode::FOUND);
    assert_eq!(logout.headers.get(header::LOCATION).unwrap(), "/login");
    for name in ["phoenix-access-token", "phoenix-refresh-token"] {
        let removal = set_cookie(&logout, name).unwrap();
        // Phoenix's clients check for Starlette's removal: the value `""`.
        assert!(removal.starts_with(&format!("{name}=\"\";")) && removal.contains("Max-Age=0"), "{removal}");
    }
    for token in [new_access, other_session] {
        let refused = send(&app, Method::GET, "/v1/projects", &As::Cookie(token), None).await;
        assert_eq!((refused.status, refused.text()), (StatusCode::UNAUTHORIZED, "Invalid token".into()));
    }
    let after = app.send(refresh_request(&new_refresh, "")).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "the refresh token is revoked too");
}

#[tokio::test]
async fn an_expired_access_token_is_refused_as_expired() {
    let settings = AuthSettings { access_token_expiry_minutes: 0.002, ..AuthSettings::default() };
    let app = test_app_with_auth(settings).await;
    let token = session(&app, "admin@localhost", "admin").await;
    // The token lasts 120 ms: poll until it has run out.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let response = send(&app, Method::GET, "/v1/projects", &As::Cookie(token.clone()), None).await;
        if response.status == StatusCode::UNAUTHORIZED {
            assert_eq!(response.text(), "Expired token");
            break;
        }
        assert_eq!(response.status, StatusCode::OK);
        assert!(std::time::Instant::now() < deadline, "the access token never expired");
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn repeated_bad_passwords_lock_the_email_out() {
    let settings = AuthSettings { brute_force_login_protection_max_attempts: 3, ..AuthSettings::default() };
    let app = test_app_with_auth(settings).await;
    for _ in 0..3 {
        assert_eq!(login(&app, "admin@localhost", "wrong").await.status, StatusCode::UNAUTHORIZED);
    }
    let locked = login(&app, "admin@localhost", "admin").await;
    assert_eq!(
        (locked.status, locked.text()),
        (StatusCode::TOO_MANY_REQUESTS, "Too many failed login attempts. Please try again later.".into()),
        "even the right password is refused while locked out"
    );
    assert!(set_cookie(&locked, "phoenix-access-token").is_none());

    let unprotected = test_app_with_auth(AuthSettings { disable_brute_force_login_protection: true, ..AuthSettings::default() }).await;
    for _ in 0..8 {
        assert_eq!(login(&unprotected, "admin@localhost", "wrong").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login(&unprotected, "admin@localhost", "admin").await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn api_keys_are_shown_once_work_as_bearer_tokens_and_stop_when_deleted() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let admin = As::Cookie(session(&app, "admin@localhost", "admin").await);
    create_user(&app, &admin, "member@x.com", "member", "MEMBER", "member-pass").await;
    let member = As::Cookie(session(&app, "member@x.com", "member-pass").await);

    let created =
        send(&app, Method::POST, "/v1/user/api_keys", &member, Some(&json!({"data": {"name": " ci ", "description": "for CI"}}))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let data = created.json()["data"].clone();
    assert_eq!((&data["name"], &data["description"]), (&json!("ci"), &json!("for CI")));
    assert!(data["id"].as_str().unwrap().len() > 4 && data.get("expires_at").is_none());
    let key = As::Bearer(data["key"].as_str().unwrap().to_string());
    let id = data["id"].as_str().unwrap().to_string();
    assert_eq!(ember_core::GlobalId::decode(&id).unwrap().type_name, "UserApiKey");

    // The key works, and is never shown again.
    assert_eq!(send(&app, Method::GET, "/v1/user", &key, None).await.json()["data"]["username"], "member");
    let listed = send(&app, Method::GET, "/v1/user/api_keys", &member, None).await;
    assert_eq!(listed.json()["data"].as_array().unwrap().len(), 1);
    assert!(!listed.text().contains(data["key"].as_str().unwrap()) && listed.json()["data"][0].get("key").is_none());

    // A key cannot make keys; bad input is named.
    let by_key = send(&app, Method::POST, "/v1/user/api_keys", &key, Some(&json!({"data": {"name": "x"}}))).await;
    assert_eq!((by_key.status, by_key.text()), (StatusCode::FORBIDDEN, "API keys cannot create API keys".into()));
    let unnamed = send(&app, Method::POST, "/v1/user/api_keys", &member, Some(&json!({"data": {"name": "  "}}))).await;
    assert_eq!((unnamed.status, unnamed.text()), (StatusCode::UNPROCESSABLE_ENTITY, "Name cannot be empty".into()));
    let past = send(
        &app,
        Method::POST,
        "/v1/user/api_keys",
        &member,
        Some(&json!({"data": {"name": "old", "expires_at": "2020-01-01T00:00:00Z"}})),
    )
    .await;
    assert_eq!((past.status, past.text()), (StatusCode::UNPROCESSABLE_ENTITY, "Expiration time must be in the future".into()));

    // Admins see every user's keys with their owners; members may not.
    let all = send(&app, Method::GET, "/v1/users/api_keys", &admin, None).await;
    assert_eq!(all.json()["data"][0]["user"]["username"], "member", "{}", all.text());
    assert_eq!(send(&app, Method::GET, "/v1/users/api_keys", &member, None).await.status, StatusCode::FORBIDDEN);

    let malformed = send(&app, Method::DELETE, "/v1/user/api_keys/not-a-key-id", &member, None).await;
    assert_eq!(
        (malformed.status, malformed.text()),
        (StatusCode::UNPROCESSABLE_ENTITY, "Invalid UserApiKey GlobalID format: not-a-key-id".into())
    );
    // Another member cannot revoke it (nor learn it exists); its owner can.
    create_user(&app, &admin, "other@x.com", "other", "MEMBER", "other-pass").await;
    let other = As::Cookie(session(&app, "other@x.com", "other-pass").await);
    let probe = send(&app, Method::DELETE, &format!("/v1/user/api_keys/{id}"), &other, None).await;
    assert_eq!((probe.status, probe.text()), (StatusCode::NOT_FOUND, "API key not found".into()));
    assert_eq!(send(&app, Method::DELETE, &format!("/v1/user/api_keys/{id}"), &member, None).await.status, StatusCode::NO_CONTENT);
    let revoked = send(&app, Method::GET, "/v1/user", &key, None).await;
    assert_eq!((revoked.status, revoked.text()), (StatusCode::UNAUTHORIZED, "Invalid token".into()));
    // A revoked key stays revoked: new keys never take over its row.
    api_key(&app, &member, "next").await;
    assert_eq!(send(&app, Method::GET, "/v1/user", &key, None).await.status, StatusCode::UNAUTHORIZED);

    // Deleting a user revokes their keys and sessions at once.
    let (_, other_key) = api_key(&app, &other, "mine").await;
    let other_id = send(&app, Method::GET, "/v1/user", &other, None).await.json()["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(send(&app, Method::DELETE, &format!("/v1/users/{other_id}"), &admin, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(send(&app, Method::GET, "/v1/projects", &As::Bearer(other_key), None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&app, Method::GET, "/v1/projects", &other, None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn system_keys_are_for_admins_and_the_admin_secret_acts_as_the_system() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let system = As::Bearer(TEST_ADMIN_SECRET.to_string());
    assert_eq!(send(&app, Method::GET, "/v1/user", &system, None).await.json()["data"]["role"], "SYSTEM");
    let created = send(&app, Method::POST, "/v1/system/api_keys", &system, Some(&json!({"data": {"name": "collector"}}))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let key = As::Bearer(created.json()["data"]["key"].as_str().unwrap().to_string());
    let id = created.json()["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(ember_core::GlobalId::decode(&id).unwrap().type_name, "SystemApiKey");
    assert_eq!(send(&app, Method::GET, "/v1/user", &key, None).await.json()["data"]["username"], "system");
    // A system key writes, lists nothing of its own, and cannot make keys.
    let project = send(&app, Method::POST, "/v1/projects", &key, Some(&json!({"name": "from-collector"}))).await;
    assert_eq!(project.status, StatusCode::OK, "{}", project.text());
    assert_eq!(send(&app, Method::GET, "/v1/user/api_keys", &key, None).await.json()["data"], json!([]));
    assert_eq!(
        send(&app, Method::POST, "/v1/system/api_keys", &key, Some(&json!({"data": {"name": "x"}}))).await.status,
        StatusCode::FORBIDDEN
    );

    let admin = As::Cookie(session(&app, "admin@localhost", "admin").await);
    let listed = send(&app, Method::GET, "/v1/system/api_keys", &admin, None).await.json();
    assert_eq!(listed["data"][0]["name"], "collector");
    // A personal key is not a system key, and the other way round.
    let (user_key_id, _) = api_key(&app, &admin, "personal").await;
    let user_key_rowid = ember_core::GlobalId::decode(&user_key_id).unwrap().rowid;
    let as_system_id = ember_core::GlobalId::encode(ember_core::GlobalType::SystemApiKey, user_key_rowid);
    let wrong_kind = send(&app, Method::DELETE, &format!("/v1/system/api_keys/{as_system_id}"), &admin, None).await;
    assert_eq!(wrong_kind.status, StatusCode::NOT_FOUND, "{}", wrong_kind.text());
    assert_eq!(send(&app, Method::DELETE, &format!("/v1/system/api_keys/{id}"), &admin, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(send(&app, Method::GET, "/v1/projects", &key, None).await.status, StatusCode::UNAUTHORIZED);
}

/// The principals of the matrix.
pub(crate) struct Principals {
    pub(crate) anonymous: As,
    pub(crate) bad_token: As,
    pub(crate) expired: As,
    pub(crate) revoked: As,
    pub(crate) viewer: As,
    pub(crate) member: As,
    pub(crate) admin: As,
    pub(crate) system: As,
    pub(crate) system_key: As,
}

impl Principals {
    /// The valid callers with whether each has `access`: a VIEWER reads, a MEMBER also writes,
    /// admins and the admin secret do everything, and a system key reads and writes but is no
    /// admin (Phoenix's rule).
    pub(crate) fn by_role(&self, access: Access) -> [(&'static str, &As, bool); 5] {
        let writes = matches!(access, Access::SignedIn | Access::Write);
        [
            ("viewer", &self.viewer, access == Access::SignedIn),
            ("member", &self.member, writes),
            ("admin", &self.admin, true),
            ("system", &self.system, true),
            ("system key", &self.system_key, writes),
        ]
    }
}

pub(crate) async fn principals(app: &TestApp) -> Principals {
    let admin_session = As::Cookie(session(app, "admin@localhost", "admin").await);
    create_user(app, &admin_session, "viewer@x.com", "viewer", "VIEWER", "viewer-pass").await;
    create_user(app, &admin_session, "member@x.com", "member", "MEMBER", "member-pass").await;
    let viewer = As::Cookie(session(app, "viewer@x.com", "viewer-pass").await);
    let member = As::Cookie(session(app, "member@x.com", "member-pass").await);
    let (_, viewer_key) = api_key(app, &viewer, "viewer").await;
    let (_, member_key) = api_key(app, &member, "member").await;
    let (_, admin_key) = api_key(app, &admin_session, "admin").await;
    let (revoked_id, revoked_key) = api_key(app, &admin_session, "revoked").await;
    let system_key = send(app, Method::POST, "/v1/system/api_keys", &admin_session, Some(&json!({"data": {"name": "system"}}))).await;
    let system_key = system_key.json()["data"]["key"].as_str().unwrap().to_string();
    assert_eq!(
        send(app, Method::DELETE, &format!("/v1/user/api_keys/{revoked_id}"), &admin_session, None).await.status,
        StatusCode::NO_CONTENT
    );
    // A key whose expiry has passed (as a key that was made to expire and did).
    let expired_row = NewToken {
        kind: TokenKind::ApiKey,
        user_id: 2,
        refresh_token_id: None,
        name: Some("expired"),
        description: None,
        expires_at: Some(1),
        scope: Default::default(),
    };
    let expired_id = app.store.create_token(&expired_row, "n").await.unwrap();
    let expired = TokenSigner::new(TEST_SECRET).unwrap().sign(TokenKind::ApiKey, expired_id, "n");
    // The expired row's id and nonce, signed with another secret.
    let forged = TokenSigner::new("another server's secret, 0123456789abcdef").unwrap().sign(TokenKind::ApiKey, expired_id, "n");
    Principals {
        anonymous: As::Nobody,
        bad_token: As::Bearer(forged),
        expired: As::Bearer(expired),
        revoked: As::Bearer(revoked_key),
        viewer: As::Bearer(viewer_key),
        member: As::Bearer(member_key),
        admin: As::Bearer(admin_key),
        system: As::Bearer(TEST_ADMIN_SECRET.to_string()),
        system_key: As::Bearer(system_key),
    }
}

/// Every route of the table × every kind of caller: no valid credential is a 401 before anything
/// else, a VIEWER's write and a non-admin's (a system key's too) administration a 403 before the
/// request is read, and
/// every role that may use a route gets past authorization. A new route cannot be missed: the
/// routes are the router's own.
#[tokio::test]
async fn every_route_answers_every_kind_of_caller_as_its_access_says() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let who = principals(&app).await;
    let table = ember_server::app::api_routes(0);
    let mut checked = 0;
    for route in table.routes() {
        let uri =
            route.path.split('/').map(|segment| if segment.starts_with('{') { "fake-id-1" } else { segment }).collect::<Vec<_>>().join("/");
        let body = (route.method != Method::GET).then(|| json!({}));
        let status = |principal: &As| {
            let (app, uri, method, body, principal) = (&app, uri.clone(), route.method.clone(), body.clone(), principal.clone());
            async move { send(app, method, &uri, &principal, body.as_ref()).await }
        };
        let context = format!("{} {}", route.method, route.path);
        if route.access == Access::Public {
            let (anonymous, system) = (status(&who.anonymous).await.status, status(&who.system).await.status);
            assert_eq!(anonymous, system, "{context}: a public route answers everyone alike");
            checked += 1;
            continue;
        }
        // Arize's single-record API answers these with 403 and its own words (seed 000).
        let arize_log = route.path == "/v1/log";
        for (name, principal, message) in [
            ("anonymous", &who.anonymous, if arize_log { "must provide authorization header" } else { "Invalid token" }),
            ("bad token", &who.bad_token, if arize_log { "invalid api-key" } else { "Invalid token" }),
            ("expired", &who.expired, if arize_log { "invalid api-key" } else { "Expired token" }),
            ("revoked", &who.revoked, if arize_log { "invalid api-key" } else { "Invalid token" }),
        ] {
            let response = status(principal).await;
            let expected = if arize_log { StatusCode::FORBIDDEN } else { StatusCode::UNAUTHORIZED };
            assert_eq!((response.status, response.text()), (expected, message.to_string()), "{context} as {name}");
        }
        // Routes whose finer rules are the API-key service's are checked in their own tests.
        let key_routes = route.path.contains("api_keys");
        for (name, principal, allowed) in who.by_role(route.access) {
            let response = status(principal).await;
            if allowed {
                let passed = response.status != StatusCode::UNAUTHORIZED && response.status != StatusCode::FORBIDDEN;
                assert!(passed || key_routes, "{context} as {name}: {} {}", response.status, response.text());
            } else {
                let message = if route.access == Access::Write {
                    "Viewers cannot perform this action."
                } else {
                    "Only admin or system users can perform this action."
                };
                assert_eq!((response.status, response.text()), (StatusCode::FORBIDDEN, message.to_string()), "{context} as {name}");
            }
        }
        checked += 1;
    }
    assert!(checked > 120, "{checked} routes checked");
}

#[tokio::test]
async fn graphql_needs_a_caller_and_viewers_cannot_mutate() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let who = principals(&app).await;
    let query = json!({"query": "{ projects { edges { node { name } } } }"});
    assert_eq!(send(&app, Method::POST, "/graphql", &who.anonymous, Some(&query)).await.status, StatusCode::UNAUTHORIZED);
    let read = send(&app, Method::POST, "/graphql", &who.viewer, Some(&query)).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text());
    let mutation = json!({"query": "mutation { createPromptLabel(input: {name: \"x\", color: \"#ff0000\"}) { promptLabels { name } } }"});
    let refused = send(&app, Method::POST, "/graphql", &who.viewer, Some(&mutation)).await.json();
    assert_eq!(refused["errors"][0]["message"], "Viewers cannot perform this action.", "{refused}");
    let done = send(&app, Method::POST, "/graphql", &who.member, Some(&mutation)).await.json();
    assert!(done.get("errors").is_none(), "{done}");
}

#[tokio::test]
async fn users_are_administered_by_admins_only_and_new_passwords_keep_the_policy() {
    let app = test_app_with_auth(AuthSettings { enable_strong_password_policy: true, ..AuthSettings::default() }).await;
    let admin = As::Cookie(session(&app, "admin@localhost", "admin").await);
    let weak = json!({"user": {"email": "w@x.com", "username": "w", "role": "MEMBER", "auth_method": "LOCAL", "password": "password"}});
    let refused = send(&app, Method::POST, "/v1/users", &admin, Some(&weak)).await;
    assert_eq!(
        (refused.status, refused.text()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Password must be at least 12 characters long, at least one digit, at least one uppercase letter, and at least one special character".into()
        )
    );
    create_user(&app, &admin, "m@x.com", "m", "MEMBER", "Str0ng-Passw0rd!").await;
    let member = As::Cookie(session(&app, "m@x.com", "Str0ng-Passw0rd!").await);
    let listed = send(&app, Method::GET, "/v1/users", &member, None).await;
    assert_eq!((listed.status, listed.text()), (StatusCode::FORBIDDEN, "Only admin or system users can perform this action.".into()));
    assert_eq!(send(&app, Method::GET, "/v1/users", &admin, None).await.json()["data"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn phoenix_admins_are_created_at_startup_once() {
    let settings = AuthSettings { admins: Some("Jane Doe=Jane@Example.com;ops=ops@example.com".into()), ..AuthSettings::default() };
    let app = test_app_with_auth(settings).await;
    // Startup again (a restart) changes nothing.
    app.services.auth().prepare().await.unwrap();
    let admin = As::Cookie(session(&app, "admin@localhost", "admin").await);
    let users = send(&app, Method::GET, "/v1/users", &admin, None).await.json();
    let found: Vec<(&str, &str, &str)> = users["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|user| (user["username"].as_str().unwrap(), user["email"].as_str().unwrap(), user["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            ("ops", "ops@example.com", "ADMIN"),
            ("Jane Doe", "jane@example.com", "ADMIN"),
            ("admin", "admin@localhost", "ADMIN"),
            ("system", "system@localhost", "SYSTEM")
        ]
    );
    assert_eq!(users["data"][0]["password_needs_reset"], true);
}

pub(crate) async fn form(app: &TestApp, uri: &str, who: &As, fields: &[(&str, &str)]) -> TestResponse {
    let body = serde_urlencoded::to_string(fields).unwrap();
    let request = who.apply(Request::post(uri)).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    app.send(request.body(Body::from(body)).unwrap()).await
}

pub(crate) fn location(response: &TestResponse) -> &str {
    response.headers.get(header::LOCATION).map(|value| value.to_str().unwrap()).unwrap_or_default()
}

#[tokio::test]
async fn the_web_ui_signs_in_forces_the_first_password_change_and_signs_out() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let away = send(&app, Method::GET, "/projects?range=7d", &As::Nobody, None).await;
    assert_eq!((away.status, location(&away)), (StatusCode::SEE_OTHER, "/login?next=%2Fprojects%3Frange%3D7d"));
    let page = send(&app, Method::GET, "/login?next=%2Fprojects", &As::Nobody, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("id=\"login\"") && page.text().contains("value=\"/projects\""), "{}", page.text());

    let wrong = form(&app, "/login", &As::Nobody, &[("email", "admin@localhost"), ("password", "nope"), ("next", "/projects")]).await;
    assert_eq!(location(&wrong), "/login?next=%2Fprojects&error=Invalid%20email%20and%2For%20password");
    // Only a path of this server is a place to go back to.
    let signed_in =
        form(&app, "/login", &As::Nobody, &[("email", "admin@localhost"), ("password", "admin"), ("next", "//evil.example")]).await;
    assert_eq!((signed_in.status, location(&signed_in)), (StatusCode::SEE_OTHER, "/projects"));
    let session = As::Cookie(cookie_value(set_cookie(&signed_in, "phoenix-access-token").unwrap()));

    // The default admin must choose a new password before anything else.
    let forced = send(&app, Method::GET, "/projects", &session, None).await;
    assert_eq!(location(&forced), "/account?reset=1");
    let account = send(&app, Method::GET, "/account?reset=1", &session, None).await;
    assert!(account.text().contains("password-reset-due") && account.text().contains("Sign out"), "{}", account.text());
    let wrong_current = form(&app, "/account/password", &session, &[("current", "nope"), ("new", "Brand-New-Pass-1")]).await;
    assert!(location(&wrong_current).starts_with("/account?error=Valid%20current%20password"), "{}", location(&wrong_current));
    let changed = form(&app, "/account/password", &session, &[("current", "admin"), ("new", "Brand-New-Pass-1")]).await;
    assert_eq!(location(&changed), "/login?notice=Your%20password%20is%20changed%3A%20sign%20in%20with%20it%2E");
    assert!(set_cookie(&changed, "phoenix-access-token").unwrap().contains("Max-Age=0"));
    assert_eq!(location(&send(&app, Method::GET, "/projects", &session, None).await), "/login?next=%2Fprojects", "the old session ended");
    assert_eq!(login(&app, "admin@localhost", "admin").await.status, StatusCode::UNAUTHORIZED);

    let session = As::Cookie(session_token(&app, "admin@localhost", "Brand-New-Pass-1").await);
    let projects = send(&app, Method::GET, "/projects", &session, None).await;
    assert_eq!(projects.status, StatusCode::OK);
    assert!(projects.text().contains("header-sign-out") && projects.text().contains("href=\"/users\""));

    // An API key made on the account page is shown once and works.
    let created = form(&app, "/account/api-keys", &session, &[("name", "laptop"), ("description", ""), ("expires", "")]).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let text = created.text();
    let key = text.split("id=\"new-key\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert_eq!(send(&app, Method::GET, "/v1/user", &As::Bearer(key), None).await.json()["data"]["username"], "admin");
    let account = send(&app, Method::GET, "/account", &session, None).await.text();
    assert!(account.contains("laptop") && !account.contains("new-key"), "listed, never shown again");

    let out = send(&app, Method::GET, "/auth/logout", &session, None).await;
    assert_eq!(location(&out), "/login");
    assert_eq!(location(&send(&app, Method::GET, "/projects", &session, None).await), "/login?next=%2Fprojects");
}

/// Signs in and returns the access token (for users whose password is current).
async fn session_token(app: &TestApp, email: &str, password: &str) -> String {
    session(app, email, password).await
}

#[tokio::test]
async fn a_page_with_an_expired_access_token_refreshes_the_session() {
    let app = test_app_with_auth(AuthSettings { access_token_expiry_minutes: 0.002, ..AuthSettings::default() }).await;
    let admin = As::Bearer(TEST_ADMIN_SECRET.to_string());
    create_user(&app, &admin, "m@x.com", "m", "MEMBER", "member-pass").await;
    // A user an admin made chooses their own password first; this one already has.
    let user_id = app.store.user_by_email("m@x.com").await.unwrap().unwrap().0.id;
    let hash = app.store.password_hash(user_id).await.unwrap().unwrap();
    app.store.set_password(user_id, &hash, false).await.unwrap();
    let response = login(&app, "m@x.com", "member-pass").await;
    let access = cookie_value(set_cookie(&response, "phoenix-access-token").unwrap());
    let refresh = cookie_value(set_cookie(&response, "phoenix-refresh-token").unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while send(&app, Method::GET, "/v1/projects", &As::Cookie(access.clone()), None).await.status != StatusCode::UNAUTHORIZED {
        assert!(std::time::Instant::now() < deadline, "the access token never expired");
        tokio::task::yield_now().await;
    }
    let request = Request::get("/projects")
        .header(header::COOKIE, format!("phoenix-access-token={access}; phoenix-refresh-token={refresh}"))
        .body(Body::empty())
        .unwrap();
    let page = app.send(request).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let renewed = cookie_value(set_cookie(&page, "phoenix-access-token").expect("a new access cookie"));
    assert_ne!(renewed, access);
    assert!(set_cookie(&page, "phoenix-refresh-token").is_some());
}

#[tokio::test]
async fn pages_show_each_role_only_what_it_may_do() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let admin = As::Bearer(TEST_ADMIN_SECRET.to_string());
    for (email, name, role) in [("v@x.com", "v", "VIEWER"), ("m@x.com", "m", "MEMBER")] {
        create_user(&app, &admin, email, name, role, "first-pass").await;
        let id = app.store.user_by_email(email).await.unwrap().unwrap().0.id;
        let hash = app.store.password_hash(id).await.unwrap().unwrap();
        app.store.set_password(id, &hash, false).await.unwrap();
    }
    let viewer = As::Cookie(session(&app, "v@x.com", "first-pass").await);
    let member = As::Cookie(session(&app, "m@x.com", "first-pass").await);
    let page = |who: &As, uri: &str| {
        let (who, uri) = (who.clone(), uri.to_string());
        let app = &app;
        async move { send(app, Method::GET, &uri, &who, None).await }
    };
    for uri in ["/projects", "/datasets", "/prompts", "/settings", "/account"] {
        assert_eq!(page(&As::Nobody, uri).await.status, StatusCode::SEE_OTHER, "{uri} anonymous");
        assert_eq!(page(&viewer, uri).await.status, StatusCode::OK, "{uri} as viewer");
        assert_eq!(page(&member, uri).await.status, StatusCode::OK, "{uri} as member");
    }
    let viewer_projects = page(&viewer, "/projects").await.text();
    assert!(!viewer_projects.contains("new-project") && !viewer_projects.contains("href=\"/users\""));
    assert!(!page(&viewer, "/settings").await.text().contains("new-config"));
    let member_projects = page(&member, "/projects").await.text();
    assert!(member_projects.contains("new-project") && !member_projects.contains("Delete the project"));
    assert!(page(&member, "/settings").await.text().contains("new-config"));
    // Writes through the pages follow the same rules.
    let refused = form(&app, "/projects", &viewer, &[("name", "by-viewer"), ("description", "")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    assert_eq!(page(&viewer, "/users").await.status, StatusCode::FORBIDDEN);
    assert_eq!(page(&member, "/users").await.status, StatusCode::FORBIDDEN);
    let users = page(&admin, "/users").await;
    assert!(users.text().contains("v@x.com") && users.text().contains("new-system-key"), "{}", users.text());
    let made =
        form(&app, "/users", &admin, &[("email", "n@x.com"), ("username", "n"), ("role", "VIEWER"), ("password", "first-pass")]).await;
    assert_eq!(location(&made), "/users?notice=n%20can%20sign%20in%20now%2E");
}

/// Password resets answer as Phoenix's do before any mail is involved: an address is required
/// (422), a server without SMTP says so (503), a reset needs a password (422) and a live reset
/// token (401: a missing, foreign or session token), and password sign-in turned off refuses
/// both (403). (Mail itself is tested against a real SMTP server in the end-to-end suite.)
#[tokio::test]
async fn password_resets_are_refused_as_phoenix_refuses_them() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let detail = |response: &TestResponse| response.text();
    let no_email = app.post_json("/auth/password-reset-email", &json!({})).await;
    assert_eq!((no_email.status, detail(&no_email).as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "Email required"));
    let no_smtp = app.post_json("/auth/password-reset-email", &json!({"email": "admin@localhost"})).await;
    assert_eq!((no_smtp.status, detail(&no_smtp).as_str()), (StatusCode::SERVICE_UNAVAILABLE, "SMTP server not configured"));
    let no_password = app.post_json("/auth/password-reset", &json!({"token": "x"})).await;
    assert_eq!((no_password.status, detail(&no_password).as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "Password required"));
    let session = login(&app, "admin@localhost", "admin").await;
    let access_token = cookie_value(set_cookie(&session, "phoenix-access-token").unwrap());
    for token in [json!(null), json!("not-a-token"), json!(access_token)] {
        let refused = app.post_json("/auth/password-reset", &json!({"token": token, "password": "New-Pass-123"})).await;
        assert_eq!((refused.status, detail(&refused).as_str()), (StatusCode::UNAUTHORIZED, "Invalid token"), "{token}");
    }
    assert_eq!(login(&app, "admin@localhost", "admin").await.status, StatusCode::NO_CONTENT, "the password is unchanged");

    let no_basic = test_app_with_auth(AuthSettings { disable_basic_auth: true, ..AuthSettings::default() }).await;
    assert_eq!(no_basic.post_json("/auth/password-reset-email", &json!({"email": "a@b.c"})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(no_basic.post_json("/auth/password-reset", &json!({"token": "x", "password": "p"})).await.status, StatusCode::FORBIDDEN);
}
