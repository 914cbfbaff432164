//! Who is calling, established once per request for every HTTP route (REST, UI, GraphQL) and
//! handed to the services. Today every caller is anonymous.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use ember_service::Caller;

/// The request's caller.
pub struct RequestCaller(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for RequestCaller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestCaller(Caller::anonymous()))
    }
}
