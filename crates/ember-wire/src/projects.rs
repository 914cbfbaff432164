//! Projects, trace transfers and secrets.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub name: String,
    pub description: Option<String>,
    pub id: String,
}

/// `POST /v1/traces/transfer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferResult {
    pub transferred_trace_count: usize,
    pub destination_project_id: String,
}

/// `PUT /v1/secrets`: the keys set and deleted (values are never returned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretsApplied {
    pub upserted_keys: Vec<String>,
    pub deleted_keys: Vec<String>,
}
