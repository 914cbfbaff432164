//! Credentials: one row per token a user holds (access, refresh, API key, password reset). The
//! token itself is a signed reference to its row and is never stored; a row's presence is what
//! makes a token valid, so deleting it (sign-out, key deletion, the user's deletion) revokes it.
//! Lookups are by primary key, a user's tokens by `(user_id, kind)`.

use ember_core::time::now_nanos;

use crate::engine::backend::{Row, Statement};
use crate::error::Result;
use crate::{Page, Store, SYSTEM_USER_ID};

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
    ApiKey,
    PasswordReset,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "ACCESS",
            TokenKind::Refresh => "REFRESH",
            TokenKind::ApiKey => "API_KEY",
            TokenKind::PasswordReset => "PASSWORD_RESET",
        }
    }

    fn parse(text: &str) -> Option<TokenKind> {
        [TokenKind::Access, TokenKind::Refresh, TokenKind::ApiKey, TokenKind::PasswordReset].into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A token's row and its holder as they are now (the role is read at every use, so a role
/// change applies at once).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenHolder {
    pub token_id: i64,
    /// The random value the token carries besides the id (see the migration).
    pub nonce: String,
    pub kind: TokenKind,
    pub user_id: i64,
    pub role: String,
    /// Nanoseconds since the epoch; `None` never expires.
    pub expires_at: Option<i64>,
    /// Whether the holder must choose a new password (the web UI asks before anything else).
    pub password_needs_reset: bool,
    /// An API key's scope.
    pub scope: KeyScope,
}

/// What an API key may reach beyond its owner's rights: every project the owner may (the
/// default), or one project, possibly for ingestion only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyScope {
    pub project_id: Option<i64>,
    pub ingest_only: bool,
}

/// A token to record.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub kind: TokenKind,
    pub user_id: i64,
    /// The refresh token an access token was issued with.
    pub refresh_token_id: Option<i64>,
    /// An API key's name and description.
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub expires_at: Option<i64>,
    /// An API key's scope.
    pub scope: KeyScope,
}

/// An API key's stored facts (never the key).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyRecord {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    /// The owner's username and email (for the admins' list of every user's keys).
    pub username: String,
    pub email: String,
    pub owner_is_system: bool,
    pub scope: KeyScope,
    /// The name of the project the key is scoped to.
    pub project_name: Option<String>,
}

const API_KEY_COLUMNS: &str =
    "t.id, t.user_id, t.name, t.description, t.created_at, t.expires_at, u.username, u.email, u.role, t.project_id, t.ingest_only, p.name";
/// API keys with their owners and the project a key is scoped to.
const API_KEY_SOURCE: &str = "auth_tokens t JOIN users u ON u.id = t.user_id LEFT JOIN projects p ON p.id = t.project_id";

impl ApiKeyRecord {
    fn from_row(row: &Row) -> Result<Self> {
        Ok(ApiKeyRecord {
            id: row.get(0)?,
            user_id: row.get(1)?,
            name: row.get::<Option<String>, _>(2)?.unwrap_or_default(),
            description: row.get(3)?,
            created_at: row.get(4)?,
            expires_at: row.get(5)?,
            username: row.get(6)?,
            email: row.get(7)?,
            owner_is_system: row.get::<String, _>(8)? == "SYSTEM",
            scope: KeyScope { project_id: row.get(9)?, ingest_only: row.get::<i64, _>(10)? != 0 },
            project_name: row.get(11)?,
        })
    }
}

impl Store {
    /// Records a token with the random `nonce` it carries and returns its row id (the token's
    /// `jti`).
    pub async fn create_token(&self, token: &NewToken<'_>, nonce: &str) -> Result<i64> {
        let sql = "INSERT INTO auth_tokens (kind, user_id, refresh_token_id, name, description, created_at, expires_at, nonce, \
                   project_id, ingest_only) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
        let values = [
            token.kind.as_str().into(),
            token.user_id.into(),
            token.refresh_token_id.into(),
            token.name.map(str::to_string).into(),
            token.description.map(str::to_string).into(),
            now_nanos().into(),
            token.expires_at.into(),
            nonce.into(),
            token.scope.project_id.into(),
            i64::from(token.scope.ingest_only).into(),
        ];
        self.writer.exec().fetch_one(Statement::new(sql, values)).await?.get(0)
    }

