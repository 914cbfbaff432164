//! Arize AX span filters (`spans.list(filter=...)`): SQL-like predicates over span fields,
//! parsed into the same syntax tree as Phoenix filters so both share one lowering and one SQL path.
//!
//! ```text
//! filter    := or
//! or        := and (OR and)*
//! and       := unary (AND unary)*
//! unary     := NOT unary | '(' or ')' | predicate
//! predicate := operand ( op operand | [NOT] IN '(' literal, ... ')' | [NOT] LIKE 'pattern'
//!                      | [NOT] CONTAINS operand | IS [NOT] NULL )
//! operand   := field | 'text' | number | TRUE | FALSE
//! field     := segment ('.' segment)*      segment := word | "quoted" | `quoted` | digits
//! ```
//! Fields: `status_code`, `span_kind`, `name`, `latency_ms`, `start_time`, `end_time`,
//! `status_message`, `parent_id`, `context.span_id`, `context.trace_id`,
//! `eval.<Name>.label|score|explanation`, `annotation.<Name>.label|score|text`,
//! `attributes.<path>`, `metadata.<key>`. Keywords are case-insensitive.

use crate::error::{QueryError, Result};
use crate::syntax::{check_tree, CompareOp, Node, NodeKind};
use crate::MAX_DEPTH;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Str(String),
    Int(i64),
    Float(f64),
    Op(&'static str),
    Dot,
    Open,
    Close,
    Comma,
    End,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    column: usize,
}

const OPERATORS: [&str; 7] = ["!=", "<>", "<=", ">=", "=", "<", ">"];

fn tokenize(text: &str) -> Result<Vec<Token>> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens: Vec<Token> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let after_dot = matches!(tokens.last(), Some(Token { tok: Tok::Dot, .. }));
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut value = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(QueryError::new(column, "unterminated string literal")),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        value.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(other) => {
                        value.push(*other);
                        i += 1;
                    }
                }
            }
            if value.contains('\0') {
                return Err(QueryError::new(column, "strings may not contain NUL characters"));
            }
            tokens.push(Token { tok: Tok::Str(value), column });
        } else if c == '"' || c == '`' {
            let end = chars[i + 1..].iter().position(|d| *d == c).ok_or_else(|| QueryError::new(column, "unterminated quoted name"))?;
            let value: String = chars[i + 1..i + 1 + end].iter().collect();
            if value.is_empty() {
                return Err(QueryError::new(column, "empty quoted name"));
            }
            tokens.push(Token { tok: Tok::Quoted(value), column });
            i += end + 2;
        } else if c.is_ascii_alphabetic() || c == '_' || (after_dot && c.is_ascii_digit()) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token { tok: Tok::Word(chars[start..i].iter().collect()), column });
        } else if starts_number(&chars, i, &tokens) {
            let start = i;
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || chars[i] == '.'
                    || matches!(chars[i], 'e' | 'E')
                    || (matches!(chars[i], '+' | '-') && matches!(chars[i - 1], 'e' | 'E')))
            {
                i += 1;
            }
            let literal: String = chars[start..i].iter().collect();
            let tok = if literal.contains(['.', 'e', 'E']) {
                match literal.parse::<f64>() {
                    Ok(value) if value.is_finite() => Tok::Float(value),
                    _ => return Err(QueryError::new(column, format!("invalid number {literal:?}"))),
                }
            } else {
                Tok::Int(literal.parse::<i64>().map_err(|_| QueryError::new(column, format!("invalid number {literal:?}")))?)
            };
            tokens.push(Token { tok, column });
        } else if c == '.' {
            tokens.push(Token { tok: Tok::Dot, column });
            i += 1;
        } else if let Some(tok) = match c {
            '(' => Some(Tok::Open),
            ')' => Some(Tok::Close),
            ',' => Some(Tok::Comma),
            _ => None,
        } {
            tokens.push(Token { tok, column });
            i += 1;
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let op = OPERATORS
                .iter()
                .find(|op| rest.starts_with(**op))
                .ok_or_else(|| QueryError::new(column, format!("unexpected character {c:?}")))?;
            tokens.push(Token { tok: Tok::Op(op), column });
            i += op.len();
        }
    }
    tokens.push(Token { tok: Tok::End, column: chars.len() + 1 });
    Ok(tokens)
}

