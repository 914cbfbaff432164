//! The web UI at `/`: server-rendered pages (maud) over the same store calls the REST API
//! makes, with one stylesheet and one small script embedded in the binary. Nothing is loaded
//! from another origin; the Content-Security-Policy says so to the browser.

mod access;
mod account;
mod annotate;
mod assets;
mod charts;
mod datasets;
pub(crate) mod error;
mod experiments;
mod format;
mod guard;
mod ids;
mod layout;
mod project;
mod projects;
mod prompts;
mod redirects;
mod session;
mod settings;
mod span_view;
mod trace;
mod window;

use axum::http::{header, HeaderValue};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::{middleware, Router};

use crate::AppState;

/// Scripts, styles, images and requests only from this server; style attributes are allowed
/// (the waterfall's bar positions), inline scripts are not.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The UI's routes, to merge into the application router.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/projects") }))
        .route("/ui/assets/{name}", get(assets::serve))
        .route("/projects", get(projects::page).post(projects::create))
        .route("/projects/{project_id}", get(project::page))
        .route("/projects/{project_id}/delete", post(projects::delete))
        .route("/projects/{project_id}/traces", get(redirects::project_traces))
        .route("/projects/{project_id}/spans", get(redirects::project_spans))
        .route("/projects/{project_id}/sessions", get(redirects::project_sessions))
        .route("/projects/{project_id}/traces/{trace_id}", get(trace::page))
        .route("/projects/{project_id}/annotations", post(annotate::save))
        .route("/projects/{project_id}/annotations/delete", post(annotate::delete))
        .route("/projects/{project_id}/sessions/{session_rowid}", get(session::page))
        .route("/projects/{project_id}/dataset-examples", post(datasets::from_spans))
        .route("/datasets", get(datasets::list))
        .route("/datasets/{dataset_id}", get(datasets::page))
        .route("/datasets/{dataset_id}/experiments", get(redirects::dataset_experiments))
        .route("/datasets/{dataset_id}/compare", get(experiments::compare))
        .route("/prompts", get(prompts::list))
        .route("/prompts/{prompt_id}", get(prompts::page))
        .route("/redirects/spans/{span_id}", get(redirects::span))
        .route("/redirects/traces/{trace_id}", get(redirects::trace))
        .route("/redirects/sessions/{session_id}", get(redirects::session))
        .route("/settings", get(settings::page))
        .route("/settings/annotation-configs", post(settings::create))
        .route("/settings/annotation-configs/{config_id}", post(settings::update))
        .route("/settings/annotation-configs/{config_id}/delete", post(settings::delete))
        .route("/login", get(account::login_page).post(account::login))
        .route("/account", get(account::account))
        .route("/account/password", post(account::change_password))
        .route("/account/api-keys", post(account::create_key))
        .route("/account/api-keys/{key_id}/delete", post(account::delete_key))
        .route("/users", get(account::users).post(account::create_user))
        .route("/users/{user_id}/delete", post(account::delete_user))
        .route("/users/system-api-keys", post(account::create_system_key))
        .route("/users/system-api-keys/{key_id}/delete", post(account::delete_system_key))
        .route("/projects/{project_id}/access", get(access::page))
        .route("/projects/{project_id}/access/restricted", post(access::set_restricted))
        .route("/projects/{project_id}/access/grants", post(access::grant))
        .route("/projects/{project_id}/access/grants/{index}/delete", post(access::revoke))
        .route("/audit", get(access::audit))
        .layer(middleware::from_fn_with_state(state, guard::guard_page))
        .layer(middleware::map_response(page_headers))
}

/// `path` with `key=message` added to its query (a notice or an error for the page to show).
pub(crate) fn with_message(path: &str, key: &str, message: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}{key}={}", percent_encoding::utf8_percent_encode(message, percent_encoding::NON_ALPHANUMERIC))
}

/// A redirect to [`with_message`].
pub(crate) fn redirect_with(path: &str, key: &str, message: &str) -> Redirect {
    Redirect::to(&with_message(path, key, message))
}

/// The not-found page, for paths no route serves.
pub(crate) fn not_found_page() -> Response {
    use axum::response::IntoResponse;
    with_page_headers(error::UiError::not_found("There is no page here.").into_response())
}

async fn page_headers(response: Response) -> Response {
    with_page_headers(response)
}

fn with_page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}
