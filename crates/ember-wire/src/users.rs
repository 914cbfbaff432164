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
