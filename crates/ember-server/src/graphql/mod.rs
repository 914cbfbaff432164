//! `POST /graphql`: the GraphQL operations Phoenix's clients, tests and scripts use, with
//! Phoenix's names and shapes — `node(id:)`, spans, traces and sessions here; annotations,
//! datasets, experiments, prompts, secrets and users in their own modules — and Arize AX's
//! `updateAnnotations` (see `ax`). No GraphiQL page: it would load its assets from a CDN.

pub mod access;
mod annotation_mutations;
mod annotations;
mod authors;
mod ax;
mod connection;
mod datasets;
mod experiments;
mod limits;
mod prompt_input;
mod prompts;
mod secrets;
mod traces;
mod types;
mod users;

use async_graphql::{Context, EmptySubscription, ErrorExtensions, MergedObject, Object, Result, Schema, ID};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use ember_core::{AnnotationTarget, ClassifiedError, ErrorCode, GlobalId, GlobalType};
use ember_service::{Caller, ServiceError, Services};

use crate::authentication::RequestCaller;
use crate::AppState;
use annotation_mutations::annotated_record;
use annotations::{SpanAnnotation, TraceAnnotation};
use async_graphql::connection::Connection;
use traces::{ProjectSession, Trace};
use types::{Node, ProjectNode, Span};

pub type EmberSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// The schema, with Phoenix's depth limit; each request carries the services and its caller.
pub fn schema() -> EmberSchema {
    Schema::build(QueryRoot::default(), MutationRoot::default(), EmptySubscription).limit_depth(20).finish()
}

pub async fn handler(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Extension(schema): Extension<EmberSchema>,
    body: Bytes,
) -> Response {
    let request = match serde_json::from_slice::<async_graphql::Request>(&body) {
        Ok(request) => request,
        Err(error) => {
            return (StatusCode::BAD_REQUEST, format!("the body is not a GraphQL request ({{\"query\", \"variables\"}}): {error}"))
                .into_response()
        }
    };
    execute(state, caller, &schema, request).await
}

