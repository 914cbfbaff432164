//! Users as `/v1/users` and `/v1/user` answer them.

use serde::{Deserialize, Serialize};

/// A user. Local users say whether their password must be reset; OAuth2 users name their
/// provider's client and user ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub created_at: String,
    pub updated_at: String,
    pub email: String,
    pub username: String,
    pub role: String,
    pub auth_method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_needs_reset: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2_client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2_user_id: Option<String>,
}

/// `GET /v1/user` while authentication is off: nobody is signed in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnonymousUser {
    pub auth_method: String,
}

/// An API key as listed (never the key itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// ember: the one project (GlobalID) the key may reach, when it is scoped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// ember: the key may only send spans.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ingest_only: bool,
}

/// A new API key: its facts and the key, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub api_key: ApiKey,
    pub key: String,
}

/// The owner of a key in the admins' list of every user's keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyUser {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
}

/// A user's API key with its owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserApiKey {
    #[serde(flatten)]
    pub api_key: ApiKey,
    pub user: ApiKeyUser,
}

/// `POST /v1/user/api_keys` and `/v1/system/api_keys`: `{"data": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyData {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// ISO 8601; the key never expires when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// ember: scope the key to one project (name or GlobalID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// ember: the key may only send spans.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ingest_only: bool,
}

/// ember's per-project access: whether a project is restricted and who is granted it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectAccess {
    pub restricted: bool,
    #[serde(default)]
    pub grants: Vec<ProjectGrant>,
}

/// A grant of a restricted project to a user (GlobalID) or to a role (`MEMBER`, `VIEWER`), at a
/// level: `VIEWER` reads, `MEMBER` reads and writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectGrant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    pub level: String,
}

/// One entry of ember's audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditLogEntry {
    pub id: String,
    pub at: String,
    /// The user (GlobalID) who acted, when someone was signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_user_id: Option<String>,
    pub action: String,
    /// The event's facts (`{"action": ..., ...}`).
    pub detail: serde_json::Value,
}

/// `POST /auth/password-reset-email`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PasswordResetEmailRequest {
    #[serde(default)]
    pub email: Option<String>,
}

/// `POST /auth/password-reset`: the mailed token and the new password.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PasswordResetRequest {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

/// `POST /auth/ldap/login`: a directory name and password.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LdapLoginRequest {
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

/// `POST /auth/login`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginRequest {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}
