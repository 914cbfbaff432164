//! The untyped syntax tree both filter languages parse into (Phoenix's Python subset in
//! `python::parser`, Arize AX's SQL-like language in `ax`), before `lower` types it, and the
//! size limits every tree is held to, so that no filter reaches a database engine's own limits
//! (SQLite: expression depth 1000, 32,766 variables, LIKE patterns of 50,000 bytes).

use crate::error::{QueryError, Result};
use crate::{MAX_CHAINED_CONDITIONS, MAX_DEPTH, MAX_FILTER_TERMS, MAX_LIKE_PATTERN_BYTES};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: NodeKind,
    /// 1-based column where the construct starts.
    pub column: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CompareOp {
    Eq,
    NotEq,
    Lt,
    LtE,
    Gt,
    GtE,
    In,
    NotIn,
    Is,
    IsNot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    Name(String),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    None,
    /// A list or tuple display.
    List(Vec<Node>),
    Attribute(Box<Node>, String),
    Subscript(Box<Node>, Box<Node>),
    /// `f(args)`: the callee is a plain name.
    Call(String, Vec<Node>),
    /// `element for var in iterable [if condition]`, only as the single argument of a call.
    Generator {
        element: Box<Node>,
        var: String,
        iterable: Box<Node>,
        condition: Option<Box<Node>>,
    },
    Negate(Box<Node>),
    Binary(BinaryOp, Box<Node>, Box<Node>),
    /// `a < b <= c`: the first operand and each (operator, operand) after it.
    Compare(Box<Node>, Vec<(CompareOp, Node)>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// `text [NOT] LIKE 'pattern'`, only from Arize AX filters.
    Like {
        text: Box<Node>,
        pattern: String,
        negated: bool,
    },
}

/// Refuses trees deeper than [`MAX_DEPTH`] (long operator chains and paths nest without
/// brackets), with more than [`MAX_FILTER_TERMS`] terms, chaining more than
/// [`MAX_CHAINED_CONDITIONS`] conditions along one path (`and`/`or` and comparison chains are
/// chains in SQL), or with a LIKE pattern over [`MAX_LIKE_PATTERN_BYTES`]; walking with an
/// explicit stack.
pub(crate) fn check_tree<'a>(root: &'a Node) -> Result<()> {
    // (node, depth in the tree, conditions chained above it in SQL)
    let mut stack: Vec<(&'a Node, usize, usize)> = vec![(root, 1, 0)];
    let mut terms = 0_usize;
    while let Some((node, depth, chained)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(QueryError::new(node.column, format!("the filter is nested more than {MAX_DEPTH} levels deep")));
        }
        terms += 1;
        if terms > MAX_FILTER_TERMS {
            return Err(QueryError::new(node.column, format!("the filter has more than {MAX_FILTER_TERMS} terms")));
        }
        let chained = chained
            + match &node.kind {
                NodeKind::And(items) | NodeKind::Or(items) => items.len(),
                NodeKind::Compare(_, rest) => rest.len().saturating_sub(1),
                // Other nesting is bounded by MAX_DEPTH.
                _ => 0,
            };
        if chained > MAX_CHAINED_CONDITIONS {
            return Err(QueryError::new(
                node.column,
                format!("the filter chains more than {MAX_CHAINED_CONDITIONS} conditions; split it or use `in` with a list"),
            ));
        }
        let mut push = |child: &'a Node| stack.push((child, depth + 1, chained));
        match &node.kind {
            NodeKind::List(items) | NodeKind::Call(_, items) | NodeKind::And(items) | NodeKind::Or(items) => {
                items.iter().for_each(&mut push)
            }
            NodeKind::Attribute(base, _) | NodeKind::Negate(base) | NodeKind::Not(base) => push(base),
            NodeKind::Like { text, pattern, .. } => {
                if pattern.len() > MAX_LIKE_PATTERN_BYTES {
                    return Err(QueryError::new(node.column, format!("the LIKE pattern is longer than {MAX_LIKE_PATTERN_BYTES} bytes")));
                }
                push(text)
            }
            NodeKind::Subscript(a, b) | NodeKind::Binary(_, a, b) => {
                push(a);
                push(b);
            }
            NodeKind::Compare(first, rest) => {
                push(first);
                rest.iter().for_each(|(_, node)| push(node));
            }
            NodeKind::Generator { element, iterable, condition, .. } => {
                push(element);
                push(iterable);
                if let Some(condition) = condition {
                    push(condition);
                }
            }
            NodeKind::Name(_) | NodeKind::Str(_) | NodeKind::Int(_) | NodeKind::Float(_) | NodeKind::Bool(_) | NodeKind::None => {}
        }
    }
    Ok(())
}
