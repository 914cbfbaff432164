//! The web UI's role matrix: every page and form of the UI's route table × every kind of caller.
//! A page asked for without a valid credential sends the browser to sign in, a form is refused
//! with a page; a caller without a route's access gets a 403 page before the form is read.

use axum::http::{header, Method, StatusCode};
use ember_server::app::Access;
use ember_service::AuthSettings;

use crate::auth::{form, principals, send, As};
use crate::common::test_app_with_auth;

#[tokio::test]
async fn every_page_and_form_answers_every_kind_of_caller_as_its_access_says() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let who = principals(&app).await;
    // Users an admin made must choose a new password before any page but their account's.
    for email in ["viewer@x.com", "member@x.com"] {
        let id = app.store.user_by_email(email).await.unwrap().unwrap().0.id;
        let hash = app.store.password_hash(id).await.unwrap().unwrap();
        app.store.set_password(id, &hash, false).await.unwrap();
    }
    let table = ember_server::ui_routes();
    let mut checked = 0;
    for route in table.routes() {
        let uri =
            route.path.split('/').map(|segment| if segment.starts_with('{') { "1000000" } else { segment }).collect::<Vec<_>>().join("/");
        let request = |principal: &As| {
            let (app, uri, method, principal) = (&app, uri.clone(), route.method.clone(), principal.clone());
            async move {
                match method {
                    Method::GET => send(app, Method::GET, &uri, &principal, None).await,
                    _ => form(app, &uri, &principal, &[]).await,
                }
            }
        };
        let context = format!("{} {}", route.method, route.path);
        if route.access == Access::Public {
            let (anonymous, admin) = (request(&who.anonymous).await, request(&who.system).await);
            assert_eq!(anonymous.status, admin.status, "{context}: a public route answers everyone alike");
            checked += 1;
            continue;
        }
        for (name, principal) in
            [("anonymous", &who.anonymous), ("bad token", &who.bad_token), ("expired", &who.expired), ("revoked", &who.revoked)]
        {
            let response = request(principal).await;
            if route.method == Method::GET {
                let location = response.headers.get(header::LOCATION).map(|value| value.to_str().unwrap().to_string());
                assert_eq!(response.status, StatusCode::SEE_OTHER, "{context} as {name}");
                assert!(
                    location.as_deref().is_some_and(|location| location.starts_with("/login?next=")),
                    "{context} as {name}: {location:?}"
                );
            } else {
                assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{context} as {name}");
                assert!(response.text().contains("Sign in first."), "{context} as {name}: a page says why");
            }
        }
        for (name, principal, allowed) in who.by_role(route.access) {
            let response = request(principal).await;
            if allowed {
                let passed = response.status != StatusCode::UNAUTHORIZED && response.status != StatusCode::FORBIDDEN;
                assert!(passed, "{context} as {name}: {} {}", response.status, response.text());
            } else {
                let message = if route.access == Access::Write {
                    "Viewers cannot perform this action."
                } else {
                    "Only admin or system users can perform this action."
                };
                assert_eq!(response.status, StatusCode::FORBIDDEN, "{context} as {name}");
                let page = response.text();
                assert!(page.starts_with("<!DOCTYPE html>") && page.contains(message), "{context} as {name}: {page}");
            }
        }
        checked += 1;
    }
    assert!(checked >= 43, "{checked} UI routes checked");
}
