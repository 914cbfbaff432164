//! OAuth2 / OpenID Connect sign-in against real providers on loopback:
//! - the certified `oidc-provider` from npm (Node, started by the test; its development sign-in
//!   pages): a full sign-in in headless Chromium with PKCE, the userinfo endpoint (oidc-provider
//!   keeps profile claims out of the ID token), the role from the groups, a user outside the
//!   allowed groups sent back to the login page, two providers' buttons on it;
//! - a provider written here that issues the tokens a certified one never would, for the bad
//!   cases: a wrong audience, an expired token, a signature by another key, a replayed nonce, a
//!   state that is not the browser's, a disallowed group, an unsafe return URL — each refused
//!   with Phoenix's error code and no session.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use base64::Engine;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::browser::driver::{self, Browser};
use crate::process::Ember;

const SECRET: &str = "e2e-oidc-secret-0123456789abcdefghijk";
const ADMIN_SECRET: &str = "e2e-oidc-admin-0123456789abcdefghijk";
const CLIENT_ID: &str = "ember";
const CLIENT_SECRET: &str = "oidc-client-secret-1";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

async fn start_ember(dir: &std::path::Path, settings: &[(String, String)]) -> Ember {
    let mut env: Vec<(&str, &str)> = vec![
        ("PHOENIX_ENABLE_AUTH", "true"),
        ("PHOENIX_SECRET", SECRET),
        ("PHOENIX_ADMIN_SECRET", ADMIN_SECRET),
        ("PHOENIX_DISABLE_RATE_LIMIT", "true"),
    ];
    env.extend(settings.iter().map(|(key, value)| (key.as_str(), value.as_str())));
    Ember::start(dir, &env).await
}

fn provider_settings(idp: &str, config_url: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let var = |suffix: &str| format!("PHOENIX_OAUTH2_{idp}_{suffix}");
    let mut settings = vec![
        (var("CLIENT_ID"), CLIENT_ID.to_string()),
        (var("CLIENT_SECRET"), CLIENT_SECRET.to_string()),
        (var("OIDC_CONFIG_URL"), config_url.to_string()),
        (var("USE_PKCE"), "true".to_string()),
    ];
    settings.extend(extra.iter().map(|(suffix, value)| (var(suffix), value.to_string())));
    settings
}

// ---------------------------------------------------------------------------------------------
// The certified provider, in Chromium.

/// The directory with `oidc-provider` installed: `EMBER_TEST_OIDC_PROVIDER_DIR`, else this
/// test's own directory once `npm ci` ran in it.
fn oidc_provider_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("EMBER_TEST_OIDC_PROVIDER_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/oidc")));
    let node = std::process::Command::new("node").arg("--version").output().is_ok_and(|out| out.status.success());
    (node && dir.join("node_modules/oidc-provider").exists()).then_some(dir)
}

struct NodeProvider {
    child: Child,
    config_url: String,
}

impl NodeProvider {
    async fn start(dir: &std::path::Path, port: u16, config: &Value) -> NodeProvider {
        let mut child = Command::new("node")
            .arg(dir.join("provider.mjs"))
            .arg(port.to_string())
            .arg(config.to_string())
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.expect("oidc-provider is ready").unwrap();
        assert_eq!(ready, Some(format!("ready {port}")));
        // oidc-provider logs to stdout: keep reading it, or it dies writing to a closed pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        NodeProvider { child, config_url: format!("http://localhost:{port}/.well-known/openid-configuration") }
    }

