//! Two experiments on one dataset side by side, example by example (the first repetition of
//! each example's runs): how each evaluation's scores moved, then the examples that changed.

use std::collections::{BTreeMap, BTreeSet};

use ember_core::{GlobalId, GlobalType};
use ember_store::ExportedRun;
use serde::Serialize;
use serde_json::Value;

use crate::mcp::output::{cut, cut_leaves};

/// Two experiments side by side: each evaluation's mean score and how many examples it moved,
/// then the examples.
#[derive(Debug, Serialize)]
pub struct Comparison {
    pub base_experiment: String,
    pub compare_experiment: String,
    pub evaluations: Vec<EvaluationShift>,
    pub examples_compared: usize,
    pub examples: Vec<ExampleComparison>,
}

#[derive(Debug, Serialize)]
pub struct EvaluationShift {
    pub name: String,
    pub base_mean_score: Option<f64>,
    pub compare_mean_score: Option<f64>,
    /// Examples whose score went up, down, or stayed.
    pub improved: usize,
    pub regressed: usize,
    pub unchanged: usize,
}

#[derive(Debug, Serialize)]
pub struct ExampleComparison {
    pub example_id: String,
    pub input: Value,
    pub reference_output: Value,
    pub base: RunSide,
    pub compare: RunSide,
}

#[derive(Debug, Serialize)]
pub struct RunSide {
    pub output: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Evaluation name → score (or label when it has no score).
    pub evaluations: serde_json::Map<String, Value>,
}

/// The comparison of `base` and `compare` (their exported runs), listing `limit` examples.
pub fn compare(base_id: &str, compare_id: &str, base: &[ExportedRun], compare: &[ExportedRun], limit: usize, chars: usize) -> Comparison {
    let (base_runs, compare_runs) = (first_runs(base), first_runs(compare));
    let names: BTreeSet<&str> = base.iter().chain(compare).flat_map(|run| run.evaluations.iter().map(|e| e.name.as_str())).collect();
    let shared: Vec<i64> = base_runs.keys().filter(|example| compare_runs.contains_key(example)).copied().collect();
    let evaluations = names
        .iter()
        .map(|name| {
            let (mut improved, mut regressed, mut unchanged) = (0, 0, 0);
            for example in &shared {
                match (score(base_runs[example], name), score(compare_runs[example], name)) {
                    (Some(before), Some(after)) if after > before => improved += 1,
                    (Some(before), Some(after)) if after < before => regressed += 1,
                    (Some(_), Some(_)) => unchanged += 1,
                    _ => {}
                }
            }
            EvaluationShift {
                name: (*name).to_string(),
                base_mean_score: mean_score(base, name),
                compare_mean_score: mean_score(compare, name),
                improved,
                regressed,
                unchanged,
            }
        })
        .collect();
    let changed = |example: &i64| {
        let (before, after) = (base_runs[example], compare_runs[example]);
        before.run.error.is_some() != after.run.error.is_some() || names.iter().any(|name| score(before, name) != score(after, name))
    };
    let mut listed: Vec<i64> = shared.clone();
    listed.sort_by_key(|example| (!changed(example), *example));
    Comparison {
        base_experiment: base_id.to_string(),
        compare_experiment: compare_id.to_string(),
        evaluations,
        examples_compared: shared.len(),
        examples: listed
            .iter()
            .take(limit)
            .map(|example| {
                let (before, after) = (base_runs[example], compare_runs[example]);
                ExampleComparison {
                    example_id: GlobalId::encode(GlobalType::DatasetExample, *example),
                    input: cut_leaves(&before.input, chars),
                    reference_output: cut_leaves(&before.reference_output, chars),
                    base: side(before, chars),
                    compare: side(after, chars),
                }
            })
            .collect(),
    }
}

/// Each example's run with the lowest repetition number.
fn first_runs(runs: &[ExportedRun]) -> BTreeMap<i64, &ExportedRun> {
    let mut first: BTreeMap<i64, &ExportedRun> = BTreeMap::new();
    for run in runs {
        let kept = first.entry(run.run.dataset_example_id).or_insert(run);
        if run.run.repetition_number < kept.run.repetition_number {
            *kept = run;
        }
    }
    first
}

fn score(run: &ExportedRun, name: &str) -> Option<f64> {
    run.evaluations.iter().find(|evaluation| evaluation.name == name).and_then(|evaluation| evaluation.score)
}

/// The mean of the scores of every run (all repetitions) under `name`.
fn mean_score(runs: &[ExportedRun], name: &str) -> Option<f64> {
    let scores: Vec<f64> = runs.iter().filter_map(|run| score(run, name)).collect();
    (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64)
}

fn side(run: &ExportedRun, chars: usize) -> RunSide {
    RunSide {
        output: cut_leaves(&run.run.output, chars),
        error: run.run.error.as_deref().map(|error| cut(error, chars)),
        evaluations: run
            .evaluations
            .iter()
            .map(|evaluation| {
                let shown = match (evaluation.score, &evaluation.label) {
                    (Some(score), _) => serde_json::Number::from_f64(score).map_or(Value::Null, Value::Number),
                    (None, Some(label)) => Value::String(label.clone()),
                    (None, None) => Value::Null,
                };
                (evaluation.name.clone(), shown)
            })
            .collect(),
    }
}
