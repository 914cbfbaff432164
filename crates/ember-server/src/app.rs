//! The HTTP router: one route table for the API (each route with the methods it serves, which
//! the OpenAPI document is checked against both ways), the web UI's routes, the body limits and
//! the version header.

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put, MethodRouter};
use axum::{middleware, Json, Router};

use crate::routes::{
    access, annotation_configs, annotations, api_keys, arize_spans, arize_v2, auth, chat_completions, dataset_exports, dataset_labels,
    dataset_splits, datasets, evaluations, experiment_downloads, experiment_evaluations, experiment_runs, experiment_tags, experiments,
    health, model_prices, model_providers, otlp, projects, prompt_versions, prompts, retention_policies, secrets, sessions, span_query,
    span_updates, spans, traces, users,
};
use crate::AppState;

pub const VERSION_HEADER: &str = "x-phoenix-server-version";

/// What a route needs of its caller once authentication is on, checked before the request is
/// parsed (as Phoenix checks it, so a VIEWER's write is a 403 whatever its body). The role rules
/// themselves are [`Caller`](ember_service::Caller)'s; the services check them again for the
/// transports that have no route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (health, version, the API document).
    Public,
    /// Any signed-in caller: reads, and the few writes every role may make (its own API keys,
    /// the LLM proxy), whose finer rules are the service's.
    SignedIn,
    /// A signed-in caller who is not a VIEWER.
    Write,
    /// An ADMIN or the system.
    Admin,
}

/// A method of a route, its handler and the access it needs.
pub(crate) struct On {
    method: Method,
    handler: MethodRouter<AppState>,
    access: Access,
}

impl On {
    pub(crate) fn access(mut self, access: Access) -> On {
        self.access = access;
        self
    }

    /// The handler with a layer around it (a route's own body limit).
    pub(crate) fn layer<L>(mut self, layer: L) -> On
    where
        L: tower::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: tower::Service<axum::extract::Request> + Clone + Send + Sync + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Response: axum::response::IntoResponse + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Error: Into<std::convert::Infallible> + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Future: Send + 'static,
    {
        self.handler = self.handler.layer(layer);
        self
    }
}

pub(crate) fn on_get<H: Handler<T, AppState>, T: 'static>(handler: H) -> On {
    On { method: Method::GET, handler: get(handler), access: Access::SignedIn }
}

pub(crate) fn on_post<H: Handler<T, AppState>, T: 'static>(handler: H) -> On {
    On { method: Method::POST, handler: post(handler), access: Access::Write }
}

pub(crate) fn on_put<H: Handler<T, AppState>, T: 'static>(handler: H) -> On {
    On { method: Method::PUT, handler: put(handler), access: Access::Write }
}

pub(crate) fn on_patch<H: Handler<T, AppState>, T: 'static>(handler: H) -> On {
    On { method: Method::PATCH, handler: patch(handler), access: Access::Write }
}

pub(crate) fn on_delete<H: Handler<T, AppState>, T: 'static>(handler: H) -> On {
    On { method: Method::DELETE, handler: delete(handler), access: Access::Write }
}

/// One route of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    pub path: &'static str,
    pub method: Method,
    pub access: Access,
}

/// How a transport answers a caller who lacks a route's access (the API with a status and text,
/// the web UI with a page).
/// How a route answers a caller it refuses (the refusal, and the request's headers).
pub(crate) type Refusal = fn(ember_service::ServiceError, &axum::http::HeaderMap) -> Response;

/// Routes and, beside them, which path serves which methods with which access (the API's, and
/// the web UI's pages and forms).
pub struct RouteTable {
    router: Router<AppState>,
    routes: Vec<RouteEntry>,
    refusal: Refusal,
}

impl RouteTable {
    pub(crate) fn new(refusal: Refusal) -> Self {
        RouteTable { router: Router::new(), routes: Vec::new(), refusal }
    }

