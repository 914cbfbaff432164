//! The typed filter AST both languages compile to. Every operand has one SQL type (text,
//! number, boolean, time), so SQL generation never guesses; literals are values, never SQL.

/// One key or array index of an attribute path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    Key(String),
    Index(i64),
}

pub type Path = Vec<Segment>;

/// Which annotations a reference reads: the span's own, or its trace's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AnnotationTarget {
    Span,
    Trace,
}

/// `evals['name']`, `annotations['name']` (span annotations) or `trace_annotations['name']`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AnnotationRef {
    pub target: AnnotationTarget,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextColumn {
    SpanId,
    TraceId,
    ParentId,
    Name,
    SpanKind,
    StatusCode,
    StatusMessage,
    /// Trace and session grains.
    SessionId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberColumn {
    LatencyMs,
    CumulativeTokensPrompt,
    CumulativeTokensCompletion,
    CumulativeTokensTotal,
    /// Trace and session aggregates.
    NumSpans,
    NumTraces,
    ErrorCount,
    LlmSpanCount,
    ToolSpanCount,
    TokensPrompt,
    TokensCompletion,
    TokensTotal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeColumn {
    StartTime,
    EndTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnotationField {
    Label,
    Explanation,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Text {
    Literal(String),
    Column(TextColumn),
    /// The attribute's text form: strings as they are, other scalars as JSON text, JSON null as NULL.
    Attribute(Path),
    Annotation(AnnotationRef, AnnotationField),
    Concat(Box<Text>, Box<Text>),
    /// `str()` of an integer-valued number.
    FromNumber(Box<Number>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    /// True division (`/`), NULL on a zero denominator.
    Div,
    /// Python's floor division (`//`), NULL on a zero denominator.
    FloorDiv,
    /// Python's modulo (sign of the divisor), NULL on a zero denominator.
    Mod,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Number {
    Literal(f64),
    Column(NumberColumn),
    /// The attribute as a number when it is a JSON number, else NULL.
    Attribute(Path),
    AnnotationScore(AnnotationRef),
    Arith(ArithOp, Box<Number>, Box<Number>),
    Negate(Box<Number>),
    /// `int()`: truncation toward zero.
    Truncate(Box<Number>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Boolean {
    Literal(bool),
    /// JSON true/false, the strings "true"/"false" and the numbers 1/0; anything else is NULL.
    Attribute(Path),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Time {
    /// Unix nanoseconds.
    Literal(i64),
    Column(TimeColumn),
}

/// A typed operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(Text),
    Number(Number),
    Boolean(Boolean),
    Time(Time),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    NotEq,
    Lt,
    LtE,
    Gt,
    GtE,
}

/// A literal of an `IN` list, typed like the operand it is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Text(String),
    Number(f64),
    Boolean(bool),
}

/// One piece of a `LIKE` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LikePart {
    /// `%`
    AnyRun,
    /// `_`
    AnyChar,
    Char(char),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    /// Both sides have the same type.
    Compare(Value, CompareOp, Value),
    IsNull(Value),
    /// Case-insensitive substring test: `needle in haystack`.
    Contains {
        haystack: Text,
        needle: Text,
    },
    /// Case-sensitive SQL `LIKE` (Arize AX filters).
    Like(Text, Vec<LikePart>),
    InList(Value, Vec<Literal>),
    /// A bare `evals['name']`: the annotation exists.
    AnnotationExists(AnnotationRef),
    /// `parent_span is not None`: the span's parent is stored.
    ParentSpanExists,
    /// Trace and session grains: some span satisfies the condition.
    AnySpan(Box<Condition>),
    /// Trace and session grains: every span that passes `filter` satisfies `condition`.
    AllSpans {
        filter: Option<Box<Condition>>,
        condition: Box<Condition>,
    },
}

impl Condition {
    /// Every annotation the condition reads, outside `any`/`all` comprehensions.
    pub(crate) fn annotation_refs(&self, out: &mut Vec<AnnotationRef>) {
        match self {
            Condition::And(items) | Condition::Or(items) => items.iter().for_each(|c| c.annotation_refs(out)),
            Condition::Not(inner) => inner.annotation_refs(out),
            Condition::Compare(left, _, right) => {
                left.annotation_refs(out);
                right.annotation_refs(out);
            }
            Condition::IsNull(value) | Condition::InList(value, _) => value.annotation_refs(out),
            Condition::Contains { haystack, needle } => {
                haystack.annotation_refs(out);
                needle.annotation_refs(out);
            }
            Condition::Like(text, _) => text.annotation_refs(out),
            Condition::AnnotationExists(reference) => push_unique(out, reference),
            Condition::ParentSpanExists | Condition::AnySpan(_) | Condition::AllSpans { .. } => {}
        }
    }
}

fn push_unique(out: &mut Vec<AnnotationRef>, reference: &AnnotationRef) {
    if !out.contains(reference) {
        out.push(reference.clone());
    }
}

impl Value {
    fn annotation_refs(&self, out: &mut Vec<AnnotationRef>) {
        match self {
            Value::Text(text) => text.annotation_refs(out),
            Value::Number(number) => number.annotation_refs(out),
            Value::Boolean(_) | Value::Time(_) => {}
        }
    }
}

impl Text {
    fn annotation_refs(&self, out: &mut Vec<AnnotationRef>) {
        match self {
            Text::Annotation(reference, _) => push_unique(out, reference),
            Text::Concat(a, b) => {
                a.annotation_refs(out);
                b.annotation_refs(out);
            }
            Text::FromNumber(number) => number.annotation_refs(out),
            Text::Literal(_) | Text::Column(_) | Text::Attribute(_) => {}
        }
    }
}

impl Number {
    fn annotation_refs(&self, out: &mut Vec<AnnotationRef>) {
        match self {
            Number::AnnotationScore(reference) => push_unique(out, reference),
            Number::Arith(_, a, b) => {
                a.annotation_refs(out);
                b.annotation_refs(out);
            }
            Number::Negate(inner) | Number::Truncate(inner) => inner.annotation_refs(out),
            Number::Literal(_) | Number::Column(_) | Number::Attribute(_) => {}
        }
    }
}
