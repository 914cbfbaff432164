//! The playground's providers: which ones ember can call, where, and with which key. A key or
//! base URL set through `PUT /v1/secrets` wins over the environment, as in Phoenix.

use std::time::Duration;

use ember_evals::providers::{Endpoint, Protocol, ProviderClient, ProviderError};
use ember_store::Store;

use crate::secret_box::{SecretBox, UnsealError};

/// How long a provider may take between two pieces of an answer, by default.
const DEFAULT_TIMEOUT_SECS: u64 = 120;

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
}

impl Playground {
    /// `phoenix_secret` (PHOENIX_SECRET) seals stored secrets when set.
    pub fn new(settings: ProviderSettings, phoenix_secret: Option<&str>) -> Result<Playground, ProviderError> {
        let client = ProviderClient::new(Duration::from_secs(settings.playground_timeout_secs.max(1)))?;
        Ok(Playground { client, settings, secrets: SecretBox::new(phoenix_secret) })
    }

    /// Where and how to call `provider`: secrets first, then the environment, then the default.
    pub(crate) async fn endpoint(&self, store: &Store, provider: &str) -> Result<Endpoint, EndpointError> {
        if NOT_YET.contains(&provider) {
            return Err(EndpointError::NotYet(provider.to_string()));
        }
        let known = PROVIDERS.iter().find(|known| known.name == provider).ok_or_else(|| EndpointError::Unknown(provider.to_string()))?;
        let setting = |name: &'static str| async move {
            let secret = match store.secret(name).await? {
                Some(stored) => Some(self.secrets.open(&stored).map_err(|reason| EndpointError::UnreadableSecret { key: name, reason })?),
                None => None,
            };
            let secret = secret.filter(|value| !value.trim().is_empty());
            Ok::<_, EndpointError>(secret.or_else(|| self.settings.env_value(name).map(str::to_string)))
        };
        let base_url = setting(known.base_url_name).await?.unwrap_or_else(|| known.default_base_url.to_string());
        let api_key = match known.key_name {
            Some(key_name) => Some(setting(key_name).await?.ok_or(EndpointError::MissingKey { provider: provider.to_string(), key_name })?),
            None => None,
        };
        Ok(Endpoint { provider: provider.to_string(), protocol: known.protocol, base_url, api_key })
    }
}
