//! The web UI at `/`: server-rendered pages (maud) over the same store calls the REST API
//! makes, with one stylesheet and one small script embedded in the binary. Nothing is loaded
//! from another origin; the Content-Security-Policy says so to the browser.

mod access;
mod account;
mod annotate;
mod annotation_panel;
mod assets;
mod charts;
mod dataset_edit;
mod dataset_upload;
mod datasets;
pub(crate) mod error;
mod experiment;
mod experiments;
mod format;
mod guard;
mod ids;
mod layout;
mod metrics;
mod models;
mod password_reset;
mod playground;
mod prices;
mod project;
mod project_settings;
mod projects;
mod prompts;
mod providers;
mod redirects;
mod retention;
mod search;
mod session;
mod settings;
mod span_view;
mod storage_banner;
mod trace;
mod window;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{middleware, Router};

use axum::extract::DefaultBodyLimit;

use crate::app::{on_get, on_post, Access, RouteTable};
use crate::AppState;

/// Scripts, styles, images and requests only from this server; style attributes are allowed
/// (the waterfall's bar positions), inline scripts are not.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The UI's pages and forms with the access each needs (a form that writes is for MEMBERs and
/// up, administration for admins), as the API's route table states it; a caller without it
/// gets the refusal as a page.
pub fn ui_routes() -> RouteTable {
    RouteTable::new(|error, _| error::UiError::from(error).into_response())
        .route("/", [on_get(|| async { Redirect::to("/projects") })])
        .route("/ui/assets/{name}", [on_get(assets::serve).access(Access::Public)])
        .route("/login", [on_get(account::login_page).access(Access::Public), on_post(account::login).access(Access::Public)])
        .route("/login/ldap", [on_post(account::ldap_login).access(Access::Public)])
        .route(
            "/forgot-password",
            [on_get(password_reset::forgot_page).access(Access::Public), on_post(password_reset::forgot).access(Access::Public)],
        )
        .route(
            "/reset-password-with-token",
            [on_get(password_reset::reset_page).access(Access::Public), on_post(password_reset::reset).access(Access::Public)],
        )
        .route("/projects", [on_get(projects::page), on_post(projects::create)])
        .route("/projects/{project_id}", [on_get(project::page)])
        .route("/projects/{project_id}/delete", [on_post(projects::delete).access(Access::Admin)])
        .route("/projects/{project_id}/metrics", [on_get(metrics::page)])
        .route("/projects/{project_id}/traces", [on_get(redirects::project_traces)])
        .route("/projects/{project_id}/spans", [on_get(redirects::project_spans)])
        .route("/projects/{project_id}/sessions", [on_get(redirects::project_sessions)])
        .route("/projects/{project_id}/traces/{trace_id}", [on_get(trace::page)])
        .route("/projects/{project_id}/traces/{trace_id}/spans/{span_id}/otlp.json", [on_get(trace::download_span)])
        .route("/projects/{project_id}/annotations", [on_post(annotate::save)])
        .route("/projects/{project_id}/notes", [on_post(annotate::add_note)])
        .route("/projects/{project_id}/annotations/delete", [on_post(annotate::delete)])
        .route("/projects/{project_id}/sessions/{session_rowid}", [on_get(session::page)])
        .route("/projects/{project_id}/dataset-examples", [on_post(datasets::from_spans)])
        .route("/projects/{project_id}/settings", [on_get(project_settings::page)])
        .route("/projects/{project_id}/settings/retention", [on_post(project_settings::set_retention).access(Access::Admin)])
        .route("/projects/{project_id}/settings/byte-budget", [on_post(project_settings::set_byte_budget).access(Access::Admin)])
        .route("/projects/{project_id}/settings/purge", [on_post(project_settings::purge)])
        .route("/projects/{project_id}/access", [on_get(access::page).access(Access::Admin)])
        .route("/projects/{project_id}/access/restricted", [on_post(access::set_restricted).access(Access::Admin)])
        .route("/projects/{project_id}/access/grants", [on_post(access::grant).access(Access::Admin)])
        .route("/projects/{project_id}/access/grants/{index}/delete", [on_post(access::revoke).access(Access::Admin)])
        .route("/datasets", [on_get(datasets::list)])
        // The file is spooled to disk under the upload limit as it arrives (see `dataset_form`).
        .route("/datasets/upload", [on_post(dataset_upload::upload).layer(DefaultBodyLimit::disable())])
        .route("/datasets/{dataset_id}", [on_get(datasets::page)])
        .route("/datasets/{dataset_id}/experiments", [on_get(redirects::dataset_experiments)])
        .route("/datasets/{dataset_id}/examples", [on_post(dataset_edit::add_example)])
        .route("/datasets/{dataset_id}/examples/delete", [on_post(dataset_edit::delete_examples)])
        .route("/datasets/{dataset_id}/examples/{example_id}", [on_post(dataset_edit::edit_example)])
        .route("/datasets/{dataset_id}/splits", [on_post(dataset_edit::create_split)])
        .route("/datasets/{dataset_id}/splits/{split_id}/delete", [on_post(dataset_edit::delete_split)])
        .route("/datasets/{dataset_id}/labels", [on_post(dataset_edit::set_labels)])
        .route("/datasets/{dataset_id}/experiments/{experiment_id}", [on_get(experiment::page)])
        .route("/datasets/{dataset_id}/compare", [on_get(experiments::compare)])
        .route("/prompts", [on_get(prompts::list)])
        .route("/prompts/{prompt_id}", [on_get(prompts::page)])
        .route("/playground", [on_get(playground::page)])
        .route("/playground/run", [on_post(playground::run).access(Access::SignedIn)])
        .route("/playground/prompt-versions", [on_post(playground::save)])
        .route("/playground/experiments", [on_post(playground::run_over_dataset)])
        .route("/models", [on_get(models::list)])
        .route("/models/{model_name}", [on_get(models::page)])
        .route("/redirects/spans/{span_id}", [on_get(redirects::span)])
        .route("/redirects/traces/{trace_id}", [on_get(redirects::trace)])
        .route("/redirects/sessions/{session_id}", [on_get(redirects::session)])
        .route("/search", [on_get(search::page)])
        .route("/settings", [on_get(settings::page)])
        .route("/settings/annotation-configs", [on_post(settings::create)])
        .route("/settings/annotation-configs/{config_id}", [on_post(settings::update)])
        .route("/settings/annotation-configs/{config_id}/delete", [on_post(settings::delete)])
        .route("/settings/retention-policies", [on_post(retention::create).access(Access::Admin)])
        .route("/settings/retention-policies/{policy_id}", [on_post(retention::update).access(Access::Admin)])
        .route("/settings/retention-policies/{policy_id}/delete", [on_post(retention::delete).access(Access::Admin)])
        .route("/settings/retention-policies/{policy_id}/apply", [on_post(retention::apply).access(Access::Admin)])
        .route("/settings/secrets", [on_post(providers::set_secret).access(Access::Admin)])
        .route("/settings/secrets/{key}/delete", [on_post(providers::delete_secret).access(Access::Admin)])
        .route("/settings/model-prices", [on_post(prices::create).access(Access::Admin)])
        .route("/settings/model-prices/{price_id}/delete", [on_post(prices::delete).access(Access::Admin)])
        // Every signed-in user keeps their own password and keys.
        .route("/account", [on_get(account::account)])
        .route("/account/password", [on_post(account::change_password).access(Access::SignedIn)])
        .route("/account/api-keys", [on_post(account::create_key).access(Access::SignedIn)])
        .route("/account/api-keys/{key_id}/delete", [on_post(account::delete_key).access(Access::SignedIn)])
        .route("/users", [on_get(account::users).access(Access::Admin), on_post(account::create_user).access(Access::Admin)])
        .route("/users/{user_id}/delete", [on_post(account::delete_user).access(Access::Admin)])
        .route("/users/system-api-keys", [on_post(account::create_system_key).access(Access::Admin)])
        .route("/users/system-api-keys/{key_id}/delete", [on_post(account::delete_system_key).access(Access::Admin)])
        .route("/audit", [on_get(access::audit).access(Access::Admin)])
}

/// The UI's routes, to merge into the application router: a page asked for without a session
/// sends the browser to sign in first (see `guard`).
pub fn router(state: AppState) -> Router<AppState> {
    ui_routes()
        .into_router()
        .layer(middleware::from_fn_with_state(state.clone(), storage_banner::add_banner))
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