    pub(crate) fn route(self, path: &'static str, methods: impl IntoIterator<Item = On>) -> Self {
        let refusal = self.refusal;
        self.route_refused_as(path, methods, refusal)
    }

    /// A route whose refusals are answered by `refusal` rather than the table's.
    pub(crate) fn route_refused_as(mut self, path: &'static str, methods: impl IntoIterator<Item = On>, refusal: Refusal) -> Self {
        let mut handlers: Option<MethodRouter<AppState>> = None;
        for On { method, handler, access } in methods {
            self.routes.push(RouteEntry { path, method, access });
            let handler = handler
                .route_layer(middleware::from_fn(move |request, next| crate::authentication::require(access, refusal, request, next)));
            handlers = Some(match handlers {
                Some(merged) => merged.merge(handler),
                None => handler,
            });
        }
        if let Some(handlers) = handlers {
            self.router = self.router.route(path, handlers);
        }
        self
    }

    /// Every route of the table.
    pub fn routes(&self) -> &[RouteEntry] {
        &self.routes
    }

    pub(crate) fn into_router(self) -> Router<AppState> {
        self.router
    }
}

/// Every API route (Phoenix REST v1, OTLP/HTTP, GraphQL, health), without state. Upload forms
/// are spooled to disk, so they may be larger than other bodies (`upload_limit`).
pub fn api_routes(upload_limit: usize) -> RouteTable {
    let table = RouteTable::new(|error, _| crate::error::ApiError::from(error).into_response());
    #[cfg(feature = "graphql")]
    let table = table.route(
        "/graphql",
        [on_get(crate::graphql::get_handler).access(Access::SignedIn), on_post(crate::graphql::handler).access(Access::SignedIn)],
    );
    // Spooled to disk like dataset uploads, so as large as they may be.
    #[cfg(feature = "arrow")]
    let table = table.route(
        "/v1/pandas_arrow",
        [On { method: Method::POST, handler: post(crate::routes::pandas_arrow::upload), access: Access::Write }],
    );
    #[cfg(feature = "parquet")]
    let table = table.route("/v1/ml/models/{model_name}/export", [on_get(crate::routes::ml_exports::export)]);
    table
        .route("/healthz", [on_get(health::healthz).access(Access::Public)])
        .route("/readyz", [on_get(health::readyz).access(Access::Public)])
        .route("/arize_phoenix_version", [on_get(health::version).access(Access::Public)])
        .route("/openapi.json", [on_get(|| async { Json(crate::openapi::document()) }).access(Access::Public)])
        .route("/auth/login", [on_post(auth::login).access(Access::Public)])
        .route("/auth/ldap/login", [on_post(auth::ldap_login).access(Access::Public)])
        .route("/auth/logout", [on_get(auth::logout).access(Access::Public)])
        .route("/auth/refresh", [on_post(auth::refresh).access(Access::Public)])
        .route("/auth/password-reset-email", [on_post(auth::password_reset_email).access(Access::Public)])
        .route("/auth/password-reset", [on_post(auth::password_reset).access(Access::Public)])
        .route(
            "/oauth2/{idp_name}/login",
            [on_get(crate::routes::oauth2::login).access(Access::Public), on_post(crate::routes::oauth2::login).access(Access::Public)],
        )
        .route("/oauth2/{idp_name}/tokens", [on_get(crate::routes::oauth2::tokens).access(Access::Public)])
        .route("/v1/traces", [on_post(otlp::export)])
        // Stateless, so POST only (no event stream to GET, no session to DELETE); every tool's
        // own access is its service's (a VIEWER's write is refused there).
        .route("/mcp", [on_post(crate::mcp::handle).access(Access::SignedIn)])
        .route_refused_as("/v1/log", [on_post(crate::routes::arize_ml::log)], crate::routes::arize_ml::refusal)
        .route("/v1/ml/models", [on_get(crate::routes::ml_models::list)])
        .route("/v1/ml/models/{model_name}", [on_get(crate::routes::ml_models::get)])
        .route("/v1/ml/models/{model_name}/records", [on_get(crate::routes::ml_models::records)])
        .route("/v1/ml/models/{model_name}/volume", [on_get(crate::routes::ml_models::volume)])
        .route("/v1/ml/models/{model_name}/performance", [on_get(crate::routes::ml_monitoring::performance)])
        .route("/v1/ml/models/{model_name}/drift", [on_get(crate::routes::ml_monitoring::drift)])
        .route("/v1/ml/models/{model_name}/data_quality", [on_get(crate::routes::ml_monitoring::data_quality)])
        .route("/v1/ml/models/{model_name}/embedding_drift", [on_get(crate::routes::ml_monitoring::embedding_drift)])
        .route("/v2/spaces", [on_get(arize_v2::list_spaces)])
        .route("/v2/projects", [on_get(arize_v2::list_projects)])
        .route("/v2/projects/{project_identifier}", [on_get(arize_v2::get_project)])
        .route("/v2/spans", [on_post(arize_spans::list_spans).access(Access::SignedIn), on_delete(arize_spans::delete_spans)])
        .route("/v2/spans/annotate", [on_post(arize_spans::annotate_spans)])
        .route("/v2/traces", [on_post(arize_spans::list_traces).access(Access::SignedIn)])
        .route("/v1/projects", [on_get(projects::list), on_post(projects::create)])
        .route(
            "/v1/projects/{project_identifier}",
            [on_get(projects::get), on_put(projects::update).access(Access::Admin), on_delete(projects::delete).access(Access::Admin)],
        )
        .route(
            "/v1/projects/{project_identifier}/access",
            [on_get(access::get).access(Access::Admin), on_put(access::put).access(Access::Admin)],
        )
        .route("/v1/audit_log", [on_get(access::audit_log).access(Access::Admin)])
        .route("/v1/projects/{project_identifier}/spans", [on_get(spans::list), on_post(spans::create)])
        .route("/v1/projects/{project_identifier}/spans/otlpv1", [on_get(spans::list_otlp)])
        .route("/v1/spans/{span_identifier}", [on_delete(spans::delete)])
        .route("/v1/projects/{project_identifier}/spans/evaluations", [on_post(span_updates::update_evaluations)])
        .route("/v1/projects/{project_identifier}/spans/annotations", [on_post(span_updates::update_annotations)])
        .route("/v1/projects/{project_identifier}/spans/metadata", [on_post(span_updates::update_metadata)])
        .route("/v1/projects/{project_identifier}/spans/delete", [on_post(span_updates::delete_spans)])
        .route("/v1/spans", [on_post(span_query::query_spans), on_get(span_query::query_spans)])
        .route("/v1/projects/{project_identifier}/traces", [on_get(traces::list), on_delete(traces::purge)])
        .route("/v1/traces/{trace_identifier}", [on_delete(traces::delete)])
        .route("/v1/traces/transfer", [on_post(traces::transfer)])
        .route("/v1/projects/{project_identifier}/sessions", [on_get(sessions::list)])
        .route("/v1/sessions/{session_identifier}", [on_get(sessions::get), on_delete(sessions::delete)])
        .route("/v1/sessions/delete", [on_post(sessions::delete_many)])
        .route("/v1/datasets", [on_get(datasets::list)])
        .route(
            "/v1/datasets/upload",
            [On {
                method: Method::POST,
                handler: post(datasets::upload).layer(DefaultBodyLimit::max(upload_limit)),
                access: Access::Write,
            }],
        )
        .route("/v1/datasets/{id}", [on_get(datasets::get), on_delete(datasets::delete)])
        .route("/v1/datasets/{id}/versions", [on_get(datasets::versions)])
        .route("/v1/datasets/{id}/examples", [on_get(datasets::examples)])
        .route("/v1/datasets/{id}/csv", [on_get(dataset_exports::csv)])
        .route("/v1/datasets/{id}/jsonl", [on_get(dataset_exports::examples_jsonl)])
        .route("/v1/datasets/{id}/jsonl/openai_ft", [on_get(dataset_exports::openai_fine_tuning)])
        .route("/v1/datasets/{id}/jsonl/openai_evals", [on_get(dataset_exports::openai_evals)])
        .route("/v1/datasets/{id}/splits", [on_get(dataset_splits::list), on_post(dataset_splits::create)])
        .route("/v1/datasets/{id}/splits/{split_id}", [on_patch(dataset_splits::update), on_delete(dataset_splits::delete)])
        .route("/v1/datasets/{id}/experiments", [on_post(experiments::create), on_get(experiments::list)])
        .route("/v1/experiments/{id}", [on_get(experiments::get), on_patch(experiments::update), on_delete(experiments::delete)])
        .route("/v1/experiments/{id}/runs", [on_post(experiment_runs::create), on_get(experiment_runs::list)])
        .route("/v1/experiments/{id}/incomplete-runs", [on_get(experiment_runs::incomplete)])
        .route("/v1/experiments/{id}/incomplete-evaluations", [on_get(experiment_evaluations::incomplete)])
        .route("/v1/experiment_evaluations", [on_post(experiment_evaluations::upsert)])
        .route("/v1/experiments/{id}/tags", [on_get(experiment_tags::list), on_post(experiment_tags::set)])
        .route("/v1/experiments/{id}/tags/{tag}", [on_delete(experiment_tags::delete)])
        .route("/v1/experiments/{id}/json", [on_get(experiment_downloads::json)])
        .route("/v1/experiments/{id}/csv", [on_get(experiment_downloads::csv)])
        .route("/v1/prompts", [on_get(prompts::list), on_post(prompts::create)])
        .route("/v1/prompts/{prompt_identifier}", [on_patch(prompts::patch), on_delete(prompts::delete)])
        .route("/v1/prompts/{prompt_identifier}/versions", [on_get(prompts::versions), on_post(prompts::create_version)])
        .route("/v1/model_providers", [on_get(model_providers::list)])
        .route("/v1/custom_model_providers", [on_get(model_providers::custom)])
        .route("/v1/prompts/{prompt_identifier}/latest", [on_get(prompts::latest)])
        .route("/v1/prompts/{prompt_identifier}/tags/{tag_name}", [on_get(prompts::by_tag)])
        .route("/v1/prompt_versions/{prompt_version_id}", [on_get(prompt_versions::get)])
        .route("/v1/prompt_versions/{prompt_version_id}/tags", [on_get(prompt_versions::tags), on_post(prompt_versions::add_tag)])
        .route("/v1/prompt_versions/{prompt_version_id}/tags/{tag_name}", [on_delete(prompt_versions::delete_tag)])
        .route("/v1/secrets", [on_put(secrets::upsert_or_delete).access(Access::Admin)])
        .route("/v1/users", [on_get(users::list).access(Access::Admin), on_post(users::create).access(Access::Admin)])
        .route("/v1/users/{id}", [on_delete(users::delete).access(Access::Admin)])
        .route("/v1/user", [on_get(users::viewer)])
        .route("/v1/user/api_keys", [on_get(api_keys::list_own), on_post(api_keys::create_own).access(Access::SignedIn)])
        .route("/v1/user/api_keys/{id}", [on_delete(api_keys::delete_own).access(Access::SignedIn)])
        .route(
            "/v1/system/api_keys",
            [on_get(api_keys::list_system).access(Access::Admin), on_post(api_keys::create_system).access(Access::Admin)],
        )
        .route("/v1/system/api_keys/{id}", [on_delete(api_keys::delete_system).access(Access::Admin)])
        .route("/v1/users/api_keys", [on_get(api_keys::list_all_users).access(Access::Admin)])
        // The LLM proxy writes nothing: every role may use it, as in Phoenix.
        .route("/v1/chat/completions", [on_post(chat_completions::create).access(Access::SignedIn)])
        .route("/v1/retention_policies", [on_get(retention_policies::list), on_post(retention_policies::create).access(Access::Admin)])
        .route(
            "/v1/retention_policies/{policy_id}",
            [
                on_get(retention_policies::get),
                on_patch(retention_policies::update).access(Access::Admin),
                on_delete(retention_policies::delete).access(Access::Admin),
            ],
        )
        .route("/v1/retention_policies/{policy_id}/apply", [on_post(retention_policies::apply).access(Access::Admin)])
        .route(
            "/v1/projects/{project_identifier}/retention",
            [on_get(retention_policies::of_project), on_patch(retention_policies::set_for_project).access(Access::Admin)],
        )
        .route(
            "/v1/projects/{project_identifier}/byte_budget",
            [on_get(retention_policies::get_byte_budget), on_put(retention_policies::set_byte_budget).access(Access::Admin)],
        )
        .route("/v1/model_prices", [on_get(model_prices::list), on_post(model_prices::create).access(Access::Admin)])
        .route(
            "/v1/model_prices/{price_id}",
            [
                on_get(model_prices::get),
                on_put(model_prices::replace).access(Access::Admin),
                on_delete(model_prices::delete).access(Access::Admin),
            ],
        )
        .route("/v1/projects/{project_identifier}/cost_summary", [on_get(model_prices::cost_summary)])
        .route("/v1/dataset_labels", [on_get(dataset_labels::list), on_post(dataset_labels::create)])
        .route(
            "/v1/dataset_labels/{label_id}",
            [on_get(dataset_labels::get), on_patch(dataset_labels::update), on_delete(dataset_labels::delete)],
        )
        .route("/v1/datasets/{id}/labels", [on_get(dataset_labels::list_for_dataset), on_put(dataset_labels::set_for_dataset)])
        .route(
            "/v1/datasets/{id}/labels/{label_id}",
            [on_put(dataset_labels::add_to_dataset), on_delete(dataset_labels::remove_from_dataset)],
        )
        .route("/v1/annotation_configs", [on_get(annotation_configs::list), on_post(annotation_configs::create)])
        .route(
            "/v1/annotation_configs/{config_identifier}",
            [on_get(annotation_configs::get), on_put(annotation_configs::update), on_delete(annotation_configs::delete)],
        )
        .route(
            "/v1/projects/{project_identifier}/annotation_configs",
            [on_get(annotation_configs::list_for_project), on_put(annotation_configs::set_for_project)],
        )
        .route(
            "/v1/projects/{project_identifier}/annotation_configs/{config_identifier}",
            [on_put(annotation_configs::assign), on_delete(annotation_configs::unassign)],
        )
        .route("/v1/evaluations", [on_post(evaluations::post), on_get(evaluations::get)])
        .route("/v1/span_annotations", [on_post(annotations::annotate_spans)])
        .route("/v1/trace_annotations", [on_post(annotations::annotate_traces)])
        .route("/v1/span_notes", [on_post(annotations::span_note)])
        .route("/v1/trace_notes", [on_post(annotations::trace_note)])
        .route("/v1/session_annotations", [on_post(annotations::annotate_sessions)])
        .route("/v1/session_notes", [on_post(annotations::session_note)])
        .route("/v1/document_annotations", [on_post(annotations::annotate_documents)])
        .route(
            "/v1/projects/{project_identifier}/session_annotations",
            [on_get(annotations::list_session_annotations), on_delete(annotations::delete_session_annotations)],
        )
        .route(
            "/v1/projects/{project_identifier}/span_annotations",
            [on_get(annotations::list_span_annotations), on_delete(annotations::delete_span_annotations)],
        )
        .route(
            "/v1/projects/{project_identifier}/trace_annotations",
            [on_get(annotations::list_trace_annotations), on_delete(annotations::delete_trace_annotations)],
        )
}

