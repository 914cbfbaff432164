//! In-process harness: the real router over a real database (an SQLite file, or a PostgreSQL
//! schema with `EMBER_TEST_BACKEND=postgresql`), driven with `oneshot`.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use ember_otlp::collector::ExportTraceServiceRequest;
use ember_server::{app, AppState, BodyBudget};
use ember_service::{Playground, ProviderSettings, Services};
use ember_store::testing::TestDatabase;
use ember_store::{IngestQueue, QueueLimits, Store};
use http_body_util::BodyExt;
use prost::Message;
use serde_json::Value;
use tower::ServiceExt;

pub struct TestApp {
    pub router: Router,
    pub store: Store,
    pub queue: IngestQueue,
    pub database: TestDatabase,
    pub body_budget: BodyBudget,
    pub services: Services,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn content_type(&self) -> &str {
        self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

pub async fn test_app() -> TestApp {
    test_app_with(QueueLimits::default(), 1 << 20).await
}

pub async fn test_app_with(limits: QueueLimits, max_body_bytes: usize) -> TestApp {
    test_app_with_all(limits, max_body_bytes, ProviderSettings::default(), None).await
}

/// An app whose playground calls providers as `providers` says, sealing secrets with
/// `phoenix_secret` when given.
pub async fn test_app_with_providers(providers: ProviderSettings, phoenix_secret: Option<&str>) -> TestApp {
    test_app_with_all(QueueLimits::default(), 1 << 20, providers, phoenix_secret).await
}

/// An app over a store that `configure` adjusted (test hooks of `ember_store::Store`).
pub async fn test_app_with_store(configure: impl FnOnce(ember_store::Store) -> ember_store::Store) -> TestApp {
    test_app_configured(QueueLimits::default(), 1 << 20, DEFAULT_BODY_BUDGET, ProviderSettings::default(), None, configure).await
}

/// An app keeping to these storage limits (its guard not yet measured: call
/// `services.storage().refresh()`).
pub async fn test_app_with_storage(settings: ember_service::storage::StorageSettings) -> TestApp {
    let mut app = test_app().await;
    app.services = app.services.clone().with_storage(settings);
    app.router = app_router(&app.services);
    app
}

/// An app whose requests together may hold `body_budget_bytes` of request bodies.
pub async fn test_app_with_body_budget(max_body_bytes: usize, body_budget_bytes: usize) -> TestApp {
    test_app_configured(QueueLimits::default(), max_body_bytes, body_budget_bytes, ProviderSettings::default(), None, |store| store).await
}

async fn test_app_with_all(
    limits: QueueLimits,
    max_body_bytes: usize,
    providers: ProviderSettings,
    phoenix_secret: Option<&str>,
) -> TestApp {
    test_app_configured(limits, max_body_bytes, DEFAULT_BODY_BUDGET, providers, phoenix_secret, |store| store).await
}

/// Request bodies in flight the test apps allow unless a test says otherwise: more than any
/// test sends at once.
const DEFAULT_BODY_BUDGET: usize = 1 << 30;

/// The server secret and admin secret of the apps with authentication on.
pub const TEST_SECRET: &str = "test-secret-0123456789abcdefghijklmnop";
pub const TEST_ADMIN_SECRET: &str = "admin-secret-0123456789abcdefghijklmnop";

/// An app with authentication on (`PHOENIX_ENABLE_AUTH`), the test secrets and `settings`, its
/// startup done (the default admin's password is `admin`).
pub async fn test_app_with_auth(settings: ember_service::AuthSettings) -> TestApp {
    let authenticator = ember_service::Authenticator::new(true, Some(TEST_SECRET), Some(TEST_ADMIN_SECRET), settings);
    let app = test_app_built(
        QueueLimits::default(),
        1 << 20,
        DEFAULT_BODY_BUDGET,
        ProviderSettings::default(),
        None,
        |store| store,
        Some(authenticator),
    )
    .await;
    app.services.auth().prepare().await.unwrap();
    app
}

async fn test_app_configured(
    limits: QueueLimits,
    max_body_bytes: usize,
    body_budget_bytes: usize,
    providers: ProviderSettings,
    phoenix_secret: Option<&str>,
    configure: impl FnOnce(ember_store::Store) -> ember_store::Store,
) -> TestApp {
    test_app_built(limits, max_body_bytes, body_budget_bytes, providers, phoenix_secret, configure, None).await
}

async fn test_app_built(
    limits: QueueLimits,
    max_body_bytes: usize,
    body_budget_bytes: usize,
    providers: ProviderSettings,
    phoenix_secret: Option<&str>,
    configure: impl FnOnce(ember_store::Store) -> ember_store::Store,
    authenticator: Option<ember_service::Authenticator>,
) -> TestApp {
    let database = TestDatabase::from_env();
    let store = configure(database.open().await);
    let (ingest, _writer) = IngestQueue::start(store.clone(), limits);
    let mut services = Services::new(store.clone(), ingest.clone(), Playground::new(providers, phoenix_secret).unwrap());
    if let Some(authenticator) = authenticator {
        services = services.with_auth(authenticator);
    }
    services.retention().ensure_default(0.0).await.unwrap();
    let body_budget = BodyBudget::new(body_budget_bytes);
    let router = router_of(&services, max_body_bytes, &body_budget);
    TestApp { router, store, queue: ingest, database, body_budget, services }
}

/// The application over `services`, with the test apps' limits.
fn router_of(services: &Services, max_body_bytes: usize, body_budget: &BodyBudget) -> axum::Router {
    app(AppState {
        services: services.clone(),
        max_body_bytes,
        body_budget: body_budget.clone(),
        max_upload_bytes: 4 * max_body_bytes as u64,
        origins: Default::default(),
        cookies: Default::default(),
        root_path: Default::default(),
        auth_rate_limit: None,
        public_url: None,
        https: false,
        mcp: Some(ember_server::mcp::McpEndpoint::new(services.clone(), max_body_bytes, std::time::Duration::from_secs(5))),
    })
}

/// The default test app's router over `services`.
fn app_router(services: &Services) -> axum::Router {
    router_of(services, 1 << 20, &BodyBudget::new(DEFAULT_BODY_BUDGET))
}

impl TestApp {
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        TestResponse { status, headers, body }
    }

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.send(Request::get(uri).body(Body::empty()).unwrap()).await
    }

