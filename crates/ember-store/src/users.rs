//! Users: the SYSTEM user and the default admin that every database has (ids 1 and 2, made by the
//! migration), and the users an admin creates. Listed newest first; an email is unique whatever
//! its case, a username exactly.

use ember_core::time::now_nanos;

use crate::engine::backend::{Row, Statement};
use crate::error::{Result, StoreError};
use crate::{Page, Store};

/// The rowid of the SYSTEM user.
pub const SYSTEM_USER_ID: i64 = 1;
/// The rowid of the default admin.
pub const DEFAULT_ADMIN_ID: i64 = 2;

/// A stored user (never its password hash).
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub id: i64,
    pub email: String,
    pub username: String,
    /// `SYSTEM`, `ADMIN`, `MEMBER` or `VIEWER`.
    pub role: String,
    /// `LOCAL`, `OAUTH2` or `LDAP`.
    pub auth_method: String,
    pub password_needs_reset: bool,
    pub oauth2_client_id: Option<String>,
    pub oauth2_user_id: Option<String>,
    /// An LDAP user's immutable directory id (lowercased), when the directory is set up to
    /// identify users by one (`PHOENIX_LDAP_ATTR_UNIQUE_ID`).
    pub ldap_unique_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A user to create; the caller has checked the fields and hashed the password.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub username: &'a str,
    pub role: &'a str,
    pub auth_method: &'a str,
    pub password_hash: Option<&'a str>,
    pub password_needs_reset: bool,
    pub oauth2_client_id: Option<&'a str>,
    pub oauth2_user_id: Option<&'a str>,
    pub ldap_unique_id: Option<&'a str>,
}

/// How a single-sign-on user is recognised at their next sign-in.
#[derive(Debug, Clone, Copy)]
pub enum SsoIdentity<'a> {
    /// An LDAP user, by their directory's immutable id when it is configured (else by email).
    Ldap { unique_id: Option<&'a str> },
    /// An OAuth2 user, by the client and the provider's subject.
    OAuth2 { client_id: &'a str, user_id: &'a str },
}

/// Changes to a user; `None` leaves a field as it is. The caller has checked the fields and
/// hashed the password.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate<'a> {
    pub username: Option<&'a str>,
    pub role: Option<&'a str>,
    /// A new password hash, and whether the user must change it at next sign-in.
    pub password: Option<(&'a str, bool)>,
}

const USER_COLUMNS: &str = "id, email, username, role, auth_method, password_needs_reset, oauth2_client_id, oauth2_user_id, \
     ldap_unique_id, created_at, updated_at";

impl UserRecord {
    fn from_row(row: &Row) -> Result<Self> {
        Ok(UserRecord {
            id: row.get(0)?,
            email: row.get(1)?,
            username: row.get(2)?,
            role: row.get(3)?,
            auth_method: row.get(4)?,
            password_needs_reset: row.get::<i64, _>(5)? != 0,
            oauth2_client_id: row.get(6)?,
            oauth2_user_id: row.get(7)?,
            ldap_unique_id: row.get(8)?,
            created_at: row.get(9)?,
            updated_at: row.get(10)?,
        })
    }
}

impl Store {
    /// Users newest first, a page of `limit` from the user `from_id` down.
    /// The admins' mail addresses, oldest admin first, at most `limit` (the storage warning).
    pub async fn admin_emails(&self, limit: usize) -> Result<Vec<String>> {
        let statement = Statement::new("SELECT email FROM users WHERE role = 'ADMIN' ORDER BY id LIMIT $1", [(limit as i64).into()]);
        let rows = self.reader.exec().fetch_all(statement).await?;
        rows.iter().map(|row| row.get(0)).collect()
    }

