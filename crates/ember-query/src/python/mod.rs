//! Phoenix's filter language: a restricted Python expression.

pub(crate) mod lexer;
pub(crate) mod parser;
