use serde::Serialize;

/// One evaluation of one run, as `POST /v1/experiment_evaluations` takes it in `result`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvaluationResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

impl EvaluationResult {
    /// A pass/fail verdict, recorded as the Python client records a boolean evaluator's
    /// return value: score 1.0 or 0.0 and label `True` or `False`.
    pub fn verdict(passed: bool, explanation: String) -> EvaluationResult {
        EvaluationResult {
            score: Some(if passed { 1.0 } else { 0.0 }),
            label: Some(if passed { "True" } else { "False" }.to_string()),
            explanation: Some(explanation),
        }
    }

    pub fn passed(&self) -> bool {
        self.score == Some(1.0)
    }
}