/// `GET /graphql`: a query in the URL (`query`, `variables` as JSON, `operationName`), as
/// GraphQL over HTTP allows; a GET never runs a mutation. Without a query, a page saying where
/// to send requests (Phoenix serves GraphiQL here, whose assets would come from a CDN).
pub async fn get_handler(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Extension(schema): Extension<EmberSchema>,
    params: crate::params::QueryParams,
) -> Response {
    let Some(query) = params.get("query") else {
        let page = "<!doctype html><title>ember GraphQL</title><p>POST GraphQL requests to this URL as JSON \
                    (<code>{\"query\": ..., \"variables\": ...}</code>), or GET with <code>?query=</code>.</p>";
        return axum::response::Html(page).into_response();
    };
    let read_only = async_graphql::parser::parse_query(query).map(|document| {
        document.operations.iter().all(|(_, operation)| operation.node.ty == async_graphql::parser::types::OperationType::Query)
    });
    if read_only == Ok(false) {
        return (StatusCode::METHOD_NOT_ALLOWED, "GET runs queries only; send mutations with POST").into_response();
    }
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = params.get("operationName") {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.get("variables") {
        match serde_json::from_str::<serde_json::Value>(variables) {
            Ok(variables) => request = request.variables(async_graphql::Variables::from_json(variables)),
            Err(error) => return (StatusCode::BAD_REQUEST, format!("variables is not JSON: {error}")).into_response(),
        }
    }
    execute(state, caller, &schema, request).await
}

/// Runs a request once it passes the size limits and the caller may run its root fields (a
/// document that does not parse is left to the schema, which explains the syntax error).
async fn execute(state: AppState, caller: Caller, schema: &EmberSchema, request: async_graphql::Request) -> Response {
    let too_big = |reason: String| {
        let refused = async_graphql::Response::from_errors(vec![async_graphql::ServerError::new(reason, None)]);
        (StatusCode::BAD_REQUEST, axum::Json(refused)).into_response()
    };
    if let Some(reason) = limits::refuse_text(&request.query) {
        return too_big(reason);
    }
    if let Ok(document) = async_graphql::parser::parse_query(&request.query) {
        if let Some(reason) = limits::refuse(&document) {
            return too_big(reason);
        }
        if let Err(refusal) = access::check(&document, request.operation_name.as_deref(), &caller) {
            let error = graphql_error(refusal);
            let error = async_graphql::ServerError {
                message: error.message,
                source: None,
                locations: Vec::new(),
                path: Vec::new(),
                extensions: error.extensions,
            };
            return axum::Json(async_graphql::Response::from_errors(vec![error])).into_response();
        }
    }
    let authors = authors::AuthorLoader::for_request(state.services.clone(), caller.clone());
    let request = request.data(state.services).data(caller).data(state.cookies).data(authors);
    let mut response = schema.execute(request).await;
    // Headers a resolver set (a password change clears the session cookies).
    let headers = std::mem::take(&mut response.http_headers);
    let mut rendered = axum::Json(response).into_response();
    for (name, value) in &headers {
        rendered.headers_mut().append(name, value.clone());
    }
    rendered
}

/// A classified error as a GraphQL error: its client message, and its code in
/// `extensions.code` (internal causes logged, never sent).
pub(crate) fn graphql_error(error: impl ClassifiedError) -> async_graphql::Error {
    let code = error.error_code();
    if code == ErrorCode::Internal {
        tracing::error!(%error, "graphql request failed");
    }
    let message = error.client_message();
    // Phoenix words the admin check differently over GraphQL, and its clients match on it.
    let message = if message == ember_service::ADMINS_ONLY { GRAPHQL_ADMINS_ONLY.to_string() } else { message };
    async_graphql::Error::new(message).extend_with(|_, extensions| extensions.set("code", code.name()))
}

/// Phoenix's GraphQL wording of the admin check.
const GRAPHQL_ADMINS_ONLY: &str = "Only admin can perform this action";

/// A client mistake of the GraphQL layer itself (a malformed id, a missing object).
fn bad_input(code: ErrorCode, message: impl Into<String>) -> async_graphql::Error {
    graphql_error(ServiceError::new(code, message))
}

/// The services and the caller of the request.
pub(crate) fn context<'a>(context: &'a Context<'_>) -> Result<(&'a Services, &'a Caller)> {
    Ok((context.data::<Services>()?, context.data::<Caller>()?))
}

fn rowid_of(id: &ID, global_type: GlobalType) -> Result<i64> {
    GlobalId::decode_as(id, global_type)
        .ok_or_else(|| bad_input(ErrorCode::Unprocessable, format!("{:?} is not a {global_type} id", id.as_str())))
}

/// Every query, merged from the parts that serve them (one per resource).
#[derive(MergedObject, Default)]
#[graphql(name = "QueryRoot")]
pub struct QueryRoot(SpanQueries, secrets::SecretQueries, prompts::PromptQueries, users::UserQueries);

/// Every mutation, merged likewise.
#[derive(MergedObject, Default)]
#[graphql(name = "MutationRoot")]
pub struct MutationRoot(
    annotation_mutations::AnnotationMutations,
    secrets::SecretMutations,
    datasets::DatasetMutations,
    prompts::PromptMutations,
    users::UserMutations,
);

/// Spans, traces, sessions and projects.
#[derive(Default)]
pub struct SpanQueries;

