//! Syntax tree → typed AST: name resolution per grain and the type rules of Phoenix's filter
//! language (attributes take the type of what they are compared with; literals never meet
//! literals; booleans are not ordered; datetimes carry a timezone).

use chrono::DateTime;

use crate::ast::*;
use crate::error::{QueryError, Result};
use crate::syntax::{BinaryOp, CompareOp as SyntaxOp, Node, NodeKind};
use crate::Grain;

/// What an expression node denotes before it meets the other side of a comparison.
#[derive(Debug, Clone)]
enum Operand {
    Typed(Value),
    /// An attribute, typed by its use.
    Json(Path),
    Str(String),
    Num(f64),
    Bool(bool),
    None,
    List(Vec<Node>),
    /// A bare `evals['x']`: only a condition (existence).
    Annotation(AnnotationRef),
    /// `parent_span`: only compared with None.
    ParentSpan,
}

pub(crate) struct Lowerer {
    grain: Grain,
    /// Inside `any(... for s in spans)`: the loop variable every span name starts with.
    span_var: Option<String>,
}

impl Lowerer {
    pub(crate) fn new(grain: Grain) -> Self {
        Lowerer { grain, span_var: None }
    }

    fn span_grain(&self) -> bool {
        self.grain == Grain::Span || self.span_var.is_some()
    }

    pub(crate) fn condition(&mut self, node: &Node) -> Result<Condition> {
        match &node.kind {
            NodeKind::And(items) => Ok(Condition::And(items.iter().map(|i| self.condition(i)).collect::<Result<_>>()?)),
            NodeKind::Or(items) => Ok(Condition::Or(items.iter().map(|i| self.condition(i)).collect::<Result<_>>()?)),
            NodeKind::Not(inner) => Ok(Condition::Not(Box::new(self.condition(inner)?))),
            NodeKind::Compare(first, rest) => {
                let mut conditions = Vec::with_capacity(rest.len());
                let mut left = first.as_ref();
                for (op, right) in rest {
                    conditions.push(self.compare(left, *op, right)?);
                    left = right;
                }
                Ok(if conditions.len() == 1 { conditions.pop().expect("one comparison") } else { Condition::And(conditions) })
            }
            NodeKind::Like { text, pattern, negated } => {
                let text = self.text_operand(text)?;
                let like = Condition::Like(text, parse_like(pattern));
                Ok(if *negated { Condition::Not(Box::new(like)) } else { like })
            }
            NodeKind::Call(name, arguments) if matches!(name.as_str(), "any" | "all") => self.comprehension(node, name, arguments),
            _ => match self.operand(node)? {
                Operand::Annotation(reference) => Ok(Condition::AnnotationExists(reference)),
                _ => Err(QueryError::new(
                    node.column,
                    "this is a value, not a condition: compare it (e.g. x == 'value') or combine conditions with and/or/not",
                )),
            },
        }
    }

    fn text_operand(&mut self, node: &Node) -> Result<Text> {
        let operand = self.operand(node)?;
        as_text(operand, node.column, "LIKE needs text on its left")
    }

    fn comprehension(&mut self, node: &Node, name: &str, arguments: &[Node]) -> Result<Condition> {
        if self.span_grain() {
            return Err(QueryError::new(node.column, format!("{name}() is only available in trace and session filters")));
        }
        let [argument] = arguments else {
            return Err(QueryError::new(
                node.column,
                format!("{name}() takes one comprehension, e.g. {name}(s.span_kind == 'LLM' for s in spans)"),
            ));
        };
        let NodeKind::Generator { element, var, iterable, condition } = &argument.kind else {
            return Err(QueryError::new(
                argument.column,
                format!("{name}() takes a comprehension over spans, e.g. {name}(s.span_kind == 'LLM' for s in spans)"),
            ));
        };
        if !matches!(&iterable.kind, NodeKind::Name(source) if source == "spans") {
            return Err(QueryError::new(iterable.column, "comprehensions iterate over 'spans'"));
        }
        self.span_var = Some(var.clone());
        let lowered = (|| {
            let element = self.condition(element)?;
            let filter = condition.as_deref().map(|c| self.condition(c)).transpose()?;
            Ok::<_, QueryError>((element, filter))
        })();
        self.span_var = None;
        let (element, filter) = lowered?;
        Ok(match (name, filter) {
            ("any", None) => Condition::AnySpan(Box::new(element)),
            ("any", Some(filter)) => Condition::AnySpan(Box::new(Condition::And(vec![filter, element]))),
            (_, filter) => Condition::AllSpans { filter: filter.map(Box::new), condition: Box::new(element) },
        })
    }

