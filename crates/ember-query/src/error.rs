//! Filter errors: what is wrong and the 1-based column (in characters) where it is.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct QueryError {
    pub message: String,
    pub column: usize,
}

impl QueryError {
    pub(crate) fn new(column: usize, message: impl Into<String>) -> Self {
        QueryError { message: message.into(), column }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at column {}", self.message, self.column)
    }
}

pub type Result<T, E = QueryError> = std::result::Result<T, E>;