    async fn stop(mut self) {
        drop(self.child.stdin.take());
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

/// Signs in at the provider's development pages (any password) and consents.
async fn sign_in_at_provider(browser: &Browser, login: &str) {
    browser.wait_for("input[name=login]").await;
    browser.fill("input[name=login]", login).await;
    browser.fill("input[name=password]", "any-password").await;
    browser.click("button[type=submit]").await;
    browser.wait_for("button[type=submit]").await;
    browser.wait_for_text("button[type=submit]", "Continue").await;
    browser.click("button[type=submit]").await;
}

#[tokio::test]
async fn a_user_signs_in_with_a_certified_openid_provider_in_chromium() {
    let Some(dir) = oidc_provider_dir() else {
        ember_store::testing::skip_unless(
            false,
            "oidc-provider from npm",
            "run npm ci in crates/ember/tests/e2e/oidc (./scripts/test does)",
        );
        return;
    };
    if !driver::available() {
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let port = free_port();
    let config_url = format!("http://localhost:{port}/.well-known/openid-configuration");
    let stub = StubProvider::start().await;
    let mut settings = provider_settings(
        "LOCAL",
        &config_url,
        &[
            ("DISPLAY_NAME", "Local SSO"),
            ("SCOPES", "groups"),
            ("GROUPS_ATTRIBUTE_PATH", "groups"),
            ("ALLOWED_GROUPS", "eng ops"),
            ("ROLE_ATTRIBUTE_PATH", "contains(groups, 'ops') && 'ADMIN' || 'MEMBER'"),
        ],
    );
    settings.extend(provider_settings("STUB", &stub.config_url(), &[]));
    let ember = start_ember(&temp.path().join("ember"), &settings).await;
    let config = json!({
        "clients": [{
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [format!("{}/oauth2/local/tokens", ember.http)],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
        }],
        "accounts": {
            "alice": {"email": "Alice@Example.com", "name": "Alice Ops", "groups": ["eng", "ops"]},
            "sam": {"email": "sam@example.com", "name": "Sam Sales", "groups": ["sales"]},
        },
    });
    let provider = NodeProvider::start(&dir, port, &config).await;
    assert_eq!(provider.config_url, config_url);

    let browser = Browser::start(&ember.http).await;
    browser.goto("/login?next=/datasets").await;
    assert_eq!(browser.count("#oauth2-providers a[data-idp]").await, 2, "a button per provider");
    assert_eq!(browser.text("#oauth2-providers a[data-idp=local]").await, "Sign in with Local SSO");
    browser.screenshot("oidc-login-buttons").await;
    browser.click("#oauth2-providers a[data-idp=local]").await;
    sign_in_at_provider(&browser, "alice").await;
    browser.wait_for("#datasets").await;
    assert_eq!(browser.current_path().await, "/datasets", "back at the page asked for, signed in");
    browser.goto("/account").await;
    assert_eq!(browser.text("#username").await, "Alice Ops");
    assert!(browser.text(".facts").await.contains("alice@example.com"), "the email, from the userinfo endpoint, lowercased");
    assert!(browser.text(".facts").await.contains("ADMIN"), "the role from the groups");
    browser.screenshot("oidc-signed-in").await;
    browser.close().await;

    // Outside the allowed groups: back at the login page, told why, not signed in.
    let browser = Browser::start(&ember.http).await;
    browser.goto("/login").await;
    browser.click("#oauth2-providers a[data-idp=local]").await;
    sign_in_at_provider(&browser, "sam").await;
    browser.wait_for_text(".notice.error", "Signing in with the provider failed").await;
    assert_eq!(browser.current_path().await, "/login?error=auth_failed");
    browser.goto("/account").await;
    browser.wait_for("#login").await;
    browser.close().await;

    let users = ember.client.get(format!("{}/v1/users", ember.http)).bearer_auth(ADMIN_SECRET).send().await.unwrap();
    let users: Value = users.json().await.unwrap();
    let emails: Vec<&str> = users["data"].as_array().unwrap().iter().filter_map(|user| user["email"].as_str()).collect();
    assert!(emails.contains(&"alice@example.com") && !emails.contains(&"sam@example.com"), "{emails:?}");
    ember.terminate().await;
    provider.stop().await;
}

// ---------------------------------------------------------------------------------------------
// A provider that misbehaves on request.

/// What the stub's token endpoint puts in the next ID token.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Token {
    Good,
    WrongAudience,
    Expired,
    OtherKey,
}

#[derive(Debug, Clone)]
struct Grant {
    nonce: String,
    code_challenge: String,
    redirect_uri: String,
    token: Token,
    groups: &'static [&'static str],
}

#[derive(Clone)]
struct StubState {
    issuer: String,
    key: Arc<jsonwebtoken::EncodingKey>,
    other_key: Arc<jsonwebtoken::EncodingKey>,
    jwk: Value,
    grants: Arc<Mutex<HashMap<String, Grant>>>,
    /// The client assertion the token endpoint takes instead of the secret, when set.
    assertion: Arc<Mutex<Option<String>>>,
}

struct StubProvider {
    state: StubState,
    _server: tokio::task::JoinHandle<()>,
}

fn ec_key() -> (jsonwebtoken::EncodingKey, Value) {
    let key = rcgen::KeyPair::generate().unwrap();
    let point = key.public_key_raw();
    let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65]), "kid": "stub-key", "alg": "ES256", "use": "sig"});
    (jsonwebtoken::EncodingKey::from_ec_der(&key.serialize_der()), jwk)
}

