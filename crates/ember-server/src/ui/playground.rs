//! The playground page: up to four prompt variants side by side, opened empty, from an LLM span
//! (`?span=`) or from a prompt version (`?prompt=&version=`); each runs streamed with the
//! page's template variables, saves as a prompt version, or runs over a dataset as an
//! experiment. A provider that cannot be called says why next to its variant. The page's
//! script sends the variants as JSON to the three writes below, which answer JSON (a place to
//! go, or the refusal to show in place) or, for a run, a stream of events.

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ember_core::prompt::{ModelProvider, TemplateFormat};
use ember_core::ClassifiedError as _;
use ember_evals::providers::StreamEvent;
use ember_service::playground::{variables_of, DatasetRun, RecordedStream, Variant, MAX_EVALUATORS, PLAYGROUND_PROJECT};
use ember_service::ProjectRef;
use ember_service::ServiceError;
use futures::StreamExt;
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::UiResult;
use super::layout::{shell, Section};
use crate::authentication::RequestCaller;
use crate::routes::chat_completions::ChatError;
use crate::routes::JsonBody;
use crate::AppState;

/// The most variants compared at once.
const MAX_VARIANTS: usize = 4;

/// Roles a message can take in the editor.
const ROLES: [&str; 4] = ["system", "developer", "user", "assistant"];

#[derive(Debug, Default, Deserialize)]
pub struct PlaygroundQuery {
    /// An LLM span's OpenTelemetry id.
    span: Option<String>,
    /// A prompt's rowid, and one of its versions (its latest when absent).
    prompt: Option<i64>,
    version: Option<i64>,
}

/// Pretty JSON for an editor box; empty for nothing.
fn pretty(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(value) => serde_json::to_string_pretty(value).unwrap_or_default(),
    }
}

fn message_editor(role: &str, content: &str) -> Markup {
    html! {
        div.message data-message {
            select name="role" aria-label="role" {
                @for option in ROLES { option value=(option) selected[option == role] { (option) } }
            }
            textarea name="content" rows="3" aria-label="message" { (content) }
            button.small type="button" data-remove-message title="Remove this message" { "✕" }
        }
    }
}

fn variant_editor(number: usize, variant: &Variant) -> Markup {
    let provider = ModelProvider::parse(&variant.provider).unwrap_or(ModelProvider::Openai);
    let parameters = (!variant.invocation_parameters.is_empty()).then(|| Value::Object(variant.invocation_parameters.clone()));
    html! {
        section.variant data-variant {
            div.title-row {
                h2 { "Variant " span data-variant-number { (number) } }
                button.small type="button" data-remove-variant { "Remove" }
            }
            div.toolbar {
                label { "Provider " select name="provider" {
                    @for option in ModelProvider::LISTED {
                        option value=(option.as_str()) selected[option == provider] { (option.display_name()) }
                    }
                } }
                label.grow { "Model " input type="text" name="model_name" value=(variant.model_name) required; }
                label { "Template " select name="template_format" {
                    @for format in [TemplateFormat::Mustache, TemplateFormat::FString, TemplateFormat::None] {
                        option value=(format.as_str()) selected[format.as_str() == variant.template_format] { (format.as_str()) }
                    }
                } }
            }
            p.provider-note.error-text data-provider-note hidden {}
            div data-messages {
                @for message in &variant.messages { (message_editor(&message.role, &message.content)) }
            }
            button.small type="button" data-add-message { "Add message" }
            details.settings open[parameters.is_some() || variant.tools.is_some() || variant.response_format.is_some()] {
                summary { "Invocation parameters, tools, response format" }
                label { "Invocation parameters (JSON object)" textarea name="invocation_parameters" rows="3" placeholder="{\"temperature\": 0.2}" { (pretty(parameters.as_ref())) } }
                label { "Tools (JSON list of OpenAI tool definitions)" textarea name="tools" rows="3" { (pretty(variant.tools.as_ref())) } }
                label { "Response format (JSON)" textarea name="response_format" rows="3" { (pretty(variant.response_format.as_ref())) } }
            }
            div.toolbar {
                button.primary type="button" data-run-variant { "Run" }
                span.muted data-run-status {}
            }
            div.output.markdown data-output aria-live="polite" {}
            div.tool-calls data-tool-calls {}
            p.notice.error data-run-error hidden {}
            p.muted data-usage {}
        }
    }
}

