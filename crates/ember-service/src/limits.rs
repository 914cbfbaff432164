//! The size limits of `ember_core::limits` as service errors: a 422 naming the field and the
//! limit.

use ember_core::limits;
use serde_json::json;

use crate::error::{Result, ServiceError};

/// Refuses a name (`what`, e.g. "project name", sent as `field`) past the length limit.
pub(crate) fn check_name(what: &str, field: &str, name: &str) -> Result<()> {
    match limits::name_problem(what, name) {
        Some(problem) => Err(ServiceError::field(&[field.into()], "string_too_long", problem, json!(name.len()))),
        None => Ok(()),
    }
}

/// Refuses a description past the length limit.
pub(crate) fn check_description(what: &str, field: &str, description: Option<&str>) -> Result<()> {
    match description.and_then(|text| limits::description_problem(what, text)) {
        Some(problem) => Err(ServiceError::field(&[field.into()], "string_too_long", problem, json!(description.map(str::len)))),
        None => Ok(()),
    }
}

/// The most ids one request may list (span ids to filter by, to annotate from, to add to a
/// dataset): each is a bound value of one statement, and SQLite takes at most 32,766.
pub(crate) const MAX_LISTED_IDS: usize = 10_000;

/// Refuses a list of `what` (e.g. "span ids") longer than [`MAX_LISTED_IDS`].
pub(crate) fn check_id_count(what: &str, count: usize) -> Result<()> {
    match count > MAX_LISTED_IDS {
        true => Err(ServiceError::invalid(format!("At most {MAX_LISTED_IDS} {what} may be given at once; {count} were"))),
        false => Ok(()),
    }
}
