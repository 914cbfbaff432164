//! Trace retention policies (`/v1/retention_policies`, ember's REST face of what Phoenix manages
//! through GraphQL) and a project's policy (`PATCH /v1/projects/{p}/retention`, Phoenix's).

use serde::{Deserialize, Serialize};

/// Which traces a policy deletes, as Phoenix's rule JSON spells it. A limit of 0 is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RetentionRule {
    MaxDays { max_days: f64 },
    MaxCount { max_count: i64 },
    MaxDaysOrCount { max_days: f64, max_count: i64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    /// A `ProjectTraceRetentionPolicy` GlobalID; the default policy's rowid is 0.
    pub id: String,
    pub name: String,
    /// `0 <hours> * * <days of week>`, UTC.
    pub cron_expression: String,
    pub rule: RetentionRule,
    /// The projects following it (GlobalIDs); for the default policy, those that name none.
    pub project_ids: Vec<String>,
    /// ISO 8601; null until the sweeper first applied it.
    pub last_applied_at: Option<String>,
    /// When the schedule next has the sweeper apply it (ISO 8601).
    pub next_run_at: Option<String>,
}

/// `POST /v1/retention_policies`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRetentionPolicy {
    pub name: String,
    pub cron_expression: String,
    pub rule: RetentionRule,
    /// Projects (GlobalIDs or names) that follow it from now on.
    #[serde(default)]
    pub project_ids: Vec<String>,
}

/// `PATCH /v1/retention_policies/{id}`: absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicyPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron_expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<RetentionRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_project_ids: Vec<String>,
    /// Projects that go back to the default policy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_project_ids: Vec<String>,
}

/// `PATCH /v1/projects/{p}/retention`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRetentionPolicy {
    pub project_id: String,
    /// Null when the project follows the default policy.
    pub policy_id: Option<String>,
}

/// `GET`/`PUT /v1/projects/{p}/byte_budget`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectByteBudget {
    pub project_id: String,
    /// Null when the project has no budget.
    pub max_bytes: Option<i64>,
    /// The project's span bytes as the budget counts them (an estimate from the hourly rollups).
    pub used_bytes: i64,
}

/// `PUT /v1/projects/{p}/byte_budget`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByteBudgetUpdate {
    /// Null: no budget. Required (a `deserialize_with` field gets no implicit default).
    #[serde(deserialize_with = "Option::deserialize")]
    pub max_bytes: Option<i64>,
}
