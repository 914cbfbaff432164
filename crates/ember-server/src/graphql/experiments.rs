//! Experiments through GraphQL, with Phoenix's shapes: the `Experiment` node with its runs (each
//! with its output, error, trace and evaluations — Phoenix's run "annotations"), the splits it
//! runs over, and whether it is the dataset's baseline (a tag named `baseline`).

use async_graphql::connection::Connection;
use async_graphql::{Context, Json, Object, Result, ID};
use ember_core::time::format_nanos;
use ember_core::{ErrorCode, GlobalId, GlobalType};
use ember_store::{ExperimentEvaluationRecord, ExperimentRecord, ExportedRun};
use serde_json::Value;

use super::connection::{edges_wanted, positional};
use super::datasets::DatasetSplit;
use super::traces::Trace;
use super::{context, graphql_error};

/// The tag that marks a dataset's baseline experiment.
const BASELINE_TAG: &str = "baseline";

pub struct Experiment(pub ExperimentRecord);

#[Object]
impl Experiment {
    pub async fn id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::Experiment, self.0.id))
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    async fn repetitions(&self) -> i64 {
        self.0.repetitions
    }

    async fn metadata(&self) -> Json<Value> {
        Json(self.0.metadata.clone())
    }

    async fn project_name(&self) -> Option<&str> {
        self.0.project_name.as_deref()
    }

    async fn created_at(&self) -> String {
        format_nanos(self.0.created_at)
    }

    async fn updated_at(&self) -> String {
        format_nanos(self.0.updated_at)
    }

    async fn is_baseline(&self, ctx: &Context<'_>) -> Result<bool> {
        let (services, caller) = context(ctx)?;
        let tags = services.experiments().tags(caller, self.0.id).await.map_err(graphql_error)?;
        Ok(tags.iter().any(|tag| tag.name == BASELINE_TAG))
    }

    /// The runs by example and repetition.
    async fn runs(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> Result<Connection<String, ExperimentRun>> {
        let (services, caller) = context(ctx)?;
        let (_, runs) = services.experiments().export_runs(caller, self.0.id).await.map_err(graphql_error)?;
        positional(runs.into_iter().map(ExperimentRun).collect(), edges_wanted(first)?, after.as_deref())
    }

    async fn dataset_splits(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, DatasetSplit>> {
        let (services, caller) = context(ctx)?;
        let splits = services.experiments().splits(caller, self.0.id).await.map_err(graphql_error)?;
        positional(splits.into_iter().map(DatasetSplit).collect(), edges_wanted(first)?, after.as_deref())
    }
}

pub struct ExperimentRun(ExportedRun);

#[Object]
impl ExperimentRun {
    pub async fn id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::ExperimentRun, self.0.run.id))
    }

    async fn experiment_id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::Experiment, self.0.run.experiment_id))
    }

    async fn repetition_number(&self) -> i64 {
        self.0.run.repetition_number
    }

    async fn output(&self) -> Json<Value> {
        Json(self.0.run.output.clone())
    }

    async fn error(&self) -> Option<&str> {
        self.0.run.error.as_deref()
    }

    async fn start_time(&self) -> String {
        format_nanos(self.0.run.start_time)
    }

    async fn end_time(&self) -> String {
        format_nanos(self.0.run.end_time)
    }

    async fn trace_id(&self) -> Option<&str> {
        self.0.run.trace_id.as_deref()
    }

    /// The task's trace, while it is stored.
    async fn trace(&self, ctx: &Context<'_>) -> Result<Option<Trace>> {
        trace_of(ctx, self.0.run.trace_id.as_deref()).await
    }

    /// The run's evaluations.
    async fn annotations(&self, first: Option<i32>, after: Option<String>) -> Result<Connection<String, ExperimentRunAnnotation>> {
        let evaluations = self.0.evaluations.iter().cloned().map(ExperimentRunAnnotation).collect();
        positional(evaluations, edges_wanted(first)?, after.as_deref())
    }
}

async fn trace_of(ctx: &Context<'_>, trace_id: Option<&str>) -> Result<Option<Trace>> {
    let Some(trace_id) = trace_id else { return Ok(None) };
    let (services, caller) = context(ctx)?;
    match services.traces().resolve(caller, trace_id).await {
        Ok(trace) => Ok(Some(Trace::from(trace))),
        Err(error) if error.code() == ErrorCode::NotFound => Ok(None),
        Err(error) => Err(graphql_error(error)),
    }
}

pub struct ExperimentRunAnnotation(ExperimentEvaluationRecord);

#[Object]
impl ExperimentRunAnnotation {
    pub async fn id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::ExperimentEvaluation, self.0.id))
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn annotator_kind(&self) -> &str {
        self.0.annotator_kind.as_str()
    }

    async fn label(&self) -> Option<&str> {
        self.0.label.as_deref()
    }

    async fn score(&self) -> Option<f64> {
        self.0.score
    }

    async fn explanation(&self) -> Option<&str> {
        self.0.explanation.as_deref()
    }

    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    async fn metadata(&self) -> Json<Value> {
        Json(self.0.metadata.clone())
    }

    async fn start_time(&self) -> String {
        format_nanos(self.0.start_time)
    }

    async fn end_time(&self) -> String {
        format_nanos(self.0.end_time)
    }

    async fn trace_id(&self) -> Option<&str> {
        self.0.trace_id.as_deref()
    }

    /// The evaluator's trace, while it is stored.
    async fn trace(&self, ctx: &Context<'_>) -> Result<Option<Trace>> {
        trace_of(ctx, self.0.trace_id.as_deref()).await
    }
}
