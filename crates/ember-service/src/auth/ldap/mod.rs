//! Signing in against an LDAP directory, as Phoenix does with `PHOENIX_LDAP_*`: the directory
//! checks the name and password and says who the user is and, from their groups, which role
//! they have; ember then finds their account (by immutable directory id when one is configured,
//! else by email; only accounts that sign in with LDAP), brings its email and role in line with
//! the directory, or makes the account on first sign-in when sign-up is allowed. Every refusal
//! reads the same ("Invalid username and/or password"), so that none tells a caller which names
//! exist; the reason is logged.

pub mod directory;
pub mod settings;

use ember_core::ErrorCode;
use ember_store::{NewUser, SsoIdentity, StoreError, UserRecord};

pub use directory::{Directory, DirectoryUser};
pub use settings::{LdapSettings, LdapTlsMode};

use super::{Auth, Session};
use crate::audit::AuditEvent;
use crate::error::{Result, ServiceError};

/// Phoenix's answer to every failed LDAP sign-in.
pub const LDAP_LOGIN_FAILED: &str = "Invalid username and/or password";
/// Phoenix's answer when LDAP is not set up.
pub const LDAP_NOT_CONFIGURED: &str = "LDAP authentication is not configured on this server";

fn refused() -> ServiceError {
    ServiceError::new(ErrorCode::Unauthenticated, LDAP_LOGIN_FAILED)
}

/// The throttle's key for a directory name (apart from the emails of password sign-in).
fn throttle_key(username: &str) -> String {
    format!("ldap:{}", username.trim().to_lowercase())
}

impl Auth<'_> {
    /// Whether users may sign in against an LDAP directory.
    pub fn ldap_enabled(&self) -> bool {
        self.enabled() && self.authenticator().directory.is_some()
    }

    /// Signs in with a directory name and password: a new session, or 401 naming nothing; 429
    /// once the name has failed too often; 503 without a directory.
    pub async fn ldap_login(&self, username: Option<&str>, password: Option<&str>) -> Result<Session> {
        let directory = match &self.authenticator().directory {
            Some(directory) if self.enabled() => directory,
            _ => return Err(ServiceError::new(ErrorCode::Unavailable, LDAP_NOT_CONFIGURED)),
        };
        let (Some(username), Some(password)) = (username.filter(|u| !u.trim().is_empty()), password.filter(|p| !p.is_empty())) else {
            return Err(ServiceError::new(ErrorCode::Unauthenticated, "Username and password required"));
        };
        let key = throttle_key(username);
        let throttle = self.authenticator().throttle.as_ref();
        if throttle.is_some_and(|throttle| throttle.is_blocked(&key)) {
            self.services.metrics().record_sign_in("locked_out");
            return Err(ServiceError::new(ErrorCode::TooManyRequests, super::THROTTLED));
        }
        let Some(found) = directory.authenticate(username, password).await else {
            if let Some(throttle) = throttle {
                throttle.record_failure(&key);
            }
            self.services.metrics().record_sign_in("failed");
            return Err(refused());
        };
        let user = self.directory_account(directory, &found).await?;
        if let Some(throttle) = throttle {
            throttle.record_success(&key);
        }
        self.services.audit().record(Some(user.id), AuditEvent::SignedIn { user_id: user.id }).await;
        self.services.metrics().record_sign_in("signed_in");
        self.new_session(user.id).await
    }

    /// The account of a user the directory vouched for, made or brought up to date.
    async fn directory_account(&self, directory: &Directory, found: &DirectoryUser) -> Result<UserRecord> {
        let store = &self.services.store;
        let email = found.email.trim().to_lowercase();
        let by_email = || async {
            Ok::<_, ServiceError>(store.user_by_email(&email).await?.map(|(user, _)| user).filter(|user| user.auth_method == "LDAP"))
        };
        let existing = match &found.unique_id {
            Some(unique_id) => match store.user_by_ldap_unique_id(unique_id).await?.filter(|user| user.auth_method == "LDAP") {
                Some(user) => Some(user),
                None => match by_email().await? {
                    // An account holding another id is another person whose email was reused.
                    Some(user) if user.ldap_unique_id.as_deref().is_some_and(|id| !id.eq_ignore_ascii_case(unique_id)) => {
                        tracing::error!(user_id = user.id, "LDAP account conflict: the email's account has another directory id");
                        return Err(refused());
                    }
                    other => other,
                },
            },
            None => by_email().await?,
        };
        let role = found.role.as_str();
        if let Some(user) = existing {
            return match store.sync_sso_user(user.id, &email, Some(role), SsoIdentity::Ldap { unique_id: found.unique_id.as_deref() }).await
            {
                Ok(Some(user)) => Ok(user),
                Ok(None) => Err(refused()),
                Err(StoreError::Conflict(_)) => {
                    tracing::error!(user_id = user.id, "LDAP sign-in: the directory's new email belongs to another account");
                    Err(refused())
                }
                Err(error) => Err(error.into()),
            };
        }
        if !directory.allow_sign_up() {
            tracing::info!("LDAP sign-in refused: no account, and PHOENIX_LDAP_ALLOW_SIGN_UP is false");
            return Err(refused());
        }
        self.sign_up(&email, found).await
    }

    /// A new LDAP account named after the directory's display name (made unique if taken).
    async fn sign_up(&self, email: &str, found: &DirectoryUser) -> Result<UserRecord> {
        let store = &self.services.store;
        if store.user_by_email(email).await?.is_some() {
            tracing::error!("LDAP sign-up refused: the email belongs to an account that signs in another way");
            return Err(refused());
        }
        let user = NewUser {
            email,
            username: &found.display_name,
            role: found.role.as_str(),
            auth_method: "LDAP",
            password_hash: None,
            password_needs_reset: false,
            oauth2_client_id: None,
            oauth2_user_id: None,
            ldap_unique_id: found.unique_id.as_deref(),
        };
        match self.create_sso_account(user).await {
            Ok(created) => Ok(created),
            Err(StoreError::Conflict(_)) => Err(refused()),
            Err(error) => Err(error.into()),
        }
    }
}
