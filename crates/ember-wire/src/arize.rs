//! Arize AX's REST API v2 shapes, as the `arize` SDK's generated client reads them: spaces,
//! projects, and the `pagination` object every list carries (a list without one is an error to
//! the SDK).

use serde::{Deserialize, Serialize};

/// A space (ember has one, reported under any name asked for).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxSpace {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxProject {
    pub id: String,
    pub name: String,
    pub space_id: String,
    /// ISO 8601.
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxPagination {
    /// Present when `has_more` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// `GET /v2/spaces`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxSpaces {
    pub spaces: Vec<AxSpace>,
    pub pagination: AxPagination,
}

/// `GET /v2/projects`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxProjects {
    pub projects: Vec<AxProject>,
    pub pagination: AxPagination,
}
