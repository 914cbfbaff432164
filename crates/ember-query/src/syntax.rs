//! The untyped syntax tree both filter languages parse into (Phoenix's Python subset in
//! `python::parser`, Arize AX's SQL-like language in `ax`), before `lower` types it, and the
//! depth limit every tree is held to.

use crate::error::{QueryError, Result};
use crate::MAX_DEPTH;

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
/// brackets), walking with an explicit stack.
pub(crate) fn check_tree_depth<'a>(root: &'a Node) -> Result<()> {
    let mut stack: Vec<(&'a Node, usize)> = vec![(root, 1)];
    while let Some((node, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(QueryError::new(node.column, format!("the filter is nested more than {MAX_DEPTH} levels deep")));
        }
        let mut push = |child: &'a Node| stack.push((child, depth + 1));
        match &node.kind {
            NodeKind::List(items) | NodeKind::Call(_, items) | NodeKind::And(items) | NodeKind::Or(items) => {
                items.iter().for_each(&mut push)
            }
            NodeKind::Attribute(base, _) | NodeKind::Negate(base) | NodeKind::Not(base) => push(base),
            NodeKind::Like { text, .. } => push(text),
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
