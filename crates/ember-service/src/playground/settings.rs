//! The playground's providers: which ones ember can call, where, and with which key. A key or
//! base URL set through `PUT /v1/secrets` wins over the environment, as in Phoenix.
//!
//! A key goes only where it was configured to go, so nobody can redirect it: a key from the
//! environment is sent to the environment's base URL or the provider's public API, never to a
//! base URL set at runtime; a stored key is sent to a stored base URL only if the key was set
//! with or after it. A base URL set at runtime must be http(s) without credentials, on a host
//! of a provider's public API, of a base URL from the environment, or of
//! `EMBER_PLAYGROUND_ALLOWED_HOSTS`.

use std::time::Duration;

use ember_evals::providers::{Endpoint, Protocol, ProviderClient, ProviderError};
use ember_store::{Store, StoredSecret};
use url::Url;

use crate::secret_box::{SecretBox, UnsealError};

/// How long a provider may take between two pieces of an answer, by default.
const DEFAULT_TIMEOUT_SECS: u64 = 120;

/// The largest provider answer read, by default (whole or streamed).
const DEFAULT_MAX_ANSWER_BYTES: usize = 16 << 20;

/// Provider credentials and addresses read from the environment (Phoenix's and the SDKs' names).
#[derive(Debug, Clone, clap::Args)]
pub struct ProviderSettings {
    /// OpenAI API key for the playground.
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true)]
    pub openai_api_key: Option<String>,
    /// OpenAI API root; any OpenAI-compatible server works (default https://api.openai.com/v1).
    #[arg(long, env = "OPENAI_BASE_URL")]
    pub openai_base_url: Option<String>,
    /// Anthropic API key for the playground.
    #[arg(long, env = "ANTHROPIC_API_KEY", hide_env_values = true)]
    pub anthropic_api_key: Option<String>,
    /// Anthropic API root (default https://api.anthropic.com).
    #[arg(long, env = "ANTHROPIC_BASE_URL")]
    pub anthropic_base_url: Option<String>,
    /// DeepSeek API key.
    #[arg(long, env = "DEEPSEEK_API_KEY", hide_env_values = true)]
    pub deepseek_api_key: Option<String>,
    /// xAI API key.
    #[arg(long, env = "XAI_API_KEY", hide_env_values = true)]
    pub xai_api_key: Option<String>,
    /// Groq API key.
    #[arg(long, env = "GROQ_API_KEY", hide_env_values = true)]
    pub groq_api_key: Option<String>,
    /// Cerebras API key.
    #[arg(long, env = "CEREBRAS_API_KEY", hide_env_values = true)]
    pub cerebras_api_key: Option<String>,
    /// Fireworks API key.
    #[arg(long, env = "FIREWORKS_API_KEY", hide_env_values = true)]
    pub fireworks_api_key: Option<String>,
    /// Moonshot API key.
    #[arg(long, env = "MOONSHOT_API_KEY", hide_env_values = true)]
    pub moonshot_api_key: Option<String>,
    /// Perplexity API key.
    #[arg(long, env = "PERPLEXITY_API_KEY", hide_env_values = true)]
    pub perplexity_api_key: Option<String>,
    /// Together API key.
    #[arg(long, env = "TOGETHER_API_KEY", hide_env_values = true)]
    pub together_api_key: Option<String>,
    /// Ollama's OpenAI-compatible API root (default http://localhost:11434/v1).
    #[arg(long, env = "OLLAMA_BASE_URL")]
    pub ollama_base_url: Option<String>,
    /// How long a provider may take between two pieces of an answer.
    #[arg(long, env = "EMBER_PLAYGROUND_TIMEOUT_SECS", default_value_t = DEFAULT_TIMEOUT_SECS)]
    pub playground_timeout_secs: u64,
    /// The largest provider answer the playground reads, in bytes; a longer one is an error.
    #[arg(long, env = "EMBER_PLAYGROUND_MAX_ANSWER_BYTES", default_value_t = DEFAULT_MAX_ANSWER_BYTES)]
    pub playground_max_answer_bytes: usize,
    /// More hosts (comma-separated) that a provider base URL set through `PUT /v1/secrets` may
    /// point at, beside the providers' public APIs and the hosts of base URLs set here.
    #[arg(long, env = "EMBER_PLAYGROUND_ALLOWED_HOSTS", value_delimiter = ',')]
    pub playground_allowed_hosts: Vec<String>,
}

