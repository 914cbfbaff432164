//! Datasets and experiments: list them, read examples, read an experiment's runs with their
//! evaluations.

use ember_core::{GlobalId, GlobalType};
use ember_service::datasets::DatasetRef;
use ember_service::{Caller, ServiceError, Services};
use ember_store::DatasetRecord;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, RoleServer};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{cursor, limit, rowid, value_chars};
use crate::mcp::output::{cut, cut_leaves};
use crate::mcp::EmberMcp;
use crate::wire;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListDatasets {
    /// Only the dataset of this name.
    pub name: Option<String>,
    /// At most this many datasets, newest first (default 50, at most 1000).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetDatasetExamples {
    /// The dataset's GlobalID or name.
    pub dataset: String,
    /// A version's GlobalID; the latest version by default.
    pub version_id: Option<String>,
    /// Only examples in these splits (names or GlobalIDs).
    #[serde(default)]
    pub splits: Vec<String>,
    /// At most this many examples (default 50, at most 1000).
    pub limit: Option<u32>,
    /// Longer strings are cut to this many characters (default 400).
    pub max_value_chars: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListExperiments {
    /// The dataset's GlobalID or name.
    pub dataset: String,
    /// At most this many experiments, newest first (default 50, at most 1000).
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetExperimentRuns {
    /// The experiment's GlobalID.
    pub experiment: String,
    /// At most this many runs (default 20, at most 1000).
    pub limit: Option<u32>,
    /// Longer strings are cut to this many characters (default 400).
    pub max_value_chars: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateDatasetFromSpans {
    /// The dataset's name; made when no dataset has it, else the examples are appended.
    pub dataset: String,
    /// The project the spans are in (name or GlobalID).
    pub project: String,
    /// OpenTelemetry span ids: each span's input and output values and metadata become an example.
    pub span_ids: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct NewExample {
    /// The example's input (a JSON object).
    pub input: serde_json::Map<String, Value>,
    /// The expected output (a JSON object).
    #[serde(default)]
    pub output: serde_json::Map<String, Value>,
    #[serde(default)]
    pub metadata: serde_json::Map<String, Value>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AddDatasetExamples {
    /// The dataset's GlobalID or name.
    pub dataset: String,
    pub examples: Vec<NewExample>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CompareExperiments {
    /// The experiment compared against (GlobalID).
    pub base_experiment: String,
    /// The experiment compared with it (GlobalID), on the same dataset.
    pub compare_experiment: String,
    /// At most this many examples listed, those whose scores changed first (default 20, at most 500).
    pub limit: Option<u32>,
    /// Longer strings are cut to this many characters (default 400).
    pub max_value_chars: Option<u32>,
}

/// What a dataset write made: the dataset, its new version, and the examples it added.
#[derive(Debug, Serialize)]
pub struct DatasetWrite {
    pub dataset_id: String,
    pub version_id: String,
    pub examples_added: usize,
}

/// A dataset's examples at a version.
#[derive(Debug, Serialize)]
pub struct Examples {
    pub dataset_id: String,
    pub version_id: Option<String>,
    pub example_count: usize,
    pub examples: Vec<ExampleOut>,
}

#[derive(Debug, Serialize)]
pub struct ExampleOut {
    pub id: String,
    pub input: Value,
    pub output: Value,
    pub metadata: Value,
}

/// An experiment with its mean latency and evaluation scores.
#[derive(Debug, Serialize)]
pub struct ExperimentOut {
    #[serde(flatten)]
    pub experiment: ember_wire::Experiment,
    pub mean_latency_ms: Option<f64>,
    pub evaluations: Vec<EvaluationOut>,
}

#[derive(Debug, Serialize)]
pub struct EvaluationOut {
    pub name: String,
    pub mean_score: Option<f64>,
    pub count: i64,
    pub errors: i64,
}

/// An experiment's runs with their examples and evaluations.
#[derive(Debug, Serialize)]
pub struct Runs {
    pub experiment_id: String,
    pub run_count: usize,
    pub runs: Vec<RunOut>,
}

#[derive(Debug, Serialize)]
pub struct RunOut {
    pub example_id: String,
    pub repetition_number: i64,
    pub input: Value,
    pub reference_output: Value,
    pub output: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    pub evaluations: Vec<RunEvaluation>,
}

#[derive(Debug, Serialize)]
pub struct RunEvaluation {
    pub name: String,
    pub label: Option<String>,
    pub score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

async fn dataset(services: &Services, caller: &Caller, name_or_id: &str) -> Result<DatasetRecord, ServiceError> {
    services.datasets().resolve(caller, DatasetRef::Identifier(name_or_id)).await
}

fn dataset_write(outcome: &ember_store::UploadOutcome) -> DatasetWrite {
    DatasetWrite {
        dataset_id: GlobalId::encode(GlobalType::Dataset, outcome.dataset_id),
        version_id: GlobalId::encode(GlobalType::DatasetVersion, outcome.version_id),
        examples_added: outcome.created,
    }
}

#[tool_router(router = dataset_tools, vis = "pub(in crate::mcp)")]
impl EmberMcp {
    /// The datasets (collections of examples that experiments run over), newest first.
    #[tool(annotations(read_only_hint = true))]
    async fn list_datasets(&self, Parameters(args): Parameters<ListDatasets>, context: RequestContext<RoleServer>) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let (limit, cursor) = (limit(args.limit, 50, 1000)?, cursor(args.cursor.as_deref(), GlobalType::Dataset)?);
            let page = services.datasets().list(caller, args.name.as_deref(), cursor, limit).await?;
            Ok(wire::page(page.items.iter().map(wire::dataset).collect(), page.next_cursor, GlobalType::Dataset))
        })
        .await
    }

    /// A dataset's examples (input, expected output, metadata) at its latest or a given version.
    #[tool(annotations(read_only_hint = true))]
    async fn get_dataset_examples(
        &self,
        Parameters(args): Parameters<GetDatasetExamples>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let dataset = dataset(services, caller, &args.dataset).await?;
            let version_id = args.version_id.as_deref().map(|raw| rowid(raw, GlobalType::DatasetVersion)).transpose()?;
            let (limit, chars) = (limit(args.limit, 50, 1000)?, value_chars(args.max_value_chars));
            let datasets = services.datasets();
            let dataset_id = GlobalId::encode(GlobalType::Dataset, dataset.id);
            let Some(version) = datasets.version(caller, &dataset, version_id).await? else {
                return match version_id {
                    Some(_) => Err(ServiceError::not_found(format!(
                        "Dataset {} has no version {}",
                        dataset.name,
                        args.version_id.unwrap_or_default()
                    ))),
                    None => Ok(Examples { dataset_id, version_id: None, example_count: 0, examples: Vec::new() }),
                };
            };
            let split_ids: Vec<i64> = args.splits.iter().filter_map(|split| GlobalId::decode_as(split, GlobalType::DatasetSplit)).collect();
            let split_names: Vec<String> =
                args.splits.iter().filter(|split| GlobalId::decode_as(split, GlobalType::DatasetSplit).is_none()).cloned().collect();
            let examples = datasets.examples(caller, &dataset, &version, &split_ids, &split_names).await?;
            Ok(Examples {
                dataset_id,
                version_id: Some(GlobalId::encode(GlobalType::DatasetVersion, version.id)),
                example_count: examples.len(),
                examples: examples
                    .iter()
                    .take(limit)
                    .map(|example| ExampleOut {
                        id: GlobalId::encode(GlobalType::DatasetExample, example.id),
                        input: cut_leaves(&example.input, chars),
                        output: cut_leaves(&example.output, chars),
                        metadata: cut_leaves(&example.metadata, chars),
                    })
                    .collect(),
            })
        })
        .await
    }

    /// Makes dataset examples from spans (each span's input and output values and metadata),
    /// in a new dataset or appended to the one of that name.
    #[tool(annotations(read_only_hint = false, destructive_hint = false))]
    async fn create_dataset_from_spans(
        &self,
        Parameters(args): Parameters<CreateDatasetFromSpans>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let project = ember_service::ProjectRef::Identifier(&args.project);
            let outcome = services.datasets().append_spans(caller, project, &args.dataset, args.span_ids.clone()).await?;
            Ok(dataset_write(&outcome))
        })
        .await
    }

    /// Adds examples to a dataset (a new version of it).
    #[tool(annotations(read_only_hint = false, destructive_hint = false))]
    async fn add_dataset_examples(
        &self,
        Parameters(args): Parameters<AddDatasetExamples>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let dataset = dataset(services, caller, &args.dataset).await?;
            let examples = args
                .examples
                .iter()
                .map(|example| ember_store::ExampleInput {
                    input: Value::Object(example.input.clone()),
                    output: Value::Object(example.output.clone()),
                    metadata: Value::Object(example.metadata.clone()),
                    splits: None,
                    span_id: None,
                    external_id: None,
                })
                .collect();
            Ok(dataset_write(&services.datasets().add_examples(caller, &dataset, examples).await?))
        })
        .await
    }

    /// Compares two experiments on the same dataset example by example: each evaluation's mean
    /// score in both and how many examples it improved or regressed, then the examples whose
    /// scores changed first, with both outputs.
    #[tool(annotations(read_only_hint = true))]
    async fn compare_experiments(
        &self,
        Parameters(args): Parameters<CompareExperiments>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let (base_id, compare_id) =
                (rowid(&args.base_experiment, GlobalType::Experiment)?, rowid(&args.compare_experiment, GlobalType::Experiment)?);
            let experiments = services.experiments();
            let (base, compare) = (experiments.get(caller, base_id).await?, experiments.get(caller, compare_id).await?);
            if base.dataset_id != compare.dataset_id {
                return Err(ServiceError::invalid("The two experiments are on different datasets"));
            }
            let (limit, chars) = (limit(args.limit, 20, 500)?, value_chars(args.max_value_chars));
            let (_, base_runs) = experiments.export_runs(caller, base_id).await?;
            let (_, compare_runs) = experiments.export_runs(caller, compare_id).await?;
            Ok(super::comparison::compare(&args.base_experiment, &args.compare_experiment, &base_runs, &compare_runs, limit, chars))
        })
        .await
    }

    /// A dataset's experiments, newest first, each with its run counts, mean latency and mean
    /// evaluation scores.
    #[tool(annotations(read_only_hint = true))]
    async fn list_experiments(&self, Parameters(args): Parameters<ListExperiments>, context: RequestContext<RoleServer>) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let dataset = dataset(services, caller, &args.dataset).await?;
            let page = services.experiments().list(caller, &dataset, None, limit(args.limit, 50, 1000)?).await?;
            let ids: Vec<i64> = page.items.iter().map(|experiment| experiment.id).collect();
            let mut summaries = services.experiments().summaries(caller, &ids).await?;
            Ok(page
                .items
                .into_iter()
                .map(|experiment| {
                    let summary = summaries.remove(&experiment.id).unwrap_or_default();
                    ExperimentOut {
                        experiment: wire::experiment(experiment),
                        mean_latency_ms: summary.mean_latency_ms,
                        evaluations: summary
                            .evaluations
                            .into_iter()
                            .map(|e| EvaluationOut { name: e.name, mean_score: e.mean_score, count: e.count, errors: e.errors })
                            .collect(),
                    }
                })
                .collect::<Vec<_>>())
        })
        .await
    }

    /// An experiment's runs: each example's input and expected output beside the run's output,
    /// error, latency and evaluations.
    #[tool(annotations(read_only_hint = true))]
    async fn get_experiment_runs(
        &self,
        Parameters(args): Parameters<GetExperimentRuns>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let id = rowid(&args.experiment, GlobalType::Experiment)?;
            let (limit, chars) = (limit(args.limit, 20, 1000)?, value_chars(args.max_value_chars));
            let (_, runs) = services.experiments().export_runs(caller, id).await?;
            Ok(Runs {
                experiment_id: args.experiment.clone(),
                run_count: runs.len(),
                runs: runs
                    .iter()
                    .take(limit)
                    .map(|exported| {
                        let run = &exported.run;
                        RunOut {
                            example_id: GlobalId::encode(GlobalType::DatasetExample, run.dataset_example_id),
                            repetition_number: run.repetition_number,
                            input: cut_leaves(&exported.input, chars),
                            reference_output: cut_leaves(&exported.reference_output, chars),
                            output: cut_leaves(&run.output, chars),
                            error: run.error.as_deref().map(|error| cut(error, chars)),
                            latency_ms: (run.end_time - run.start_time) as f64 / 1e6,
                            trace_id: run.trace_id.clone(),
                            evaluations: exported
                                .evaluations
                                .iter()
                                .map(|evaluation| RunEvaluation {
                                    name: evaluation.name.clone(),
                                    label: evaluation.label.clone(),
                                    score: evaluation.score,
                                    explanation: evaluation.explanation.as_deref().map(|text| cut(text, chars)),
                                    error: evaluation.error.clone(),
                                })
                                .collect(),
                        }
                    })
                    .collect(),
            })
        })
        .await
    }
}
