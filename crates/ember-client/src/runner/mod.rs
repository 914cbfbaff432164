//! `ember experiments run`: runs a task over a dataset's examples and scores each output with
//! code evaluators, recording everything as `arize-phoenix-client`'s `run_experiment` does:
//!
//! 1. `POST /v1/datasets/{id}/experiments` at the examples' version (and splits);
//! 2. per example and repetition, a root CHAIN span `Task: <name>` in the experiment's project
//!    (input, output, status, an `exception` event on failure), then `POST …/runs` with the
//!    span's times and trace id; a failed task is retried, and only its last attempt is recorded;
//! 3. per successful run and evaluator, a root EVALUATOR span `Evaluation: <name>` in the
//!    `evaluators` project, then `POST /v1/experiment_evaluations` (annotator kind `CODE`).
//!
//! Spans are exported in batches over OTLP/HTTP; runs and evaluations are recorded as they
//! finish, `concurrency` examples at a time.

mod report;
mod task;

use std::time::Duration;

use chrono::SecondsFormat;
use ember_core::python_json::dumps as python_json;
use ember_core::semconv;
use ember_evals::CodeEvaluator;
use futures::stream::{self, StreamExt};
use indicatif::ProgressBar;
use serde_json::{json, Value};

pub use report::{EvaluatorSummary, RunReport};
pub use task::{Task, TaskFailure};

use crate::datasets::Example;
use crate::experiments::{Experiment, NewEvaluation, NewExperiment, NewRun, RunRecorded};
use crate::spans::{FinishedSpan, RootSpan, SpanExporter};
use crate::{Client, ClientError};

/// The project the Python client sends evaluator spans to.
const EVALUATORS_PROJECT: &str = "evaluators";
const JSON_MIME: &str = "application/json";

/// Everything `ember experiments run` was asked to do.
pub struct ExperimentPlan {
    /// A dataset name or GlobalID.
    pub dataset: String,
    pub version_id: Option<String>,
    pub splits: Vec<String>,
    pub task: Task,
    /// Names the task spans `Task: <name>`.
    pub task_name: String,
    pub evaluators: Vec<CodeEvaluator>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub metadata: Value,
    pub repetitions: u32,
    /// Examples run at once.
    pub concurrency: usize,
    /// Further attempts at a failed task.
    pub retries: u32,
}

/// What happened to one example and repetition.
pub(crate) struct RunOutcome {
    pub example_id: String,
    pub repetition: u32,
    pub latency: Duration,
    pub task_error: Option<TaskFailure>,
    /// A run or evaluation the server did not take.
    pub unrecorded: Option<ClientError>,
    pub already_succeeded: bool,
    pub evaluations: Vec<(String, ember_evals::EvaluationResult)>,
}

pub async fn run_experiment(client: &Client, plan: ExperimentPlan, progress: ProgressBar) -> Result<RunReport, ClientError> {
    let dataset = client.find_dataset(&plan.dataset).await?;
    let examples = client.dataset_examples(&dataset.id, plan.version_id.as_deref(), &plan.splits).await?;
    if examples.examples.is_empty() {
        return Err(ClientError::Invalid(format!(
            "the dataset `{}` has no examples at version {}",
            dataset.name,
            examples.version_id.as_deref().unwrap_or("(none)")
        )));
    }
    let repetitions = plan.repetitions.max(1);
    let new_experiment = NewExperiment {
        name: plan.name.clone(),
        description: plan.description.clone(),
        metadata: plan.metadata.clone(),
        version_id: examples.version_id.clone(),
        repetitions,
        splits: plan.splits.clone(),
    };
    let experiment = client.create_experiment(&dataset.id, &new_experiment).await?;
    let exporter = SpanExporter::start(client.clone());
    let context = RunContext { client, plan: &plan, experiment: &experiment, exporter: &exporter };

    progress.set_length((examples.examples.len() * repetitions as usize) as u64);
    let jobs = examples.examples.iter().flat_map(|example| (1..=repetitions).map(move |repetition| (example, repetition)));
    let outcomes: Vec<RunOutcome> = stream::iter(jobs)
        .map(|(example, repetition)| {
            let context = &context;
            let progress = &progress;
            async move {
                let outcome = context.run_one(example, repetition).await;
                progress.inc(1);
                outcome
            }
        })
        .buffer_unordered(plan.concurrency.max(1))
        .collect()
        .await;
    progress.finish_and_clear();
    let spans = exporter.finish().await;
    Ok(RunReport::new(client.endpoint(), dataset, experiment, &plan.evaluators, outcomes, spans))
}

struct RunContext<'a> {
    client: &'a Client,
    plan: &'a ExperimentPlan,
    experiment: &'a Experiment,
    exporter: &'a SpanExporter,
}

