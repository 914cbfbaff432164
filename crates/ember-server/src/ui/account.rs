//! Signing in and the signed-in user's own pages: `/login` (email and password, then back to the
//! page asked for), `/account` (who you are, changing your password, your API keys: created,
//! shown once, deleted), and `/users` for admins (users created and deleted). Every rule is the
//! authentication, API-key and user services'; these pages render forms and outcomes.

use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use ember_core::time::{format_nanos, parse_timestamp};
use ember_core::ClassifiedError;
use ember_core::{GlobalId, GlobalType};
use ember_service::api_keys::{ApiKeyInput, PastExpiry};
use ember_service::auth::Session;
use ember_service::users::{SignIn, UserInput};
use ember_service::{Caller, Role, ServiceError};
use maud::{html, Markup};
use serde::Deserialize;

use super::error::UiResult;
use super::layout::{shell, Section};
use super::redirect_with as to;
use crate::authentication::RequestCaller;
use crate::AppState;

/// A notice or an error to show at the top of a page, and where to go after signing in.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    notice: Option<String>,
    error: Option<String>,
    next: Option<String>,
    reset: Option<String>,
}

fn encoded(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A page of this server to go to after signing in: a path, never another site.
pub(crate) fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path,
        _ => "/projects",
    }
}

/// What a refusal shows on the page (an internal failure is logged and shown generically).
pub(crate) fn shown(error: &ServiceError) -> String {
    if error.code() == ember_core::ErrorCode::Internal {
        tracing::error!(%error, "account page failed");
    }
    error.client_message()
}

pub(crate) fn notices(query: &PageQuery) -> Markup {
    html! {
        @if let Some(notice) = &query.notice { p.notice { (notice) } }
        @if let Some(error) = &query.error { p.notice.error { (error) } }
    }
}

/// The sign-in page: a button per OpenID provider (straight to the one marked `AUTO_LOGIN`
/// unless a sign-in just failed), the LDAP form, and email and password unless turned off.
pub async fn login_page(State(state): State<AppState>, Query(mut query): Query<PageQuery>) -> Response {
    let next = local_path(query.next.as_deref()).to_string();
    let providers = state.services.auth().oauth2_providers();
    let return_url = encoded(&next);
    if query.error.is_none() && query.notice.is_none() {
        if let Some(auto) = providers.iter().find(|provider| provider.auto_login) {
            return Redirect::to(&format!("/oauth2/{}/login?returnUrl={return_url}", auto.name)).into_response();
        }
    }
    // Phoenix's OAuth2 error codes read as sentences.
    if let Some(message) = query.error.as_deref().and_then(ember_service::auth::oauth2::OAuth2Error::message_of) {
        query.error = Some(message.to_string());
    }
    let body = html! {
        h1 { "Sign in" }
        (notices(&query))
        @if !providers.is_empty() {
            div.sso-providers #oauth2-providers {
                @for provider in &providers {
                    p { a.button.primary data-idp=(provider.name) href=(format!("/oauth2/{}/login?returnUrl={return_url}", provider.name)) {
                        "Sign in with " (provider.display_name)
                    } }
                }
            }
        }
        @if !state.services.auth().enabled() {
            p { "Authentication is off: everyone who can reach ember may use it. " a href="/projects" { "Go to your projects" } }
        } @else {
            @let ldap = state.services.auth().ldap_enabled();
            @let basic = state.services.auth().basic_auth_enabled();
            @if ldap {
                form.stacked #ldap-login method="post" action="/login/ldap" {
                    input type="hidden" name="next" value=(next);
                    label { "Username" input type="text" name="username" autocomplete="username" required autofocus; }
                    label { "Password" input type="password" name="password" autocomplete="current-password" required; }
                    button.primary type="submit" { "Sign in with LDAP" }
                }
            }
            @if basic {
                @if ldap || !providers.is_empty() { p.muted { "or with your email and ember password:" } }
                form.stacked #login method="post" action="/login" {
                    input type="hidden" name="next" value=(next);
                    label { "Email" input type="email" name="email" autocomplete="username" required autofocus[!ldap]; }
                    label { "Password" input type="password" name="password" autocomplete="current-password" required; }
                    button.primary type="submit" { "Sign in" }
                }
                @if state.services.mail_enabled() { p { a #forgot-password-link href="/forgot-password" { "Forgot your password?" } } }
            } @else if !ldap && providers.is_empty() {
                p { "Signing in with a password is turned off on this server." }
            }
        }
    };
    shell("Sign in", Section::None, &Caller::anonymous(), body).into_response()
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

