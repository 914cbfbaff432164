//! The HTTP API through the real router over a real database, one module per resource.

mod annotation_configs;
mod annotations;
mod auth;
mod auth_graphql;
mod auth_graphql_matrix;
mod common;
mod dataset_exports;
mod dataset_labels;
mod datasets;
mod evaluations;
mod experiments;
mod filters;
mod fuzz;
mod graphql;
mod graphql_prompts;
mod ingest;
mod playground;
mod project_access;
mod projects;
mod prompts;
mod rules;
mod span_updates;
mod spans;
mod traces_sessions;
mod ui;
mod users;
