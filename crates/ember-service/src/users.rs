//! Users (Phoenix 20.26's rules, observed): listed, created and deleted by admins (by anyone with
//! authentication off), the SYSTEM user and the default admin never deleted, nobody created with
//! the SYSTEM role; the viewer is the signed-in user (anonymous with authentication off).
//! Passwords keep the password policy and are stored as argon2id hashes.

use ember_store::{NewUser, Page, UserRecord, UserUpdate, DEFAULT_ADMIN_ID, SYSTEM_USER_ID};

use crate::audit::AuditEvent;
use crate::error::{Result, ServiceError};
use crate::limits::check_name;
use crate::{Caller, Services};

/// Why API keys are refused while authentication is off, in Phoenix's words.
pub const AUTH_REQUIRED: &str =
    "This action requires authentication to be enabled. Set the PHOENIX_ENABLE_AUTH environment variable to true.";

/// How a new user signs in.
#[derive(Debug, Clone)]
pub enum SignIn {
    Local { password: Option<String> },
    OAuth2 { client_id: Option<String>, user_id: Option<String> },
    Ldap,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct UserInput {
    pub email: String,
    pub username: String,
    /// `SYSTEM`, `ADMIN`, `MEMBER` or `VIEWER` (the transport has parsed it).
    pub role: String,
    pub sign_in: SignIn,
}

/// Changes an admin makes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub username: Option<String>,
    /// `ADMIN`, `MEMBER` or `VIEWER`.
    pub role: Option<String>,
    pub password: Option<String>,
}

/// Changes the signed-in user makes to themself.
#[derive(Debug, Clone, Default)]
pub struct ViewerPatch {
    pub username: Option<String>,
    pub new_password: Option<String>,
    /// Required with a new password.
    pub current_password: Option<String>,
}

const NOTHING_TO_CHANGE: &str = "At least one field must be set";
const BASIC_AUTH_DISABLED: &str = "Basic auth is disabled: OAuth2 authentication only";
const NOT_LOCAL: &str = "Cannot modify password for non-local user";

/// Whether a user may be deleted: all but the SYSTEM user and the default admin.
pub fn is_deletable(id: i64) -> bool {
    id != SYSTEM_USER_ID && id != DEFAULT_ADMIN_ID
}

pub struct Users<'a> {
    pub(crate) services: &'a Services,
}

/// A 422 when an email is not `local@domain`.
fn check_email(email: &str) -> Result<()> {
    check_name("email", "email", email)?;
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !email.contains(char::is_whitespace) =>
        {
            Ok(())
        }
        _ => Err(ServiceError::invalid(format!("{email:?} is not an email address"))),
    }
}

fn check_username(username: &str) -> Result<()> {
    if username.trim().is_empty() {
        return Err(ServiceError::invalid("username must not be empty"));
    }
    check_name("username", "username", username)
}

