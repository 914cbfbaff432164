//! Password resets and welcome mail, as Phoenix's `/auth/password-reset-email` and
//! `/auth/password-reset`: a one-time token (a `PASSWORD_RESET` token row, expiring after
//! `PHOENIX_PASSWORD_RESET_TOKEN_EXPIRY_MINUTES`, any earlier one of the user revoked) mailed as
//! a link to the reset page; the token sets a new password once and ends the user's sessions.
//! The answer to a reset request is the same whether or not the address has an account, and
//! the mail is sent in the background so the time taken does not tell either. Links are made
//! from the server's configured address (`PHOENIX_ROOT_URL`), never from the request's headers,
//! so nobody can have a reset link point elsewhere.

use ember_core::time::now_nanos;
use ember_store::{KeyScope, NewToken, TokenKind, UserRecord};

use super::settings::minutes_nanos;
use super::{unauthenticated, Auth};
use crate::audit::AuditEvent;
use crate::error::{Result, ServiceError};
use crate::mail::{password_reset_mail, welcome_mail, Mail};

/// The reset page, under the server's address.
pub const RESET_PAGE: &str = "/reset-password-with-token";

/// Phoenix's answers.
const SMTP_UNAVAILABLE: &str = "SMTP server not configured";
const INVALID_TOKEN: &str = "Invalid token";

impl Auth<'_> {
    /// Mails a reset link to `email` when it is a password user's; answers the same either way.
    /// 503 without an SMTP server, 403 with password sign-in disabled.
    pub async fn request_password_reset(&self, email: Option<&str>) -> Result<()> {
        if !self.basic_auth_enabled() {
            return Err(ServiceError::forbidden("Forbidden"));
        }
        let email = email.map(|email| email.trim().to_lowercase()).filter(|email| !email.is_empty());
        let email = email.ok_or_else(|| ServiceError::invalid("Email required"))?;
        if self.services.mailer.is_none() {
            return Err(ServiceError::new(ember_core::ErrorCode::Unavailable, SMTP_UNAVAILABLE));
        }
        let Some((user, _)) = self.services.store.user_by_email(&email).await? else {
            return Ok(());
        };
        if user.auth_method != "LOCAL" {
            return Ok(());
        }
        let link = self.reset_link(&user).await?;
        let minutes = self.authenticator().settings.password_reset_token_expiry_minutes;
        self.send_in_background(password_reset_mail(&user.email, &link, minutes));
        Ok(())
    }

    /// Sets a new password with a reset token, which is used up; the user's sessions end.
    /// 401 for a token that is not a live reset token.
    pub async fn reset_password(&self, token: Option<&str>, password: Option<&str>) -> Result<()> {
        if !self.basic_auth_enabled() {
            return Err(ServiceError::forbidden("Forbidden"));
        }
        let password = password.filter(|password| !password.is_empty()).ok_or_else(|| ServiceError::invalid("Password required"))?;
        let token = token.filter(|token| !token.is_empty()).ok_or_else(|| unauthenticated(INVALID_TOKEN))?;
        let holder = self.holder_of(token, TokenKind::PasswordReset).await?.ok_or_else(|| unauthenticated(INVALID_TOKEN))?;
        if holder.expires_at.is_none_or(|expires_at| expires_at <= now_nanos()) {
            return Err(unauthenticated(INVALID_TOKEN));
        }
        let store = &self.services.store;
        let user = store.get_user(holder.user_id).await?.filter(|user| user.auth_method == "LOCAL");
        let Some(user) = user else {
            store.delete_token(holder.token_id, TokenKind::PasswordReset).await?;
            return Ok(());
        };
        let hash = self.hash_new_password(password).await?;
        // Used up before the password changes: two requests racing with one token set it once.
        if !store.delete_token(holder.token_id, TokenKind::PasswordReset).await? {
            return Err(unauthenticated(INVALID_TOKEN));
        }
        store.set_password(user.id, &hash, false).await?;
        store.end_sign_in_sessions(user.id).await?;
        if let Some(throttle) = self.authenticator().throttle.as_ref() {
            throttle.record_success(&user.email);
        }
        self.services.audit().record(Some(user.id), AuditEvent::PasswordReset { user_id: user.id }).await;
        Ok(())
    }

    /// Mails a new user their welcome (with a one-time link to choose a password when they sign
    /// in with one); nothing without an SMTP server. A failure is logged, never the caller's.
    pub async fn send_welcome(&self, user: &UserRecord) {
        if self.services.mailer.is_none() {
            return;
        }
        let set_password = match user.auth_method.as_str() {
            "LOCAL" => match self.reset_link(user).await {
                Ok(link) => Some(link),
                Err(error) => {
                    tracing::warn!(%error, user_id = user.id, "no welcome mail: its password link could not be made");
                    return;
                }
            },
            _ => None,
        };
        let minutes = self.authenticator().settings.password_reset_token_expiry_minutes;
        let sign_in = format!("{}/login", self.services.site_url);
        let mail = welcome_mail(&user.email, &user.username, &sign_in, set_password.as_deref().map(|link| (link, minutes)));
        self.send_in_background(mail);
    }

    /// A new one-time link to the reset page for `user`, revoking any earlier one.
    async fn reset_link(&self, user: &UserRecord) -> Result<String> {
        let store = &self.services.store;
        store.delete_user_tokens(user.id, TokenKind::PasswordReset).await?;
        let minutes = self.authenticator().settings.password_reset_token_expiry_minutes;
        let token = NewToken {
            kind: TokenKind::PasswordReset,
            user_id: user.id,
            refresh_token_id: None,
            name: None,
            description: None,
            expires_at: Some(now_nanos().saturating_add(minutes_nanos(minutes))),
            scope: KeyScope::default(),
        };
        let (_, token) = self.issue(token).await?;
        let query = percent_encoding::utf8_percent_encode(&token, percent_encoding::NON_ALPHANUMERIC);
        Ok(format!("{}{RESET_PAGE}?token={query}", self.services.site_url))
    }

    fn send_in_background(&self, mail: Mail) {
        let Some(mailer) = self.services.mailer.clone() else { return };
        tokio::spawn(async move {
            if let Err(error) = mailer.send(mail).await {
                tracing::warn!(%error, "a mail was not sent");
            }
        });
    }
}
