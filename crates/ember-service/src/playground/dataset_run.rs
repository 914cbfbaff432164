//! A playground prompt run over a dataset (or some of its splits) as an experiment, as Phoenix's
//! playground runs one: the experiment is created at once, then each example's input fills the
//! prompt's template variables, the provider answers, and the run (its output the answer's
//! text — with the tools it called, if any — its task trace the call's LLM span in the experiment's project) and the chosen code
//! evaluators' evaluations are recorded as they finish, a few examples at a time, in the
//! background. The experiment page shows them as they land.

use std::str::FromStr;
use std::sync::Arc;

use ember_core::time::now_nanos;
use ember_core::{AnnotatorKind, GlobalId, GlobalType};
use ember_evals::providers::Endpoint;
use ember_evals::CodeEvaluator;
use ember_store::{ExampleRecord, ExperimentRecord};
use futures::StreamExt;
use serde_json::{json, Map, Value};

use super::span::CallRecord;
use super::variant::{variables_of, Variant};
use super::{EndpointError, PlaygroundService};
use crate::error::{Result, ServiceError};
use crate::experiments::{EvaluationRequest, ExperimentRequest, RunRequest};
use crate::{Caller, Services};

/// The most evaluators one run takes.
pub const MAX_EVALUATORS: usize = 10;

/// Examples answered at once.
const CONCURRENCY: usize = 4;

/// Examples read per page of the experiment's missing runs.
const PAGE: usize = 100;

/// A request to run a variant over a dataset.
#[derive(Debug, Clone)]
pub struct DatasetRun {
    pub dataset_id: i64,
    pub variant: Variant,
    /// Splits to run on, by GlobalID or name; none for the whole dataset.
    pub splits: Vec<String>,
    /// Code evaluators as `[name:]kind[=argument]` (see `ember_evals::code`).
    pub evaluators: Vec<String>,
    pub name: Option<String>,
}

/// Everything the background runs need.
struct Runner {
    services: Services,
    caller: Caller,
    experiment_id: i64,
    project: String,
    version: ember_core::prompt::PromptVersionData,
    endpoint: Endpoint,
    evaluators: Vec<CodeEvaluator>,
}

impl PlaygroundService<'_> {
    /// Checks the run (the prompt, the evaluators, the provider's key), creates the experiment
    /// and starts its runs in the background; returns the experiment.
    pub async fn run_over_dataset(&self, caller: &Caller, run: DatasetRun) -> Result<ExperimentRecord> {
        caller.require_write()?;
        let version = run.variant.to_version().map_err(ServiceError::invalid)?;
        let specs: Vec<&str> = run.evaluators.iter().map(|spec| spec.trim()).filter(|spec| !spec.is_empty()).collect();
        if specs.len() > MAX_EVALUATORS {
            return Err(ServiceError::invalid(format!("choose at most {MAX_EVALUATORS} evaluators")));
        }
        let mut evaluators: Vec<CodeEvaluator> = Vec::with_capacity(specs.len());
        for spec in specs {
            let evaluator = CodeEvaluator::from_str(spec).map_err(|error| ServiceError::invalid(error.to_string()))?;
            if evaluators.iter().any(|chosen| chosen.name() == evaluator.name()) {
                return Err(ServiceError::invalid(format!("two evaluators are named {:?}; name one `other-name:kind`", evaluator.name())));
            }
            evaluators.push(evaluator);
        }
        let provider = Variant::endpoint_name(&version);
        let endpoint = self.services.playground.endpoint(&self.services.store, &provider).await.map_err(|error| match error {
            EndpointError::Store(error) => ServiceError::from(error),
            other => ServiceError::invalid(other.to_string()),
        })?;
        let dataset = self.services.datasets().resolve(caller, crate::datasets::DatasetRef::Id(run.dataset_id)).await?;
        let metadata = Map::from_iter([
            ("source".to_string(), json!("playground")),
            ("model".to_string(), json!(format!("{provider}:{}", version.model_name))),
            ("evaluators".to_string(), json!(evaluators.iter().map(CodeEvaluator::name).collect::<Vec<_>>())),
        ]);
        let request = ExperimentRequest {
            name: run.name,
            description: Some(format!("The playground's {} prompt over {}", version.model_name, dataset.name)),
            metadata: Some(metadata),
            version_id: None,
            splits: run.splits,
            repetitions: 1,
        };
        let experiment = self.services.experiments().create(caller, &dataset, request).await?;
        let runner = Runner {
            services: self.services.clone(),
            caller: caller.clone(),
            experiment_id: experiment.id,
            project: experiment.project_name.clone().unwrap_or_else(|| super::PLAYGROUND_PROJECT.into()),
            version,
            endpoint,
            evaluators,
        };
        tokio::spawn(Arc::new(runner).run_all());
        Ok(experiment)
    }
}