impl RunContext<'_> {
    async fn run_one(&self, example: &Example, repetition: u32) -> RunOutcome {
        let mut attempt = 0;
        let (result, span) = loop {
            let (result, mut span) = self.attempt_task(example, repetition).await;
            self.export(self.experiment.project_name.as_deref(), &mut span).await;
            if result.is_err() && attempt < self.plan.retries {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
                continue;
            }
            break (result, span);
        };
        let latency = (span.end_time - span.start_time).to_std().unwrap_or_default();
        let mut outcome = RunOutcome {
            example_id: example.id.to_string(),
            repetition,
            latency,
            task_error: result.as_ref().err().cloned(),
            unrecorded: None,
            already_succeeded: false,
            evaluations: Vec::new(),
        };
        let run = NewRun {
            dataset_example_id: example.id.to_string(),
            output: result.as_ref().ok().cloned().unwrap_or(Value::Null),
            repetition_number: repetition,
            start_time: iso(&span.start_time),
            end_time: iso(&span.end_time),
            trace_id: Some(span.trace_id.clone()),
            error: result.as_ref().err().map(ToString::to_string),
        };
        let run_id = match self.client.record_run(&self.experiment.id, &run).await {
            Ok(RunRecorded::Stored(id)) => id,
            Ok(RunRecorded::AlreadySucceeded) => {
                outcome.already_succeeded = true;
                return outcome;
            }
            Err(error) => {
                outcome.unrecorded = Some(error);
                return outcome;
            }
        };
        let Ok(output) = result else { return outcome };
        for evaluator in &self.plan.evaluators {
            match self.evaluate(evaluator, example, &output, &run_id).await {
                Ok(result) => outcome.evaluations.push((evaluator.name().to_string(), result)),
                Err(error) => outcome.unrecorded = Some(error),
            }
        }
        outcome
    }

    async fn attempt_task(&self, example: &Example, repetition: u32) -> (Result<Value, TaskFailure>, FinishedSpan) {
        let mut span = RootSpan::start(format!("Task: {}", self.plan.task_name));
        let result = self.plan.task.run(example, repetition).await;
        span.set(semconv::INPUT_VALUE, python_json(&example.input));
        span.set(semconv::INPUT_MIME_TYPE, JSON_MIME);
        match &result {
            Ok(Value::Null) => {}
            Ok(Value::String(text)) => span.set(semconv::OUTPUT_VALUE, text.clone()),
            Ok(output) => {
                span.set(semconv::OUTPUT_VALUE, python_json(output));
                span.set("output.mime_type", JSON_MIME);
            }
            Err(failure) => span.record_error(failure.kind, &failure.message),
        }
        span.set(semconv::SPAN_KIND, "CHAIN");
        (result, span.finish())
    }

    async fn evaluate(
        &self,
        evaluator: &CodeEvaluator,
        example: &Example,
        output: &Value,
        run_id: &str,
    ) -> Result<ember_evals::EvaluationResult, ClientError> {
        let mut span = RootSpan::start(format!("Evaluation: {}", evaluator.name()));
        let result = evaluator.evaluate(output, &example.output);
        let evaluated = json!({"input": example.input, "output": output, "expected": example.output, "example": example});
        span.set(semconv::INPUT_VALUE, python_json(&evaluated));
        span.set(semconv::INPUT_MIME_TYPE, JSON_MIME);
        span.set(semconv::OUTPUT_VALUE, python_json(&serde_json::to_value(&result).unwrap_or_default()));
        span.set("output.mime_type", JSON_MIME);
        span.set(semconv::SPAN_KIND, "EVALUATOR");
        let mut span = span.finish();
        self.export(Some(EVALUATORS_PROJECT), &mut span).await;
        let evaluation = NewEvaluation {
            experiment_run_id: run_id.to_string(),
            name: evaluator.name().to_string(),
            annotator_kind: "CODE",
            start_time: iso(&span.start_time),
            end_time: iso(&span.end_time),
            result: Some(result.clone()),
            error: None,
            trace_id: Some(span.trace_id.clone()),
            metadata: json!({}),
        };
        self.client.record_evaluation(&evaluation).await?;
        Ok(result)
    }

    /// Hands the span to the exporter, keeping its times and trace id for the REST records.
    async fn export(&self, project: Option<&str>, finished: &mut FinishedSpan) {
        if let Some(project) = project {
            self.exporter.send(project, std::mem::take(&mut finished.span)).await;
        }
    }
}

/// The timestamp format Python's `datetime.isoformat()` gives the Phoenix client.
fn iso(time: &chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, false)
}