impl StubProvider {
    async fn start() -> StubProvider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let (key, jwk) = ec_key();
        let (other_key, _) = ec_key();
        let state = StubState {
            issuer,
            key: Arc::new(key),
            other_key: Arc::new(other_key),
            jwk,
            grants: Arc::default(),
            assertion: Arc::default(),
        };
        let router = axum::Router::new()
            .route("/.well-known/openid-configuration", axum::routing::get(discovery))
            .route("/jwks", axum::routing::get(|State(state): State<StubState>| async move { Json(json!({"keys": [state.jwk]})) }))
            .route("/token", axum::routing::post(token))
            .with_state(state.clone());
        let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        StubProvider { state, _server: server }
    }

    fn config_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.state.issuer)
    }

    /// A code the token endpoint will take once, for a sign-in that sent `authorization`.
    fn grant(&self, authorization: &Authorization, nonce: &str, token: Token, groups: &'static [&'static str]) -> String {
        let code = format!("code-{}", uuid::Uuid::new_v4().simple());
        let grant = Grant {
            nonce: nonce.to_string(),
            code_challenge: authorization.param("code_challenge"),
            redirect_uri: authorization.param("redirect_uri"),
            token,
            groups,
        };
        self.state.grants.lock().unwrap().insert(code.clone(), grant);
        code
    }
}

async fn discovery(State(state): State<StubState>) -> Json<Value> {
    let issuer = &state.issuer;
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
    }))
}

/// The token endpoint: checks the client's secret (HTTP Basic) or its client assertion, the
/// code, the redirect URI and the PKCE verifier, then issues the ID token the grant asks for.
async fn token(State(state): State<StubState>, headers: HeaderMap, Form(form): Form<HashMap<String, String>>) -> axum::response::Response {
    let expected_assertion = state.assertion.lock().unwrap().clone();
    let client_authenticated = match expected_assertion {
        Some(assertion) => {
            form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
                && form.get("client_assertion_type").map(String::as_str) == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                && form.get("client_assertion") == Some(&assertion)
                && headers.get("authorization").is_none()
        }
        None => {
            let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}")));
            headers.get("authorization").and_then(|value| value.to_str().ok()) == Some(basic.as_str())
        }
    };
    if !client_authenticated {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_client"}))).into_response();
    }
    let Some(grant) = form.get("code").and_then(|code| state.grants.lock().unwrap().remove(code)) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant"}))).into_response();
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let challenge = b64(&<sha2::Sha256 as sha2::Digest>::digest(verifier.as_bytes()));
    if challenge != grant.code_challenge || form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant", "error_description": "PKCE or redirect URI"})))
            .into_response();
    }
    let now = now();
    let claims = json!({
        "iss": state.issuer,
        "sub": "stub-user-1",
        "aud": if grant.token == Token::WrongAudience { "someone-else" } else { CLIENT_ID },
        "iat": now - 5,
        "exp": if grant.token == Token::Expired { now - 60 } else { now + 300 },
        "nonce": grant.nonce,
        "email": "Stub.User@Example.com",
        "name": "Stub User",
        "groups": grant.groups,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("stub-key".into());
    let key = if grant.token == Token::OtherKey { &state.other_key } else { &state.key };
    let id_token = jsonwebtoken::encode(&header, &claims, key).unwrap();
    Json(json!({"access_token": "stub-access", "token_type": "Bearer", "expires_in": 300, "id_token": id_token})).into_response()
}

/// A sign-in begun at ember: the provider URL it redirected to and the cookies it set.
struct Authorization {
    location: url::Url,
    cookies: Vec<String>,
}

impl Authorization {
    fn param(&self, name: &str) -> String {
        self.location.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned()).unwrap_or_default()
    }

    fn cookie(&self, name: &str) -> String {
        self.cookies.iter().find_map(|cookie| cookie.strip_prefix(&format!("{name}="))).unwrap_or_default().to_string()
    }

    /// The cookies as a browser would send them back.
    fn cookie_header(&self) -> String {
        self.cookies.join("; ")
    }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(|cookie| cookie.split(';').next().unwrap().to_string())
        .filter(|cookie| !cookie.ends_with("=\"\""))
        .collect()
}

async fn begin(ember: &Ember, path: &str) -> reqwest::Response {
    no_redirects().get(format!("{}{path}", ember.http)).send().await.unwrap()
}

async fn authorize(ember: &Ember) -> Authorization {
    let response = begin(ember, "/oauth2/stub/login?returnUrl=/datasets").await;
    assert_eq!(response.status(), 302);
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    Authorization { cookies: set_cookies(&response), location }
}

