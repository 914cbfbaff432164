//! The reference evaluator: the meaning of a span filter, evaluated in memory over one span with
//! SQL's three-valued logic. Property tests compare it with what the SQL path selects.
//!
//! Annotation references follow Phoenix: the condition holds when some combination of the rows
//! of the annotations it names (a NULL row for an annotation a span does not have) makes it TRUE.

use std::collections::HashMap;

use serde_json::Value as Json;

use crate::ast::*;
use crate::{Filter, Grain};

#[derive(Debug, Clone, PartialEq)]
pub struct RefAnnotation {
    pub name: String,
    pub label: Option<String>,
    pub score: Option<f64>,
    pub explanation: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RefSpan {
    pub span_id: String,
    pub trace_id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub span_kind: String,
    pub status_code: String,
    pub status_message: String,
    pub start_time: i64,
    pub end_time: i64,
    pub attributes: Json,
    pub cumulative_llm_token_count_prompt: i64,
    pub cumulative_llm_token_count_completion: i64,
    /// Whether a span with id `parent_id` is stored.
    pub parent_stored: bool,
    pub annotations: Vec<RefAnnotation>,
    pub trace_annotations: Vec<RefAnnotation>,
}

/// Whether a span filter selects the span.
pub fn span_matches(filter: &Filter, span: &RefSpan) -> bool {
    assert_eq!(filter.grain(), Grain::Span, "the reference evaluator covers span filters");
    condition_holds(filter.condition(), span)
}

fn condition_holds(condition: &Condition, span: &RefSpan) -> bool {
    let mut refs = Vec::new();
    condition.annotation_refs(&mut refs);
    let domains: Vec<Vec<Option<&RefAnnotation>>> = refs
        .iter()
        .map(|reference| {
            let rows = match reference.target {
                AnnotationTarget::Span => &span.annotations,
                AnnotationTarget::Trace => &span.trace_annotations,
            };
            let matching: Vec<Option<&RefAnnotation>> = rows.iter().filter(|a| a.name == reference.name).map(Some).collect();
            if matching.is_empty() {
                vec![None]
            } else {
                matching
            }
        })
        .collect();
    let mut choice = vec![0usize; refs.len()];
    loop {
        let rows: HashMap<&AnnotationRef, Option<&RefAnnotation>> =
            refs.iter().zip(&choice).zip(&domains).map(|((reference, &i), domain)| (reference, domain[i])).collect();
        if (Env { span, rows }).condition(condition) == Some(true) {
            return true;
        }
        // Next combination, odometer style.
        let mut position = 0;
        loop {
            if position == choice.len() {
                return false;
            }
            choice[position] += 1;
            if choice[position] < domains[position].len() {
                break;
            }
            choice[position] = 0;
            position += 1;
        }
    }
}

struct Env<'a> {
    span: &'a RefSpan,
    rows: HashMap<&'a AnnotationRef, Option<&'a RefAnnotation>>,
}