/// A number starts with a digit, a sign before a digit, or a dot before a digit that does not
/// follow a field name (where it separates segments).
fn starts_number(chars: &[char], i: usize, tokens: &[Token]) -> bool {
    let digit_at = |j: usize| chars.get(j).is_some_and(char::is_ascii_digit);
    let after_name = matches!(tokens.last(), Some(Token { tok: Tok::Word(_) | Tok::Quoted(_), .. }));
    match chars[i] {
        c if c.is_ascii_digit() => true,
        '-' => digit_at(i + 1) || (chars.get(i + 1) == Some(&'.') && digit_at(i + 2)),
        '.' => digit_at(i + 1) && !after_name,
        _ => false,
    }
}

pub(crate) fn parse(text: &str) -> Result<Node> {
    let mut parser = Parser { tokens: tokenize(text)?, position: 0, depth: 0 };
    if parser.peek().tok == Tok::End {
        return Err(QueryError::new(1, "the filter is empty"));
    }
    let node = parser.or()?;
    match &parser.peek().tok {
        Tok::End => {
            check_tree(&node)?;
            Ok(node)
        }
        other => Err(QueryError::new(parser.peek().column, format!("unexpected {}", describe(other)))),
    }
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Word(word) => format!("'{word}'"),
        Tok::Quoted(name) => format!("\"{name}\""),
        Tok::Str(_) => "string".into(),
        Tok::Int(_) | Tok::Float(_) => "number".into(),
        Tok::Op(op) => format!("'{op}'"),
        Tok::Dot => "'.'".into(),
        Tok::Open => "'('".into(),
        Tok::Close => "')'".into(),
        Tok::Comma => "','".into(),
        Tok::End => "end of filter".into(),
    }
}

const KEYWORDS: [&str; 10] = ["and", "or", "not", "in", "like", "contains", "is", "null", "true", "false"];

const COLUMNS: [&str; 15] = [
    "status_code",
    "span_kind",
    "name",
    "latency_ms",
    "start_time",
    "end_time",
    "status_message",
    "parent_id",
    "span_id",
    "trace_id",
    "cumulative_llm_token_count_prompt",
    "cumulative_llm_token_count_completion",
    "cumulative_llm_token_count_total",
    "context.span_id",
    "context.trace_id",
];