/// Every HTTP route of ember (the API's and the web UI's), behind the CSRF guard, with the
/// version header on every response.
pub fn app(state: AppState) -> Router {
    let body_limit = state.max_body_bytes;
    let upload_limit = usize::try_from(state.max_upload_bytes).unwrap_or(usize::MAX);
    let router = api_routes(upload_limit).into_router();
    #[cfg(feature = "graphql")]
    let router = router.layer(axum::Extension(crate::graphql::schema()));
    #[cfg(feature = "ui")]
    let router = router.merge(crate::ui::router(state.clone()));
    // Per matched route, so the label is the route's pattern, never a raw path.
    let router = match state.services.metrics().is_enabled() {
        true => router.route_layer(middleware::from_fn_with_state(state.clone(), record_request)),
        false => router,
    };
    let router = router
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), crate::authentication::authenticate))
        .layer(match state.auth_rate_limit.clone() {
            Some(limit) => tower::util::Either::Left(middleware::from_fn_with_state(limit, crate::auth_rate_limit::limit)),
            None => tower::util::Either::Right(tower::layer::util::Identity::new()),
        })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), crate::body_budget::reserve))
        .layer(middleware::from_fn_with_state(state.clone(), crate::csrf::guard))
        .layer(middleware::map_response(add_version_header))
        .layer(cors(&state.origins.allowed))
        .with_state(state.clone());
    crate::root_path::serve_under(router, state.root_path)
}