impl Users<'_> {
    /// Users newest first, a page from the user `cursor` down.
    pub async fn list(&self, caller: &Caller, cursor: Option<i64>, limit: usize) -> Result<Page<UserRecord>> {
        caller.require_admin()?;
        Ok(self.services.store.list_users(cursor, limit).await?)
    }

    /// A user: the caller themself, or anyone for an admin (403 otherwise, as in Phoenix).
    pub async fn get(&self, caller: &Caller, id: i64) -> Result<UserRecord> {
        let is_self = caller.user_and_role().is_some_and(|(caller_id, _)| caller_id == id);
        if !is_self {
            caller.require_admin()?;
        }
        self.services.store.get_user(id).await?.ok_or_else(|| ServiceError::not_found("User not found"))
    }

    /// The authors of things the caller already reads (annotations, prompt versions), by id:
    /// whoever sees a thing sees who wrote it, as in Phoenix. Deleted authors are left out.
    pub async fn authors(&self, _caller: &Caller, ids: &[i64]) -> Result<Vec<UserRecord>> {
        Ok(self.services.store.users_by_ids(ids).await?)
    }

    /// The people: every user but the SYSTEM user, newest first from the user `cursor` down.
    pub async fn list_people(&self, caller: &Caller, cursor: Option<i64>, limit: usize) -> Result<Page<UserRecord>> {
        let mut page = self.list(caller, cursor, limit).await?;
        page.items.retain(|user| user.id != SYSTEM_USER_ID);
        Ok(page)
    }

    pub async fn create(&self, caller: &Caller, mut input: UserInput) -> Result<UserRecord> {
        caller.require_admin()?;
        // Emails are kept as Phoenix keeps them: trimmed and lowercased.
        input.email = input.email.trim().to_lowercase();
        if input.role == "SYSTEM" {
            return Err(ServiceError::bad_request("Cannot create users with SYSTEM role"));
        }
        check_email(&input.email)?;
        check_username(&input.username)?;
        let (auth_method, password_hash, oauth2) = match &input.sign_in {
            SignIn::Local { password: None } => ("LOCAL", None, (None, None)),
            SignIn::Local { password: Some(password) } => {
                let hash = self.services.auth().hash_new_password(password).await?;
                ("LOCAL", Some(hash), (None, None))
            }
            SignIn::OAuth2 { client_id, user_id } => ("OAUTH2", None, (client_id.as_deref(), user_id.as_deref())),
            SignIn::Ldap => ("LDAP", None, (None, None)),
        };
        let user = NewUser {
            email: &input.email,
            username: &input.username,
            role: &input.role,
            auth_method,
            password_hash: password_hash.as_deref(),
            // A user an admin creates sets their own password at first sign-in, as in Phoenix.
            password_needs_reset: auth_method == "LOCAL",
            oauth2_client_id: oauth2.0,
            oauth2_user_id: oauth2.1,
            ldap_unique_id: None,
        };
        let created = self.services.store.create_user(&user).await?;
        let event = AuditEvent::UserCreated { user_id: created.id, role: created.role.clone() };
        self.services.audit().record(caller.user_id(), event).await;
        Ok(created)
    }

    /// An admin's changes to a user (Phoenix's `patchUser`): a new password must be changed at
    /// the user's next sign-in; a new role or password ends the user's sessions. Nobody changes
    /// their own role or the default admin's.
    pub async fn patch(&self, caller: &Caller, id: i64, patch: UserPatch) -> Result<UserRecord> {
        caller.require_admin()?;
        if patch.username.is_none() && patch.role.is_none() && patch.password.is_none() {
            return Err(ServiceError::bad_request(NOTHING_TO_CHANGE));
        }
        let password_hash = match &patch.password {
            Some(password) => Some(self.new_password_hash(password).await?),
            None => None,
        };
        if let Some(username) = &patch.username {
            check_username(username)?;
        }
        let user = match self.services.store.get_user(id).await? {
            Some(user) if user.id != SYSTEM_USER_ID => user,
            _ => return Err(ServiceError::not_found("User not found")),
        };
        if let Some(role) = &patch.role {
            if role == "SYSTEM" {
                return Err(ServiceError::bad_request("Cannot give users the SYSTEM role"));
            }
            if id == DEFAULT_ADMIN_ID {
                return Err(ServiceError::forbidden("Cannot modify role for the default admin user"));
            }
            if caller.user_and_role().is_some_and(|(caller_id, _)| caller_id == id) {
                return Err(ServiceError::forbidden("Cannot modify own role"));
            }
        }
        if password_hash.is_some() && user.auth_method != "LOCAL" {
            return Err(ServiceError::conflict(NOT_LOCAL));
        }
        let update = UserUpdate {
            username: patch.username.as_deref(),
            role: patch.role.as_deref(),
            password: password_hash.as_deref().map(|hash| (hash, true)),
        };
        let updated = self.services.store.update_user(id, &update).await?.ok_or_else(|| ServiceError::not_found("User not found"))?;
        if update.role.is_some() || update.password.is_some() {
            self.services.store.end_sign_in_sessions(id).await?;
        }
        let event = AuditEvent::UserChanged {
            user_id: id,
            role: patch.role.clone(),
            username: patch.username.clone(),
            password_reset: update.password.is_some(),
        };
        self.services.audit().record(caller.user_id(), event).await;
        Ok(updated)
    }

    /// The signed-in user's changes to themself (Phoenix's `patchViewer`): a new password needs
    /// the current one and ends every session of the user (the transport clears the cookies).
    pub async fn patch_viewer(&self, caller: &Caller, patch: ViewerPatch) -> Result<UserRecord> {
        let user_id = match caller.user_and_role() {
            Some((user_id, role)) if role != crate::caller::Role::System => user_id,
            Some(_) => return Err(ServiceError::forbidden("The system user cannot be changed")),
            None => return Err(ServiceError::new(ember_core::ErrorCode::Unauthenticated, "Not signed in")),
        };
        if patch.username.is_none() && patch.new_password.is_none() {
            return Err(ServiceError::bad_request(NOTHING_TO_CHANGE));
        }
        if let Some(username) = &patch.username {
            check_username(username)?;
        }
        let password_hash = match &patch.new_password {
            Some(new) => {
                if !self.services.auth().basic_auth_enabled() {
                    return Err(ServiceError::bad_request(BASIC_AUTH_DISABLED));
                }
                let Some(current) = &patch.current_password else {
                    return Err(ServiceError::bad_request("current_password is required when modifying password"));
                };
                let hash = self.new_password_hash(new).await?;
                let user = self.services.store.get_user(user_id).await?.ok_or_else(|| ServiceError::not_found("User not found"))?;
                if user.auth_method != "LOCAL" {
                    return Err(ServiceError::conflict(NOT_LOCAL));
                }
                if !self.services.auth().verify_current_password(user_id, current).await? {
                    return Err(ServiceError::conflict("Valid current password is required to modify password"));
                }
                Some(hash)
            }
            None => None,
        };
        let update =
            UserUpdate { username: patch.username.as_deref(), role: None, password: password_hash.as_deref().map(|hash| (hash, false)) };
        let updated = self.services.store.update_user(user_id, &update).await?.ok_or_else(|| ServiceError::not_found("User not found"))?;
        if update.password.is_some() {
            self.services.store.end_sign_in_sessions(user_id).await?;
            self.services.audit().record(Some(user_id), AuditEvent::PasswordChanged { user_id }).await;
        }
        Ok(updated)
    }

    /// A new password's hash, when local passwords are allowed and it keeps the policy.
    async fn new_password_hash(&self, password: &str) -> Result<String> {
        if !self.services.auth().basic_auth_enabled() {
            return Err(ServiceError::bad_request(BASIC_AUTH_DISABLED));
        }
        self.services.auth().hash_new_password(password).await
    }

    /// Deletes several users, all or none (Phoenix's `deleteUsers`): 409 if the default admin is
    /// among them, 404 if any is unknown (the SYSTEM user counts as unknown).
    pub async fn delete_many(&self, caller: &Caller, ids: &[i64]) -> Result<()> {
        caller.require_admin()?;
        if ids.is_empty() {
            return Err(ServiceError::bad_request("At least one user ID is required"));
        }
        if ids.contains(&DEFAULT_ADMIN_ID) {
            return Err(ServiceError::conflict("Cannot delete the default admin user"));
        }
        self.services.store.delete_users(ids).await?;
        let actor = caller.user_id();
        self.services.audit().record(actor, AuditEvent::UsersDeleted { user_ids: ids.to_vec() }).await;
        Ok(())
    }

    /// Deletes a user; the SYSTEM user and the default admin stay (403), an unknown one is 404.
    pub async fn delete(&self, caller: &Caller, id: i64) -> Result<()> {
        caller.require_admin()?;
        if !is_deletable(id) {
            return Err(ServiceError::forbidden("Cannot delete the default admin or system user"));
        }
        if !self.services.store.delete_user(id).await? {
            return Err(ServiceError::not_found("User not found"));
        }
        Ok(())
    }

    /// The signed-in user; `None` with authentication off (the anonymous viewer).
    pub async fn viewer(&self, caller: &Caller) -> Result<Option<UserRecord>> {
        let Some((user_id, _)) = caller.user_and_role() else {
            return Ok(None);
        };
        let user = self.services.store.get_user(user_id).await?;
        user.map(Some).ok_or_else(|| ServiceError::new(ember_core::ErrorCode::Unauthenticated, "User not found"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_need_a_local_part_and_a_domain() {
        assert!(check_email("a@x.com").is_ok());
        for bad in ["notanemail", "@x.com", "a@", "a b@x.com", "a@b@c"] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }
}