impl Default for ProviderSettings {
    /// No keys or addresses: every provider at its default address.
    fn default() -> Self {
        ProviderSettings {
            openai_api_key: None,
            openai_base_url: None,
            anthropic_api_key: None,
            anthropic_base_url: None,
            deepseek_api_key: None,
            xai_api_key: None,
            groq_api_key: None,
            cerebras_api_key: None,
            fireworks_api_key: None,
            moonshot_api_key: None,
            perplexity_api_key: None,
            together_api_key: None,
            ollama_base_url: None,
            playground_timeout_secs: DEFAULT_TIMEOUT_SECS,
            playground_max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
            playground_allowed_hosts: Vec::new(),
        }
    }
}

/// A provider ember can call: its protocol, default API root and settings names.
struct KnownProvider {
    name: &'static str,
    protocol: Protocol,
    default_base_url: &'static str,
    /// The secret (and environment variable) holding the key; `None` when it takes none.
    key_name: Option<&'static str>,
    base_url_name: &'static str,
}

const PROVIDERS: &[KnownProvider] = &[
    openai_compatible("openai", "https://api.openai.com/v1", Some("OPENAI_API_KEY"), "OPENAI_BASE_URL"),
    KnownProvider {
        name: "anthropic",
        protocol: Protocol::Anthropic,
        default_base_url: "https://api.anthropic.com",
        key_name: Some("ANTHROPIC_API_KEY"),
        base_url_name: "ANTHROPIC_BASE_URL",
    },
    openai_compatible("deepseek", "https://api.deepseek.com", Some("DEEPSEEK_API_KEY"), "DEEPSEEK_BASE_URL"),
    openai_compatible("xai", "https://api.x.ai/v1", Some("XAI_API_KEY"), "XAI_BASE_URL"),
    openai_compatible("ollama", "http://localhost:11434/v1", None, "OLLAMA_BASE_URL"),
    openai_compatible("groq", "https://api.groq.com/openai/v1", Some("GROQ_API_KEY"), "GROQ_BASE_URL"),
    openai_compatible("cerebras", "https://api.cerebras.ai/v1", Some("CEREBRAS_API_KEY"), "CEREBRAS_BASE_URL"),
    openai_compatible("fireworks", "https://api.fireworks.ai/inference/v1", Some("FIREWORKS_API_KEY"), "FIREWORKS_BASE_URL"),
    openai_compatible("moonshot", "https://api.moonshot.ai/v1", Some("MOONSHOT_API_KEY"), "MOONSHOT_BASE_URL"),
    openai_compatible("perplexity", "https://api.perplexity.ai", Some("PERPLEXITY_API_KEY"), "PERPLEXITY_BASE_URL"),
    openai_compatible("together", "https://api.together.xyz/v1", Some("TOGETHER_API_KEY"), "TOGETHER_BASE_URL"),
];

/// Whether the playground can call a provider now, for the settings page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderStatus {
    pub name: &'static str,
    /// The setting (environment variable or secret) holding its key, if it takes one.
    pub key_name: Option<&'static str>,
    pub base_url_name: &'static str,
    /// The API root it would be called at, or why it cannot be called.
    pub ready: Result<String, String>,
}

/// Providers Phoenix names that ember's playground cannot call yet.
const NOT_YET: &[&str] = &["azure_openai", "google", "aws"];

const fn openai_compatible(
    name: &'static str,
    default_base_url: &'static str,
    key_name: Option<&'static str>,
    base_url_name: &'static str,
) -> KnownProvider {
    KnownProvider { name, protocol: Protocol::OpenAi, default_base_url, key_name, base_url_name }
}