pub async fn page(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Query(query): Query<PlaygroundQuery>,
) -> UiResult<Markup> {
    let playground = state.services.playground();
    let (source, variant) = match (query.span.as_deref(), query.prompt) {
        (Some(span_id), _) => (format!("span {span_id}"), playground.variant_of_span(&caller, span_id).await?),
        (None, Some(prompt_id)) => {
            let (name, variant) = playground.variant_of_prompt(&caller, prompt_id, query.version).await?;
            (format!("prompt {name}"), variant)
        }
        (None, None) => (String::new(), Variant::default()),
    };
    let variables: Map<String, Value> = variant
        .variables()
        .into_iter()
        .map(|name| {
            let example = if name == "question" && source.is_empty() { "What is ember?" } else { "" };
            (name, Value::String(example.into()))
        })
        .collect();
    let providers = playground.providers(&caller).await;
    // Why each provider cannot be called, for the script to show beside a variant that uses it.
    let unready: BTreeMap<&str, &str> =
        providers.iter().filter_map(|status| status.ready.as_ref().err().map(|why| (status.name, why.as_str()))).collect();
    let datasets = state.services.datasets().list(&caller, None, None, 500).await?;
    let prompts = state.services.prompts().list(&caller, None, 500, &Default::default()).await?;
    let traced_in = state.services.projects().find(&caller, ProjectRef::Name(PLAYGROUND_PROJECT)).await?;
    let can_write = caller.require_write().is_ok();
    let body = html! {
        div.title-row {
            h1 { "Playground" }
            @if !source.is_empty() { span.muted #playground-source { "opened from " (source) } }
        }
        p.muted {
            "Runs are traced in the "
            @match &traced_in { Some(project) => a #playground-project href=(format!("/projects/{}", project.id)) { "playground" }, None => "playground" }
            " project. Keys come from the server's "
            "environment or " a href="/settings#providers" { "Settings → Providers" } "."
        }
        div #playground data-unready=(serde_json::to_string(&unready).unwrap_or_default()) data-max-variants=(MAX_VARIANTS) {
            label.stacked { "Template variables (JSON object; a dataset run fills them from each example's input)"
                textarea #playground-variables name="variables" rows="2" { (serde_json::to_string_pretty(&variables).unwrap_or_default()) }
            }
            div.toolbar {
                button.primary type="button" #run-all { "Run all" }
                button type="button" #add-variant { "Add variant" }
                span.muted { "Compare up to " (MAX_VARIANTS) " variants side by side." }
            }
            div.variants #variants { (variant_editor(1, &variant)) }
            @if can_write {
                div.playground-actions {
                    form.stacked #save-prompt data-playground-form action="/playground/prompt-versions" {
                        h2 { "Save as a prompt version" }
                        label { "Variant " input type="number" name="variant" min="1" max=(MAX_VARIANTS) value="1"; }
                        label { "Prompt (an existing name adds a version) " input type="text" name="prompt_name" list="prompt-names" required; }
                        datalist #prompt-names { @for prompt in &prompts.items { option value=(prompt.name) {} } }
                        label { "Version description " input type="text" name="description"; }
                        button.primary type="submit" { "Save version" }
                        p.notice.error data-form-error hidden {}
                    }
                    form.stacked #run-dataset data-playground-form action="/playground/experiments" {
                        h2 { "Run over a dataset" }
                        label { "Variant " input type="number" name="variant" min="1" max=(MAX_VARIANTS) value="1"; }
                        label { "Dataset " select name="dataset_id" required {
                            @for dataset in &datasets.items { option value=(dataset.id) { (dataset.name) } }
                        } }
                        label { "Splits (names, comma-separated; empty for every example) " input type="text" name="splits"; }
                        label { "Evaluators (one per line, up to " (MAX_EVALUATORS) ": " code { "exact_match" } ", " code { "contains=text" } ", "
                            code { "regex=pattern" } ", " code { "json_parse" } ", " code { "numeric=tolerance" } "; " code { "name:kind" } " names one)"
                            textarea name="evaluators" rows="3" {}
                        }
                        label { "Experiment name " input type="text" name="name"; }
                        button.primary type="submit" disabled[datasets.items.is_empty()] { "Run experiment" }
                        @if datasets.items.is_empty() { p.muted { "No datasets yet." } }
                        p.notice.error data-form-error hidden {}
                    }
                }
            }
        }
    };
    Ok(shell("Playground", Section::Playground, &caller, body))
}

/// A refusal the page shows in place.
#[derive(Debug, Serialize)]
struct Refusal {
    error: String,
}

/// Where the page goes after a write.
#[derive(Debug, Serialize)]
struct Moved {
    location: String,
}

fn refuse(status: StatusCode, error: String) -> Response {
    (status, Json(Refusal { error })).into_response()
}

fn refuse_service(error: ServiceError) -> Response {
    let code = error.error_code();
    if code == ember_core::ErrorCode::Internal {
        tracing::error!(%error, "a playground write failed");
    }
    refuse(crate::error::http_status(code), error.client_message())
}

#[derive(Debug, Deserialize)]
pub struct RunRequest {
    variant: Variant,
    #[serde(default)]
    variables: Map<String, Value>,
}

