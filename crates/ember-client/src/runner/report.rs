//! The summary `ember experiments run` prints when it is done.

use std::time::Duration;

use comfy_table::{presets, Table};
use ember_evals::CodeEvaluator;

use super::RunOutcome;
use crate::datasets::Dataset;
use crate::experiments::Experiment;
use crate::spans::ExportStats;

/// Failures quoted in the summary; the rest are counted.
const QUOTED_FAILURES: usize = 10;

/// The outcome of an experiment run.
#[derive(Debug)]
pub struct RunReport {
    pub experiment: Experiment,
    pub dataset: Dataset,
    /// Where the experiment can be seen: Phoenix's compare page.
    pub url: String,
    /// Example × repetition pairs run.
    pub runs: usize,
    pub succeeded: usize,
    pub failed: usize,
    /// Runs the server already had as successful (a 409); their evaluations were skipped.
    pub already_succeeded: usize,
    /// Runs or evaluations the server did not take.
    pub unrecorded: usize,
    pub latencies: Vec<Duration>,
    pub evaluators: Vec<EvaluatorSummary>,
    /// `example <id> #<repetition>: <error>` for the first failures.
    pub failures: Vec<String>,
    pub spans: ExportStats,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EvaluatorSummary {
    pub name: String,
    pub evaluated: usize,
    pub passed: usize,
    pub mean_score: Option<f64>,
}

impl RunReport {
    pub(crate) fn new(
        endpoint: &str,
        dataset: Dataset,
        experiment: Experiment,
        evaluators: &[CodeEvaluator],
        outcomes: Vec<RunOutcome>,
        spans: ExportStats,
    ) -> RunReport {
        let mut report = RunReport {
            url: format!("{endpoint}/datasets/{}/compare?experimentId={}", dataset.id, experiment.id),
            experiment,
            dataset,
            runs: outcomes.len(),
            succeeded: 0,
            failed: 0,
            already_succeeded: 0,
            unrecorded: 0,
            latencies: Vec::with_capacity(outcomes.len()),
            evaluators: Vec::new(),
            failures: Vec::new(),
            spans,
        };
        let mut failures = Vec::new();
        for outcome in &outcomes {
            report.latencies.push(outcome.latency);
            let place = format!("example {} #{}", outcome.example_id, outcome.repetition);
            match &outcome.task_error {
                Some(error) => {
                    report.failed += 1;
                    failures.push(format!("{place}: {error}"));
                }
                None => report.succeeded += 1,
            }
            report.already_succeeded += usize::from(outcome.already_succeeded);
            if let Some(error) = &outcome.unrecorded {
                report.unrecorded += 1;
                failures.push(format!("{place}: not recorded: {error}"));
            }
        }
        report.failures = failures.into_iter().take(QUOTED_FAILURES).collect();
        report.latencies.sort();
        report.evaluators = evaluators
            .iter()
            .map(|evaluator| {
                let results: Vec<_> = outcomes
                    .iter()
                    .flat_map(|outcome| &outcome.evaluations)
                    .filter(|(name, _)| name == evaluator.name())
                    .map(|(_, result)| result)
                    .collect();
                let scores: Vec<f64> = results.iter().filter_map(|result| result.score).collect();
                EvaluatorSummary {
                    name: evaluator.name().to_string(),
                    evaluated: results.len(),
                    passed: results.iter().filter(|result| result.passed()).count(),
                    mean_score: (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64),
                }
            })
            .collect();
        report
    }

    /// Everything was recorded (task failures are results, not recording failures).
    pub fn fully_recorded(&self) -> bool {
        self.unrecorded == 0 && self.spans.failed == 0
    }

    fn latency_percentile(&self, percentile: f64) -> Option<Duration> {
        let last = self.latencies.len().checked_sub(1)?;
        Some(self.latencies[((last as f64) * percentile).round() as usize])
    }

    /// The summary table, then the failures.
    pub fn render(&self) -> String {
        let mut out = format!("Experiment {} ({}) on dataset {}\n", self.experiment.name, self.experiment.id, self.dataset.name);
        let mut runs = Table::new();
        runs.load_style(presets::UTF8_FULL_CONDENSED).set_header(vec!["runs", "succeeded", "failed", "latency p50", "latency p99"]);
        let millis = |latency: Option<Duration>| latency.map(|latency| format!("{} ms", latency.as_millis())).unwrap_or_else(|| "-".into());
        runs.add_row(vec![
            self.runs.to_string(),
            self.succeeded.to_string(),
            self.failed.to_string(),
            millis(self.latency_percentile(0.5)),
            millis(self.latency_percentile(0.99)),
        ]);
        out.push_str(&format!("{runs}\n"));
        if !self.evaluators.is_empty() {
            let mut evaluations = Table::new();
            evaluations.load_style(presets::UTF8_FULL_CONDENSED).set_header(vec!["evaluator", "evaluated", "passed", "mean score"]);
            for summary in &self.evaluators {
                let mean = summary.mean_score.map(|score| format!("{score:.3}")).unwrap_or_else(|| "-".into());
                evaluations.add_row(vec![summary.name.clone(), summary.evaluated.to_string(), summary.passed.to_string(), mean]);
            }
            out.push_str(&format!("{evaluations}\n"));
        }
        if self.already_succeeded > 0 {
            out.push_str(&format!("{} runs were already recorded as successful and were not evaluated again\n", self.already_succeeded));
        }
        for failure in &self.failures {
            out.push_str(&format!("failed: {failure}\n"));
        }
        let quoted = self.failures.len();
        let total = self.failed + self.unrecorded;
        if total > quoted {
            out.push_str(&format!("… and {} more failures\n", total - quoted));
        }
        if self.spans.failed > 0 {
            out.push_str(&format!(
                "{} of {} trace spans could not be exported\n",
                self.spans.failed,
                self.spans.failed + self.spans.exported
            ));
        }
        out.push_str(&format!("View it at {}\n", self.url));
        out
    }
}