#[Object]
impl SpanQueries {
    /// Any object by its GlobalID.
    async fn node(&self, context: &Context<'_>, id: ID) -> Result<Node> {
        let (services, caller) = self::context(context)?;
        // A secret's id names its key, not a row.
        if let Some(key) = secrets::secret_key(&id) {
            let secret = secrets::secret_node(context, key).await?;
            return secret.map(Node::Secret).ok_or_else(|| bad_input(ErrorCode::NotFound, format!("no secret with id {}", id.as_str())));
        }
        let global =
            GlobalId::decode(&id).ok_or_else(|| bad_input(ErrorCode::Unprocessable, format!("{:?} is not a GlobalID", id.as_str())))?;
        let missing = || bad_input(ErrorCode::NotFound, format!("no {} with id {}", global.type_name, global.rowid));
        match global.global_type() {
            Some(GlobalType::Span) => {
                Ok(Node::Span(Span(services.spans().by_rowid(caller, global.rowid).await.map_err(graphql_error)?.ok_or_else(missing)?)))
            }
            Some(GlobalType::Trace) => {
                let trace = services.traces().by_rowid(caller, global.rowid).await.map_err(graphql_error)?;
                Ok(Node::Trace(Trace::from(trace.ok_or_else(missing)?)))
            }
            Some(GlobalType::ProjectSession) => {
                let session = services.sessions().by_rowid(caller, global.rowid).await.map_err(graphql_error)?;
                Ok(Node::ProjectSession(ProjectSession(session.ok_or_else(missing)?)))
            }
            Some(GlobalType::SpanAnnotation) => {
                let found = services.annotations().by_id(caller, AnnotationTarget::Span, global.rowid).await.map_err(graphql_error)?;
                let (record, span_rowid) = found.ok_or_else(missing)?;
                Ok(Node::SpanAnnotation(SpanAnnotation(annotated_record(record, span_rowid))))
            }
            Some(GlobalType::TraceAnnotation) => {
                let found = services.annotations().by_id(caller, AnnotationTarget::Trace, global.rowid).await.map_err(graphql_error)?;
                let (record, trace_rowid) = found.ok_or_else(missing)?;
                Ok(Node::TraceAnnotation(TraceAnnotation(annotated_record(record, trace_rowid))))
            }
            Some(GlobalType::Dataset) => {
                let dataset = services.datasets().find(caller, ember_service::datasets::DatasetRef::Id(global.rowid)).await;
                Ok(Node::Dataset(datasets::Dataset(dataset.map_err(graphql_error)?.ok_or_else(missing)?)))
            }
            Some(GlobalType::Experiment) => {
                let experiment = services.experiments().get(caller, global.rowid).await;
                Ok(Node::Experiment(experiments::Experiment(experiment.map_err(graphql_error)?)))
            }
            Some(GlobalType::Prompt) => {
                Ok(Node::Prompt(prompts::Prompt::of(services.prompts().by_rowid(caller, global.rowid).await.map_err(graphql_error)?)))
            }
            Some(GlobalType::PromptVersion) => Ok(Node::PromptVersion(prompts::PromptVersion(
                services.prompts().version(caller, global.rowid).await.map_err(graphql_error)?,
            ))),
            Some(GlobalType::PromptVersionTag) => Ok(Node::PromptVersionTag(prompts::PromptVersionTag(
                services.prompts().tag(caller, global.rowid).await.map_err(graphql_error)?,
            ))),
            Some(GlobalType::PromptLabel) => Ok(Node::PromptLabel(prompts::PromptLabel(
                services.prompt_labels().resolve(caller, global.rowid).await.map_err(graphql_error)?,
            ))),
            Some(GlobalType::Project) => {
                let project = services.projects().find(caller, ember_service::ProjectRef::Id(global.rowid)).await.map_err(graphql_error)?;
                Ok(Node::Project(ProjectNode(project.ok_or_else(missing)?)))
            }
            Some(GlobalType::User) => Ok(Node::User(users::User(services.users().get(caller, global.rowid).await.map_err(graphql_error)?))),
            _ => Err(bad_input(ErrorCode::NotFound, format!("ember does not serve {} nodes", global.type_name))),
        }
    }

    /// Projects, newest first (experiments' projects left out, as Phoenix lists them).
    async fn projects(&self, context: &Context<'_>, first: Option<i32>, after: Option<String>) -> Result<Connection<String, ProjectNode>> {
        let (services, caller) = self::context(context)?;
        let query = ember_service::projects::ProjectListQuery {
            cursor: connection::resume_after(after.as_deref())?,
            limit: connection::edges_wanted(first)?,
            name_contains: None,
            include_experiment_projects: false,
        };
        let page = services.projects().list(caller, &query).await.map_err(graphql_error)?;
        Ok(connection::keyset(page, |project| project.id, ProjectNode))
    }

    /// A span by its OpenTelemetry id.
    async fn get_span_by_otel_id(&self, context: &Context<'_>, span_id: String) -> Result<Option<Span>> {
        let (services, caller) = self::context(context)?;
        Ok(services.spans().by_otel_id(caller, &span_id).await.map_err(graphql_error)?.map(Span))
    }
}