    pub async fn delete(&self, uri: &str) -> TestResponse {
        self.send(Request::delete(uri).body(Body::empty()).unwrap()).await
    }

    pub async fn post_json(&self, uri: &str, body: &Value) -> TestResponse {
        self.send(Request::post(uri).header("content-type", "application/json").body(Body::from(body.to_string())).unwrap()).await
    }

    /// `POST /v1/spans` as the Python client sends it (`Accept: application/json`).
    pub async fn query_spans(&self, uri: &str, body: &Value) -> TestResponse {
        let request = Request::post(uri).header("content-type", "application/json").header("accept", "application/json");
        self.send(request.body(Body::from(body.to_string())).unwrap()).await
    }

    pub async fn patch_json(&self, uri: &str, body: &Value) -> TestResponse {
        self.send(Request::patch(uri).header("content-type", "application/json").body(Body::from(body.to_string())).unwrap()).await
    }

    pub async fn put_json(&self, uri: &str, body: &Value) -> TestResponse {
        self.send(Request::put(uri).header("content-type", "application/json").body(Body::from(body.to_string())).unwrap()).await
    }

    /// OTLP/HTTP protobuf export; asserts nothing.
    pub async fn export(&self, request: &ExportTraceServiceRequest) -> TestResponse {
        self.send(
            Request::post("/v1/traces").header("content-type", "application/x-protobuf").body(Body::from(request.encode_to_vec())).unwrap(),
        )
        .await
    }

    /// Exports and asserts the spans were accepted.
    pub async fn ingest(&self, request: &ExportTraceServiceRequest) {
        let response = self.export(request).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    }
}

/// An Arrow IPC stream of one record batch.
pub fn arrow_stream(schema: arrow_schema::Schema, columns: Vec<arrow_array::ArrayRef>) -> Vec<u8> {
    let batch = arrow_array::RecordBatch::try_new(std::sync::Arc::new(schema), columns).unwrap();
    let mut body = Vec::new();
    let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut body, &batch.schema()).unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
    drop(writer);
    body
}
