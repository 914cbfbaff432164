//! The web UI's pages with authentication on: a page asked for without a valid session is served
//! after refreshing the session with its refresh cookie (the new cookies go with the page), or
//! else the browser goes to the login page and comes back after signing in; a user who must
//! choose a new password is sent to their account page first. The login page and the assets
//! need no session.

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use ember_core::ErrorCode;
use ember_service::auth::Presented;
use ember_service::ServiceError;

use super::error::UiError;
use crate::authentication::{authenticated, cookie, set_authenticated, ACCESS_TOKEN_COOKIE, REFRESH_TOKEN_COOKIE};
use crate::AppState;

pub async fn guard_page(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let public =
        matches!(path, "/login" | "/login/ldap" | "/forgot-password" | "/reset-password-with-token") || path.starts_with("/ui/assets/");
    if !state.services.auth().enabled() || public {
        return next.run(request).await;
    }
    let mut refreshed = None;
    if authenticated(&request).is_none() {
        let headers = request.headers();
        if let Some(refresh_token) = cookie(headers, REFRESH_TOKEN_COOKIE) {
            let access_token = cookie(headers, ACCESS_TOKEN_COOKIE);
            let auth = state.services.auth();
            if let Ok(session) = auth.refresh(Some(&refresh_token), access_token.as_deref()).await {
                if let Ok(caller) = auth.authenticate(Presented::SessionCookie(&session.access_token)).await {
                    set_authenticated(&mut request, caller);
                    refreshed = Some(session);
                }
            }
        }
    }
    let mut response = match authenticated(&request) {
        Some(caller) => {
            let path = request.uri().path();
            let own_account = path == "/account" || path.starts_with("/account/");
            if caller.password_reset_due() && !own_account {
                Redirect::to("/account?reset=1").into_response()
            } else {
                next.run(request).await
            }
        }
        None if matches!(*request.method(), Method::GET | Method::HEAD) => {
            let wanted = request.uri().path_and_query().map_or("/projects", |wanted| wanted.as_str());
            let encoded = percent_encoding::utf8_percent_encode(wanted, percent_encoding::NON_ALPHANUMERIC);
            Redirect::to(&format!("/login?next={encoded}")).into_response()
        }
        None => UiError::from(ServiceError::new(ErrorCode::Unauthenticated, "Sign in first.")).into_response(),
    };
    if let Some(session) = refreshed {
        state.cookies.set_session(response.headers_mut(), session);
    }
    response
}