/// Records a request's route, status and latency in the metrics.
async fn record_request(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().to_string();
    let route = request.extensions().get::<axum::extract::MatchedPath>().map_or_else(String::new, |path| path.as_str().to_string());
    let response = next.run(request).await;
    state.services.metrics().record_request(&method, &route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

/// Cross-origin reads for the pages of `PHOENIX_ALLOWED_ORIGINS`, as Phoenix allows them
/// (credentials, any method and header); other origins get no CORS headers, so browsers keep
/// their pages from reading ember's answers. Writes from those origins still pass the CSRF guard.
fn cors(allowed_origins: &[String]) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer};
    let origins: Vec<HeaderValue> = allowed_origins
        .iter()
        .map(|origin| origin.trim().trim_end_matches('/'))
        .filter(|origin| !origin.is_empty() && *origin != "*")
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods(AllowMethods::mirror_request())
        .allow_headers(AllowHeaders::mirror_request())
        .max_age(std::time::Duration::from_secs(600))
}

/// Unknown paths: a browser gets the UI's not-found page, a client the plain answer.
async fn not_found(headers: axum::http::HeaderMap) -> Response {
    #[cfg(feature = "ui")]
    {
        let accept = headers.get(axum::http::header::ACCEPT).and_then(|value| value.to_str().ok()).unwrap_or_default();
        if accept.contains("text/html") {
            return crate::ui::not_found_page();
        }
    }
    let _ = headers;
    (StatusCode::NOT_FOUND, "Not Found").into_response()
}