impl ProviderSettings {
    fn env_value(&self, name: &str) -> Option<&str> {
        let value = match name {
            "OPENAI_API_KEY" => &self.openai_api_key,
            "OPENAI_BASE_URL" => &self.openai_base_url,
            "ANTHROPIC_API_KEY" => &self.anthropic_api_key,
            "ANTHROPIC_BASE_URL" => &self.anthropic_base_url,
            "DEEPSEEK_API_KEY" => &self.deepseek_api_key,
            "XAI_API_KEY" => &self.xai_api_key,
            "GROQ_API_KEY" => &self.groq_api_key,
            "CEREBRAS_API_KEY" => &self.cerebras_api_key,
            "FIREWORKS_API_KEY" => &self.fireworks_api_key,
            "MOONSHOT_API_KEY" => &self.moonshot_api_key,
            "PERPLEXITY_API_KEY" => &self.perplexity_api_key,
            "TOGETHER_API_KEY" => &self.together_api_key,
            "OLLAMA_BASE_URL" => &self.ollama_base_url,
            _ => return None,
        };
        value.as_deref().map(str::trim).filter(|value| !value.is_empty())
    }

    /// Whether a base URL set at runtime may point at `host`.
    fn allows_host(&self, host: &str) -> bool {
        let host_of = |url: &str| Url::parse(url).ok().and_then(|url| url.host_str().map(str::to_ascii_lowercase));
        let host = host.to_ascii_lowercase();
        PROVIDERS.iter().filter(|known| known.key_name.is_some()).any(|known| host_of(known.default_base_url).as_deref() == Some(&host))
            || PROVIDERS.iter().filter_map(|known| self.env_value(known.base_url_name)).any(|url| host_of(url).as_deref() == Some(&host))
            || self.playground_allowed_hosts.iter().any(|allowed| allowed.trim().eq_ignore_ascii_case(&host))
    }

