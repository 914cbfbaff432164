//! Authentication, as Phoenix does it with `PHOENIX_ENABLE_AUTH`: who a request's credential
//! belongs to (an API key or a session's access token as a bearer token or cookie, or the admin
//! secret), signing in with email and password (throttled against brute force), refreshing and
//! ending sessions, and the users every deployment starts with. Transports hand over what the
//! request presented and render the outcome; what a caller may then do is decided by the
//! services through [`Caller`].

pub mod admins;
pub mod ldap;
pub mod oauth2;
pub mod password_reset;
pub mod password_rules;
pub mod settings;
pub mod throttle;
pub mod tokens;

use std::sync::{Arc, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use ember_core::time::now_nanos;
use ember_core::ErrorCode;
use ember_store::{KeyScope, NewToken, NewUser, TokenHolder, TokenKind, DEFAULT_ADMIN_ID, SYSTEM_USER_ID};
use subtle::ConstantTimeEq;

use settings::minutes_nanos;
pub use settings::AuthSettings;
use throttle::LoginThrottle;
use tokens::TokenSigner;

use crate::audit::AuditEvent;
use crate::caller::{Credential, Role};
use crate::error::{Result, ServiceError};
use crate::{Caller, Services};

/// Phoenix's answer to a wrong email or password (the same for both, so neither is revealed).
pub const LOGIN_FAILED: &str = "Invalid email and/or password";
pub(crate) const THROTTLED: &str = "Too many failed login attempts. Please try again later.";

/// The authentication settings and the keys made from them, shared by every request.
pub struct Authenticator {
    enabled: bool,
    /// Present when `PHOENIX_SECRET` is set (always, with authentication on).
    signer: Option<TokenSigner>,
    admin_secret: Option<String>,
    settings: AuthSettings,
    throttle: Option<LoginThrottle>,
    /// A hash checked when no user has the email, so that a wrong email takes as long as a wrong
    /// password.
    decoy_hash: OnceLock<String>,
    /// The LDAP directory users may sign in against (`PHOENIX_LDAP_HOST`).
    directory: Option<ldap::Directory>,
    /// The OpenID providers users may sign in with (`PHOENIX_OAUTH2_{IDP}_*`).
    oauth2_providers: Vec<oauth2::Provider>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").field("enabled", &self.enabled).finish_non_exhaustive()
    }
}

impl Authenticator {
    /// `secret` is required when `enabled` (the configuration refuses to start otherwise).
    pub fn new(enabled: bool, secret: Option<&str>, admin_secret: Option<&str>, settings: AuthSettings) -> Authenticator {
        let throttle = (!settings.disable_brute_force_login_protection)
            .then(|| LoginThrottle::new(settings.brute_force_login_protection_max_attempts));
        let signer = secret.and_then(TokenSigner::new);
        Authenticator {
            enabled: enabled && signer.is_some(),
            signer,
            admin_secret: admin_secret.map(str::to_string),
            settings,
            throttle,
            decoy_hash: OnceLock::new(),
            directory: None,
            oauth2_providers: Vec::new(),
        }
    }

    /// The same authenticator also signing users in with these OpenID providers.
    pub fn with_oauth2_providers(mut self, providers: Vec<oauth2::Provider>) -> Authenticator {
        self.oauth2_providers = providers;
        self
    }

    /// The same authenticator also signing users in against `directory`.
    pub fn with_directory(mut self, directory: Option<ldap::Directory>) -> Authenticator {
        self.directory = directory;
        self
    }

    /// Authentication off: every caller is anonymous.
    pub fn disabled(settings: AuthSettings) -> Authenticator {
        Authenticator::new(false, None, None, settings)
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }
}

/// What a request presented to prove who it is.
#[derive(Debug, Clone, Copy)]
pub enum Presented<'a> {
    /// `Authorization: Bearer <token>` (REST, GraphQL, OTLP/HTTP) or gRPC `authorization` metadata.
    Bearer(&'a str),
    /// The session's access-token cookie.
    SessionCookie(&'a str),
    Nothing,
}

impl<'a> Presented<'a> {
    /// What an `Authorization` header (or gRPC metadata) value presents: its bearer token; any
    /// other scheme presents nothing, as in Phoenix.
    /// A bearer token, or a key sent bare (`authorization: <key>`, as the `arize` SDK sends it
    /// with its uploads).
    pub fn bare_or_bearer(value: &'a str) -> Presented<'a> {
        match Presented::authorization(value) {
            Presented::Nothing if !value.trim().is_empty() && !value.trim().contains(' ') => Presented::Bearer(value.trim()),
            presented => presented,
        }
    }

    pub fn authorization(value: &'a str) -> Presented<'a> {
        match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => Presented::Bearer(token.trim()),
            _ => Presented::Nothing,
        }
    }
}

/// A new session: its tokens and how long each lasts, in seconds (the cookies' `Max-Age`).
#[derive(Debug, Clone)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub access_max_age: i64,
    pub refresh_max_age: i64,
}

fn unauthenticated(message: &str) -> ServiceError {
    ServiceError::new(ErrorCode::Unauthenticated, message)
}

pub struct Auth<'a> {
    pub(crate) services: &'a Services,
}

