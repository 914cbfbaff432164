//! Built-in code evaluators, chosen on the command line as `[name:]kind[=argument]`:
//!
//! | kind | argument | passes when |
//! |---|---|---|
//! | `exact_match` | — | the output equals the example's output |
//! | `contains` | text | the output's text contains the text |
//! | `regex` | pattern | the pattern matches somewhere in the output's text |
//! | `json_parse` | — | the output is JSON (a string output must parse as JSON) |
//! | `json_schema` | a schema, inline or `@file` | the output (parsed when it is a string) is valid against the schema |
//! | `numeric` | absolute tolerance (default 0) | the output's number is within the tolerance of the expected number |
//!
//! Where an example's output or a task's output is an object with a single key (the common
//! `{"answer": …}` shape), `exact_match` and `numeric` also compare its one value, so a task
//! that prints `4` matches an example whose output is `{"answer": 4}`; `numeric` also reads
//! that key from a task output that has more keys.

use std::fmt;
use std::str::FromStr;

use regex::Regex;
use serde_json::Value;

use crate::EvaluationResult;

/// The longest value quoted in an explanation.
const QUOTE_LIMIT: usize = 120;

/// A built-in evaluator and the name its evaluations are recorded under.
pub struct CodeEvaluator {
    name: String,
    check: Check,
}

enum Check {
    ExactMatch,
    Contains(String),
    Regex(Regex),
    JsonParse,
    JsonSchema(Box<jsonschema::Validator>),
    Numeric { tolerance: f64 },
}

/// Why an evaluator spec cannot be used; the message names the spec and the problem.
#[derive(Debug, thiserror::Error)]
#[error("evaluator `{spec}`: {problem}")]
pub struct EvaluatorSpecError {
    spec: String,
    problem: String,
}

impl CodeEvaluator {
    /// The evaluation name (the kind unless the spec names it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Scores a task's output against the example's expected output.
    pub fn evaluate(&self, output: &Value, expected: &Value) -> EvaluationResult {
        match &self.check {
            Check::ExactMatch => exact_match(output, expected),
            Check::Contains(needle) => {
                let found = text_of(output).contains(needle.as_str());
                let verdict = if found { "was found" } else { "was not found" };
                EvaluationResult::verdict(found, format!("the text {} {verdict} in the output", quote_text(needle)))
            }
            Check::Regex(pattern) => {
                let matched = pattern.is_match(&text_of(output));
                let verdict = if matched { "matches" } else { "does not match" };
                EvaluationResult::verdict(matched, format!("the output {verdict} the pattern /{}/", pattern.as_str()))
            }
            Check::JsonParse => json_parse(output),
            Check::JsonSchema(validator) => json_schema(validator, output),
            Check::Numeric { tolerance } => numeric(*tolerance, output, expected),
        }
    }
}

impl FromStr for CodeEvaluator {
    type Err = EvaluatorSpecError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let problem = |problem: String| EvaluatorSpecError { spec: spec.to_string(), problem };
        let (head, argument) = match spec.split_once('=') {
            Some((head, argument)) => (head, Some(argument)),
            None => (spec, None),
        };
        let (name, kind) = match head.split_once(':') {
            Some((name, kind)) => (name.trim(), kind.trim()),
            None => (head.trim(), head.trim()),
        };
        if name.is_empty() {
            return Err(problem("the evaluator name is empty".into()));
        }
        let required = |what: &str| {
            argument.filter(|argument| !argument.is_empty()).ok_or_else(|| problem(format!("`{kind}` needs {what} after `=`")))
        };
        let check = match kind {
            "exact_match" => Check::ExactMatch,
            "contains" => Check::Contains(required("the text to look for")?.to_string()),
            "regex" => Check::Regex(Regex::new(required("a pattern")?).map_err(|error| problem(format!("bad pattern: {error}")))?),
            "json_parse" => Check::JsonParse,
            "json_schema" => {
                let schema = load_schema(required("a JSON schema or @file")?).map_err(problem)?;
                let validator = jsonschema::validator_for(&schema).map_err(|error| problem(format!("bad JSON schema: {error}")))?;
                Check::JsonSchema(Box::new(validator))
            }
            "numeric" => {
                let tolerance = match argument {
                    None | Some("") => 0.0,
                    Some(text) => text
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|value| value.is_finite() && *value >= 0.0)
                        .ok_or_else(|| problem(format!("the tolerance `{text}` is not a non-negative number")))?,
                };
                Check::Numeric { tolerance }
            }
            other => {
                return Err(problem(format!(
                    "unknown kind `{other}`; the kinds are exact_match, contains, regex, json_parse, json_schema and numeric"
                )))
            }
        };
        if argument.is_some() && matches!(check, Check::ExactMatch | Check::JsonParse) {
            return Err(problem(format!("`{kind}` takes no argument")));
        }
        Ok(CodeEvaluator { name: name.to_string(), check })
    }
}

