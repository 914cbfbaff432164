//! Phoenix's per-client limit on the sign-in routes (`/auth/login`, `/auth/ldap/login`, `/oauth2/…`, `/auth/logout`,
//! `/auth/refresh`, `/auth/password-reset-email`, `/auth/password-reset`, and the web UI's forms
//! that do the same: signing in, asking for a reset link, setting a password) with
//! authentication on, unless `PHOENIX_DISABLE_RATE_LIMIT`: each client
//! address may send 12 at once and then one every 5 seconds (Phoenix's 0.2 per second over a
//! 60-second window); past that, 429 `Too Many Requests`. It slows password guessing across
//! many emails, which the per-email lockout does not. Idle addresses are forgotten, so a flood
//! of addresses does not grow memory without bound.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The address of the peer of a request's connection (set by the listener).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddress(pub SocketAddr);

/// The routes the limit applies to.
const LIMITED_PATHS: [&str; 6] =
    ["/auth/login", "/auth/ldap/login", "/auth/logout", "/auth/refresh", "/auth/password-reset-email", "/auth/password-reset"];
/// OAuth2 sign-in's routes (`/oauth2/{idp}/login`, `/oauth2/{idp}/tokens`), limited as Phoenix does.
const OAUTH2_PREFIX: &str = "/oauth2/";
/// The web UI's forms for the same, limited when posted (their pages load freely).
const LIMITED_FORMS: [&str; 4] = ["/login", "/login/ldap", "/forgot-password", "/reset-password-with-token"];
/// Requests a client may send at once, and how soon it earns another.
const BURST: u32 = 12;
const REFILL: Duration = Duration::from_secs(5);
/// Past this many remembered addresses, those back at a full allowance are forgotten.
const REMEMBERED: usize = 10_000;

/// The limiter; cheap to clone.
#[derive(Clone)]
pub struct AuthRateLimit(Arc<DefaultKeyedRateLimiter<IpAddr>>);

impl AuthRateLimit {
    pub fn new() -> AuthRateLimit {
        let burst = NonZeroU32::new(BURST).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(REFILL).map_or_else(|| Quota::per_second(burst), |quota| quota.allow_burst(burst));
        AuthRateLimit(Arc::new(RateLimiter::keyed(quota)))
    }

    /// Whether a request from `address` may go on now.
    fn admits(&self, address: IpAddr) -> bool {
        if self.0.len() > REMEMBERED {
            self.0.retain_recent();
        }
        self.0.check_key(&address).is_ok()
    }
}

impl Default for AuthRateLimit {
    fn default() -> Self {
        AuthRateLimit::new()
    }
}

/// The middleware: a limited route from an address past its allowance gets 429. A request
/// without a peer address (in-process) is not limited, as Phoenix lets a request without a
/// client through.
pub async fn limit(State(limit): State<AuthRateLimit>, request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<PeerAddress>().map(|peer| peer.0.ip());
    let path = request.uri().path();
    let limited = LIMITED_PATHS.contains(&path)
        || path.starts_with(OAUTH2_PREFIX)
        || (request.method() == axum::http::Method::POST && LIMITED_FORMS.contains(&path));
    if let Some(address) = peer.filter(|_| limited) {
        if !limit.admits(address) {
            return (StatusCode::TOO_MANY_REQUESTS, axum::Json(TooMany { detail: "Too Many Requests" })).into_response();
        }
    }
    next.run(request).await
}

/// FastAPI's error body.
#[derive(serde::Serialize)]
struct TooMany {
    detail: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_bursts_twelve_and_others_are_unaffected() {
        let limit = AuthRateLimit::new();
        let (first, second): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        assert!((0..BURST).all(|_| limit.admits(first)));
        assert!(!limit.admits(first));
        assert!(limit.admits(second));
    }
}