pub async fn login(State(state): State<AppState>, Form(form): Form<LoginForm>) -> Response {
    let signed_in = state.services.auth().login(Some(&form.email), Some(&form.password)).await;
    signed_in_or_back(&state, form.next.as_deref(), signed_in)
}

/// A sign-in form's outcome: the session's cookies and the page asked for, or the login page
/// saying why not.
fn signed_in_or_back(state: &AppState, next: Option<&str>, signed_in: Result<Session, ServiceError>) -> Response {
    let next = local_path(next).to_string();
    match signed_in {
        Ok(session) => {
            let mut response = Redirect::to(&next).into_response();
            state.cookies.set_session(response.headers_mut(), session);
            response
        }
        Err(error) => to(&format!("/login?next={}", encoded(&next)), "error", &shown(&error)).into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct LdapLoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// The login page's LDAP form: as `POST /auth/ldap/login`, then to the page asked for.
pub async fn ldap_login(State(state): State<AppState>, Form(form): Form<LdapLoginForm>) -> Response {
    let signed_in = state.services.auth().ldap_login(Some(&form.username), Some(&form.password)).await;
    signed_in_or_back(&state, form.next.as_deref(), signed_in)
}

pub async fn account(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Query(query): Query<PageQuery>,
) -> UiResult<Markup> {
    let user = state.services.users().viewer(&caller).await?;
    let keys = match &user {
        Some(_) => state.services.api_keys().list_own(&caller).await?,
        None => Vec::new(),
    };
    let body = html! {
        h1 { "Your account" }
        (notices(&query))
        @if caller.password_reset_due() || query.reset.is_some() {
            p.notice.error #password-reset-due { "Choose a new password before you go on." }
        }
        @match &user {
            None => p.muted { "Authentication is off: nobody is signed in." },
            Some(user) => {
                dl.facts {
                    dt { "Username" } dd #username { (user.username) }
                    dt { "Email" } dd { (user.email) }
                    dt { "Role" } dd { (user.role) }
                }
                p { a href="/auth/logout" #sign-out { "Sign out" } }
                @if user.auth_method == "LOCAL" {
                    h2 { "Change password" }
                    form.stacked #change-password method="post" action="/account/password" {
                        label { "Current password" input type="password" name="current" autocomplete="current-password" required; }
                        label { "New password" input type="password" name="new" autocomplete="new-password" required; }
                        button.primary type="submit" { "Change password" }
                    }
                }
                h2 { "API keys" }
                p.muted { "A key acts as you, with your role: send it as " code { "Authorization: Bearer <key>" } " (PHOENIX_API_KEY)." }
                (key_table(&keys, "/account/api-keys"))
                h3 { "New API key" }
                form.toolbar #new-api-key method="post" action="/account/api-keys" {
                    input type="text" name="name" placeholder="name" required aria-label="Key name";
                    input.grow type="text" name="description" placeholder="description (optional)" aria-label="Description";
                    input type="date" name="expires" aria-label="Expires on (optional)" title="Expires on (optional)";
                    input type="text" name="project" placeholder="only project (optional)" aria-label="Only this project (optional)";
                    label { input type="checkbox" name="ingest_only" value="true"; " send spans only" }
                    button.primary type="submit" { "Create" }
                }
            }
        }
    };
    Ok(shell("Your account", Section::Account, &caller, body))
}

/// What a key may reach, in words.
fn scope_text(key: &ember_store::ApiKeyRecord) -> String {
    let projects = match &key.project_name {
        Some(name) => format!("project {name}"),
        None => "all your projects".to_string(),
    };
    if key.scope.ingest_only {
        format!("{projects}, send spans only")
    } else {
        projects
    }
}

fn key_table(keys: &[ember_store::ApiKeyRecord], action: &str) -> Markup {
    html! {
        @if keys.is_empty() { p.muted { "No API keys yet." } } @else {
            table.grid.api-keys {
                thead { tr { th { "Name" } th { "Description" } th { "Created" } th { "Expires" } th { "Scope" } th {} } }
                tbody {
                    @for key in keys {
                        tr {
                            td { (key.name) }
                            td { (key.description.as_deref().unwrap_or("")) }
                            td { (format_nanos(key.created_at)) }
                            td { (key.expires_at.map(format_nanos).unwrap_or_else(|| "never".into())) }
                            td { (scope_text(key)) }
                            td {
                                form.inline method="post" action=(format!("{action}/{}/delete", key.id))
                                    data-confirm=(format!("Delete the API key {}? Clients using it stop working.", key.name)) {
                                    button.small.danger type="submit" { "Delete" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Form(form): Form<PasswordForm>,
) -> Response {
    let patch = ember_service::users::ViewerPatch { username: None, new_password: Some(form.new), current_password: Some(form.current) };
    match state.services.users().patch_viewer(&caller, patch).await {
        Ok(_) => {
            let mut response = to("/login", "notice", "Your password is changed: sign in with it.").into_response();
            state.cookies.clear_session(response.headers_mut());
            response
        }
        Err(error) => to("/account", "error", &shown(&error)).into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct KeyForm {
    name: String,
    #[serde(default)]
    description: String,
    /// `YYYY-MM-DD`, empty for never.
    #[serde(default)]
    expires: String,
    /// A project's name, empty for every project.
    #[serde(default)]
    project: String,
    /// Present (`true`) when checked.
    #[serde(default)]
    ingest_only: Option<String>,
}

fn key_input(form: KeyForm) -> Result<ApiKeyInput, String> {
    let expires_at = match form.expires.trim() {
        "" => None,
        day => Some(parse_timestamp(&format!("{day}T00:00:00Z")).ok_or_else(|| format!("{day:?} is not a date"))?),
    };
    let description = Some(form.description.trim().to_string()).filter(|text| !text.is_empty());
    let project = Some(form.project.trim().to_string()).filter(|name| !name.is_empty());
    Ok(ApiKeyInput {
        name: form.name,
        description,
        expires_at,
        project,
        ingest_only: form.ingest_only.is_some(),
        past_expiry: PastExpiry::Refused,
    })
}

/// The new key, shown this once.
fn created_key(caller: &Caller, key: &str, back: &str) -> Markup {
    let body = html! {
        h1 { "Your new API key" }
        p.notice #new-key-notice { "Copy the key now: it is not shown again." }
        p { code #new-key { (key) } " " button.small type="button" data-copy=(key) { "copy" } }
        p { a href=(back) { "Done" } }
    };
    shell("New API key", Section::Account, caller, body)
}

pub async fn create_key(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Form(form): Form<KeyForm>) -> Response {
    let input = match key_input(form) {
        Ok(input) => input,
        Err(problem) => return to("/account", "error", &problem).into_response(),
    };
    match state.services.api_keys().create_own(&caller, input).await {
        Ok(created) => created_key(&caller, &created.key, "/account").into_response(),
        Err(error) => to("/account", "error", &shown(&error)).into_response(),
    }
}

pub async fn delete_key(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Path(id): Path<i64>) -> Response {
    let id = GlobalId::encode(GlobalType::UserApiKey, id);
    match state.services.api_keys().delete_own(&caller, &id).await {
        Ok(()) => to("/account", "notice", "The API key is deleted.").into_response(),
        Err(error) => to("/account", "error", &shown(&error)).into_response(),
    }
}

pub async fn users(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Query(query): Query<PageQuery>,
) -> UiResult<Markup> {
    let users = state.services.users().list(&caller, None, 1000).await?.items;
    let system_keys = match state.services.auth().enabled() {
        true => state.services.api_keys().list_system(&caller).await?,
        false => Vec::new(),
    };
    let body = html! {
        h1 { "Users" }
        (notices(&query))
        @if state.services.auth().enabled() { p { a href="/audit" { "Audit log" } } }
        table.grid #users {
            thead { tr { th { "Username" } th { "Email" } th { "Role" } th { "Sign-in" } th { "Created" } th {} } }
            tbody {
                @for user in &users {
                    tr {
                        td { (user.username) }
                        td { (user.email) }
                        td { (user.role) }
                        td { (user.auth_method) @if user.password_needs_reset { span.muted { " (new password due)" } } }
                        td { (format_nanos(user.created_at)) }
                        td {
                            @if ember_service::users::is_deletable(user.id) {
                                form.inline method="post" action=(format!("/users/{}/delete", user.id))
                                    data-confirm=(format!("Delete the user {}? Their sessions and API keys stop working.", user.username)) {
                                    button.small.danger type="submit" { "Delete" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "New user" }
        p.muted {
            "They choose their own password at first sign-in"
            @if state.services.mail_enabled() { ", or from the link in their welcome mail (leave the first password empty)" }
            "."
        }
        form.toolbar #new-user method="post" action="/users" {
            input type="email" name="email" placeholder="email" required aria-label="Email";
            input type="text" name="username" placeholder="username" required aria-label="Username";
            select name="role" aria-label="Role" {
                option value="MEMBER" { "MEMBER" } option value="VIEWER" { "VIEWER" } option value="ADMIN" { "ADMIN" }
            }
            input type="password" name="password" placeholder="first password" required[!state.services.mail_enabled()] aria-label="First password" autocomplete="new-password";
            @if state.services.mail_enabled() { label { input type="checkbox" name="send_welcome_email" value="true" checked; " send a welcome mail" } }
            button.primary type="submit" { "Create" }
        }
        @if state.services.auth().enabled() {
            h2 { "System API keys" }
            p.muted { "Keys of the system rather than of a person, for collectors and services." }
            (key_table(&system_keys, "/users/system-api-keys"))
            form.toolbar #new-system-key method="post" action="/users/system-api-keys" {
                input type="text" name="name" placeholder="name" required aria-label="Key name";
                input.grow type="text" name="description" placeholder="description (optional)" aria-label="Description";
                input type="date" name="expires" aria-label="Expires on (optional)";
                input type="text" name="project" placeholder="only project (optional)" aria-label="Only this project (optional)";
                label { input type="checkbox" name="ingest_only" value="true"; " send spans only" }
                button.primary type="submit" { "Create" }
            }
        }
    };
    Ok(shell("Users", Section::Users, &caller, body))
}

#[derive(Debug, Deserialize)]
pub struct UserForm {
    email: String,
    username: String,
    role: String,
    /// Empty: the user chooses one from the welcome mail's link.
    #[serde(default)]
    password: String,
    #[serde(default)]
    send_welcome_email: bool,
}

pub async fn create_user(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Form(form): Form<UserForm>) -> Response {
    let role = Role::parse(&form.role).map(Role::as_str).unwrap_or("MEMBER").to_string();
    let password = Some(form.password).filter(|password| !password.is_empty());
    let input = UserInput { email: form.email, username: form.username, role, sign_in: SignIn::Local { password } };
    match state.services.users().create(&caller, input).await {
        Ok(user) if form.send_welcome_email => {
            state.services.auth().send_welcome(&user).await;
            to("/users", "notice", &format!("{} is invited: a welcome mail is on its way.", user.username)).into_response()
        }
        Ok(user) => to("/users", "notice", &format!("{} can sign in now.", user.username)).into_response(),
        Err(error) => to("/users", "error", &shown(&error)).into_response(),
    }
}

pub async fn delete_user(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Path(id): Path<i64>) -> Response {
    match state.services.users().delete(&caller, id).await {
        Ok(()) => to("/users", "notice", "The user is deleted.").into_response(),
        Err(error) => to("/users", "error", &shown(&error)).into_response(),
    }
}

pub async fn create_system_key(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Form(form): Form<KeyForm>) -> Response {
    let input = match key_input(form) {
        Ok(input) => input,
        Err(problem) => return to("/users", "error", &problem).into_response(),
    };
    match state.services.api_keys().create_system(&caller, input).await {
        Ok(created) => created_key(&caller, &created.key, "/users").into_response(),
        Err(error) => to("/users", "error", &shown(&error)).into_response(),
    }
}

pub async fn delete_system_key(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Path(id): Path<i64>) -> Response {
    let id = GlobalId::encode(GlobalType::SystemApiKey, id);
    match state.services.api_keys().delete_system(&caller, &id).await {
        Ok(()) => to("/users", "notice", "The system API key is deleted.").into_response(),
        Err(error) => to("/users", "error", &shown(&error)).into_response(),
    }
}