    /// The token with this row id and its holder; `None` once it is revoked (read where a
    /// revocation is seen by the very next request).
    pub async fn token_holder(&self, token_id: i64) -> Result<Option<TokenHolder>> {
        let sql = "SELECT t.kind, t.user_id, u.role, t.expires_at, t.nonce, u.password_needs_reset, t.project_id, t.ingest_only \
             FROM auth_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1";
        let Some(row) = self.current_reader().exec().fetch_optional(Statement::new(sql, [token_id.into()])).await? else {
            return Ok(None);
        };
        let Some(kind) = TokenKind::parse(&row.get::<String, _>(0)?) else {
            return Ok(None);
        };
        Ok(Some(TokenHolder {
            token_id,
            nonce: row.get(4)?,
            kind,
            user_id: row.get(1)?,
            role: row.get(2)?,
            expires_at: row.get(3)?,
            password_needs_reset: row.get::<i64, _>(5)? != 0,
            scope: KeyScope { project_id: row.get(6)?, ingest_only: row.get::<i64, _>(7)? != 0 },
        }))
    }

    /// Deletes a token of this kind; `false` when there is none.
    pub async fn delete_token(&self, token_id: i64, kind: TokenKind) -> Result<bool> {
        let statement = Statement::new("DELETE FROM auth_tokens WHERE id = $1 AND kind = $2", [token_id.into(), kind.as_str().into()]);
        Ok(self.writer.exec().execute(statement).await? > 0)
    }

    /// Ends every session of a user (access and refresh tokens); API keys stay.
    pub async fn end_sign_in_sessions(&self, user_id: i64) -> Result<()> {
        let sql = "DELETE FROM auth_tokens WHERE user_id = $1 AND kind IN ('ACCESS', 'REFRESH')";
        self.writer.exec().execute(Statement::new(sql, [user_id.into()])).await?;
        Ok(())
    }

    /// Deletes every token of this kind of a user (an earlier password-reset link).
    pub async fn delete_user_tokens(&self, user_id: i64, kind: TokenKind) -> Result<u64> {
        let statement = Statement::new("DELETE FROM auth_tokens WHERE user_id = $1 AND kind = $2", [user_id.into(), kind.as_str().into()]);
        self.writer.exec().execute(statement).await
    }

    /// Deletes the tokens that expired before `now` (nanoseconds).
    pub async fn delete_expired_tokens(&self, now: i64) -> Result<u64> {
        let statement = Statement::new("DELETE FROM auth_tokens WHERE expires_at <= $1", [now.into()]);
        self.writer.exec().execute(statement).await
    }

    /// A user's API keys, newest first.
    pub async fn user_api_keys(&self, user_id: i64) -> Result<Vec<ApiKeyRecord>> {
        let sql = format!(
            "SELECT {API_KEY_COLUMNS} FROM {API_KEY_SOURCE} \
             WHERE t.user_id = $1 AND t.kind = 'API_KEY' ORDER BY t.id DESC"
        );
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [user_id.into()])).await?;
        rows.iter().map(ApiKeyRecord::from_row).collect()
    }

    /// The system's API keys (the SYSTEM user's), newest first.
    pub async fn system_api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        self.user_api_keys(SYSTEM_USER_ID).await
    }

    /// Every human user's API keys, newest first, a page from the key `from_id` down.
    pub async fn all_user_api_keys(&self, from_id: Option<i64>, limit: usize) -> Result<Page<ApiKeyRecord>> {
        let sql = format!(
            "SELECT {API_KEY_COLUMNS} FROM {API_KEY_SOURCE} \
             WHERE t.kind = 'API_KEY' AND u.role <> 'SYSTEM' AND t.id <= $1 ORDER BY t.id DESC LIMIT $2"
        );
        let values = [from_id.unwrap_or(i64::MAX).into(), (limit as i64 + 1).into()];
        let rows = self.reader.exec().fetch_all(Statement::new(sql, values)).await?;
        let keys = rows.iter().map(ApiKeyRecord::from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(keys, limit, |key| key.id))
    }

    /// One API key with its owner.
    pub async fn api_key(&self, id: i64) -> Result<Option<ApiKeyRecord>> {
        let sql = format!("SELECT {API_KEY_COLUMNS} FROM {API_KEY_SOURCE} WHERE t.id = $1 AND t.kind = 'API_KEY'");
        self.reader.exec().fetch_optional(Statement::new(sql, [id.into()])).await?.as_ref().map(ApiKeyRecord::from_row).transpose()
    }
}