    pub async fn list_users(&self, from_id: Option<i64>, limit: usize) -> Result<Page<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id <= $1 ORDER BY id DESC LIMIT $2");
        let rows =
            self.reader.exec().fetch_all(Statement::new(sql, [from_id.unwrap_or(i64::MAX).into(), (limit as i64 + 1).into()])).await?;
        let users = rows.iter().map(UserRecord::from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(users, limit, |user| user.id))
    }

    pub async fn get_user(&self, id: i64) -> Result<Option<UserRecord>> {
        let statement = Statement::new(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"), [id.into()]);
        self.reader.exec().fetch_optional(statement).await?.as_ref().map(UserRecord::from_row).transpose()
    }

    /// The users with these ids (those that exist), in no particular order: the authors of what
    /// a page shows, in one query.
    pub async fn users_by_ids(&self, ids: &[i64]) -> Result<Vec<UserRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id IN ({})", self.dialect.placeholders(1, ids.len()));
        let rows = self.reader.exec().fetch_all(Statement::new(sql, ids.iter().map(|id| sea_query::Value::from(*id)))).await?;
        rows.iter().map(UserRecord::from_row).collect()
    }

    /// A user's password hash (PHC text), if they have one; sign-in checks passwords against it.
    pub async fn password_hash(&self, id: i64) -> Result<Option<String>> {
        let statement = Statement::new("SELECT password_hash FROM users WHERE id = $1", [id.into()]);
        match self.reader.exec().fetch_optional(statement).await? {
            Some(row) => row.get(0),
            None => Ok(None),
        }
    }

    /// The user with this email (any case) and their password hash, for signing in.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<(UserRecord, Option<String>)>> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email_key = $1");
        let statement = Statement::new(sql, [email.to_lowercase().into()]);
        let Some(row) = self.current_reader().exec().fetch_optional(statement).await? else {
            return Ok(None);
        };
        Ok(Some((UserRecord::from_row(&row)?, row.get(11)?)))
    }

    /// Sets a user's password hash and whether they must change it at next sign-in.
    pub async fn set_password(&self, id: i64, password_hash: &str, needs_reset: bool) -> Result<bool> {
        let sql = "UPDATE users SET password_hash = $1, password_needs_reset = $2, updated_at = $3 WHERE id = $4";
        let values = [password_hash.into(), i64::from(needs_reset).into(), now_nanos().into(), id.into()];
        Ok(self.writer.exec().execute(Statement::new(sql, values)).await? > 0)
    }

    /// Gives a user a first password unless they have one (the default admin's initial password).
    pub async fn set_password_if_unset(&self, id: i64, password_hash: &str) -> Result<()> {
        let sql = "UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash IS NULL";
        self.writer.exec().execute(Statement::new(sql, [password_hash.into(), id.into()])).await?;
        Ok(())
    }

    /// Creates a user; `Conflict` naming the email or username that is taken.
    pub async fn create_user(&self, user: &NewUser<'_>) -> Result<UserRecord> {
        let now = now_nanos();
        let mut tx = self.writer.begin().await?;
        let email_key = user.email.to_lowercase();
        let taken = |column: &str, value: &str| Statement::new(format!("SELECT 1 FROM users WHERE {column} = $1"), [value.into()]);
        if tx.exec().fetch_optional(taken("email_key", &email_key)).await?.is_some() {
            return Err(StoreError::Conflict("Email already exists".into()));
        }
        if tx.exec().fetch_optional(taken("username", user.username)).await?.is_some() {
            return Err(StoreError::Conflict("Username already exists".into()));
        }
        let sql = format!(
            "INSERT INTO users (email, email_key, username, role, auth_method, password_hash, password_needs_reset, \
             oauth2_client_id, oauth2_user_id, ldap_unique_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
             RETURNING {USER_COLUMNS}"
        );
        let values = [
            user.email.into(),
            email_key.into(),
            user.username.into(),
            user.role.into(),
            user.auth_method.into(),
            user.password_hash.map(str::to_string).into(),
            i64::from(user.password_needs_reset).into(),
            user.oauth2_client_id.map(str::to_string).into(),
            user.oauth2_user_id.map(str::to_string).into(),
            user.ldap_unique_id.map(str::to_lowercase).into(),
            now.into(),
        ];
        let row = tx.exec().fetch_one(Statement::new(sql, values)).await?;
        let created = UserRecord::from_row(&row)?;
        tx.commit().await?;
        Ok(created)
    }

    /// The user with this LDAP directory id (any case).
    pub async fn user_by_ldap_unique_id(&self, unique_id: &str) -> Result<Option<UserRecord>> {
        let statement =
            Statement::new(format!("SELECT {USER_COLUMNS} FROM users WHERE ldap_unique_id = $1"), [unique_id.to_lowercase().into()]);
        self.current_reader().exec().fetch_optional(statement).await?.as_ref().map(UserRecord::from_row).transpose()
    }

    /// The user signed in as `user_id` at the OAuth2 client `client_id`.
    pub async fn user_by_oauth2_identity(&self, client_id: &str, user_id: &str) -> Result<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE oauth2_client_id = $1 AND oauth2_user_id = $2");
        let statement = Statement::new(sql, [client_id.into(), user_id.into()]);
        self.current_reader().exec().fetch_optional(statement).await?.as_ref().map(UserRecord::from_row).transpose()
    }

    /// Brings a single-sign-on user's row in line with their provider or directory at sign-in:
    /// their email, their role when one is given, and how they are recognised next time.
    /// `None` when there is no such user, `Conflict` when the email belongs to another user.
    pub async fn sync_sso_user(&self, id: i64, email: &str, role: Option<&str>, identity: SsoIdentity<'_>) -> Result<Option<UserRecord>> {
        let mut tx = self.writer.begin().await?;
        let email_key = email.to_lowercase();
        let taken = Statement::new("SELECT 1 FROM users WHERE email_key = $1 AND id <> $2", [email_key.clone().into(), id.into()]);
        if tx.exec().fetch_optional(taken).await?.is_some() {
            return Err(StoreError::Conflict("Email already exists".into()));
        }
        let mut values: Vec<sea_query::Value> =
            vec![email.into(), email_key.into(), role.map(str::to_string).into(), now_nanos().into(), id.into()];
        let identity_columns = match identity {
            // A directory id, once known, stays (a directory set up without one sends none).
            SsoIdentity::Ldap { unique_id } => {
                values.push(unique_id.map(str::to_lowercase).into());
                "ldap_unique_id = COALESCE($6, ldap_unique_id)"
            }
            SsoIdentity::OAuth2 { client_id, user_id } => {
                values.extend([client_id.into(), user_id.into()]);
                "oauth2_client_id = $6, oauth2_user_id = $7"
            }
        };
        let sql = format!(
            "UPDATE users SET email = $1, email_key = $2, role = COALESCE($3, role), updated_at = $4, {identity_columns} \
             WHERE id = $5 RETURNING {USER_COLUMNS}"
        );
        let Some(row) = tx.exec().fetch_optional(Statement::new(sql, values)).await? else {
            return Ok(None);
        };
        let updated = UserRecord::from_row(&row)?;
        tx.commit().await?;
        Ok(Some(updated))
    }

    /// Applies `update` to a user: `None` when there is no such user, `Conflict` when the new
    /// username is taken.
    pub async fn update_user(&self, id: i64, update: &UserUpdate<'_>) -> Result<Option<UserRecord>> {
        let mut tx = self.writer.begin().await?;
        if let Some(username) = update.username {
            let taken = Statement::new("SELECT 1 FROM users WHERE username = $1 AND id <> $2", [username.into(), id.into()]);
            if tx.exec().fetch_optional(taken).await?.is_some() {
                return Err(StoreError::Conflict("Username already exists".into()));
            }
        }
        let mut assignments = vec!["updated_at = $1".to_string()];
        let mut values: Vec<sea_query::Value> = vec![now_nanos().into()];
        let mut set = |column: &str, value: sea_query::Value| {
            values.push(value);
            assignments.push(format!("{column} = ${}", values.len()));
        };
        if let Some(username) = update.username {
            set("username", username.into());
        }
        if let Some(role) = update.role {
            set("role", role.into());
        }
        if let Some((hash, needs_reset)) = update.password {
            set("password_hash", hash.into());
            set("password_needs_reset", i64::from(needs_reset).into());
        }
        values.push(id.into());
        let sql = format!("UPDATE users SET {} WHERE id = ${} RETURNING {USER_COLUMNS}", assignments.join(", "), values.len());
        let Some(row) = tx.exec().fetch_optional(Statement::new(sql, values)).await? else {
            return Ok(None);
        };
        let updated = UserRecord::from_row(&row)?;
        tx.commit().await?;
        Ok(Some(updated))
    }

    /// Deletes the users `ids`, all or none: `NotFound` unless every one exists and is not the
    /// SYSTEM user. The caller keeps the default admin.
    pub async fn delete_users(&self, ids: &[i64]) -> Result<()> {
        let mut unique = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let list = self.dialect.placeholders(1, unique.len());
        let values = || unique.iter().map(|id| sea_query::Value::from(*id)).collect::<Vec<_>>();
        let mut tx = self.writer.begin().await?;
        let count = Statement::new(format!("SELECT COUNT(*) FROM users WHERE id IN ({list}) AND role <> 'SYSTEM'"), values());
        let found: i64 = tx.exec().fetch_one(count).await?.get(0)?;
        if found < unique.len() as i64 {
            return Err(StoreError::NotFound("Some user IDs could not be found".into()));
        }
        tx.exec().execute(Statement::new(format!("DELETE FROM users WHERE id IN ({list})"), values())).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a user; `false` when there is none. The caller keeps the SYSTEM user and the
    /// default admin.
    pub async fn delete_user(&self, id: i64) -> Result<bool> {
        let deleted = self.writer.exec().execute(Statement::new("DELETE FROM users WHERE id = $1", [id.into()])).await?;
        Ok(deleted > 0)
    }
}