impl fmt::Debug for CodeEvaluator {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("CodeEvaluator").field("name", &self.name).finish_non_exhaustive()
    }
}

/// An inline schema, or `@path` to a file holding one.
fn load_schema(argument: &str) -> Result<Value, String> {
    let (text, source) = match argument.strip_prefix('@') {
        Some(path) => (std::fs::read_to_string(path).map_err(|error| format!("cannot read {path}: {error}"))?, path),
        None => (argument.to_string(), "the schema"),
    };
    serde_json::from_str(&text).map_err(|error| format!("{source} is not JSON: {error}"))
}

fn exact_match(output: &Value, expected: &Value) -> EvaluationResult {
    let equal = output == expected || single_value(output) == single_value(expected);
    let explanation = if equal {
        "the output equals the expected output".to_string()
    } else {
        format!("the output {} differs from the expected output {}", quote_json(output), quote_json(expected))
    };
    EvaluationResult::verdict(equal, explanation)
}

fn json_parse(output: &Value) -> EvaluationResult {
    match output {
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(_) => EvaluationResult::verdict(true, "the output parses as JSON".into()),
            Err(error) => EvaluationResult::verdict(false, format!("the output does not parse as JSON: {error}")),
        },
        Value::Null => EvaluationResult::verdict(false, "the task returned no output".into()),
        _ => EvaluationResult::verdict(true, "the output is JSON".into()),
    }
}

fn json_schema(validator: &jsonschema::Validator, output: &Value) -> EvaluationResult {
    let parsed;
    let instance = match output {
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(value) => {
                parsed = value;
                &parsed
            }
            Err(_) => output,
        },
        _ => output,
    };
    let first_error = validator.iter_errors(instance).next().map(|error| {
        let path = error.instance_path().to_string();
        let location = if path.is_empty() { "the output".to_string() } else { format!("the output at {path}") };
        format!("{location} does not match the schema: {error}")
    });
    match first_error {
        None => EvaluationResult::verdict(true, "the output matches the schema".into()),
        Some(explanation) => EvaluationResult::verdict(false, explanation),
    }
}

fn numeric(tolerance: f64, output: &Value, expected: &Value) -> EvaluationResult {
    let same_key =
        expected.as_object().filter(|object| object.len() == 1).and_then(|object| object.keys().next()).and_then(|key| output.get(key));
    let Some(actual) = number_of(output).or_else(|| same_key.and_then(number_of)) else {
        return EvaluationResult::verdict(false, format!("the output {} is not a number", quote_json(output)));
    };
    let Some(wanted) = number_of(expected) else {
        return EvaluationResult::verdict(false, format!("the expected output {} is not a number", quote_json(expected)));
    };
    let difference = (actual - wanted).abs();
    let within = difference <= tolerance;
    let verdict = if within { "within" } else { "outside" };
    EvaluationResult::verdict(within, format!("{actual} is {difference} from {wanted}, {verdict} the tolerance {tolerance}"))
}

/// A number, a string holding one, or a single-key object around either.
fn number_of(value: &Value) -> Option<f64> {
    match single_value(value) {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok().filter(|value| value.is_finite()),
        _ => None,
    }
}

/// The one value of a single-key object; any other value itself.
fn single_value(value: &Value) -> &Value {
    match value {
        Value::Object(object) if object.len() == 1 => object.values().next().unwrap_or(value),
        _ => value,
    }
}

/// A string output as itself; any other output as compact JSON.
fn text_of(value: &Value) -> std::borrow::Cow<'_, str> {
    match value {
        Value::String(text) => text.into(),
        Value::Null => "".into(),
        other => other.to_string().into(),
    }
}

fn quote_json(value: &Value) -> String {
    truncate(value.to_string())
}

fn quote_text(text: &str) -> String {
    truncate(format!("{text:?}"))
}