    fn compare(&mut self, left_node: &Node, op: SyntaxOp, right_node: &Node) -> Result<Condition> {
        let left = self.operand(left_node)?;
        let right = self.operand(right_node)?;
        let column = left_node.column;
        if matches!(left, Operand::ParentSpan) || matches!(right, Operand::ParentSpan) {
            let other = if matches!(left, Operand::ParentSpan) { &right } else { &left };
            return match (op, other) {
                (SyntaxOp::Is | SyntaxOp::Eq, Operand::None) => Ok(Condition::Not(Box::new(Condition::ParentSpanExists))),
                (SyntaxOp::IsNot | SyntaxOp::NotEq, Operand::None) => Ok(Condition::ParentSpanExists),
                _ => Err(QueryError::new(column, "parent_span can only be tested with 'is None' or 'is not None'")),
            };
        }
        for operand in [&left, &right] {
            if let Operand::Annotation(reference) = operand {
                return Err(QueryError::new(
                    column,
                    format!("compare a field of the annotation: ['{}'].label, .score or .explanation", reference.name),
                ));
            }
        }
        match op {
            SyntaxOp::In | SyntaxOp::NotIn => {
                let condition = self.membership(left, right, left_node, right_node)?;
                Ok(if op == SyntaxOp::NotIn { Condition::Not(Box::new(condition)) } else { condition })
            }
            SyntaxOp::Is | SyntaxOp::IsNot | SyntaxOp::Eq | SyntaxOp::NotEq
                if matches!(left, Operand::None) || matches!(right, Operand::None) =>
            {
                let other = if matches!(left, Operand::None) { right } else { left };
                let value = match other {
                    Operand::None => return Err(QueryError::new(column, "comparison between two literals")),
                    Operand::Str(_) | Operand::Num(_) | Operand::Bool(_) => {
                        return Err(QueryError::new(column, "comparison between two literals"))
                    }
                    Operand::List(_) => return Err(QueryError::new(column, "a list cannot be compared with None")),
                    // Any JSON value that is absent or null: the text form is NULL exactly then.
                    Operand::Json(path) => Value::Text(Text::Attribute(path)),
                    Operand::Typed(value) => value,
                    Operand::Annotation(_) | Operand::ParentSpan => unreachable!("handled above"),
                };
                let is_null = Condition::IsNull(value);
                Ok(if matches!(op, SyntaxOp::IsNot | SyntaxOp::NotEq) { Condition::Not(Box::new(is_null)) } else { is_null })
            }
            _ => {
                let compare_op = match op {
                    SyntaxOp::Eq | SyntaxOp::Is => CompareOp::Eq,
                    SyntaxOp::NotEq | SyntaxOp::IsNot => CompareOp::NotEq,
                    SyntaxOp::Lt => CompareOp::Lt,
                    SyntaxOp::LtE => CompareOp::LtE,
                    SyntaxOp::Gt => CompareOp::Gt,
                    SyntaxOp::GtE => CompareOp::GtE,
                    SyntaxOp::In | SyntaxOp::NotIn => unreachable!("handled above"),
                };
                if matches!(left, Operand::None) || matches!(right, Operand::None) {
                    return Err(QueryError::new(column, "None can only be compared with 'is', 'is not', '==' or '!='"));
                }
                let ordering = !matches!(compare_op, CompareOp::Eq | CompareOp::NotEq);
                let (left, right) = unify(left, right, ordering, column)?;
                if ordering && matches!(left, Value::Boolean(_)) {
                    return Err(QueryError::new(column, "booleans cannot be ordered; use == or !="));
                }
                Ok(Condition::Compare(left, compare_op, right))
            }
        }
    }

