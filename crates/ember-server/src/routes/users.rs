//! Users, as Phoenix 20.26 answers (observed): `GET`/`POST /v1/users`, `DELETE /v1/users/{id}`
//! and `GET /v1/user` (the signed-in user, or the anonymous viewer with authentication off).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::{GlobalId, GlobalType};
use ember_service::users::{SignIn, UserInput};
use ember_wire::{AnonymousUser, Data, Page, User};
use serde::Deserialize;

use super::JsonBody;
use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::{wire, AppState};

#[derive(Deserialize)]
#[serde(rename_all = "UPPERCASE")]
enum Role {
    System,
    Admin,
    Member,
    Viewer,
}

impl Role {
    fn as_str(&self) -> &'static str {
        match self {
            Role::System => "SYSTEM",
            Role::Admin => "ADMIN",
            Role::Member => "MEMBER",
            Role::Viewer => "VIEWER",
        }
    }
}

/// A new user, by how they sign in (`auth_method`).
#[derive(Deserialize)]
#[serde(tag = "auth_method")]
enum UserData {
    #[serde(rename = "LOCAL")]
    Local {
        email: String,
        username: String,
        role: Role,
        #[serde(default)]
        password: Option<String>,
    },
    #[serde(rename = "OAUTH2")]
    OAuth2 {
        email: String,
        username: String,
        role: Role,
        #[serde(default)]
        oauth2_client_id: Option<String>,
        #[serde(default)]
        oauth2_user_id: Option<String>,
    },
    #[serde(rename = "LDAP")]
    Ldap { email: String, username: String, role: Role },
}

/// `{"user": ..., "send_welcome_email": ...}`: the welcome mail is sent by default, as in
/// Phoenix (when an SMTP server is set).
#[derive(Deserialize)]
pub struct CreateUserBody {
    user: UserData,
    #[serde(default = "welcome_by_default")]
    send_welcome_email: bool,
}

fn welcome_by_default() -> bool {
    true
}

pub async fn list(State(state): State<AppState>, RequestCaller(caller): RequestCaller, params: QueryParams) -> ApiResult<Json<Page<User>>> {
    let (cursor, limit) = (params.any_cursor()?, params.limit(100, Some(1000))?);
    let page = state.services.users().list(&caller, cursor, limit).await?;
    Ok(Json(wire::page(page.items.iter().map(wire::user).collect(), page.next_cursor, GlobalType::User)))
}

pub async fn create(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonBody(body): JsonBody<CreateUserBody>,
) -> ApiResult<(StatusCode, Json<Data<User>>)> {
    let input = match body.user {
        UserData::Local { email, username, role, password } => {
            UserInput { email, username, role: role.as_str().into(), sign_in: SignIn::Local { password } }
        }
        UserData::OAuth2 { email, username, role, oauth2_client_id, oauth2_user_id } => UserInput {
            email,
            username,
            role: role.as_str().into(),
            sign_in: SignIn::OAuth2 { client_id: oauth2_client_id, user_id: oauth2_user_id },
        },
        UserData::Ldap { email, username, role } => UserInput { email, username, role: role.as_str().into(), sign_in: SignIn::Ldap },
    };
    let user = state.services.users().create(&caller, input).await?;
    if body.send_welcome_email {
        state.services.auth().send_welcome(&user).await;
    }
    Ok((StatusCode::CREATED, Json(Data::new(wire::user(&user)))))
}

pub async fn delete(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let rowid =
        GlobalId::decode_as(&id, GlobalType::User).ok_or_else(|| ApiError::unprocessable(format!("Invalid User GlobalID format: {id}")))?;
    state.services.users().delete(&caller, rowid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/user`: the signed-in user; with authentication off nobody is.
pub async fn viewer(State(state): State<AppState>, RequestCaller(caller): RequestCaller) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    Ok(match state.services.users().viewer(&caller).await? {
        Some(user) => Json(Data::new(wire::user(&user))).into_response(),
        None => Json(Data::new(AnonymousUser { auth_method: "ANONYMOUS".into() })).into_response(),
    })
}
