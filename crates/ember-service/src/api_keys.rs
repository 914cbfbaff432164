//! API keys, with Phoenix 20.26's rules: every user may list and create their own (from a signed-in
//! session, never from another key), revoke their own, and an admin anyone's; system keys (the
//! SYSTEM user's) are for admins, created from an admin's session or the admin secret. A key is
//! shown once, at creation; only its row is stored. Nothing here works with authentication off
//! (403 naming the setting), where a key would outlive the open deployment that issued it.

use ember_core::time::now_nanos;
use ember_core::{GlobalId, GlobalType};
use ember_store::{ApiKeyRecord, KeyScope, NewToken, Page, TokenKind, SYSTEM_USER_ID};

use crate::audit::AuditEvent;
use crate::caller::{Credential, Role};
use crate::error::{Result, ServiceError};
use crate::users::AUTH_REQUIRED;
use crate::{Caller, Services};

const KEYS_CANNOT_MAKE_KEYS: &str = "API keys cannot create API keys";
pub const SYSTEM_KEYS_ELSEWHERE: &str = "System API keys must be managed through the /system/api_keys endpoints.";

/// A key to create.
#[derive(Debug, Clone)]
pub struct ApiKeyInput {
    pub name: String,
    pub description: Option<String>,
    /// Nanoseconds since the epoch; `None` never expires.
    pub expires_at: Option<i64>,
    /// The one project the key may reach (a name or GlobalID); every project its owner may when
    /// absent.
    pub project: Option<String>,
    /// The key may only send spans.
    pub ingest_only: bool,
    /// Whether an expiry already past is refused.
    pub past_expiry: PastExpiry,
}

/// What an expiry already past means. Phoenix's REST API refuses it; its GraphQL API makes the
/// key anyway (expired from the start, so it never authenticates) and Phoenix's own tests rely on
/// that to make expired keys. Each transport keeps the contract of the Phoenix API it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PastExpiry {
    Refused,
    Allowed,
}

/// A new key: its stored facts and the key itself (shown this once).
#[derive(Debug, Clone)]
pub struct CreatedApiKey {
    pub record: ApiKeyRecord,
    pub key: String,
}

/// The row of a key's GlobalID; 422 naming the id otherwise.
fn key_rowid(id: &str, global_type: GlobalType) -> Result<i64> {
    GlobalId::decode_as(id, global_type)
        .ok_or_else(|| ServiceError::invalid(format!("Invalid {} GlobalID format: {id}", global_type.name())))
}

pub struct ApiKeys<'a> {
    pub(crate) services: &'a Services,
}