    /// `needle in haystack` (substring) or `value in [list]`.
    fn membership(&mut self, left: Operand, right: Operand, left_node: &Node, right_node: &Node) -> Result<Condition> {
        let column = left_node.column;
        if let Operand::List(items) = right {
            let literals = items.iter().map(list_literal).collect::<Result<Vec<_>>>()?;
            return in_list(left, literals, column);
        }
        if is_literal(&left) && is_literal(&right) {
            return Err(QueryError::new(column, "comparison between two literals"));
        }
        let needle = as_text(left, column, "the left side of 'in' must be text (or use a list on the right)")?;
        let haystack = as_text(right, right_node.column, "the right side of 'in' must be text or a list")?;
        Ok(Condition::Contains { haystack, needle })
    }

    fn operand(&mut self, node: &Node) -> Result<Operand> {
        let column = node.column;
        Ok(match &node.kind {
            NodeKind::Str(value) => Operand::Str(value.clone()),
            NodeKind::Int(value) => Operand::Num(*value as f64),
            NodeKind::Float(value) => Operand::Num(*value),
            NodeKind::Bool(value) => Operand::Bool(*value),
            NodeKind::None => Operand::None,
            NodeKind::List(items) => Operand::List(items.clone()),
            NodeKind::Name(_) | NodeKind::Attribute(..) | NodeKind::Subscript(..) => self.reference(node)?,
            NodeKind::Call(name, arguments) => self.call(node, name, arguments)?,
            NodeKind::Negate(inner) => {
                let inner = self.operand(inner)?;
                Operand::Typed(Value::Number(Number::Negate(Box::new(as_number(inner, column)?))))
            }
            NodeKind::Binary(op, left, right) => self.binary(*op, left, right, column)?,
            NodeKind::Compare(..) | NodeKind::And(_) | NodeKind::Or(_) | NodeKind::Not(_) | NodeKind::Like { .. } => {
                return Err(QueryError::new(column, "a condition cannot be used as a value"))
            }
            NodeKind::Generator { .. } => return Err(QueryError::new(column, "comprehensions are only allowed inside any() and all()")),
        })
    }

    fn binary(&mut self, op: BinaryOp, left_node: &Node, right_node: &Node, column: usize) -> Result<Operand> {
        let left = self.operand(left_node)?;
        let right = self.operand(right_node)?;
        if is_literal(&left) && is_literal(&right) {
            return Err(QueryError::new(column, "arithmetic between two literals; write the result"));
        }
        let texty = |o: &Operand| matches!(o, Operand::Str(_) | Operand::Typed(Value::Text(_)));
        if op == BinaryOp::Add && (texty(&left) || texty(&right)) {
            let left = as_text(left, left_node.column, "only text can be concatenated with text")?;
            let right = as_text(right, right_node.column, "only text can be concatenated with text")?;
            return Ok(Operand::Typed(Value::Text(Text::Concat(Box::new(left), Box::new(right)))));
        }
        let op = match op {
            BinaryOp::Add => ArithOp::Add,
            BinaryOp::Sub => ArithOp::Sub,
            BinaryOp::Mul => ArithOp::Mul,
            BinaryOp::Div => ArithOp::Div,
            BinaryOp::FloorDiv => ArithOp::FloorDiv,
            BinaryOp::Mod => ArithOp::Mod,
        };
        let left = as_number(left, left_node.column)?;
        let right = as_number(right, right_node.column)?;
        Ok(Operand::Typed(Value::Number(Number::Arith(op, Box::new(left), Box::new(right)))))
    }