    /// Why `url`, set at runtime, may not be called (`None`: it may).
    fn refuse_runtime_url(&self, url: &str) -> Option<String> {
        let Ok(parsed) = Url::parse(url.trim()) else { return Some("it is not an absolute URL".into()) };
        if !matches!(parsed.scheme(), "http" | "https") {
            return Some(format!("the scheme {} is not allowed; use http or https", parsed.scheme()));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Some("a user name or password in the URL is not allowed".into());
        }
        match parsed.host_str() {
            Some(host) if self.allows_host(host) => None,
            Some(host) => Some(format!("the host {host} is not allowed; the operator can add it to EMBER_PLAYGROUND_ALLOWED_HOSTS")),
            None => Some("it names no host".into()),
        }
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// `PUT /v1/secrets`, at this time (ns).
    Stored(i64),
    Environment,
    /// The provider's public API (base URLs only).
    Default,
}

/// Why a provider cannot be called.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("unknown provider `{0}`; ember's playground calls openai, anthropic, deepseek, xai, ollama, groq, cerebras, fireworks, moonshot, perplexity and together")]
    Unknown(String),
    #[error("ember's playground cannot call {0} yet; use an OpenAI-compatible endpoint or Anthropic")]
    NotYet(String),
    #[error("no API key for {provider}: set {key_name} in the environment or through PUT /v1/secrets")]
    MissingKey { provider: String, key_name: &'static str },
    #[error("the secret {key} cannot be read: {reason}; set it again with PUT /v1/secrets")]
    UnreadableSecret { key: &'static str, reason: UnsealError },
    #[error("{name} cannot be used: {reason}")]
    BaseUrlRefused { name: &'static str, reason: String },
    #[error("{base_url_name} was set through PUT /v1/secrets, and {key_name} from the environment is only sent to the environment's {base_url_name} or the provider's own API; set {key_name} through PUT /v1/secrets too")]
    EnvironmentKeyElsewhere { key_name: &'static str, base_url_name: &'static str },
    #[error("{base_url_name} changed after {key_name} was set; set {key_name} again to send it to the new address")]
    KeyOlderThanBaseUrl { key_name: &'static str, base_url_name: &'static str },
    #[error(transparent)]
    Store(#[from] ember_store::StoreError),
}

/// The playground's provider client and settings.
#[derive(Clone)]
pub struct Playground {
    pub(crate) client: ProviderClient,
    settings: ProviderSettings,
    /// Seals secrets before they are stored and opens them when read.
    pub(crate) secrets: SecretBox,
    /// Redacts secret values that leave through GraphQL.
    pub(crate) redactor: std::sync::Arc<crate::redaction::Redactor>,
}

impl Playground {
    /// `phoenix_secret` (PHOENIX_SECRET) seals stored secrets when set.
    pub fn new(settings: ProviderSettings, phoenix_secret: Option<&str>) -> Result<Playground, ProviderError> {
        let client =
            ProviderClient::new(Duration::from_secs(settings.playground_timeout_secs.max(1)), settings.playground_max_answer_bytes)?;
        let redactor = std::sync::Arc::new(crate::redaction::Redactor::new(phoenix_secret));
        Ok(Playground { client, settings, secrets: SecretBox::new(phoenix_secret), redactor })
    }

    /// Every provider the playground knows, each ready to call or with the reason it is not.
    pub(crate) async fn statuses(&self, store: &Store) -> Vec<ProviderStatus> {
        let mut statuses = Vec::with_capacity(PROVIDERS.len());
        for known in PROVIDERS {
            let ready = self.endpoint(store, known.name).await.map(|endpoint| endpoint.base_url).map_err(|error| match error {
                EndpointError::Store(error) => {
                    tracing::error!(%error, "reading a provider's settings failed");
                    "its settings could not be read".to_string()
                }
                other => other.to_string(),
            });
            statuses.push(ProviderStatus { name: known.name, key_name: known.key_name, base_url_name: known.base_url_name, ready });
        }
        statuses
    }

    /// Where and how to call `provider`: secrets first, then the environment, then the default;
    /// the key only where it is bound to go (see the module's documentation).
    pub(crate) async fn endpoint(&self, store: &Store, provider: &str) -> Result<Endpoint, EndpointError> {
        if NOT_YET.contains(&provider) {
            return Err(EndpointError::NotYet(provider.to_string()));
        }
        let known = PROVIDERS.iter().find(|known| known.name == provider).ok_or_else(|| EndpointError::Unknown(provider.to_string()))?;
        let (base_url, url_origin) = match self.setting(store, known.base_url_name).await? {
            Some(setting) => setting,
            None => (known.default_base_url.to_string(), Origin::Default),
        };
        if let Origin::Stored(_) = url_origin {
            if let Some(reason) = self.settings.refuse_runtime_url(&base_url) {
                return Err(EndpointError::BaseUrlRefused { name: known.base_url_name, reason });
            }
        }
        let api_key = match known.key_name {
            Some(key_name) => {
                let missing = || EndpointError::MissingKey { provider: provider.to_string(), key_name };
                let (key, key_origin) = self.setting(store, key_name).await?.ok_or_else(missing)?;
                match (key_origin, url_origin) {
                    (Origin::Environment, Origin::Stored(_)) => {
                        return Err(EndpointError::EnvironmentKeyElsewhere { key_name, base_url_name: known.base_url_name })
                    }
                    (Origin::Stored(key_set), Origin::Stored(url_set)) if key_set < url_set => {
                        return Err(EndpointError::KeyOlderThanBaseUrl { key_name, base_url_name: known.base_url_name })
                    }
                    _ => Some(key),
                }
            }
            None => None,
        };
        Ok(Endpoint { provider: provider.to_string(), protocol: known.protocol, base_url, api_key })
    }

    /// A setting's value and origin: the stored secret, else the environment.
    async fn setting(&self, store: &Store, name: &'static str) -> Result<Option<(String, Origin)>, EndpointError> {
        if let Some(StoredSecret { value, updated_at }) = store.stored_secret(name).await? {
            let value = self.secrets.open(&value).map_err(|reason| EndpointError::UnreadableSecret { key: name, reason })?;
            if !value.trim().is_empty() {
                return Ok(Some((value, Origin::Stored(updated_at))));
            }
        }
        Ok(self.settings.env_value(name).map(|value| (value.to_string(), Origin::Environment)))
    }

    /// Why a secret may not be stored (`None`: it may): a provider's base URL must be one the
    /// playground would call.
    pub(crate) fn refuse_secret(&self, key: &str, value: &str) -> Option<String> {
        let known = PROVIDERS.iter().find(|known| known.base_url_name == key)?;
        self.settings.refuse_runtime_url(value).map(|reason| format!("{} cannot be used: {reason}", known.base_url_name))
    }
}
