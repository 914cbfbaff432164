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
}