    fn call(&mut self, node: &Node, name: &str, arguments: &[Node]) -> Result<Operand> {
        let column = node.column;
        match name {
            "str" | "int" | "float" => {}
            "any" | "all" => return Err(QueryError::new(column, format!("{name}() is a condition, not a value"))),
            other => {
                return Err(QueryError::new(column, format!("unknown function '{other}'; only str(), int() and float() may be called")))
            }
        }
        let [argument] = arguments else {
            return Err(QueryError::new(column, format!("{name}() takes exactly one argument")));
        };
        let inner = self.operand(argument)?;
        if is_literal(&inner) {
            return Err(QueryError::new(column, format!("{name}() of a literal; write the literal")));
        }
        Ok(Operand::Typed(match name {
            "str" => Value::Text(match inner {
                Operand::Json(path) => Text::Attribute(path),
                Operand::Typed(Value::Text(text)) => text,
                Operand::Typed(Value::Number(number)) if integer_valued(&number) => Text::FromNumber(Box::new(number)),
                Operand::Typed(Value::Number(_)) => {
                    return Err(QueryError::new(column, "str() of a fractional number is not supported; use str(int(x))"))
                }
                _ => return Err(QueryError::new(column, "str() takes an attribute, text or a whole number")),
            }),
            "float" => Value::Number(as_number(inner, argument.column)?),
            _ => Value::Number(Number::Truncate(Box::new(as_number(inner, argument.column)?))),
        }))
    }

    /// A name, dotted name or subscript chain: a column, an annotation, `parent_span`, or an
    /// attribute path.
    fn reference(&mut self, node: &Node) -> Result<Operand> {
        let mut chain = Vec::new();
        flatten_chain(node, &mut chain)?;
        if let Some(var) = &self.span_var {
            match chain.first() {
                Some((Link::Name(first), _)) if first == var => {
                    chain.remove(0);
                    if chain.is_empty() {
                        return Err(QueryError::new(node.column, format!("use a field of the span, e.g. {var}.span_kind")));
                    }
                }
                _ => {
                    return Err(QueryError::new(
                        node.column,
                        format!("inside the comprehension, name span fields through '{var}', e.g. {var}.name"),
                    ))
                }
            }
        }
        let column = node.column;
        let (Link::Name(root), _) = &chain[0] else {
            return Err(QueryError::new(column, "a name must come first"));
        };
        if !self.span_grain() {
            return self.aggregate_reference(&chain, column);
        }
        match root.as_str() {
            "evals" | "annotations" | "trace_annotations" => return annotation_reference(&chain, column),
            "parent_span" if chain.len() == 1 => return Ok(Operand::ParentSpan),
            "parent_span" => return Err(QueryError::new(column, "parent_span can only be tested with 'is None' or 'is not None'")),
            _ => {}
        }
        if let Some(dotted) = dotted_name(&chain) {
            if let Some(value) = span_column(&dotted) {
                return Ok(Operand::Typed(value));
            }
        }
        let mut path = Vec::with_capacity(chain.len());
        for (index, (link, link_column)) in chain.iter().enumerate() {
            match link {
                Link::Name(name) | Link::Key(name) if index == 0 && name == "attributes" => {}
                Link::Name(name) | Link::Key(name) => path.push(Segment::Key(name.clone())),
                Link::Index(i) if *i < 0 => return Err(QueryError::new(*link_column, "negative indexes are not supported")),
                Link::Index(i) if index == 0 => return Err(QueryError::new(*link_column, format!("a path cannot start with index {i}"))),
                Link::Index(i) => path.push(Segment::Index(*i)),
            }
        }
        if path.is_empty() {
            return Err(QueryError::new(column, "name an attribute, e.g. attributes['llm.model_name'] or llm.model_name"));
        }
        Ok(Operand::Json(path))
    }

    fn aggregate_reference(&self, chain: &[(Link, usize)], column: usize) -> Result<Operand> {
        let dotted = dotted_name(chain).unwrap_or_default();
        let (kind, fields) = match self.grain {
            Grain::Trace => ("trace", TRACE_FIELDS),
            _ => ("session", SESSION_FIELDS),
        };
        let mut all = fields.iter().chain(AGGREGATE_FIELDS);
        all.find(|(name, _)| *name == dotted).map(|(_, value)| Operand::Typed(value.clone())).ok_or_else(|| {
            let names: Vec<&str> = fields.iter().chain(AGGREGATE_FIELDS).map(|(name, _)| *name).collect();
            QueryError::new(
                column,
                format!("unknown {kind} field '{dotted}'; {kind} filters use {} and any()/all() over spans", names.join(", ")),
            )
        })
    }
}