fn truncate(mut text: String) -> String {
    if let Some((cut, _)) = text.char_indices().nth(QUOTE_LIMIT) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn evaluator(spec: &str) -> CodeEvaluator {
        spec.parse().unwrap_or_else(|error| panic!("{error}"))
    }

    fn passes(spec: &str, output: Value, expected: Value) -> bool {
        let result = evaluator(spec).evaluate(&output, &expected);
        assert_eq!(result.label.as_deref(), Some(if result.passed() { "True" } else { "False" }));
        assert!(result.explanation.is_some());
        result.passed()
    }

    #[test]
    fn exact_match_compares_whole_values_and_single_key_objects() {
        assert!(passes("exact_match", json!({"answer": "4"}), json!({"answer": "4"})));
        assert!(passes("exact_match", json!("4"), json!({"answer": "4"})));
        assert!(passes("exact_match", json!({"result": 4}), json!({"answer": 4})));
        assert!(!passes("exact_match", json!("4"), json!({"answer": 4})));
        assert!(!passes("exact_match", json!({"answer": "4", "why": "sum"}), json!({"answer": "4"})));
        let result = evaluator("exact_match").evaluate(&json!("5"), &json!({"answer": "4"}));
        assert_eq!(
            result,
            EvaluationResult {
                score: Some(0.0),
                label: Some("False".into()),
                explanation: Some(r#"the output "5" differs from the expected output {"answer":"4"}"#.into())
            }
        );
    }

    #[test]
    fn contains_and_regex_read_string_outputs_as_text_and_others_as_json() {
        assert!(passes("contains=Paris", json!("The capital is Paris."), json!(null)));
        assert!(!passes("contains=paris", json!("The capital is Paris."), json!(null)));
        assert!(passes("contains=\"city\":", json!({"city": "Paris"}), json!(null)));
        assert!(passes(r"regex=^\d+$", json!("42"), json!(null)));
        assert!(!passes(r"regex=^\d+$", json!("42 apples"), json!(null)));
        assert!(passes("regex=a=b", json!("x a=b y"), json!(null)), "only the first `=` separates the argument");
    }

    #[test]
    fn json_parse_and_json_schema() {
        assert!(passes("json_parse", json!(r#"{"a": 1}"#), json!(null)));
        assert!(!passes("json_parse", json!("{a: 1}"), json!(null)));
        assert!(passes("json_parse", json!({"a": 1}), json!(null)));
        assert!(!passes("json_parse", json!(null), json!(null)));
        let schema = r#"json_schema={"type":"object","required":["answer"],"properties":{"answer":{"type":"integer"}}}"#;
        assert!(passes(schema, json!({"answer": 4}), json!(null)));
        assert!(passes(schema, json!(r#"{"answer": 4}"#), json!(null)), "a string output is parsed first");
        let failed = evaluator(schema).evaluate(&json!({"answer": "four"}), &json!(null));
        assert!(!failed.passed());
        assert!(failed.explanation.unwrap().starts_with("the output at /answer does not match the schema"));
    }

    #[test]
    fn json_schema_reads_a_schema_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schema.json");
        std::fs::write(&path, r#"{"type": "array", "maxItems": 2}"#).unwrap();
        let spec = format!("short:json_schema=@{}", path.display());
        let evaluator = evaluator(&spec);
        assert_eq!(evaluator.name(), "short");
        assert!(evaluator.evaluate(&json!([1, 2]), &json!(null)).passed());
        assert!(!evaluator.evaluate(&json!([1, 2, 3]), &json!(null)).passed());
    }

    #[test]
    fn numeric_tolerance() {
        assert!(passes("numeric=0.01", json!(2.501), json!({"answer": 2.5})));
        assert!(passes("numeric=0.01", json!(" 2.505 "), json!("2.5")));
        assert!(!passes("numeric=0.001", json!(2.505), json!(2.5)));
        assert!(passes("numeric", json!(7), json!({"answer": "7"})));
        assert!(!passes("numeric", json!("seven"), json!(7)));
        assert!(!passes("numeric", json!(7), json!({"a": 7, "b": 8})));
        assert!(
            passes("numeric=0.5", json!({"answer": 7.2, "why": "sum"}), json!({"answer": 7})),
            "the expected key is read from a wider output"
        );
        assert!(!passes("numeric", json!({"result": 7, "why": "sum"}), json!({"answer": 7})));
    }

    #[test]
    fn bad_specs_name_the_problem() {
        let error = |spec: &str| spec.parse::<CodeEvaluator>().unwrap_err().to_string();
        assert_eq!(
            error("fuzzy"),
            "evaluator `fuzzy`: unknown kind `fuzzy`; the kinds are exact_match, contains, regex, json_parse, json_schema and numeric"
        );
        assert_eq!(error("contains"), "evaluator `contains`: `contains` needs the text to look for after `=`");
        assert!(error("regex=(").starts_with("evaluator `regex=(`: bad pattern"));
        assert!(error("json_schema={").starts_with("evaluator `json_schema={`: the schema is not JSON"));
        assert!(error("json_schema={\"type\": 12}").starts_with("evaluator `json_schema={\"type\": 12}`: bad JSON schema"));
        assert_eq!(error("numeric=-1"), "evaluator `numeric=-1`: the tolerance `-1` is not a non-negative number");
        assert_eq!(error("exact_match=x"), "evaluator `exact_match=x`: `exact_match` takes no argument");
        assert_eq!(error(":contains=x"), "evaluator `:contains=x`: the evaluator name is empty");
        assert!(error("json_schema=@/nonexistent/schema.json").contains("cannot read /nonexistent/schema.json"));
    }
}