/// A run's output: the answer's text, or with the tools it called when it called any.
fn run_output(completion: &ember_evals::providers::Completion) -> Value {
    if completion.tool_calls.is_empty() {
        return json!(completion.content);
    }
    let calls: Vec<Value> =
        completion.tool_calls.iter().map(|call| json!({"id": call.id, "name": call.name, "arguments": call.arguments})).collect();
    json!({"content": completion.content, "tool_calls": calls})
}

impl Runner {
    /// Runs every example still missing a run, page by page.
    async fn run_all(self: Arc<Self>) {
        let mut cursor = None;
        loop {
            let page = match self.services.experiments().incomplete_runs(&self.caller, self.experiment_id, cursor, PAGE).await {
                Ok(page) => page,
                Err(error) => {
                    tracing::warn!(%error, experiment = self.experiment_id, "the playground's experiment stopped");
                    return;
                }
            };
            futures::stream::iter(page.items)
                .map(|(example, _)| {
                    let runner = self.clone();
                    async move { runner.run_one(&example).await }
                })
                .buffer_unordered(CONCURRENCY)
                .collect::<Vec<()>>()
                .await;
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        tracing::info!(experiment = self.experiment_id, "the playground's experiment finished");
    }

    /// Answers one example, records its run and evaluates it. Failures are recorded on the run.
    async fn run_one(&self, example: &ExampleRecord) {
        let started = now_nanos();
        let (output, error, trace_id) = match Variant::request(&self.version, &variables_of(&example.input)) {
            Err(problem) => (Value::Null, Some(problem), None),
            Ok(body) => {
                let record = CallRecord::new(self.endpoint.provider.clone(), self.version.model_name.clone(), body, &self.project);
                let outcome = self.services.playground.client.complete(&self.endpoint, &record.request).await;
                record.record(&self.services, &self.caller, outcome.as_ref().map_err(ToString::to_string).cloned()).await;
                match outcome {
                    Ok(completion) => (run_output(&completion), None, Some(record.trace_id)),
                    Err(error) => (Value::Null, Some(error.to_string()), Some(record.trace_id)),
                }
            }
        };
        let failed = error.is_some();
        let run = RunRequest {
            dataset_example_id: GlobalId::encode(GlobalType::DatasetExample, example.id),
            repetition_number: 1,
            output: output.clone(),
            start_time: started,
            end_time: now_nanos().max(started),
            trace_id,
            error,
        };
        let run_id = match self.services.experiments().record_run(&self.caller, self.experiment_id, run).await {
            Ok(run_id) => run_id,
            Err(error) => {
                tracing::warn!(%error, experiment = self.experiment_id, "a playground run was not recorded");
                return;
            }
        };
        if failed {
            return;
        }
        for evaluator in &self.evaluators {
            let started = now_nanos();
            let result = evaluator.evaluate(&output, &example.output);
            let evaluation = EvaluationRequest {
                experiment_run_id: run_id,
                name: evaluator.name().to_string(),
                annotator_kind: AnnotatorKind::Code,
                label: result.label,
                score: result.score,
                explanation: result.explanation,
                error: None,
                metadata: Map::new(),
                trace_id: None,
                start_time: started,
                end_time: now_nanos().max(started),
                has_result: true,
            };
            if let Err(error) = self.services.experiments().record_evaluation(&self.caller, evaluation).await {
                tracing::warn!(%error, experiment = self.experiment_id, "a playground evaluation was not recorded");
            }
        }
    }
}