#[derive(Debug, Clone)]
enum Link {
    Name(String),
    Key(String),
    Index(i64),
}

fn flatten_chain(node: &Node, out: &mut Vec<(Link, usize)>) -> Result<()> {
    match &node.kind {
        NodeKind::Name(name) => out.push((Link::Name(name.clone()), node.column)),
        NodeKind::Attribute(base, name) => {
            flatten_chain(base, out)?;
            out.push((Link::Name(name.clone()), node.column));
        }
        NodeKind::Subscript(base, index) => {
            flatten_chain(base, out)?;
            subscript_links(index, out)?;
        }
        _ => return Err(QueryError::new(node.column, "only names, attributes and subscripts can be followed by '.' or '[...]'")),
    }
    Ok(())
}

fn subscript_links(index: &Node, out: &mut Vec<(Link, usize)>) -> Result<()> {
    match &index.kind {
        NodeKind::Str(key) => out.push((Link::Key(key.clone()), index.column)),
        NodeKind::Int(i) => out.push((Link::Index(*i), index.column)),
        NodeKind::List(items) if !items.is_empty() => {
            for item in items {
                match &item.kind {
                    NodeKind::Str(_) | NodeKind::Int(_) => subscript_links(item, out)?,
                    _ => return Err(QueryError::new(item.column, "path lists hold strings and integers only")),
                }
            }
        }
        _ => return Err(QueryError::new(index.column, "subscripts must be a string, an integer or a list of them")),
    }
    Ok(())
}

/// `a.b.c` when the chain is plain names joined by dots.
fn dotted_name(chain: &[(Link, usize)]) -> Option<String> {
    let mut parts = Vec::with_capacity(chain.len());
    for (link, _) in chain {
        match link {
            Link::Name(name) => parts.push(name.as_str()),
            _ => return None,
        }
    }
    Some(parts.join("."))
}

/// The span fields a filter names directly (the canonical spelling of each `span_column`).
const SPAN_FIELDS: &[&str] = &[
    "name",
    "span_kind",
    "status_code",
    "status_message",
    "latency_ms",
    "start_time",
    "end_time",
    "span_id",
    "trace_id",
    "parent_id",
    "cumulative_llm_token_count_prompt",
    "cumulative_llm_token_count_completion",
    "cumulative_llm_token_count_total",
];

/// The fields a filter of `grain` may name besides attributes and annotations, for editors to
/// offer.
pub(crate) fn field_names(grain: Grain) -> Vec<&'static str> {
    match grain {
        Grain::Span => SPAN_FIELDS.to_vec(),
        Grain::Trace => TRACE_FIELDS.iter().chain(AGGREGATE_FIELDS).map(|(name, _)| *name).collect(),
        Grain::Session => SESSION_FIELDS.iter().chain(AGGREGATE_FIELDS).map(|(name, _)| *name).collect(),
    }
}

fn span_column(name: &str) -> Option<Value> {
    use NumberColumn as N;
    use TextColumn as T;
    Some(match name {
        "span_id" | "context.span_id" => Value::Text(Text::Column(T::SpanId)),
        "trace_id" | "context.trace_id" => Value::Text(Text::Column(T::TraceId)),
        "parent_id" => Value::Text(Text::Column(T::ParentId)),
        "name" => Value::Text(Text::Column(T::Name)),
        "span_kind" => Value::Text(Text::Column(T::SpanKind)),
        "status_code" => Value::Text(Text::Column(T::StatusCode)),
        "status_message" => Value::Text(Text::Column(T::StatusMessage)),
        "latency_ms" => Value::Number(Number::Column(N::LatencyMs)),
        "cumulative_llm_token_count_prompt" | "cumulative_token_count.prompt" => Value::Number(Number::Column(N::CumulativeTokensPrompt)),
        "cumulative_llm_token_count_completion" | "cumulative_token_count.completion" => {
            Value::Number(Number::Column(N::CumulativeTokensCompletion))
        }
        "cumulative_llm_token_count_total" | "cumulative_token_count.total" => Value::Number(Number::Column(N::CumulativeTokensTotal)),
        "start_time" => Value::Time(Time::Column(TimeColumn::StartTime)),
        "end_time" => Value::Time(Time::Column(TimeColumn::EndTime)),
        _ => return None,
    })
}