fn json_at<'a>(root: &'a Json, path: &Path) -> Option<&'a Json> {
    let mut current = root;
    for segment in path {
        current = match (segment, current) {
            (Segment::Key(key), Json::Object(map)) => map.get(key)?,
            (Segment::Index(index), Json::Array(items)) => items.get(usize::try_from(*index).ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

impl Env<'_> {
    fn row(&self, reference: &AnnotationRef) -> Option<&RefAnnotation> {
        self.rows.get(reference).copied().flatten()
    }

    fn condition(&self, condition: &Condition) -> Option<bool> {
        match condition {
            Condition::And(items) => {
                let mut result = Some(true);
                for item in items {
                    match self.condition(item) {
                        Some(false) => return Some(false),
                        None => result = None,
                        Some(true) => {}
                    }
                }
                result
            }
            Condition::Or(items) => {
                let mut result = Some(false);
                for item in items {
                    match self.condition(item) {
                        Some(true) => return Some(true),
                        None => result = None,
                        Some(false) => {}
                    }
                }
                result
            }
            Condition::Not(inner) => self.condition(inner).map(|b| !b),
            Condition::Compare(left, op, right) => self.compare(left, *op, right),
            Condition::IsNull(value) => Some(self.is_null(value)),
            Condition::Contains { haystack, needle } => {
                let (haystack, needle) = (self.text(haystack)?, self.text(needle)?);
                Some(haystack.to_lowercase().contains(&needle.to_lowercase()))
            }
            Condition::Like(text, parts) => {
                let text: Vec<char> = self.text(text)?.chars().collect();
                Some(like_matches(&text, parts))
            }
            Condition::InList(_, literals) if literals.is_empty() => Some(false),
            Condition::InList(value, literals) => match value {
                Value::Text(text) => {
                    let text = self.text(text)?;
                    Some(literals.iter().any(|l| matches!(l, Literal::Text(t) if *t == text)))
                }
                Value::Number(number) => {
                    let number = self.number(number)?;
                    Some(literals.iter().any(|l| matches!(l, Literal::Number(n) if *n == number)))
                }
                Value::Boolean(flag) => {
                    let flag = self.boolean(flag)?;
                    Some(literals.iter().any(|l| matches!(l, Literal::Boolean(b) if *b == flag)))
                }
                Value::Time(_) => None,
            },
            Condition::AnnotationExists(reference) => Some(self.row(reference).is_some()),
            Condition::ParentSpanExists => Some(self.span.parent_stored),
            Condition::AnySpan(_) | Condition::AllSpans { .. } => None,
        }
    }

    fn is_null(&self, value: &Value) -> bool {
        match value {
            Value::Text(text) => self.text(text).is_none(),
            Value::Number(number) => self.number(number).is_none(),
            Value::Boolean(flag) => self.boolean(flag).is_none(),
            Value::Time(time) => self.time(time).is_none(),
        }
    }

    fn compare(&self, left: &Value, op: CompareOp, right: &Value) -> Option<bool> {
        use std::cmp::Ordering;
        let ordering: Ordering = match (left, right) {
            (Value::Text(a), Value::Text(b)) => self.text(a)?.cmp(&self.text(b)?),
            (Value::Number(a), Value::Number(b)) => self.number(a)?.partial_cmp(&self.number(b)?)?,
            (Value::Boolean(a), Value::Boolean(b)) => self.boolean(a)?.cmp(&self.boolean(b)?),
            (Value::Time(a), Value::Time(b)) => self.time(a)?.cmp(&self.time(b)?),
            _ => return None,
        };
        Some(match op {
            CompareOp::Eq => ordering == Ordering::Equal,
            CompareOp::NotEq => ordering != Ordering::Equal,
            CompareOp::Lt => ordering == Ordering::Less,
            CompareOp::LtE => ordering != Ordering::Greater,
            CompareOp::Gt => ordering == Ordering::Greater,
            CompareOp::GtE => ordering != Ordering::Less,
        })
    }

    fn text(&self, text: &Text) -> Option<String> {
        let span = self.span;
        match text {
            Text::Literal(value) => Some(value.clone()),
            Text::Column(column) => match column {
                TextColumn::SpanId => Some(span.span_id.clone()),
                TextColumn::TraceId => Some(span.trace_id.clone()),
                TextColumn::ParentId => span.parent_id.clone(),
                TextColumn::Name => Some(span.name.clone()),
                TextColumn::SpanKind => Some(span.span_kind.clone()),
                TextColumn::StatusCode => Some(span.status_code.clone()),
                TextColumn::StatusMessage => Some(span.status_message.clone()),
                TextColumn::SessionId => None,
            },
            Text::Attribute(path) => match json_at(&span.attributes, path)? {
                Json::Null => None,
                Json::String(value) => Some(value.clone()),
                Json::Bool(flag) => Some(flag.to_string()),
                Json::Number(number) => Some(number.to_string()),
                other => Some(other.to_string()),
            },
            Text::Annotation(reference, field) => {
                let row = self.row(reference)?;
                match field {
                    AnnotationField::Label => row.label.clone(),
                    AnnotationField::Explanation => row.explanation.clone(),
                }
            }
            Text::Concat(a, b) => Some(self.text(a)? + &self.text(b)?),
            Text::FromNumber(number) => Some(format!("{}", self.number(number)? as i64)),
        }
    }

    fn number(&self, number: &Number) -> Option<f64> {
        let span = self.span;
        match number {
            Number::Literal(value) => Some(*value),
            Number::Column(column) => match column {
                NumberColumn::LatencyMs => Some((span.end_time - span.start_time) as f64 / 1_000_000.0),
                NumberColumn::CumulativeTokensPrompt => Some(span.cumulative_llm_token_count_prompt as f64),
                NumberColumn::CumulativeTokensCompletion => Some(span.cumulative_llm_token_count_completion as f64),
                NumberColumn::CumulativeTokensTotal => {
                    Some((span.cumulative_llm_token_count_prompt + span.cumulative_llm_token_count_completion) as f64)
                }
                _ => None,
            },
            Number::Attribute(path) => json_at(&span.attributes, path)?.as_f64(),
            Number::AnnotationScore(reference) => self.row(reference)?.score,
            Number::Arith(op, a, b) => {
                let (a, b) = (self.number(a)?, self.number(b)?);
                match op {
                    ArithOp::Add => Some(a + b),
                    ArithOp::Sub => Some(a - b),
                    ArithOp::Mul => Some(a * b),
                    _ if b == 0.0 => None,
                    ArithOp::Div => Some(a / b),
                    ArithOp::FloorDiv => Some((a / b).floor()),
                    ArithOp::Mod => Some(a - b * (a / b).floor()),
                }
            }
            Number::Negate(inner) => Some(-self.number(inner)?),
            Number::Truncate(inner) => Some(self.number(inner)?.trunc() + 0.0),
        }
    }

    fn boolean(&self, flag: &Boolean) -> Option<bool> {
        match flag {
            Boolean::Literal(value) => Some(*value),
            Boolean::Attribute(path) => match json_at(&self.span.attributes, path)? {
                Json::Bool(value) => Some(*value),
                Json::String(text) if text == "true" => Some(true),
                Json::String(text) if text == "false" => Some(false),
                Json::Number(number) => match number.as_i64() {
                    Some(1) => Some(true),
                    Some(0) => Some(false),
                    _ => None,
                },
                _ => None,
            },
        }
    }

    fn time(&self, time: &Time) -> Option<i64> {
        match time {
            Time::Literal(nanos) => Some(*nanos),
            Time::Column(TimeColumn::StartTime) => Some(self.span.start_time),
            Time::Column(TimeColumn::EndTime) => Some(self.span.end_time),
        }
    }
}

fn like_matches(text: &[char], parts: &[LikePart]) -> bool {
    // matched[i][j]: the first i characters match the first j parts.
    let mut matched = vec![vec![false; parts.len() + 1]; text.len() + 1];
    matched[0][0] = true;
    for j in 1..=parts.len() {
        matched[0][j] = matched[0][j - 1] && parts[j - 1] == LikePart::AnyRun;
    }
    for i in 1..=text.len() {
        for j in 1..=parts.len() {
            matched[i][j] = match &parts[j - 1] {
                LikePart::AnyRun => matched[i][j - 1] || matched[i - 1][j],
                LikePart::AnyChar => matched[i - 1][j - 1],
                LikePart::Char(c) => matched[i - 1][j - 1] && text[i - 1] == *c,
            };
        }
    }
    matched[text.len()][parts.len()]
}
