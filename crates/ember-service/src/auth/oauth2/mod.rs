//! Signing in with OAuth2 / OpenID Connect providers, as Phoenix does with
//! `PHOENIX_OAUTH2_{IDP}_*`: the authorization-code flow with a signed `state` (naming where the
//! browser came from and returns to), a nonce and optionally PKCE, kept in the browser's cookies
//! until it comes back; the ID token verified against the provider's keys; access decided from
//! the claims (allowed groups) and the role taken from them (role path and mapping). The account
//! is found by the provider's subject, else — only among OAuth2 accounts — by email (an account an
//! admin made), else made when sign-up is allowed; never one that signs in another way.
//! Refusals carry Phoenix's error codes (`/login?error=…`); the reason is logged.

pub mod claims;
pub mod provider;
pub mod settings;

use ember_core::time::now_nanos;
use ember_store::{NewUser, SsoIdentity, StoreError, UserRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use provider::Provider;
pub use settings::{providers_from_env, ProviderSettings};

use super::{Auth, Session};
use crate::audit::AuditEvent;
use crate::caller::Role;

/// How long a sign-in may take at the provider (the `state` and its cookies last as long).
pub const LOGIN_EXPIRY_SECS: i64 = 15 * 60;

/// Why an OAuth2 sign-in failed, as Phoenix names it in `/login?error=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuth2Error {
    UnknownIdp,
    AuthFailed,
    InvalidState,
    UnsafeReturnUrl,
    OAuthError,
    NoOidcSupport,
    MissingEmailScope,
    EmailInUse,
    SignInNotAllowed,
}

impl OAuth2Error {
    /// Phoenix's code.
    pub fn code(self) -> &'static str {
        match self {
            OAuth2Error::UnknownIdp => "unknown_idp",
            OAuth2Error::AuthFailed => "auth_failed",
            OAuth2Error::InvalidState => "invalid_state",
            OAuth2Error::UnsafeReturnUrl => "unsafe_return_url",
            OAuth2Error::OAuthError => "oauth_error",
            OAuth2Error::NoOidcSupport => "no_oidc_support",
            OAuth2Error::MissingEmailScope => "missing_email_scope",
            OAuth2Error::EmailInUse => "email_in_use",
            OAuth2Error::SignInNotAllowed => "sign_in_not_allowed",
        }
    }

    /// What the login page says for a code (`None` for a code that is not one of these).
    pub fn message_of(code: &str) -> Option<&'static str> {
        Some(match code {
            "unknown_idp" => "That sign-in provider is not configured on this server.",
            "auth_failed" => "Signing in with the provider failed. Please try again.",
            "invalid_state" => "The sign-in expired or did not start here. Please try again.",
            "unsafe_return_url" => "The sign-in asked to return to another site.",
            "oauth_error" => "The provider refused to complete the sign-in.",
            "no_oidc_support" => "The provider does not support OpenID Connect.",
            "missing_email_scope" => "The provider did not share your email address.",
            "email_in_use" => "An account with your email already exists and signs in another way.",
            "sign_in_not_allowed" => "Your account may not sign in with this provider. Ask an admin to create it.",
            _ => return None,
        })
    }
}

/// What the signed `state` carries through the provider.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SignInState {
    random: String,
    /// The origin the browser started on; the redirect URI is built on it both times.
    origin_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    return_url: Option<String>,
    /// Nanoseconds; past it the state is refused.
    expires_at: i64,
}

/// A sign-in begun: where to send the browser and what it keeps in cookies until it returns.
#[derive(Debug, Clone)]
pub struct Begun {
    pub authorization_url: String,
    pub state: String,
    pub nonce: String,
    pub code_verifier: Option<String>,
}

/// What the provider sent back to `/oauth2/{idp}/tokens`.
#[derive(Debug, Clone, Default)]
pub struct Callback<'a> {
    pub state: Option<&'a str>,
    pub code: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// What the browser kept in its cookies.
#[derive(Debug, Clone, Default)]
pub struct Kept<'a> {
    pub state: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
}

/// A provider as the login page offers it.
#[derive(Debug, Clone)]
pub struct ProviderButton {
    pub name: String,
    pub display_name: String,
    pub auto_login: bool,
}

/// A path of this server (`/…`), never another site's (`//host`, `/\host`, a scheme).
fn is_local_path(url: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(url).decode_utf8_lossy();
    url.starts_with('/') && !decoded.starts_with("//") && !decoded.contains('\\') && !decoded.contains("://")
}

fn redirect_uri(origin: &str, idp: &str) -> String {
    format!("{}/oauth2/{idp}/tokens", origin.trim_end_matches('/'))
}