struct Parser {
    tokens: Vec<Token>,
    position: usize,
    /// Current recursion depth (parentheses and NOT).
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.position]
    }

    fn advance(&mut self) -> Token {
        let token = self.tokens[self.position].clone();
        if self.position < self.tokens.len() - 1 {
            self.position += 1;
        }
        token
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(&self.peek().tok, Tok::Word(w) if w.eq_ignore_ascii_case(word))
    }

    fn keyword_at(&self, offset: usize, word: &str) -> bool {
        matches!(self.tokens.get(self.position + offset), Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<Node> {
        let first = self.and()?;
        if !self.keyword("or") {
            return Ok(first);
        }
        let column = first.column;
        let mut items = vec![first];
        while self.keyword("or") {
            self.advance();
            items.push(self.and()?);
        }
        Ok(Node { kind: NodeKind::Or(items), column })
    }

    fn and(&mut self) -> Result<Node> {
        let first = self.unary()?;
        if !self.keyword("and") {
            return Ok(first);
        }
        let column = first.column;
        let mut items = vec![first];
        while self.keyword("and") {
            self.advance();
            items.push(self.unary()?);
        }
        Ok(Node { kind: NodeKind::And(items), column })
    }

    fn unary(&mut self) -> Result<Node> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(QueryError::new(self.peek().column, format!("the filter is nested more than {MAX_DEPTH} levels deep")));
        }
        let node = self.unary_inner();
        self.depth -= 1;
        node
    }

    fn unary_inner(&mut self) -> Result<Node> {
        if self.keyword("not") {
            let column = self.advance().column;
            let inner = self.unary()?;
            return Ok(Node { kind: NodeKind::Not(Box::new(inner)), column });
        }
        if self.peek().tok == Tok::Open {
            self.advance();
            let inner = self.or()?;
            self.expect(Tok::Close, "')'")?;
            return Ok(inner);
        }
        self.predicate()
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<Token> {
        if self.peek().tok == tok {
            return Ok(self.advance());
        }
        Err(QueryError::new(self.peek().column, format!("expected {what}, found {}", describe(&self.peek().tok))))
    }

    fn predicate(&mut self) -> Result<Node> {
        let left = self.operand()?;
        let column = left.column;
        let negated = self.keyword("not") && (self.keyword_at(1, "in") || self.keyword_at(1, "like") || self.keyword_at(1, "contains"));
        if negated {
            self.advance();
        }
        let token = self.peek().clone();
        let compare = |op: CompareOp, right: Node| Node { kind: NodeKind::Compare(Box::new(left.clone()), vec![(op, right)]), column };
        match &token.tok {
            Tok::Op(op) if !negated => {
                self.advance();
                let op = match *op {
                    "=" => CompareOp::Eq,
                    "!=" | "<>" => CompareOp::NotEq,
                    "<" => CompareOp::Lt,
                    "<=" => CompareOp::LtE,
                    ">" => CompareOp::Gt,
                    _ => CompareOp::GtE,
                };
                let right = self.operand()?;
                Ok(compare(op, right))
            }
            Tok::Word(word) if word.eq_ignore_ascii_case("in") => {
                self.advance();
                let open = self.expect(Tok::Open, "'(' after IN")?;
                let mut items = Vec::new();
                loop {
                    let item = self.operand()?;
                    if !matches!(item.kind, NodeKind::Str(_) | NodeKind::Int(_) | NodeKind::Float(_) | NodeKind::Bool(_)) {
                        return Err(QueryError::new(item.column, "IN lists hold literals only"));
                    }
                    items.push(item);
                    if self.peek().tok == Tok::Comma {
                        self.advance();
                        continue;
                    }
                    self.expect(Tok::Close, "',' or ')'")?;
                    break;
                }
                let list = Node { kind: NodeKind::List(items), column: open.column };
                Ok(compare(if negated { CompareOp::NotIn } else { CompareOp::In }, list))
            }
            Tok::Word(word) if word.eq_ignore_ascii_case("like") => {
                self.advance();
                let pattern = self.advance();
                let Tok::Str(pattern) = pattern.tok else {
                    return Err(QueryError::new(pattern.column, "LIKE takes a quoted pattern, e.g. LIKE 'gpt-4%'"));
                };
                Ok(Node { kind: NodeKind::Like { text: Box::new(left), pattern, negated }, column })
            }
            Tok::Word(word) if word.eq_ignore_ascii_case("contains") => {
                self.advance();
                let needle = self.operand()?;
                let op = if negated { CompareOp::NotIn } else { CompareOp::In };
                Ok(Node { kind: NodeKind::Compare(Box::new(needle), vec![(op, left)]), column })
            }
            Tok::Word(word) if word.eq_ignore_ascii_case("is") => {
                self.advance();
                let op = if self.keyword("not") {
                    self.advance();
                    CompareOp::IsNot
                } else {
                    CompareOp::Is
                };
                if !self.keyword("null") {
                    return Err(QueryError::new(self.peek().column, "expected NULL after IS"));
                }
                let null = self.advance();
                Ok(compare(op, Node { kind: NodeKind::None, column: null.column }))
            }
            other => Err(QueryError::new(
                token.column,
                format!("expected a comparison (=, !=, <, <=, >, >=, IN, LIKE, CONTAINS, IS NULL), found {}", describe(other)),
            )),
        }
    }

    fn operand(&mut self) -> Result<Node> {
        let token = self.advance();
        let column = token.column;
        let kind = match token.tok {
            Tok::Str(value) => NodeKind::Str(value),
            Tok::Int(value) => NodeKind::Int(value),
            Tok::Float(value) => NodeKind::Float(value),
            Tok::Word(word) if word.eq_ignore_ascii_case("true") => NodeKind::Bool(true),
            Tok::Word(word) if word.eq_ignore_ascii_case("false") => NodeKind::Bool(false),
            Tok::Word(word) if word.eq_ignore_ascii_case("null") => {
                return Err(QueryError::new(column, "compare with NULL using IS NULL or IS NOT NULL"))
            }
            Tok::Word(word) if KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(&word)) => {
                return Err(QueryError::new(column, format!("expected a field or a value, found '{word}'")))
            }
            Tok::Word(word) => return self.field(word, column),
            Tok::Quoted(name) => return self.field(name, column),
            other => return Err(QueryError::new(column, format!("expected a field or a value, found {}", describe(&other)))),
        };
        Ok(Node { kind, column })
    }

    fn field(&mut self, first: String, column: usize) -> Result<Node> {
        let mut segments = vec![first];
        while self.peek().tok == Tok::Dot {
            self.advance();
            let token = self.advance();
            match token.tok {
                Tok::Word(word) => segments.push(word),
                Tok::Quoted(name) => segments.push(name),
                other => return Err(QueryError::new(token.column, format!("expected a name after '.', found {}", describe(&other)))),
            }
        }
        field_node(&segments, column)
    }
}

