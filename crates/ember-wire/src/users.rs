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
}

/// `POST /auth/login`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginRequest {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}