/// Fields of both the trace and the session grain.
const AGGREGATE_FIELDS: &[(&str, Value)] = &[
    ("start_time", Value::Time(Time::Column(TimeColumn::StartTime))),
    ("end_time", Value::Time(Time::Column(TimeColumn::EndTime))),
    ("latency_ms", Value::Number(Number::Column(NumberColumn::LatencyMs))),
    ("num_spans", Value::Number(Number::Column(NumberColumn::NumSpans))),
    ("error_count", Value::Number(Number::Column(NumberColumn::ErrorCount))),
    ("llm_span_count", Value::Number(Number::Column(NumberColumn::LlmSpanCount))),
    ("tool_span_count", Value::Number(Number::Column(NumberColumn::ToolSpanCount))),
    ("token_count_prompt", Value::Number(Number::Column(NumberColumn::TokensPrompt))),
    ("token_count_completion", Value::Number(Number::Column(NumberColumn::TokensCompletion))),
    ("token_count_total", Value::Number(Number::Column(NumberColumn::TokensTotal))),
];

const TRACE_FIELDS: &[(&str, Value)] = &[("trace_id", Value::Text(Text::Column(TextColumn::TraceId)))];

const SESSION_FIELDS: &[(&str, Value)] = &[
    ("session_id", Value::Text(Text::Column(TextColumn::SessionId))),
    ("num_traces", Value::Number(Number::Column(NumberColumn::NumTraces))),
];

fn annotation_reference(chain: &[(Link, usize)], column: usize) -> Result<Operand> {
    let (Link::Name(root), _) = &chain[0] else { unreachable!("checked by the caller") };
    let target = if root == "trace_annotations" { AnnotationTarget::Trace } else { AnnotationTarget::Span };
    let name = match chain.get(1) {
        Some((Link::Key(name), _)) => name.clone(),
        _ => return Err(QueryError::new(column, format!("name the annotation: {root}['name']"))),
    };
    let reference = AnnotationRef { target, name };
    match chain.get(2) {
        None => Ok(Operand::Annotation(reference)),
        Some((Link::Name(field), field_column)) if chain.len() == 3 => match field.as_str() {
            "label" => Ok(Operand::Typed(Value::Text(Text::Annotation(reference, AnnotationField::Label)))),
            "explanation" => Ok(Operand::Typed(Value::Text(Text::Annotation(reference, AnnotationField::Explanation)))),
            "score" => Ok(Operand::Typed(Value::Number(Number::AnnotationScore(reference)))),
            other => Err(QueryError::new(*field_column, format!("annotations have .label, .score and .explanation, not .{other}"))),
        },
        Some((_, field_column)) => Err(QueryError::new(*field_column, "annotations have .label, .score and .explanation")),
    }
}

fn is_literal(operand: &Operand) -> bool {
    matches!(operand, Operand::Str(_) | Operand::Num(_) | Operand::Bool(_) | Operand::None | Operand::List(_))
}

fn as_text(operand: Operand, column: usize, message: &str) -> Result<Text> {
    match operand {
        Operand::Str(value) => Ok(Text::Literal(value)),
        Operand::Json(path) => Ok(Text::Attribute(path)),
        Operand::Typed(Value::Text(text)) => Ok(text),
        _ => Err(QueryError::new(column, message)),
    }
}

fn as_number(operand: Operand, column: usize) -> Result<Number> {
    match operand {
        Operand::Num(value) => Ok(Number::Literal(value)),
        Operand::Json(path) => Ok(Number::Attribute(path)),
        Operand::Typed(Value::Number(number)) => Ok(number),
        Operand::Str(text) => numeric_string(&text).map(Number::Literal).ok_or_else(|| QueryError::new(column, "arithmetic needs numbers")),
        _ => Err(QueryError::new(column, "arithmetic needs numbers")),
    }
}