fn node(kind: NodeKind, column: usize) -> Node {
    Node { kind, column }
}

/// A field path as the Phoenix syntax tree writes it.
fn field_node(segments: &[String], column: usize) -> Result<Node> {
    let root = segments[0].as_str();
    match root {
        "eval" | "annotation" => {
            let [_, name, field] = segments else {
                return Err(QueryError::new(column, format!("write {root}.<Name>.label or {root}.<Name>.score")));
            };
            let field = match (root, field.as_str()) {
                (_, "label" | "score" | "explanation") => field.as_str(),
                ("annotation", "text") => "explanation",
                _ => return Err(QueryError::new(column, format!("{root} fields are label, score and explanation, not '{field}'"))),
            };
            let annotations = node(NodeKind::Name("evals".into()), column);
            let named = node(NodeKind::Subscript(Box::new(annotations), Box::new(node(NodeKind::Str(name.clone()), column))), column);
            Ok(node(NodeKind::Attribute(Box::new(named), field.into()), column))
        }
        "attributes" | "metadata" => {
            if segments.len() < 2 {
                return Err(QueryError::new(column, format!("name a key: {root}.<key>")));
            }
            let mut current = node(NodeKind::Name(root.into()), column);
            for segment in &segments[1..] {
                let key = match segment.parse::<i64>() {
                    Ok(index) if segment.bytes().all(|b| b.is_ascii_digit()) => NodeKind::Int(index),
                    _ => NodeKind::Str(segment.clone()),
                };
                current = node(NodeKind::Subscript(Box::new(current), Box::new(node(key, column))), column);
            }
            Ok(current)
        }
        _ => {
            let dotted = segments.join(".");
            if !COLUMNS.contains(&dotted.as_str()) {
                return Err(QueryError::new(
                    column,
                    format!(
                        "unknown field '{dotted}'; use {}, eval.<Name>.label|score, annotation.<Name>.label|score, attributes.<path> or metadata.<key>",
                        COLUMNS.join(", ")
                    ),
                ));
            }
            let mut current = node(NodeKind::Name(segments[0].clone()), column);
            for segment in &segments[1..] {
                current = node(NodeKind::Attribute(Box::new(current), segment.clone()), column);
            }
            Ok(current)
        }
    }
}
