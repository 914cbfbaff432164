//! One OpenID provider, spoken to with the `openidconnect` crate: its discovery document and
//! signing keys (fetched on first use and kept for a few minutes; fetched again once when a token's
//! signature does not verify, for a provider that rotated its keys), the authorization URL with
//! state, nonce and PKCE, the code exchange with the configured client authentication, the ID
//! token's verification (signature against the provider's keys, issuer, audience, expiry, nonce),
//! and the userinfo endpoint when the token lacks a claim ember needs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AuthType, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, JsonWebKeySet, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde_json::Value;

use super::claims;
use super::settings::{ProviderSettings, TokenEndpointAuth};

/// How long discovery and keys are kept before they are fetched again.
const METADATA_LIFETIME: Duration = Duration::from_secs(300);
/// How long one request to the provider may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Largest discovery, keys or userinfo document read.
const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// Why talking to the provider failed (logged; the browser is told only the kind).
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the provider's discovery document or keys could not be read: {0}")]
    Discovery(String),
    #[error("the token endpoint refused the code: {0}")]
    Exchange(String),
    #[error("the token response has no ID token")]
    NoIdToken,
    #[error("the ID token does not verify: {0}")]
    InvalidIdToken(String),
}

/// Where to send the browser, and what to keep until it comes back.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub url: String,
    pub nonce: String,
    pub code_verifier: Option<String>,
}

/// An identity provider ember signs users in with.
pub struct Provider {
    pub settings: ProviderSettings,
    http: reqwest::Client,
    metadata: tokio::sync::Mutex<Option<(Instant, Arc<CoreProviderMetadata>)>>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider").field("name", &self.settings.name).finish_non_exhaustive()
    }
}

impl Provider {
    pub fn new(settings: ProviderSettings) -> Result<Provider, String> {
        // No redirects: a provider's endpoints answer directly (and a redirect could lead the
        // server's requests elsewhere).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|error| format!("the HTTP client for OAuth2 provider {} cannot be built: {error}", settings.name))?;
        Ok(Provider { settings, http, metadata: tokio::sync::Mutex::new(None) })
    }