impl Auth<'_> {
    /// The providers users may sign in with (none with authentication off).
    pub fn oauth2_providers(&self) -> Vec<ProviderButton> {
        if !self.enabled() {
            return Vec::new();
        }
        let providers = &self.authenticator().oauth2_providers;
        providers
            .iter()
            .map(|p| ProviderButton {
                name: p.settings.name.clone(),
                display_name: p.settings.display_name.clone(),
                auto_login: p.settings.auto_login,
            })
            .collect()
    }

    fn provider(&self, idp: &str) -> Result<&Provider, OAuth2Error> {
        if !self.enabled() {
            return Err(OAuth2Error::UnknownIdp);
        }
        self.authenticator().oauth2_providers.iter().find(|p| p.settings.name == idp).ok_or(OAuth2Error::UnknownIdp)
    }

    /// Begins a sign-in with provider `idp` from `origin` (this server's address as the browser
    /// reaches it, root path included), to come back to `return_url` (a path of this server).
    pub async fn oauth2_begin(&self, idp: &str, origin: &str, return_url: Option<&str>) -> Result<Begun, OAuth2Error> {
        let provider = self.provider(idp)?;
        let signer = self.signer().map_err(|_| OAuth2Error::UnknownIdp)?;
        let return_url = return_url.filter(|url| !url.is_empty());
        if return_url.is_some_and(|url| !is_local_path(url)) {
            return Err(OAuth2Error::UnsafeReturnUrl);
        }
        let payload = SignInState {
            random: uuid::Uuid::new_v4().simple().to_string(),
            origin_url: origin.trim_end_matches('/').to_string(),
            return_url: return_url.map(str::to_string),
            expires_at: now_nanos().saturating_add(LOGIN_EXPIRY_SECS * 1_000_000_000),
        };
        let state = signer.sign_claims(&payload);
        let request = provider.authorization_request(&redirect_uri(origin, idp), state.clone()).await.map_err(|error| {
            tracing::error!(provider = idp, %error, "OAuth2 sign-in could not begin");
            OAuth2Error::AuthFailed
        })?;
        Ok(Begun { authorization_url: request.url, state, nonce: request.nonce, code_verifier: request.code_verifier })
    }

    /// Completes a sign-in: a new session and the path to return to, or Phoenix's error code.
    pub async fn oauth2_finish(&self, idp: &str, callback: Callback<'_>, kept: Kept<'_>) -> Result<(Session, String), OAuth2Error> {
        let provider = self.provider(idp)?;
        let fail = |error: OAuth2Error, reason: &str| {
            tracing::error!(provider = idp, error = error.code(), reason, "OAuth2 sign-in refused");
            self.services.metrics().record_sign_in("failed");
            error
        };
        if let Some(error) = callback.error {
            return Err(fail(OAuth2Error::AuthFailed, &format!("the provider answered {error:?}")));
        }
        let Some(code) = callback.code.filter(|code| !code.is_empty()) else {
            return Err(fail(OAuth2Error::AuthFailed, "no authorization code"));
        };
        let (Some(state), Some(kept_state)) = (callback.state, kept.state) else {
            return Err(fail(OAuth2Error::InvalidState, "no state, or no state cookie"));
        };
        if !bool::from(subtle::ConstantTimeEq::ct_eq(state.as_bytes(), kept_state.as_bytes())) {
            return Err(fail(OAuth2Error::InvalidState, "the state is not the one this browser was given"));
        }
        let signer = self.signer().map_err(|_| OAuth2Error::UnknownIdp)?;
        let Some(payload) = signer.read_claims::<SignInState>(state).filter(|payload| payload.expires_at > now_nanos()) else {
            return Err(fail(OAuth2Error::InvalidState, "the state is not signed by this server, or expired"));
        };
        if payload.return_url.as_deref().is_some_and(|url| !is_local_path(url)) {
            return Err(fail(OAuth2Error::UnsafeReturnUrl, "the return URL is another site"));
        }
        let Some(nonce) = kept.nonce else {
            return Err(fail(OAuth2Error::InvalidState, "no nonce cookie"));
        };
        if provider.settings.use_pkce && kept.code_verifier.is_none() {
            return Err(fail(OAuth2Error::AuthFailed, "PKCE is on and the code verifier cookie is missing"));
        }
        let claims = match provider.claims(&redirect_uri(&payload.origin_url, idp), code, kept.code_verifier, nonce).await {
            Ok(claims) => claims,
            Err(error) => {
                let kind = match error {
                    provider::ProviderError::Exchange(_) => OAuth2Error::OAuthError,
                    provider::ProviderError::NoIdToken => OAuth2Error::NoOidcSupport,
                    _ => OAuth2Error::AuthFailed,
                };
                return Err(fail(kind, &error.to_string()));
            }
        };
        let user = self.oauth2_account(provider, &claims).await.map_err(|(error, reason)| fail(error, &reason))?;
        self.services.audit().record(Some(user.id), AuditEvent::SignedIn { user_id: user.id }).await;
        self.services.metrics().record_sign_in("signed_in");
        let session = self.new_session(user.id).await.map_err(|error| {
            tracing::error!(%error, "a session could not be made");
            OAuth2Error::AuthFailed
        })?;
        Ok((session, payload.return_url.unwrap_or_else(|| "/".into())))
    }

    /// The account the claims sign in to, found, linked or made.
    async fn oauth2_account(&self, provider: &Provider, claims: &Value) -> Result<UserRecord, (OAuth2Error, String)> {
        let settings = &provider.settings;
        let internal = |error: StoreError| (OAuth2Error::AuthFailed, error.to_string());
        let user = claims::identity(settings, claims).map_err(|refusal| (OAuth2Error::MissingEmailScope, format!("{refusal:?}")))?;
        claims::check_access(settings, claims).map_err(|refusal| (OAuth2Error::AuthFailed, format!("{refusal:?}")))?;
        let role = claims::role(settings, claims).map_err(|refusal| (OAuth2Error::AuthFailed, format!("{refusal:?}")))?;
        let store = &self.services.store;
        let client_id = settings.client_id.as_str();
        let resynced_role = role.filter(|_| settings.role_resync).map(Role::as_str);
        let (email, subject) = (user.email.as_str(), user.subject.as_str());
        let sync = |existing: UserRecord| async move {
            match store.sync_sso_user(existing.id, email, resynced_role, SsoIdentity::OAuth2 { client_id, user_id: subject }).await {
                Ok(Some(updated)) => Ok(updated),
                Ok(None) => Err((OAuth2Error::SignInNotAllowed, "the account was deleted meanwhile".to_string())),
                Err(StoreError::Conflict(_)) => {
                    Err((OAuth2Error::EmailInUse, "the provider's email belongs to another account".to_string()))
                }
                Err(error) => Err(internal(error)),
            }
        };
        if let Some(existing) = store.user_by_oauth2_identity(client_id, &user.subject).await.map_err(internal)? {
            return sync(existing).await;
        }
        // An OAuth2 account an admin made (or one of another provider) is linked by its email,
        // unless it is already linked to another subject of this provider.
        if let Some((existing, _)) = store.user_by_email(&user.email).await.map_err(internal)? {
            if existing.auth_method != "OAUTH2" {
                let error = if settings.allow_sign_up { OAuth2Error::EmailInUse } else { OAuth2Error::SignInNotAllowed };
                return Err((error, "the email's account signs in another way".into()));
            }
            let linked_elsewhere = existing.oauth2_client_id.as_deref() == Some(client_id)
                && existing.oauth2_user_id.as_deref().is_some_and(|subject| !subject.is_empty() && subject != user.subject);
            if linked_elsewhere {
                return Err((OAuth2Error::SignInNotAllowed, "the email's account belongs to another subject of this provider".into()));
            }
            return sync(existing).await;
        }
        if !settings.allow_sign_up {
            return Err((OAuth2Error::SignInNotAllowed, "no account, and sign-up is off for this provider".into()));
        }
        let username = user.name.clone().unwrap_or_else(|| user.email.split('@').next().unwrap_or_default().to_string());
        let new_user = NewUser {
            email: &user.email,
            username: &username,
            role: role.unwrap_or(Role::Viewer).as_str(),
            auth_method: "OAUTH2",
            password_hash: None,
            password_needs_reset: false,
            oauth2_client_id: Some(client_id),
            oauth2_user_id: Some(&user.subject),
            ldap_unique_id: None,
        };
        match self.create_sso_account(new_user).await {
            Ok(created) => Ok(created),
            Err(StoreError::Conflict(message)) => Err((OAuth2Error::EmailInUse, message)),
            Err(error) => Err(internal(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_server_are_returned_to() {
        for local in ["/", "/projects/3?tab=spans", "/datasets"] {
            assert!(is_local_path(local), "{local}");
        }
        for foreign in ["//evil.example/x", "/%2F%2Fevil.example", "/\\evil.example", "https://evil.example", "projects", "/x?u=http://a"] {
            assert!(!is_local_path(foreign), "{foreign}");
        }
    }
}
