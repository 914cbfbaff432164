//! Forgotten passwords and invitations in the web UI: `/forgot-password` asks for the mail
//! address and answers the same whether or not it has an account; `/reset-password-with-token`
//! (the link in the reset and welcome mails, Phoenix's path) sets a new password with the
//! token, once. The rules are the authentication service's.

use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use ember_service::Caller;
use maud::{html, Markup};
use serde::Deserialize;

use super::account::shown;
use super::layout::{shell, Section};
use super::redirect_with as to;
use crate::AppState;

/// What the page says after a reset was asked for, whoever asked.
const ON_ITS_WAY: &str = "If that address has an account that signs in with a password, a link to choose a new one is on its way.";

#[derive(Debug, Default, Deserialize)]
pub struct ResetQuery {
    token: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

fn notices(query: &ResetQuery) -> Markup {
    html! {
        @if let Some(notice) = &query.notice { p.notice #reset-notice { (notice) } }
        @if let Some(error) = &query.error { p.notice.error #reset-error { (error) } }
    }
}

pub async fn forgot_page(State(state): State<AppState>, Query(query): Query<ResetQuery>) -> Markup {
    let body = html! {
        h1 { "Forgot your password?" }
        (notices(&query))
        @if state.services.mail_enabled() {
            form.stacked #forgot-password method="post" action="/forgot-password" {
                label { "Email" input type="email" name="email" autocomplete="username" required autofocus; }
                button.primary type="submit" { "Mail me a link" }
            }
        } @else {
            p { "This server sends no mail (no SMTP server is set): ask an admin to set a new password for you." }
        }
        p { a href="/login" { "Back to sign in" } }
    };
    shell("Forgot your password?", Section::None, &Caller::anonymous(), body)
}

#[derive(Debug, Deserialize)]
pub struct ForgotForm {
    email: String,
}

pub async fn forgot(State(state): State<AppState>, Form(form): Form<ForgotForm>) -> Response {
    match state.services.auth().request_password_reset(Some(&form.email)).await {
        Ok(()) => to("/forgot-password", "notice", ON_ITS_WAY).into_response(),
        Err(error) => to("/forgot-password", "error", &shown(&error)).into_response(),
    }
}

pub async fn reset_page(Query(query): Query<ResetQuery>) -> Markup {
    let body = html! {
        h1 { "Choose a password" }
        (notices(&query))
        @match query.token.as_deref().filter(|token| !token.is_empty()) {
            Some(token) => {
                form.stacked #reset-password method="post" action="/reset-password-with-token" {
                    input type="hidden" name="token" value=(token);
                    label { "New password" input type="password" name="password" autocomplete="new-password" required autofocus; }
                    label { "Again" input type="password" name="confirm" autocomplete="new-password" required; }
                    button.primary type="submit" { "Set password" }
                }
            }
            None => p { "This page needs the link from your mail. " a href="/forgot-password" { "Ask for a new one" } "." },
        }
    };
    shell("Choose a password", Section::None, &Caller::anonymous(), body)
}

#[derive(Debug, Deserialize)]
pub struct ResetForm {
    token: String,
    password: String,
    confirm: String,
}

pub async fn reset(State(state): State<AppState>, Form(form): Form<ResetForm>) -> Response {
    let again = |message: &str| {
        let path = format!(
            "/reset-password-with-token?token={}",
            percent_encoding::utf8_percent_encode(&form.token, percent_encoding::NON_ALPHANUMERIC)
        );
        to(&path, "error", message).into_response()
    };
    if form.password != form.confirm {
        return again("The two passwords differ.");
    }
    match state.services.auth().reset_password(Some(&form.token), Some(&form.password)).await {
        Ok(()) => Redirect::to(&super::with_message("/login", "notice", "Your password is set: sign in with it.")).into_response(),
        Err(error) if error.code() == ember_core::ErrorCode::Unauthenticated => {
            to("/forgot-password", "error", "That link is used up or has expired: ask for a new one.").into_response()
        }
        Err(error) => again(&shown(&error)),
    }
}