    async fn get_json(&self, url: &str, bearer: Option<&str>) -> Result<Vec<u8>, String> {
        let mut request = self.http.get(url).header("accept", "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|error| error.to_string())?;
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status()));
        }
        let body = response.bytes().await.map_err(|error| error.to_string())?;
        if body.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("{url} answered more than {MAX_DOCUMENT_BYTES} bytes"));
        }
        Ok(body.to_vec())
    }

    /// The discovery document with its keys; fetched again when older than
    /// [`METADATA_LIFETIME`] or when `refresh`.
    async fn metadata(&self, refresh: bool) -> Result<Arc<CoreProviderMetadata>, ProviderError> {
        let mut cached = self.metadata.lock().await;
        if let Some((fetched, metadata)) = cached.as_ref() {
            if !refresh && fetched.elapsed() < METADATA_LIFETIME {
                return Ok(metadata.clone());
            }
        }
        let document = self.get_json(self.settings.oidc_config_url.as_str(), None).await.map_err(ProviderError::Discovery)?;
        let metadata: CoreProviderMetadata =
            serde_json::from_slice(&document).map_err(|error| ProviderError::Discovery(format!("discovery document: {error}")))?;
        let keys = JsonWebKeySet::fetch_async(metadata.jwks_uri(), &self.http)
            .await
            .map_err(|error| ProviderError::Discovery(format!("signing keys: {error}")))?;
        let metadata = Arc::new(metadata.set_jwks(keys));
        *cached = Some((Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    fn client_secret(&self) -> Option<ClientSecret> {
        match self.settings.token_endpoint_auth {
            TokenEndpointAuth::ClientSecretBasic | TokenEndpointAuth::ClientSecretPost => {
                self.settings.client_secret.clone().map(ClientSecret::new)
            }
            TokenEndpointAuth::None | TokenEndpointAuth::ClientAssertionJwt(_) => None,
        }
    }

    fn redirect(redirect_uri: &str) -> Result<RedirectUrl, ProviderError> {
        RedirectUrl::new(redirect_uri.to_string()).map_err(|error| ProviderError::Exchange(format!("redirect URI: {error}")))
    }

    /// The provider's authorization URL for a sign-in coming back to `redirect_uri` with `state`.
    pub async fn authorization_request(&self, redirect_uri: &str, state: String) -> Result<AuthorizationRequest, ProviderError> {
        let metadata = self.metadata(false).await?;
        let client =
            CoreClient::from_provider_metadata((*metadata).clone(), ClientId::new(self.settings.client_id.clone()), self.client_secret())
                .set_redirect_uri(Self::redirect(redirect_uri)?);
        let mut request = client.authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            move || CsrfToken::new(state),
            Nonce::new_random,
        );
        // `openid` is added by the client itself.
        for scope in self.settings.scopes.iter().filter(|scope| *scope != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let code_verifier = if self.settings.use_pkce {
            let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
            request = request.set_pkce_challenge(challenge);
            Some(verifier.secret().clone())
        } else {
            None
        };
        let (url, _, nonce) = request.url();
        Ok(AuthorizationRequest { url: url.to_string(), nonce: nonce.secret().clone(), code_verifier })
    }

    /// Trades the code for tokens and returns the verified ID token's claims (with the userinfo
    /// endpoint's added when the token lacks one ember needs).
    pub async fn claims(&self, redirect_uri: &str, code: &str, code_verifier: Option<&str>, nonce: &str) -> Result<Value, ProviderError> {
        let metadata = self.metadata(false).await?;
        let client =
            CoreClient::from_provider_metadata((*metadata).clone(), ClientId::new(self.settings.client_id.clone()), self.client_secret())
                .set_redirect_uri(Self::redirect(redirect_uri)?)
                .set_auth_type(match self.settings.token_endpoint_auth {
                    TokenEndpointAuth::ClientSecretBasic => AuthType::BasicAuth,
                    _ => AuthType::RequestBody,
                });
        let mut exchange =
            client.exchange_code(AuthorizationCode::new(code.to_string())).map_err(|error| ProviderError::Exchange(error.to_string()))?;
        if let TokenEndpointAuth::ClientAssertionJwt(file) = &self.settings.token_endpoint_auth {
            let assertion = tokio::fs::read_to_string(file)
                .await
                .map_err(|error| ProviderError::Exchange(format!("the client assertion file {}: {error}", file.display())))?;
            exchange = exchange
                .add_extra_param("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                .add_extra_param("client_assertion", assertion.trim().to_string());
        }
        if let Some(verifier) = code_verifier {
            exchange = exchange.set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()));
        }
        let tokens = exchange.request_async(&self.http).await.map_err(|error| ProviderError::Exchange(describe(&error)))?;
        let id_token = tokens.id_token().ok_or(ProviderError::NoIdToken)?;
        let nonce = Nonce::new(nonce.to_string());
        if let Err(first) = id_token.claims(&client.id_token_verifier(), &nonce) {
            // Keys may have rotated since they were fetched: fetch them once more and retry.
            let fresh = self.metadata(true).await?;
            let fresh_client =
                CoreClient::from_provider_metadata((*fresh).clone(), ClientId::new(self.settings.client_id.clone()), self.client_secret());
            id_token.claims(&fresh_client.id_token_verifier(), &nonce).map_err(|_| ProviderError::InvalidIdToken(first.to_string()))?;
        }
        let mut claims = payload(&id_token.to_string()).ok_or_else(|| ProviderError::InvalidIdToken("unreadable payload".into()))?;
        if !claims::sufficient(&self.settings, &claims) {
            if let Some(endpoint) = metadata.userinfo_endpoint() {
                self.add_userinfo(&mut claims, endpoint.url().as_str(), tokens.access_token().secret()).await;
            }
        }
        Ok(claims)
    }

    /// Adds the userinfo endpoint's claims the ID token lacks (only when the endpoint speaks of
    /// the same subject, as OpenID Connect requires).
    async fn add_userinfo(&self, claims: &mut Value, endpoint: &str, access_token: &str) {
        let info = match self.get_json(endpoint, Some(access_token)).await {
            Ok(body) => serde_json::from_slice::<Value>(&body).ok(),
            Err(error) => {
                tracing::warn!(provider = %self.settings.name, %error, "userinfo request failed");
                None
            }
        };
        let (Some(Value::Object(info)), Value::Object(claims)) = (info, claims) else { return };
        if info.get("sub") != claims.get("sub") {
            tracing::warn!(provider = %self.settings.name, "userinfo speaks of another subject; ignored");
            return;
        }
        for (key, value) in info {
            claims.entry(key).or_insert(value);
        }
    }
}

/// A verified JWT's payload as JSON.
fn payload(jwt: &str) -> Option<Value> {
    let encoded = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok().filter(Value::is_object)
}

/// An error with its causes, for the log.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
