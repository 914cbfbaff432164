//! The playground: OpenAI-style chat completions forwarded to a provider with the key ember
//! holds ([`settings`]), every call traced as an LLM span in the `playground` project
//! ([`span`]), answered whole or as a stream of events that is traced when it ends — finished,
//! failed, or dropped because the client left. The playground page edits [`Variant`]s: each
//! runs with its template variables filled in, and one can run over a dataset as an experiment
//! ([`dataset_run`]).

mod dataset_run;
mod settings;
mod sources;
mod span;
mod variant;

use std::collections::BTreeMap;
use std::pin::Pin;
use std::task::{Context, Poll};

use ember_evals::providers::{Completion, EventStream, ProviderError, StreamEvent, Usage};
use futures::Stream;
use serde_json::{Map, Value};

pub use dataset_run::{DatasetRun, MAX_EVALUATORS};
pub use settings::{EndpointError, Playground, ProviderSettings, ProviderStatus};
pub use span::PLAYGROUND_PROJECT;
pub use variant::{variables_of, Variant, VariantMessage};

use crate::{Caller, Services};
use span::CallRecord;

/// A checked completion request: the provider, its model, and the OpenAI body to send (whose
/// `model` is the provider's model name).
#[derive(Debug, Clone)]
pub struct ChatCall {
    pub provider: String,
    pub model_name: String,
    pub body: Map<String, Value>,
}

/// Why a completion was not answered.
#[derive(Debug, thiserror::Error)]
pub enum PlaygroundError {
    /// The provider cannot be called (unknown, no key, unreadable secret).
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// The provider refused or failed the call.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The variant cannot be sent as it is; the message names what is wrong.
    #[error("{0}")]
    Invalid(String),
}

pub struct PlaygroundService<'a> {
    pub(crate) services: &'a Services,
}

impl PlaygroundService<'_> {
    /// The providers and whether each can be called (a missing key explained).
    pub async fn providers(&self, _caller: &Caller) -> Vec<ProviderStatus> {
        self.services.playground.statuses(&self.services.store).await
    }

    /// Answers a completion whole.
    pub async fn complete(&self, caller: &Caller, call: ChatCall) -> Result<Completion, PlaygroundError> {
        let playground = &self.services.playground;
        let endpoint = playground.endpoint(&self.services.store, &call.provider).await?;
        let record = CallRecord::new(call.provider, call.model_name, call.body, PLAYGROUND_PROJECT);
        let outcome = playground.client.complete(&endpoint, &record.request).await;
        record.record(self.services, caller, outcome.as_ref().map_err(ToString::to_string).cloned()).await;
        Ok(outcome?)
    }

    /// Runs a variant of the playground page with `variables` filled into its templates,
    /// streamed and traced as [`PlaygroundService::stream`].
    pub async fn run(
        &self,
        caller: &Caller,
        variant: &Variant,
        variables: &BTreeMap<String, String>,
    ) -> Result<RecordedStream, PlaygroundError> {
        let call = variant_call(variant, variables)?;
        self.stream(caller, call).await
    }

    /// Answers a completion as a stream of events, traced when the stream ends or is dropped.
    pub async fn stream(&self, caller: &Caller, call: ChatCall) -> Result<RecordedStream, PlaygroundError> {
        let playground = &self.services.playground;
        let endpoint = playground.endpoint(&self.services.store, &call.provider).await?;
        let record = CallRecord::new(call.provider, call.model_name, call.body, PLAYGROUND_PROJECT);
        match playground.client.stream(&endpoint, &record.request).await {
            Ok(events) => Ok(RecordedStream {
                trace_id: record.trace_id.clone(),
                events,
                completion: empty_completion(),
                outcome: None,
                pending: Some((record, self.services.clone(), caller.clone())),
            }),
            Err(error) => {
                record.record(self.services, caller, Err(error.to_string())).await;
                Err(error.into())
            }
        }
    }
}

/// The call a variant makes with `variables` filled in.
fn variant_call(variant: &Variant, variables: &BTreeMap<String, String>) -> Result<ChatCall, PlaygroundError> {
    let version = variant.to_version().map_err(PlaygroundError::Invalid)?;
    let body = Variant::request(&version, variables).map_err(PlaygroundError::Invalid)?;
    Ok(ChatCall { provider: Variant::endpoint_name(&version), model_name: version.model_name, body })
}

/// A provider's answer as it arrives. Its span is written by [`RecordedStream::record`] once the
/// stream has ended (or failed); a stream dropped before that — the client went away — is traced
/// as unfinished.
pub struct RecordedStream {
    /// The trace the call's span is written to.
    pub trace_id: String,
    events: EventStream,
    completion: Completion,
    /// How the stream ended: `None` while it runs.
    outcome: Option<Result<(), String>>,
    /// The call still to record.
    pending: Option<(CallRecord, Services, Caller)>,
}

impl RecordedStream {
    /// Writes the call's span (once); call it after the stream ended or failed.
    pub async fn record(&mut self) {
        if let Some((record, services, caller)) = self.pending.take() {
            let outcome = self.outcome();
            record.record(&services, &caller, outcome).await;
        }
    }

    fn outcome(&mut self) -> Result<Completion, String> {
        match self.outcome.take() {
            Some(Ok(())) => Ok(std::mem::replace(&mut self.completion, empty_completion())),
            Some(Err(message)) => Err(message),
            None => Err("the client went away before the answer was complete".into()),
        }
    }
}

fn empty_completion() -> Completion {
    Completion { content: String::new(), finish_reason: "stop".into(), usage: Usage::default(), tool_calls: Vec::new() }
}

impl Stream for RecordedStream {
    type Item = Result<StreamEvent, ProviderError>;

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.events.as_mut().poll_next(context);
        match &polled {
            Poll::Ready(Some(Ok(event))) => match event {
                StreamEvent::Text(text) => self.completion.content.push_str(text),
                StreamEvent::Finish(reason) => self.completion.finish_reason = reason.clone(),
                StreamEvent::Usage(usage) => self.completion.usage = *usage,
                StreamEvent::ToolCallDelta { index, id, name, arguments } => {
                    self.completion.add_tool_call_delta(*index, id.as_deref(), name.as_deref(), arguments)
                }
            },
            Poll::Ready(Some(Err(error))) => self.outcome = Some(Err(error.to_string())),
            Poll::Ready(None) => {
                if self.outcome.is_none() {
                    self.outcome = Some(Ok(()));
                }
            }
            Poll::Pending => {}
        }
        polled
    }
}

impl Drop for RecordedStream {
    fn drop(&mut self) {
        if let Some((record, services, caller)) = self.pending.take() {
            let outcome = self.outcome();
            // Dropped outside a runtime (at shutdown) there is nowhere to write it from.
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move { record.record(&services, &caller, outcome).await });
            }
        }
    }
}