impl ApiKeys<'_> {
    /// The signed-in caller; 403 with authentication off.
    fn signed_in(&self, caller: &Caller) -> Result<(i64, Role, Credential)> {
        match (caller.user_and_role(), caller.credential()) {
            (Some((user_id, role)), Some(credential)) if self.services.auth().enabled() => Ok((user_id, role, credential)),
            _ => Err(ServiceError::forbidden(AUTH_REQUIRED)),
        }
    }

    /// The caller's own keys, newest first (none for the system).
    pub async fn list_own(&self, caller: &Caller) -> Result<Vec<ApiKeyRecord>> {
        let (user_id, role, _) = self.signed_in(caller)?;
        if role == Role::System {
            return Ok(Vec::new());
        }
        Ok(self.services.store.user_api_keys(user_id).await?)
    }

    /// One user's keys: for the user themself and for admins (none for the system, whose keys
    /// are system keys).
    pub async fn list_of_user(&self, caller: &Caller, user_id: i64) -> Result<Vec<ApiKeyRecord>> {
        let (caller_id, _, _) = self.signed_in(caller)?;
        if caller_id != user_id {
            caller.require_admin()?;
        }
        if user_id == SYSTEM_USER_ID {
            return Ok(Vec::new());
        }
        Ok(self.services.store.user_api_keys(user_id).await?)
    }

    /// Every human user's keys (admins only), newest first, from the key `cursor` (a
    /// `UserApiKey` GlobalID) down.
    pub async fn list_all_users(&self, caller: &Caller, cursor: Option<&str>, limit: usize) -> Result<Page<ApiKeyRecord>> {
        self.signed_in(caller)?;
        caller.require_admin()?;
        let cursor = cursor.map(|cursor| key_rowid(cursor, GlobalType::UserApiKey)).transpose()?;
        Ok(self.services.store.all_user_api_keys(cursor, limit).await?)
    }

    /// Whether the caller may issue a key of their own (`system`: a system key): a personal key
    /// from a person's signed-in session, a system key from an admin's session or the admin
    /// secret; never from another key.
    pub fn check_issuer(&self, caller: &Caller, system: bool) -> Result<()> {
        let (_, role, credential) = self.signed_in(caller)?;
        if system {
            caller.require_admin()?;
            if matches!(credential, Credential::ApiKey { .. }) {
                return Err(ServiceError::forbidden(KEYS_CANNOT_MAKE_KEYS));
            }
            return Ok(());
        }
        if !matches!(credential, Credential::Session { .. }) {
            return Err(ServiceError::forbidden(KEYS_CANNOT_MAKE_KEYS));
        }
        if role == Role::System {
            return Err(ServiceError::forbidden(SYSTEM_KEYS_ELSEWHERE));
        }
        Ok(())
    }

    /// A key for the caller, who must be signed in to a session (a key cannot make keys).
    pub async fn create_own(&self, caller: &Caller, input: ApiKeyInput) -> Result<CreatedApiKey> {
        self.check_issuer(caller, false)?;
        let (user_id, _, _) = self.signed_in(caller)?;
        self.create(caller, user_id, input).await
    }

    /// Revokes one of the caller's keys (by its `UserApiKey` GlobalID), or anyone's for an admin;
    /// 404 for a key the caller may not revoke, so that others' keys cannot be probed.
    pub async fn delete_own(&self, caller: &Caller, id: &str) -> Result<()> {
        let (user_id, role, credential) = self.signed_in(caller)?;
        let admin_secret = credential == Credential::AdminSecret;
        if role == Role::System && !admin_secret {
            return Err(ServiceError::forbidden(SYSTEM_KEYS_ELSEWHERE));
        }
        let id = key_rowid(id, GlobalType::UserApiKey)?;
        let key = self.services.store.api_key(id).await?;
        let allowed = key.is_some_and(|key| !key.owner_is_system && (admin_secret || role == Role::Admin || key.user_id == user_id));
        if !allowed {
            return Err(ServiceError::not_found("API key not found"));
        }
        self.revoke(caller, id).await
    }

    /// The system's keys (admins only).
    pub async fn list_system(&self, caller: &Caller) -> Result<Vec<ApiKeyRecord>> {
        self.signed_in(caller)?;
        caller.require_admin()?;
        Ok(self.services.store.system_api_keys().await?)
    }

    /// A system key, from an admin's session or the admin secret.
    pub async fn create_system(&self, caller: &Caller, input: ApiKeyInput) -> Result<CreatedApiKey> {
        self.check_issuer(caller, true)?;
        self.create(caller, SYSTEM_USER_ID, input).await
    }

    /// Revokes a system key (admins only, by its `SystemApiKey` GlobalID); 404 for any other key.
    pub async fn delete_system(&self, caller: &Caller, id: &str) -> Result<()> {
        self.signed_in(caller)?;
        caller.require_admin()?;
        let id = key_rowid(id, GlobalType::SystemApiKey)?;
        let key = self.services.store.api_key(id).await?;
        if !key.is_some_and(|key| key.owner_is_system) {
            return Err(ServiceError::not_found("System API key not found"));
        }
        self.revoke(caller, id).await
    }

    async fn create(&self, caller: &Caller, user_id: i64, input: ApiKeyInput) -> Result<CreatedApiKey> {
        let name = input.name.trim();
        if name.is_empty() {
            return Err(ServiceError::invalid("Name cannot be empty"));
        }
        crate::limits::check_name("name", "name", name)?;
        if input.past_expiry == PastExpiry::Refused && input.expires_at.is_some_and(|expires_at| expires_at <= now_nanos()) {
            return Err(ServiceError::invalid("Expiration time must be in the future"));
        }
        // A key is scoped to a project its creator may reach; the scope never adds to the owner's rights.
        let project_id = match &input.project {
            Some(reference) => Some(self.services.projects().resolve(caller, crate::ProjectRef::Identifier(reference)).await?.id),
            None => None,
        };
        let token = NewToken {
            kind: TokenKind::ApiKey,
            user_id,
            refresh_token_id: None,
            name: Some(name),
            description: input.description.as_deref(),
            expires_at: input.expires_at,
            scope: KeyScope { project_id, ingest_only: input.ingest_only },
        };
        let (id, key) = self.services.auth().issue(token).await?;
        let record = self.services.store.api_key(id).await?.ok_or_else(|| ServiceError::internal("a new API key vanished"))?;
        let event = AuditEvent::ApiKeyCreated { key_id: id, owner_id: user_id, project_id, ingest_only: input.ingest_only };
        self.services.audit().record(caller.user_id(), event).await;
        Ok(CreatedApiKey { record, key })
    }

    async fn revoke(&self, caller: &Caller, id: i64) -> Result<()> {
        self.services.store.delete_token(id, TokenKind::ApiKey).await?;
        self.services.audit().record(caller.user_id(), AuditEvent::ApiKeyDeleted { key_id: id }).await;
        Ok(())
    }
}