/// One event of a streamed run.
#[derive(Debug, Default, Serialize)]
struct RunEvent {
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finish_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_tokens: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completion_tokens: Option<i64>,
    /// A piece of a tool call the model asks for.
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call: Option<RunToolCall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// The call's trace, sent last.
    #[serde(skip_serializing_if = "Option::is_none")]
    trace: Option<String>,
}

/// A piece of the tool call at `index`: id and name when it starts, then its arguments.
#[derive(Debug, Serialize)]
struct RunToolCall {
    index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    arguments: String,
}

impl RunEvent {
    fn frame(&self) -> String {
        format!("data: {}\n\n", serde_json::to_string(self).unwrap_or_default())
    }
}

/// `POST /playground/run`: one variant's answer as server-sent events, each a [`RunEvent`];
/// a variant that cannot run is refused before the stream with the reason.
pub async fn run(State(state): State<AppState>, RequestCaller(caller): RequestCaller, JsonBody(request): JsonBody<RunRequest>) -> Response {
    let variables = variables_of(&Value::Object(request.variables));
    let events = match state.services.playground().run(&caller, &request.variant, &variables).await {
        Ok(events) => events,
        Err(error) => {
            let (status, message) = ChatError::from(error).parts();
            return refuse(status, message);
        }
    };
    let trace = format!("/redirects/traces/{}", events.trace_id);
    let frames = futures::stream::unfold(Some((events, trace)), |state: Option<(RecordedStream, String)>| async move {
        let (mut events, trace) = state?;
        let (event, more) = match events.next().await {
            Some(Ok(StreamEvent::Text(text))) => (RunEvent { text: Some(text), ..Default::default() }, true),
            Some(Ok(StreamEvent::Finish(reason))) => (RunEvent { finish_reason: Some(reason), ..Default::default() }, true),
            Some(Ok(StreamEvent::ToolCallDelta { index, id, name, arguments })) => {
                (RunEvent { tool_call: Some(RunToolCall { index, id, name, arguments }), ..Default::default() }, true)
            }
            Some(Ok(StreamEvent::Usage(usage))) => (
                RunEvent {
                    prompt_tokens: Some(usage.prompt_tokens),
                    completion_tokens: Some(usage.completion_tokens),
                    ..Default::default()
                },
                true,
            ),
            // The call is traced before the last event, so its trace link leads somewhere.
            Some(Err(error)) => {
                events.record().await;
                (RunEvent { error: Some(error.to_string()), trace: Some(trace.clone()), ..Default::default() }, false)
            }
            None => {
                events.record().await;
                (RunEvent { trace: Some(trace.clone()), ..Default::default() }, false)
            }
        };
        Some((Ok::<_, Infallible>(event.frame()), more.then_some((events, trace))))
    });
    ([(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-cache")], Body::from_stream(frames)).into_response()
}

#[derive(Debug, Deserialize)]
pub struct SaveRequest {
    prompt_name: String,
    #[serde(default)]
    description: Option<String>,
    variant: Variant,
}

/// `POST /playground/prompt-versions`: the variant as a new version; answers the prompt's page.
pub async fn save(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonBody(request): JsonBody<SaveRequest>,
) -> Response {
    let saved = state.services.playground().save(&caller, &request.prompt_name, request.description.as_deref(), &request.variant).await;
    match saved {
        Ok(version) => Json(Moved { location: format!("/prompts/{}?b={}", version.prompt_id, version.id) }).into_response(),
        Err(error) => refuse_service(error),
    }
}

#[derive(Debug, Deserialize)]
pub struct ExperimentRequest {
    dataset_id: i64,
    /// Split names, comma-separated.
    #[serde(default)]
    splits: String,
    /// Evaluator specs, one per line.
    #[serde(default)]
    evaluators: String,
    #[serde(default)]
    name: Option<String>,
    variant: Variant,
}

/// `POST /playground/experiments`: starts the variant's run over a dataset; answers the
/// experiment's page, where the runs appear as they finish.
pub async fn run_over_dataset(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonBody(request): JsonBody<ExperimentRequest>,
) -> Response {
    let run = DatasetRun {
        dataset_id: request.dataset_id,
        variant: request.variant,
        splits: request.splits.split(',').map(str::trim).filter(|split| !split.is_empty()).map(str::to_string).collect(),
        evaluators: request.evaluators.lines().map(str::to_string).collect(),
        name: request.name.filter(|name| !name.trim().is_empty()),
    };
    match state.services.playground().run_over_dataset(&caller, run).await {
        Ok(experiment) => {
            Json(Moved { location: format!("/datasets/{}/experiments/{}", experiment.dataset_id, experiment.id) }).into_response()
        }
        Err(error) => refuse_service(error),
    }
}
