//! Users (Phoenix 20.26's rules, observed): listed, created and deleted by admins (by anyone with
//! authentication off), the SYSTEM user and the default admin never deleted, nobody created with
//! the SYSTEM role; the viewer is the signed-in user (anonymous with authentication off).
//! Passwords keep the password policy and are stored as argon2id hashes.

use ember_store::{NewUser, Page, UserRecord, DEFAULT_ADMIN_ID, SYSTEM_USER_ID};

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

impl Users<'_> {
    /// Users newest first, a page from the user `cursor` down.
    pub async fn list(&self, caller: &Caller, cursor: Option<i64>, limit: usize) -> Result<Page<UserRecord>> {
        caller.require_admin()?;
        Ok(self.services.store.list_users(cursor, limit).await?)
    }

    pub async fn create(&self, caller: &Caller, mut input: UserInput) -> Result<UserRecord> {
        caller.require_admin()?;
        // Emails are kept as Phoenix keeps them: trimmed and lowercased.
        input.email = input.email.trim().to_lowercase();
        if input.role == "SYSTEM" {
            return Err(ServiceError::bad_request("Cannot create users with SYSTEM role"));
        }
        check_email(&input.email)?;
        if input.username.trim().is_empty() {
            return Err(ServiceError::invalid("username must not be empty"));
        }
        check_name("username", "username", &input.username)?;
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
        };
        Ok(self.services.store.create_user(&user).await?)
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