fn numeric_string(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Whole-number expressions, whose text form is the same on every backend.
fn integer_valued(number: &Number) -> bool {
    use NumberColumn as N;
    match number {
        Number::Truncate(_) => true,
        Number::Column(column) => !matches!(column, N::LatencyMs),
        _ => false,
    }
}

/// Gives both sides of a comparison one type, or says why they cannot have one.
fn unify(left: Operand, right: Operand, ordering: bool, column: usize) -> Result<(Value, Value)> {
    if is_literal(&left) && is_literal(&right) {
        return Err(QueryError::new(column, "comparison between two literals"));
    }
    if matches!(left, Operand::List(_)) || matches!(right, Operand::List(_)) {
        return Err(QueryError::new(column, "lists can only be used with 'in' and 'not in'"));
    }
    // Put the typed side (or the attribute) first; literals last.
    let swapped = is_literal(&left) || (matches!(left, Operand::Json(_)) && matches!(right, Operand::Typed(_)));
    let (first, second) = if swapped { (right, left) } else { (left, right) };
    let (a, b) = match (first, second) {
        (Operand::Typed(Value::Text(text)), second) => {
            let upper = upper_cased(&text);
            let other = match second {
                Operand::Str(value) => Text::Literal(if upper { value.to_uppercase() } else { value }),
                Operand::Json(path) => Text::Attribute(path),
                Operand::Typed(Value::Text(other)) => other,
                Operand::Num(_) | Operand::Typed(Value::Number(_)) => {
                    return Err(QueryError::new(column, "cannot compare text with a number"))
                }
                _ => return Err(QueryError::new(column, "cannot compare text with this value")),
            };
            (Value::Text(text), Value::Text(other))
        }
        (Operand::Typed(Value::Number(number)), second) => {
            let other = match second {
                Operand::Num(value) => Number::Literal(value),
                Operand::Str(text) => Number::Literal(
                    numeric_string(&text)
                        .ok_or_else(|| QueryError::new(column, format!("cannot compare a number with the text {text:?}")))?,
                ),
                Operand::Json(path) => Number::Attribute(path),
                Operand::Typed(Value::Number(other)) => other,
                _ => return Err(QueryError::new(column, "cannot compare a number with this value")),
            };
            (Value::Number(number), Value::Number(other))
        }
        (Operand::Typed(Value::Time(time)), second) => {
            let other = match second {
                Operand::Str(text) => Time::Literal(parse_datetime(&text, column)?),
                Operand::Typed(Value::Time(other)) => other,
                _ => {
                    return Err(QueryError::new(
                        column,
                        "compare times with a datetime string that has a timezone, e.g. '2024-01-01T00:00:00Z'",
                    ))
                }
            };
            (Value::Time(time), Value::Time(other))
        }
        (Operand::Typed(Value::Boolean(flag)), Operand::Bool(value)) => (Value::Boolean(flag), Value::Boolean(Boolean::Literal(value))),
        (Operand::Json(path), second) => match second {
            Operand::Str(value) => (Value::Text(Text::Attribute(path)), Value::Text(Text::Literal(value))),
            Operand::Num(value) => (Value::Number(Number::Attribute(path)), Value::Number(Number::Literal(value))),
            Operand::Bool(value) => (Value::Boolean(Boolean::Attribute(path)), Value::Boolean(Boolean::Literal(value))),
            Operand::Json(other) if ordering => (Value::Number(Number::Attribute(path)), Value::Number(Number::Attribute(other))),
            Operand::Json(other) => (Value::Text(Text::Attribute(path)), Value::Text(Text::Attribute(other))),
            _ => return Err(QueryError::new(column, "cannot compare an attribute with this value")),
        },
        _ => return Err(QueryError::new(column, "these values cannot be compared")),
    };
    Ok(if swapped { (b, a) } else { (a, b) })
}

/// `span_kind` and `status_code` are stored upper-case; literals compared with them are too.
fn upper_cased(text: &Text) -> bool {
    matches!(text, Text::Column(TextColumn::SpanKind | TextColumn::StatusCode))
}

fn list_literal(node: &Node) -> Result<Literal> {
    match &node.kind {
        NodeKind::Str(value) => Ok(Literal::Text(value.clone())),
        NodeKind::Int(value) => Ok(Literal::Number(*value as f64)),
        NodeKind::Float(value) => Ok(Literal::Number(*value)),
        NodeKind::Bool(value) => Ok(Literal::Boolean(*value)),
        NodeKind::None => Err(QueryError::new(node.column, "None is not allowed in a list; use 'is None'")),
        _ => Err(QueryError::new(node.column, "list items must be literals")),
    }
}

fn in_list(left: Operand, literals: Vec<Literal>, column: usize) -> Result<Condition> {
    let all_text = literals.iter().all(|l| matches!(l, Literal::Text(_)));
    let all_numbers = literals.iter().all(|l| matches!(l, Literal::Number(_)));
    let all_booleans = literals.iter().all(|l| matches!(l, Literal::Boolean(_)));
    let mixed = !(all_text || all_numbers || all_booleans);
    if mixed && !matches!(left, Operand::Typed(Value::Number(_))) {
        return Err(QueryError::new(column, "list items must all be text, all numbers or all booleans"));
    }
    let value = match left {
        Operand::Typed(Value::Text(text)) if all_text => {
            let upper = upper_cased(&text);
            let literals = literals
                .into_iter()
                .map(|l| match l {
                    Literal::Text(value) if upper => Literal::Text(value.to_uppercase()),
                    other => other,
                })
                .collect();
            return Ok(Condition::InList(Value::Text(text), literals));
        }
        Operand::Typed(Value::Number(number)) => {
            let numbers = literals
                .into_iter()
                .map(|l| match l {
                    Literal::Number(value) => Ok(Literal::Number(value)),
                    Literal::Text(text) => numeric_string(&text)
                        .map(Literal::Number)
                        .ok_or_else(|| QueryError::new(column, format!("cannot compare a number with the text {text:?}"))),
                    Literal::Boolean(_) => Err(QueryError::new(column, "cannot compare a number with a boolean")),
                })
                .collect::<Result<Vec<_>>>()?;
            return Ok(Condition::InList(Value::Number(number), numbers));
        }
        Operand::Json(path) if all_text => Value::Text(Text::Attribute(path)),
        Operand::Json(path) if all_numbers => Value::Number(Number::Attribute(path)),
        Operand::Json(path) => Value::Boolean(Boolean::Attribute(path)),
        Operand::Typed(Value::Text(_)) => return Err(QueryError::new(column, "cannot compare text with a list of non-text values")),
        Operand::Typed(Value::Time(_)) => return Err(QueryError::new(column, "times cannot be tested against a list")),
        _ => return Err(QueryError::new(column, "comparison between two literals")),
    };
    Ok(Condition::InList(value, literals))
}

/// Parses a datetime literal, which must carry a timezone; returns Unix nanoseconds.
pub(crate) fn parse_datetime(text: &str, column: usize) -> Result<i64> {
    let trimmed = text.trim();
    let parsed = DateTime::parse_from_rfc3339(trimmed)
        .or_else(|_| DateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .or_else(|_| DateTime::parse_from_str(trimmed, "%Y-%m-%d %H:%M:%S%.f%z"))
        .map_err(|_| {
            QueryError::new(
                column,
                format!("{text:?} is not a datetime with a timezone, e.g. '2024-01-01T00:00:00Z' or '2024-01-01T00:00:00+02:00'"),
            )
        })?;
    parsed.timestamp_nanos_opt().ok_or_else(|| QueryError::new(column, format!("{text:?} is out of range")))
}

/// A `LIKE` pattern: `%` any run, `_` one character, `\` escapes the next character.
pub(crate) fn parse_like(pattern: &str) -> Vec<LikePart> {
    let mut parts = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        parts.push(match c {
            '%' => LikePart::AnyRun,
            '_' => LikePart::AnyChar,
            '\\' => LikePart::Char(chars.next().unwrap_or('\\')),
            other => LikePart::Char(other),
        });
    }
    parts
}