/// The provider's redirect back to ember, with `state` and `code`, sent with `cookies`.
async fn come_back(ember: &Ember, state: &str, code: &str, cookies: &str) -> reqwest::Response {
    let url = url::Url::parse_with_params(&format!("{}/oauth2/stub/tokens", ember.http), [("state", state), ("code", code)]).unwrap();
    no_redirects().get(url).header("cookie", cookies).send().await.unwrap()
}

/// The `/login?error=` code a refused sign-in redirected to (and that it set no session).
fn refusal(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), 302);
    assert!(set_cookies(response).iter().all(|cookie| !cookie.starts_with("phoenix-access-token")), "no session for a refusal");
    let location = response.headers()["location"].to_str().unwrap();
    location.strip_prefix("/login?error=").unwrap_or_else(|| panic!("{location}")).to_string()
}

#[tokio::test]
async fn bad_tokens_and_bad_callbacks_are_refused_with_phoenix_codes() {
    let temp = tempfile::tempdir().unwrap();
    let stub = StubProvider::start().await;
    let mut settings = provider_settings(
        "STUB",
        &stub.config_url(),
        &[("GROUPS_ATTRIBUTE_PATH", "groups"), ("ALLOWED_GROUPS", "eng"), ("AUTO_LOGIN", "true")],
    );
    // Passwords off: the admins of PHOENIX_ADMINS are OAuth2 accounts, linked by email at first sign-in.
    settings.push(("PHOENIX_DISABLE_BASIC_AUTH".into(), "true".into()));
    settings.push(("PHOENIX_ADMINS".into(), "Stub Admin=stub.user@example.com".into()));
    let ember = start_ember(&temp.path().join("ember"), &settings).await;

    // The login page goes straight to the provider marked AUTO_LOGIN, unless a sign-in just
    // failed; with passwords off it offers only the provider.
    let auto = begin(&ember, "/login?next=/datasets").await;
    assert_eq!((auto.status().as_u16(), auto.headers()["location"].to_str().unwrap()), (303, "/oauth2/stub/login?returnUrl=%2Fdatasets"));
    let page = begin(&ember, "/login?error=invalid_state").await.text().await.unwrap();
    assert!(page.contains(r#"data-idp="stub""#) && page.contains("The sign-in expired or did not start here"), "{page}");
    assert!(!page.contains(r#"id="login""#) && !page.contains("type=\"password\""), "no password form: {page}");
    let password = ember
        .client
        .post(format!("{}/auth/login", ember.http))
        .json(&json!({"email": "admin@localhost", "password": "admin"}))
        .send()
        .await;
    assert_eq!(password.unwrap().status(), 403);

    // The request ember sends the browser to: code flow, PKCE S256, nonce, the scopes.
    let first = authorize(&ember).await;
    assert_eq!(first.location.origin().ascii_serialization(), stub.state.issuer);
    assert_eq!((first.param("response_type"), first.param("client_id")), ("code".to_string(), CLIENT_ID.to_string()));
    assert_eq!(first.param("code_challenge_method"), "S256");
    assert_eq!(first.param("redirect_uri"), format!("{}/oauth2/stub/tokens", ember.http));
    assert!(first.param("scope").split(' ').all(|scope| ["openid", "email", "profile"].contains(&scope)), "{}", first.param("scope"));
    assert_eq!(first.param("state"), first.cookie("phoenix-oauth2-state"));
    assert_eq!(first.param("nonce"), first.cookie("phoenix-oauth2-nonce"));
    assert!(!first.cookie("phoenix-oauth2-code-verifier").is_empty());

    // Each bad token: refused, no session.
    for token in [Token::WrongAudience, Token::Expired, Token::OtherKey] {
        let sign_in = authorize(&ember).await;
        let code = stub.grant(&sign_in, &sign_in.param("nonce"), token, &["eng"]);
        assert_eq!(refusal(&come_back(&ember, &sign_in.param("state"), &code, &sign_in.cookie_header()).await), "auth_failed", "{token:?}");
    }
    // A token carrying another sign-in's nonce (a replayed token).
    let replay = authorize(&ember).await;
    let code = stub.grant(&replay, &first.param("nonce"), Token::Good, &["eng"]);
    assert_eq!(refusal(&come_back(&ember, &replay.param("state"), &code, &replay.cookie_header()).await), "auth_failed");
    // A callback whose state is not the one this browser holds (login CSRF).
    let other = authorize(&ember).await;
    let code = stub.grant(&other, &other.param("nonce"), Token::Good, &["eng"]);
    assert_eq!(refusal(&come_back(&ember, &first.param("state"), &code, &other.cookie_header()).await), "invalid_state");
    assert_eq!(refusal(&come_back(&ember, &other.param("state"), &code, "").await), "invalid_state", "no cookies at all");
    // A user outside the allowed groups.
    let sales = authorize(&ember).await;
    let code = stub.grant(&sales, &sales.param("nonce"), Token::Good, &["sales"]);
    assert_eq!(refusal(&come_back(&ember, &sales.param("state"), &code, &sales.cookie_header()).await), "auth_failed");
    // Unsafe return URLs and unknown providers never reach a provider.
    assert_eq!(refusal(&begin(&ember, "/oauth2/stub/login?returnUrl=//evil.example/x").await), "unsafe_return_url");
    assert_eq!(refusal(&begin(&ember, "/oauth2/stub/login?returnUrl=https://evil.example").await), "unsafe_return_url");
    assert_eq!(refusal(&begin(&ember, "/oauth2/nobody/login").await), "unknown_idp");

    // A good token signs in to the account PHOENIX_ADMINS made (no role path: its role stays),
    // once per code.
    let good = authorize(&ember).await;
    let code = stub.grant(&good, &good.param("nonce"), Token::Good, &["eng"]);
    let response = come_back(&ember, &good.param("state"), &code, &good.cookie_header()).await;
    assert_eq!(response.status(), 200);
    let cookies = set_cookies(&response);
    let access = cookies.iter().find_map(|cookie| cookie.strip_prefix("phoenix-access-token=")).expect("a session").to_string();
    let page = response.text().await.unwrap();
    assert!(page.contains(r#"http-equiv="refresh" content="0;url=/datasets""#), "{page}");
    let viewer: Value =
        ember.client.get(format!("{}/v1/user", ember.http)).bearer_auth(&access).send().await.unwrap().json().await.unwrap();
    let user = &viewer["data"];
    let expected = (&json!("stub.user@example.com"), &json!("OAUTH2"), &json!("ADMIN"), &json!("Stub Admin"));
    assert_eq!((&user["email"], &user["auth_method"], &user["role"], &user["username"]), expected);
    assert_eq!(refusal(&come_back(&ember, &good.param("state"), &code, &good.cookie_header()).await), "oauth_error", "a used code");
    // The next sign-in finds the same account.
    let again = authorize(&ember).await;
    let code = stub.grant(&again, &again.param("nonce"), Token::Good, &["eng"]);
    assert_eq!(come_back(&ember, &again.param("state"), &code, &again.cookie_header()).await.status(), 200);
    let users: Value =
        ember.client.get(format!("{}/v1/users", ember.http)).bearer_auth(ADMIN_SECRET).send().await.unwrap().json().await.unwrap();
    let oauth2_users = users["data"].as_array().unwrap().iter().filter(|user| user["auth_method"] == "OAUTH2").count();
    assert_eq!(oauth2_users, 1);
    ember.terminate().await;
}

/// `TOKEN_ENDPOINT_AUTH_METHOD=client_assertion_jwt`: ember authenticates with the assertion in
/// `CLIENT_ASSERTION_FILE`, read again at each exchange (a rotated assertion needs no restart).
#[tokio::test]
async fn a_client_assertion_is_read_from_its_file_at_each_exchange() {
    let temp = tempfile::tempdir().unwrap();
    let stub = StubProvider::start().await;
    let assertion_file = temp.path().join("assertion.jwt");
    std::fs::write(&assertion_file, "assertion-one\n").unwrap();
    let mut settings = provider_settings(
        "STUB",
        &stub.config_url(),
        &[("TOKEN_ENDPOINT_AUTH_METHOD", "client_assertion_jwt"), ("CLIENT_ASSERTION_FILE", assertion_file.to_str().unwrap())],
    );
    settings.retain(|(name, _)| !name.ends_with("_CLIENT_SECRET"));
    let ember = start_ember(&temp.path().join("ember"), &settings).await;
    let sign_in = |expected: &'static str| {
        let (ember, stub) = (&ember, &stub);
        async move {
            *stub.state.assertion.lock().unwrap() = Some(expected.to_string());
            let flow = authorize(ember).await;
            let code = stub.grant(&flow, &flow.param("nonce"), Token::Good, &[]);
            come_back(ember, &flow.param("state"), &code, &flow.cookie_header()).await
        }
    };
    assert_eq!(sign_in("assertion-one").await.status(), 200);
    std::fs::write(&assertion_file, "assertion-two").unwrap();
    assert_eq!(sign_in("assertion-two").await.status(), 200, "the rotated assertion, without a restart");
    assert_eq!(refusal(&sign_in("assertion-three").await), "oauth_error", "an assertion the provider does not take");
    ember.terminate().await;
}
