//! The MCP tools, one router per resource. Each tool's arguments are a struct whose doc comments
//! become its input schema; each calls the services with the request's caller.

mod annotations;
mod comparison;
mod datasets;
mod projects;
mod prompts;
mod spans;
mod sql;

use ember_core::{GlobalId, GlobalType};
use ember_service::ServiceError;

/// `limit` or its default, refused past `max`.
fn limit(asked: Option<u32>, default: usize, max: usize) -> Result<usize, ServiceError> {
    match asked {
        None => Ok(default),
        Some(0) => Err(ServiceError::invalid("limit must be at least 1")),
        Some(limit) if limit as usize > max => Err(ServiceError::invalid(format!("limit must be at most {max}"))),
        Some(limit) => Ok(limit as usize),
    }
}

/// A page cursor: the GlobalID a previous answer gave as `next_cursor`.
fn cursor(asked: Option<&str>, global_type: GlobalType) -> Result<Option<i64>, ServiceError> {
    match asked.filter(|cursor| !cursor.is_empty()) {
        None => Ok(None),
        Some(raw) => GlobalId::decode_as(raw, global_type)
            .map(Some)
            .ok_or_else(|| ServiceError::invalid(format!("Invalid cursor: {raw:?} is not a {global_type} id"))),
    }
}

/// A row id from a GlobalID of `global_type`.
fn rowid(raw: &str, global_type: GlobalType) -> Result<i64, ServiceError> {
    GlobalId::decode_as(raw, global_type).ok_or_else(|| ServiceError::invalid(format!("{raw:?} is not a {global_type} id")))
}

/// `max_value_chars` or its default.
fn value_chars(asked: Option<u32>) -> usize {
    asked.map_or(crate::mcp::output::DEFAULT_VALUE_CHARS, |chars| chars.max(1) as usize)
}
