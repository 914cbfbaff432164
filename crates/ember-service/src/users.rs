//! Users, with authentication off (Phoenix's behaviour, observed on 20.26.1): listed and created
//! by anyone, the SYSTEM user and the default admin never deleted, nobody created with the SYSTEM
//! role; the caller is the anonymous viewer; API keys need authentication. Passwords are hashed
//! with argon2id before they are stored. Authentication builds on these rules.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHasher};
use ember_store::{NewUser, Page, UserRecord, DEFAULT_ADMIN_ID, SYSTEM_USER_ID};

use crate::error::{Result, ServiceError};
use crate::limits::check_name;
use crate::{Caller, Services};

/// The shortest password Phoenix accepts.
pub const MIN_PASSWORD_CHARS: usize = 4;

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
    pub async fn list(&self, _caller: &Caller, cursor: Option<i64>, limit: usize) -> Result<Page<UserRecord>> {
        Ok(self.services.store.list_users(cursor, limit).await?)
    }

    pub async fn create(&self, _caller: &Caller, mut input: UserInput) -> Result<UserRecord> {
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
                // Hashing takes tens of milliseconds of CPU: off the async threads.
                let password = password.clone();
                let hash = tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(ServiceError::internal)??;
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
    pub async fn delete(&self, _caller: &Caller, id: i64) -> Result<()> {
        if id == SYSTEM_USER_ID || id == DEFAULT_ADMIN_ID {
            return Err(ServiceError::forbidden("Cannot delete the default admin or system user"));
        }
        if !self.services.store.delete_user(id).await? {
            return Err(ServiceError::not_found("User not found"));
        }
        Ok(())
    }

    /// API keys belong to signed-in users and the system: refused while authentication is off.
    pub fn api_keys(&self, _caller: &Caller) -> Result<()> {
        Err(ServiceError::forbidden(AUTH_REQUIRED))
    }
}

/// An argon2id hash in PHC form; a 422 for a password shorter than Phoenix allows.
fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ServiceError::invalid(format!("Password must be at least {MIN_PASSWORD_CHARS} characters long")));
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|hash| hash.to_string()).map_err(ServiceError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_argon2id_hashes_and_short_ones_are_refused() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        assert_ne!(hash, hash_password("correct horse").unwrap(), "salted");
        assert_eq!(hash_password("abc").unwrap_err().to_string(), "Password must be at least 4 characters long");
    }

    #[test]
    fn emails_need_a_local_part_and_a_domain() {
        assert!(check_email("a@x.com").is_ok());
        for bad in ["notanemail", "@x.com", "a@", "a b@x.com", "a@b@c"] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }
}
