//! The HTTP router.

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use axum::{middleware, Json, Router};

use crate::routes::{
    annotation_configs, annotations, chat_completions, dataset_exports, dataset_labels, dataset_splits, datasets, evaluations,
    experiment_downloads, experiment_evaluations, experiment_runs, experiment_tags, experiments, health, otlp, projects, prompt_versions,
    prompts, secrets, sessions, span_query, span_updates, spans, traces,
};
use crate::AppState;

pub const VERSION_HEADER: &str = "x-phoenix-server-version";

/// Every HTTP route of ember, with the version header on every response.
pub fn app(state: AppState) -> Router {
    let body_limit = state.max_body_bytes;
    let upload_limit = usize::try_from(state.max_upload_bytes).unwrap_or(usize::MAX);
    let router = Router::new();
    #[cfg(feature = "ui")]
    let router = router.merge(crate::ui::router());
    #[cfg(feature = "graphql")]
    let router = router.route("/graphql", post(crate::graphql::handler)).layer(axum::Extension(crate::graphql::schema()));
    router
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/arize_phoenix_version", get(health::version))
        .route("/openapi.json", get(|| async { Json(crate::openapi::document()) }))
        .route("/v1/traces", post(otlp::export))
        .route("/v1/projects", get(projects::list).post(projects::create))
        .route("/v1/projects/{project_identifier}", get(projects::get).put(projects::update).delete(projects::delete))
        .route("/v1/projects/{project_identifier}/spans", get(spans::list).post(spans::create))
        .route("/v1/projects/{project_identifier}/spans/otlpv1", get(spans::list_otlp))
        .route("/v1/spans/{span_identifier}", delete(spans::delete))
        .route("/v1/projects/{project_identifier}/spans/evaluations", post(span_updates::update_evaluations))
        .route("/v1/projects/{project_identifier}/spans/annotations", post(span_updates::update_annotations))
        .route("/v1/projects/{project_identifier}/spans/metadata", post(span_updates::update_metadata))
        .route("/v1/projects/{project_identifier}/spans/delete", post(span_updates::delete_spans))
        .route("/v1/spans", post(span_query::query_spans).get(span_query::query_spans))
        .route("/v1/projects/{project_identifier}/traces", get(traces::list))
        .route("/v1/traces/{trace_identifier}", delete(traces::delete))
        .route("/v1/traces/transfer", post(traces::transfer))
        .route("/v1/projects/{project_identifier}/sessions", get(sessions::list))
        .route("/v1/sessions/{session_identifier}", get(sessions::get).delete(sessions::delete))
        .route("/v1/sessions/delete", post(sessions::delete_many))
        .route("/v1/datasets", get(datasets::list))
        // Upload forms are spooled to disk, so they may be larger than other bodies.
        .route("/v1/datasets/upload", post(datasets::upload).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/v1/datasets/{id}", get(datasets::get).delete(datasets::delete))
        .route("/v1/datasets/{id}/versions", get(datasets::versions))
        .route("/v1/datasets/{id}/examples", get(datasets::examples))
        .route("/v1/datasets/{id}/csv", get(dataset_exports::csv))
        .route("/v1/datasets/{id}/jsonl", get(dataset_exports::examples_jsonl))
        .route("/v1/datasets/{id}/jsonl/openai_ft", get(dataset_exports::openai_fine_tuning))
        .route("/v1/datasets/{id}/jsonl/openai_evals", get(dataset_exports::openai_evals))
        .route("/v1/datasets/{id}/splits", post(dataset_splits::create))
        .route("/v1/datasets/{id}/splits/{split_id}", patch(dataset_splits::update).delete(dataset_splits::delete))
        .route("/v1/datasets/{id}/experiments", post(experiments::create).get(experiments::list))
        .route("/v1/experiments/{id}", get(experiments::get).patch(experiments::update).delete(experiments::delete))
        .route("/v1/experiments/{id}/runs", post(experiment_runs::create).get(experiment_runs::list))
        .route("/v1/experiments/{id}/incomplete-runs", get(experiment_runs::incomplete))
        .route("/v1/experiments/{id}/incomplete-evaluations", get(experiment_evaluations::incomplete))
        .route("/v1/experiment_evaluations", post(experiment_evaluations::upsert))
        .route("/v1/experiments/{id}/tags", get(experiment_tags::list).post(experiment_tags::set))
        .route("/v1/experiments/{id}/tags/{tag}", delete(experiment_tags::delete))
        .route("/v1/experiments/{id}/json", get(experiment_downloads::json))
        .route("/v1/experiments/{id}/csv", get(experiment_downloads::csv))
        .route("/v1/prompts", get(prompts::list).post(prompts::create))
        .route("/v1/prompts/{prompt_identifier}", patch(prompts::patch).delete(prompts::delete))
        .route("/v1/prompts/{prompt_identifier}/versions", get(prompts::versions))
        .route("/v1/prompts/{prompt_identifier}/latest", get(prompts::latest))
        .route("/v1/prompts/{prompt_identifier}/tags/{tag_name}", get(prompts::by_tag))
        .route("/v1/prompt_versions/{prompt_version_id}", get(prompt_versions::get))
        .route("/v1/prompt_versions/{prompt_version_id}/tags", get(prompt_versions::tags).post(prompt_versions::add_tag))
        .route("/v1/prompt_versions/{prompt_version_id}/tags/{tag_name}", delete(prompt_versions::delete_tag))
        .route("/v1/secrets", put(secrets::upsert_or_delete))
        .route("/v1/chat/completions", post(chat_completions::create))
        .route("/v1/dataset_labels", get(dataset_labels::list).post(dataset_labels::create))
        .route("/v1/dataset_labels/{label_id}", get(dataset_labels::get).patch(dataset_labels::update).delete(dataset_labels::delete))
        .route("/v1/datasets/{id}/labels", get(dataset_labels::list_for_dataset).put(dataset_labels::set_for_dataset))
        .route("/v1/datasets/{id}/labels/{label_id}", put(dataset_labels::add_to_dataset).delete(dataset_labels::remove_from_dataset))
        .route("/v1/annotation_configs", get(annotation_configs::list).post(annotation_configs::create))
        .route(
            "/v1/annotation_configs/{config_identifier}",
            get(annotation_configs::get).put(annotation_configs::update).delete(annotation_configs::delete),
        )
        .route(
            "/v1/projects/{project_identifier}/annotation_configs",
            get(annotation_configs::list_for_project).put(annotation_configs::set_for_project),
        )
        .route(
            "/v1/projects/{project_identifier}/annotation_configs/{config_identifier}",
            put(annotation_configs::assign).delete(annotation_configs::unassign),
        )
        .route("/v1/evaluations", post(evaluations::post).get(evaluations::get))
        .route("/v1/span_annotations", post(annotations::annotate_spans))
        .route("/v1/trace_annotations", post(annotations::annotate_traces))
        .route("/v1/span_notes", post(annotations::span_note))
        .route("/v1/trace_notes", post(annotations::trace_note))
        .route("/v1/session_annotations", post(annotations::annotate_sessions))
        .route("/v1/session_notes", post(annotations::session_note))
        .route("/v1/document_annotations", post(annotations::annotate_documents))
        .route(
            "/v1/projects/{project_identifier}/session_annotations",
            get(annotations::list_session_annotations).delete(annotations::delete_session_annotations),
        )
        .route(
            "/v1/projects/{project_identifier}/span_annotations",
            get(annotations::list_span_annotations).delete(annotations::delete_span_annotations),
        )
        .route(
            "/v1/projects/{project_identifier}/trace_annotations",
            get(annotations::list_trace_annotations).delete(annotations::delete_trace_annotations),
        )
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::map_response(add_version_header))
        .with_state(state)
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not Found").into_response()
}

async fn add_version_header(mut response: Response) -> Response {
    response.headers_mut().insert(VERSION_HEADER, HeaderValue::from_static(crate::PHOENIX_COMPATIBLE_VERSION));
    response
}
