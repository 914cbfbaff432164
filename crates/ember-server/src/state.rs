//! State shared by every handler, passed explicitly: the services (and through them everything
//! ember stores), and the transport's own limits.

use ember_service::Services;

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    /// Largest request body after decompression.
    pub max_body_bytes: usize,
    /// The budget on request-body bytes held by all requests at once.
    pub body_budget: crate::body_budget::BodyBudget,
    /// Largest dataset upload file after decompression.
    pub max_upload_bytes: u64,
    /// Which other origins may send requests (`PHOENIX_ALLOWED_ORIGINS`, `PHOENIX_CSRF_TRUSTED_ORIGINS`).
    pub origins: crate::csrf::OriginRules,
    /// Where and how session cookies are set.
    pub cookies: crate::session_cookies::CookieSettings,
    /// The per-client limit on the sign-in routes; `None` when off.
    pub auth_rate_limit: Option<crate::auth_rate_limit::AuthRateLimit>,
    /// The path prefix ember is served under (`PHOENIX_HOST_ROOT_PATH`).
    pub root_path: crate::root_path::RootPath,
    /// The address browsers reach ember at (`PHOENIX_ROOT_URL`); without it, the request's own
    /// `Host` (OAuth2 redirect URIs are built on it).
    pub public_url: Option<String>,
    /// Whether the HTTP port speaks TLS (the scheme of addresses built from `Host`).
    pub https: bool,
    /// The MCP server at `/mcp`; `None` when it is off (`PHOENIX_ENABLE_MCP_SERVER=false`).
    pub mcp: Option<crate::mcp::McpEndpoint>,
}