async fn add_version_header(mut response: Response) -> Response {
    response.headers_mut().insert(VERSION_HEADER, HeaderValue::from_static(crate::PHOENIX_COMPATIBLE_VERSION));
    response
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// A path with its parameters unnamed: the router names a segment once for every route
    /// under it (`{id}`), the document as Phoenix names it per operation (`{dataset_id}`).
    fn shape(path: &str) -> String {
        path.split('/').map(|segment| if segment.starts_with('{') { "{}" } else { segment }).collect::<Vec<_>>().join("/")
    }

    /// Every route has its document, and every documented operation its route.
    #[test]
    fn the_route_table_and_the_openapi_document_agree_both_ways() {
        let routed: BTreeSet<(String, String)> =
            api_routes(0).routes().iter().map(|route| (shape(route.path), route.method.as_str().to_lowercase())).collect();
        let documented: BTreeSet<(String, String)> =
            crate::openapi::OPERATIONS.iter().map(|operation| (shape(operation.1), operation.0.to_string())).collect();
        let undocumented: Vec<_> = routed.difference(&documented).collect();
        let unrouted: Vec<_> = documented.difference(&routed).collect();
        assert!(undocumented.is_empty(), "routes without an OpenAPI operation: {undocumented:?}");
        assert!(unrouted.is_empty(), "OpenAPI operations without a route: {unrouted:?}");
    }

    /// `PHOENIX_ALLOWED_ORIGINS`: an allowed origin's preflight and reads get the CORS headers
    /// (with credentials), another origin's get none.
    #[tokio::test]
    async fn allowed_origins_may_read_with_credentials_and_others_get_no_cors_headers() {
        use axum::body::Body;
        use axum::http::Request;
        use tower::ServiceExt;

        let router: Router = Router::new().route("/v1/projects", get(|| async { "ok" })).layer(cors(&["https://app.example/".into()]));
        let send = |request: Request<Body>| router.clone().oneshot(request);
        let header = |response: &Response, name: &str| response.headers().get(name).map(|value| value.to_str().unwrap().to_string());
        let preflight = Request::options("/v1/projects")
            .header("origin", "https://app.example")
            .header("access-control-request-method", "DELETE")
            .header("access-control-request-headers", "authorization,content-type")
            .body(Body::empty())
            .unwrap();
        let response = send(preflight).await.unwrap();
        assert_eq!(header(&response, "access-control-allow-origin").as_deref(), Some("https://app.example"));
        assert_eq!(header(&response, "access-control-allow-credentials").as_deref(), Some("true"));
        assert_eq!(header(&response, "access-control-allow-methods").as_deref(), Some("DELETE"));
        assert_eq!(header(&response, "access-control-allow-headers").as_deref(), Some("authorization,content-type"));
        let read = send(Request::get("/v1/projects").header("origin", "https://app.example").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(header(&read, "access-control-allow-origin").as_deref(), Some("https://app.example"));
        let other = send(Request::get("/v1/projects").header("origin", "https://evil.example").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(header(&other, "access-control-allow-origin"), None);
    }

    /// Operations of Phoenix's contract ember does not route yet, each with where it comes.
    const NOT_YET: &[(&str, &str)] = &[
        // Phoenix's in-app assistant (agent sessions): not planned yet.
        ("get", "/v1/agent_sessions"),
        ("post", "/v1/agent_sessions"),
        ("get", "/v1/agent_sessions/{}"),
        ("patch", "/v1/agent_sessions/{}"),
        ("get", "/v1/agent_sessions/{}/messages"),
        ("post", "/v1/agent_sessions/{}/chat"),
        ("post", "/v1/agent_sessions/{}/compact"),
        ("post", "/v1/agent_sessions/{}/tool_approvals"),
        ("post", "/v1/agent_sessions/{}/tool_outputs"),
        ("post", "/agents/server/sessions/{}/chat"),
    ];

    /// Every operation of Phoenix 20.26.1's REST contract is routed, except those named above.
    #[test]
    fn every_operation_of_phoenix_20_26_is_routed() {
        let routed: BTreeSet<(String, String)> =
            api_routes(0).routes().iter().map(|route| (shape(route.path), route.method.as_str().to_lowercase())).collect();
        let contract: BTreeSet<(String, String)> = include_str!("phoenix_operations.txt")
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .filter_map(|line| line.split_once(' '))
            .map(|(method, path)| (shape(path), method.to_lowercase()))
            .collect();
        assert!(contract.len() > 120, "the contract file lists Phoenix's operations");
        let not_yet: BTreeSet<(String, String)> = NOT_YET.iter().map(|(method, path)| (path.to_string(), method.to_string())).collect();
        let missing: Vec<_> = contract.difference(&routed).filter(|operation| !not_yet.contains(*operation)).collect();
        assert!(missing.is_empty(), "Phoenix operations without a route: {missing:?}");
        let stale: Vec<_> = not_yet.intersection(&routed).collect();
        assert!(stale.is_empty(), "routed now, so no longer an exception: {stale:?}");
        assert!(not_yet.is_subset(&contract), "every exception is an operation of the contract");
    }
}