impl Auth<'_> {
    fn authenticator(&self) -> &Arc<Authenticator> {
        &self.services.auth
    }

    /// Whether requests must be authenticated (`PHOENIX_ENABLE_AUTH`).
    pub fn enabled(&self) -> bool {
        self.authenticator().enabled
    }

    /// Whether users may sign in with email and password (`PHOENIX_DISABLE_BASIC_AUTH` unset).
    pub fn basic_auth_enabled(&self) -> bool {
        !self.authenticator().settings.disable_basic_auth
    }

    fn signer(&self) -> Result<&TokenSigner> {
        self.authenticator().signer.as_ref().ok_or_else(|| ServiceError::forbidden(crate::users::AUTH_REQUIRED))
    }

    /// Records a token of `kind` for `user_id` and returns its row id and the token (403 without
    /// `PHOENIX_SECRET`).
    pub(crate) async fn issue(&self, token: NewToken<'_>) -> Result<(i64, String)> {
        let signer = self.signer()?;
        let nonce = TokenSigner::nonce();
        let id = self.services.store.create_token(&token, &nonce).await?;
        Ok((id, signer.sign(token.kind, id, &nonce)))
    }

    /// The live row of a token of `kind` this server signed (expired or not); `None` for any
    /// other token.
    async fn holder_of(&self, token: &str, kind: TokenKind) -> Result<Option<TokenHolder>> {
        let Some(named) = self.signer()?.read(token).filter(|named| named.kind == kind) else {
            return Ok(None);
        };
        let holder = self.services.store.token_holder(named.id).await?;
        Ok(holder.filter(|holder| holder.kind == kind && bool::from(holder.nonce.as_bytes().ct_eq(named.nonce.as_bytes()))))
    }

    /// The caller behind what the request presented: anonymous with authentication off, else
    /// the holder of a valid API key or access token, or the system for the admin secret;
    /// 401 ("Invalid token", "Expired token") for anything else.
    pub async fn authenticate(&self, presented: Presented<'_>) -> Result<Caller> {
        if !self.enabled() {
            return Ok(Caller::anonymous());
        }
        let token = match presented {
            Presented::Bearer(token) => {
                if let Some(admin_secret) = &self.authenticator().admin_secret {
                    if bool::from(token.as_bytes().ct_eq(admin_secret.as_bytes())) {
                        return Ok(Caller::user(SYSTEM_USER_ID, Role::System, Credential::AdminSecret));
                    }
                }
                token
            }
            Presented::SessionCookie(token) => token,
            Presented::Nothing => return Err(unauthenticated("Invalid token")),
        };
        let kind = match self.signer()?.read(token) {
            Some(named) if matches!(named.kind, TokenKind::Access | TokenKind::ApiKey) => named.kind,
            _ => return Err(unauthenticated("Invalid token")),
        };
        let Some(holder) = self.holder_of(token, kind).await? else {
            return Err(unauthenticated("Invalid token"));
        };
        let credential = match kind {
            TokenKind::ApiKey => Credential::ApiKey { token_id: holder.token_id },
            _ => Credential::Session { token_id: holder.token_id },
        };
        if holder.expires_at.is_some_and(|expires_at| expires_at <= now_nanos()) {
            return Err(unauthenticated("Expired token"));
        }
        let role = Role::parse(&holder.role)
            .ok_or_else(|| ServiceError::internal(format!("user {} has role {:?}", holder.user_id, holder.role)))?;
        Ok(Caller::user(holder.user_id, role, credential).with_password_reset_due(holder.password_needs_reset).with_scope(holder.scope))
    }

    /// Signs in with email and password: a new session, or 401 naming neither which part was
    /// wrong; 429 once the email has failed too often; 403 with password sign-in disabled.
    pub async fn login(&self, email: Option<&str>, password: Option<&str>) -> Result<Session> {
        if self.authenticator().settings.disable_basic_auth {
            return Err(ServiceError::forbidden("Forbidden"));
        }
        self.signer()?;
        let (Some(email), Some(password)) = (email.filter(|e| !e.is_empty()), password.filter(|p| !p.is_empty())) else {
            return Err(unauthenticated("Email and password required"));
        };
        let email = email.trim().to_lowercase();
        let throttle = self.authenticator().throttle.as_ref();
        if throttle.is_some_and(|throttle| throttle.is_blocked(&email)) {
            self.services.metrics().record_sign_in("locked_out");
            return Err(ServiceError::new(ErrorCode::TooManyRequests, THROTTLED));
        }
        let found = self.services.store.user_by_email(&email).await?;
        let (user, hash) = match found {
            Some((user, Some(hash))) => (Some(user), hash),
            _ => (None, self.decoy_hash()?),
        };
        let verified = verify_password(password.to_string(), hash).await? && user.is_some();
        let known = user.as_ref().map(|user| user.id);
        let Some(user) = user.filter(|_| verified) else {
            if let Some(throttle) = throttle {
                throttle.record_failure(&email);
            }
            if let Some(user_id) = known {
                self.services.audit().record_in_background(Some(user_id), AuditEvent::SignInFailed { user_id });
            }
            self.services.metrics().record_sign_in("failed");
            return Err(unauthenticated(LOGIN_FAILED));
        };
        if let Some(throttle) = throttle {
            throttle.record_success(&email);
        }
        self.services.audit().record(Some(user.id), AuditEvent::SignedIn { user_id: user.id }).await;
        self.services.metrics().record_sign_in("signed_in");
        self.new_session(user.id).await
    }

    /// Makes the account of a user a provider or directory vouched for at their first sign-in,
    /// under their name or, when it is taken, the name with a short random suffix; `Conflict`
    /// when the email is taken.
    pub(crate) async fn create_sso_account(
        &self,
        user: NewUser<'_>,
    ) -> std::result::Result<ember_store::UserRecord, ember_store::StoreError> {
        let suffixed = || format!("{} ({})", user.username, &uuid::Uuid::new_v4().simple().to_string()[..6]);
        let names = [user.username.to_string(), suffixed(), suffixed()];
        for name in &names {
            match self.services.store.create_user(&NewUser { username: name, ..user.clone() }).await {
                Ok(created) => {
                    let event = AuditEvent::UserCreated { user_id: created.id, role: created.role.clone() };
                    self.services.audit().record(Some(created.id), event).await;
                    return Ok(created);
                }
                Err(ember_store::StoreError::Conflict(message)) if message.starts_with("Username") => continue,
                Err(error) => return Err(error),
            }
        }
        Err(ember_store::StoreError::Conflict("Username already exists".into()))
    }

    fn decoy_hash(&self) -> Result<String> {
        if let Some(hash) = self.authenticator().decoy_hash.get() {
            return Ok(hash.clone());
        }
        let hash = hash_password_unchecked("decoy password, never anyone's")?;
        Ok(self.authenticator().decoy_hash.get_or_init(|| hash).clone())
    }

    async fn new_session(&self, user_id: i64) -> Result<Session> {
        let settings = &self.authenticator().settings;
        let now = now_nanos();
        let (access_life, refresh_life) =
            (minutes_nanos(settings.access_token_expiry_minutes), minutes_nanos(settings.refresh_token_expiry_minutes));
        let refresh = NewToken {
            kind: TokenKind::Refresh,
            user_id,
            refresh_token_id: None,
            name: None,
            description: None,
            expires_at: Some(now.saturating_add(refresh_life)),
            scope: KeyScope::default(),
        };
        let (refresh_id, refresh_token) = self.issue(refresh.clone()).await?;
        let access = NewToken {
            kind: TokenKind::Access,
            refresh_token_id: Some(refresh_id),
            expires_at: Some(now.saturating_add(access_life)),
            ..refresh
        };
        let (_, access_token) = self.issue(access).await?;
        Ok(Session {
            access_token,
            refresh_token,
            access_max_age: access_life / 1_000_000_000,
            refresh_max_age: refresh_life / 1_000_000_000,
        })
    }

    /// A new session for the holder of a valid refresh token, which is used up (with the access
    /// token presented beside it); 401 naming what is wrong with the refresh token.
    pub async fn refresh(&self, refresh_token: Option<&str>, access_token: Option<&str>) -> Result<Session> {
        let refresh_token = refresh_token.ok_or_else(|| unauthenticated("Missing refresh token"))?;
        let holder = self.holder_of(refresh_token, TokenKind::Refresh).await?.ok_or_else(|| unauthenticated("Invalid refresh token"))?;
        if holder.expires_at.is_some_and(|expires_at| expires_at <= now_nanos()) {
            return Err(unauthenticated("Expired refresh token"));
        }
        let store = &self.services.store;
        store.delete_token(holder.token_id, TokenKind::Refresh).await?;
        if let Some(access) = access_token {
            if let Some(access) = self.holder_of(access, TokenKind::Access).await? {
                store.delete_token(access.token_id, TokenKind::Access).await?;
            }
        }
        self.new_session(holder.user_id).await
    }

    /// Ends every session of the signed-in caller, or of the holder of the refresh token; does
    /// nothing for anyone else (signing out is always allowed).
    pub async fn logout(&self, caller: Option<&Caller>, refresh_token: Option<&str>) -> Result<()> {
        let user_id = match caller.and_then(Caller::user_and_role) {
            Some((user_id, _)) => Some(user_id),
            None => match refresh_token {
                Some(token) if self.authenticator().signer.is_some() => {
                    self.holder_of(token, TokenKind::Refresh).await?.map(|holder| holder.user_id)
                }
                _ => None,
            },
        };
        if let Some(user_id) = user_id {
            self.services.store.end_sign_in_sessions(user_id).await?;
            self.services.audit().record(Some(user_id), AuditEvent::SignedOut { user_id }).await;
        }
        Ok(())
    }

    /// Whether `password` is the user's current password.
    pub async fn verify_current_password(&self, user_id: i64, password: &str) -> Result<bool> {
        match self.services.store.password_hash(user_id).await? {
            Some(hash) => verify_password(password.to_string(), hash).await,
            None => Ok(false),
        }
    }

    /// Deletes the rows of expired tokens (now and then: an expired token is refused either way,
    /// this keeps the table small).
    pub async fn sweep_expired(&self) -> Result<u64> {
        Ok(self.services.store.delete_expired_tokens(now_nanos()).await?)
    }

    /// Startup: the default admin's initial password, and the admins of `PHOENIX_ADMINS` that
    /// do not exist yet (created with authentication on or off, as Phoenix does).
    pub async fn prepare(&self) -> Result<()> {
        let settings = &self.authenticator().settings;
        let store = &self.services.store;
        // Hashing costs argon2id's memory and CPU: only for a default admin without a password.
        if self.enabled() && store.password_hash(DEFAULT_ADMIN_ID).await?.is_none() {
            let hash = hash_password_unchecked(&settings.default_admin_initial_password)?;
            store.set_password_if_unset(DEFAULT_ADMIN_ID, &hash).await?;
        }
        let admins = settings.admins.as_deref().map(admins::parse).transpose().map_err(ServiceError::invalid)?.unwrap_or_default();
        // As Phoenix: with passwords off, the admins sign in through the directory, else through
        // the OpenID providers (matched by email at first sign-in).
        let auth_method =
            match (settings.disable_basic_auth, &self.authenticator().directory, self.authenticator().oauth2_providers.is_empty()) {
                (true, Some(_), _) => "LDAP",
                (true, None, false) => "OAUTH2",
                _ => "LOCAL",
            };
        for (username, email) in &admins {
            let user = NewUser {
                email,
                username,
                role: "ADMIN",
                auth_method,
                password_hash: None,
                password_needs_reset: auth_method == "LOCAL",
                oauth2_client_id: None,
                oauth2_user_id: None,
                ldap_unique_id: None,
            };
            match store.create_user(&user).await {
                Ok(_) | Err(ember_store::StoreError::Conflict(_)) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }

    /// An argon2id hash of a new password that keeps the password policy (422 naming the rules
    /// it breaks otherwise).
    pub async fn hash_new_password(&self, password: &str) -> Result<String> {
        let requirements = if self.authenticator().settings.enable_strong_password_policy {
            password_rules::STRONG_PASSWORD
        } else {
            password_rules::PASSWORD
        };
        if let Some(problem) = requirements.violation(password, "Password") {
            return Err(ServiceError::invalid(problem));
        }
        // Hashing takes tens of milliseconds of CPU: off the async threads.
        let password = password.to_string();
        tokio::task::spawn_blocking(move || hash_password_unchecked(&password)).await.map_err(ServiceError::internal)?
    }
}

/// An argon2id hash in PHC form.
fn hash_password_unchecked(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|hash| hash.to_string()).map_err(ServiceError::internal)
}

/// Whether `password` matches the PHC `hash` (checked off the async threads).
async fn verify_password(password: String, hash: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(ServiceError::internal)?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(ServiceError::internal)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_salted_argon2id_hashes() {
        let hash = hash_password_unchecked("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        assert_ne!(hash, hash_password_unchecked("correct horse").unwrap(), "salted");
    }

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password_unchecked("correct horse").unwrap();
        assert!(verify_password("correct horse".into(), hash.clone()).await.unwrap());
        assert!(!verify_password("wrong horse".into(), hash).await.unwrap());
    }
}
