//! Users, roles and API keys over GraphQL, with Phoenix's names and shapes: the `User` node,
//! `viewer`, `users`, `userRoles`, `userApiKeys` and `systemApiKeys`, and the mutations
//! `createUser`, `patchUser`, `patchViewer`, `deleteUsers`, `createUserApiKey`,
//! `createSystemApiKey`, `deleteUserApiKey` and `deleteSystemApiKey`. Every rule is the user and
//! API-key services'; a new password through `patchViewer` also clears the session cookies, as
//! Phoenix's does (the caller signs in again).

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use ember_core::time::{format_nanos, parse_timestamp};
use ember_core::ClassifiedError;
use ember_core::{ErrorCode, GlobalId, GlobalType};
use ember_service::api_keys::{ApiKeyInput, CreatedApiKey, PastExpiry, SYSTEM_KEYS_ELSEWHERE};
use ember_service::users::{SignIn, UserInput, UserPatch, ViewerPatch};
use ember_service::ServiceError;
use ember_store::{ApiKeyRecord, UserRecord};

use super::{bad_input, connection, context, graphql_error, rowid_of};
use crate::session_cookies::CookieSettings;

/// A user; `None` where ember does not record who did something.
pub struct User(pub UserRecord);

/// How a user signs in.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    #[graphql(name = "LOCAL")]
    Local,
    #[graphql(name = "OAUTH2")]
    OAuth2,
    #[graphql(name = "LDAP")]
    Ldap,
}

/// The roles a user can be given (SYSTEM is the system's own).
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "UserRoleInput")]
pub enum UserRoleInput {
    #[graphql(name = "ADMIN")]
    Admin,
    #[graphql(name = "MEMBER")]
    Member,
    #[graphql(name = "VIEWER")]
    Viewer,
}

impl UserRoleInput {
    fn name(self) -> &'static str {
        match self {
            UserRoleInput::Admin => "ADMIN",
            UserRoleInput::Member => "MEMBER",
            UserRoleInput::Viewer => "VIEWER",
        }
    }
}

/// The stored roles, in Phoenix's row order (its `UserRole` node ids).
const ROLES: [&str; 4] = ["SYSTEM", "ADMIN", "MEMBER", "VIEWER"];

#[derive(SimpleObject)]
pub struct UserRole {
    id: ID,
    name: String,
}

impl UserRole {
    fn of(name: &str) -> UserRole {
        let rowid = ROLES.iter().position(|role| *role == name).map_or(0, |index| index as i64 + 1);
        UserRole { id: GlobalId::encode(GlobalType::UserRole, rowid).into(), name: name.to_string() }
    }
}

#[Object]
impl User {
    pub async fn id(&self) -> ID {
        GlobalId::encode(GlobalType::User, self.0.id).into()
    }

    async fn email(&self) -> Option<&str> {
        Some(self.0.email.as_str())
    }

    async fn username(&self) -> &str {
        &self.0.username
    }

    /// ember keeps no profile pictures.
    async fn profile_picture_url(&self) -> Option<String> {
        None
    }

    async fn created_at(&self) -> String {
        format_nanos(self.0.created_at)
    }

    async fn auth_method(&self) -> AuthMethod {
        match self.0.auth_method.as_str() {
            "OAUTH2" => AuthMethod::OAuth2,
            "LDAP" => AuthMethod::Ldap,
            _ => AuthMethod::Local,
        }
    }

    async fn role(&self) -> UserRole {
        UserRole::of(&self.0.role)
    }

    async fn password_needs_reset(&self) -> bool {
        self.0.password_needs_reset
    }

    /// The user's API keys: for the user themself and for admins.
    async fn api_keys(&self, context: &Context<'_>) -> Result<Vec<UserApiKey>> {
        let (services, caller) = super::context(context)?;
        let keys = services.api_keys().list_of_user(caller, self.0.id).await.map_err(graphql_error)?;
        Ok(keys.into_iter().map(UserApiKey).collect())
    }
}

/// A user's API key (never the key itself).
pub struct UserApiKey(pub ApiKeyRecord);

/// A system API key.
pub struct SystemApiKey(pub ApiKeyRecord);

macro_rules! api_key_fields {
    ($type:ident, $global_type:expr) => {
        #[Object]
        impl $type {
            async fn id(&self) -> ID {
                GlobalId::encode($global_type, self.0.id).into()
            }

            async fn name(&self) -> &str {
                &self.0.name
            }

            async fn description(&self) -> Option<&str> {
                self.0.description.as_deref()
            }

            async fn created_at(&self) -> String {
                format_nanos(self.0.created_at)
            }

            async fn expires_at(&self) -> Option<String> {
                self.0.expires_at.map(format_nanos)
            }
        }
    };
}

api_key_fields!(UserApiKey, GlobalType::UserApiKey);
api_key_fields!(SystemApiKey, GlobalType::SystemApiKey);

#[derive(Default)]
pub struct UserQueries;

#[Object]
impl UserQueries {
    /// The signed-in user; null with authentication off.
    async fn viewer(&self, context: &Context<'_>) -> Result<Option<User>> {
        let (services, caller) = self::context(context)?;
        Ok(services.users().viewer(caller).await.map_err(graphql_error)?.map(User))
    }

    /// Every user but the SYSTEM user (admins).
    async fn users(&self, context: &Context<'_>, first: Option<i32>, after: Option<String>) -> Result<Connection<String, User>> {
        let (services, caller) = self::context(context)?;
        let page = services
            .users()
            .list_people(caller, connection::resume_after(after.as_deref())?, connection::edges_wanted(first)?)
            .await
            .map_err(graphql_error)?;
        Ok(connection::keyset(page, |user| user.id, User))
    }

    /// The roles users can have.
    async fn user_roles(&self) -> Vec<UserRole> {
        ROLES[1..].iter().map(|role| UserRole::of(role)).collect()
    }

    /// Every user's API keys (admins).
    async fn user_api_keys(&self, context: &Context<'_>) -> Result<Vec<UserApiKey>> {
        let (services, caller) = self::context(context)?;
        let mut keys = Vec::new();
        let mut cursor = None;
        loop {
            let page = services.api_keys().list_all_users(caller, cursor.as_deref(), 1000).await.map_err(graphql_error)?;
            keys.extend(page.items.into_iter().map(UserApiKey));
            match page.next_cursor {
                Some(next) => cursor = Some(GlobalId::encode(GlobalType::UserApiKey, next)),
                None => return Ok(keys),
            }
        }
    }

    /// The system's API keys (admins).
    async fn system_api_keys(&self, context: &Context<'_>) -> Result<Vec<SystemApiKey>> {
        let (services, caller) = self::context(context)?;
        Ok(services.api_keys().list_system(caller).await.map_err(graphql_error)?.into_iter().map(SystemApiKey).collect())
    }
}

#[derive(InputObject)]
pub struct CreateUserInput {
    email: String,
    username: String,
    password: Option<String>,
    role: UserRoleInput,
    /// Mail the new user a welcome (when an SMTP server is set); off by default, as in Phoenix.
    #[graphql(default)]
    send_welcome_email: Option<bool>,
    auth_method: Option<AuthMethod>,
}

#[derive(InputObject)]
pub struct PatchUserInput {
    user_id: ID,
    new_role: Option<UserRoleInput>,
    new_username: Option<String>,
    new_password: Option<String>,
}

#[derive(InputObject)]
pub struct PatchViewerInput {
    new_username: Option<String>,
    new_password: Option<String>,
    current_password: Option<String>,
}

#[derive(InputObject)]
pub struct DeleteUsersInput {
    user_ids: Vec<ID>,
}

#[derive(SimpleObject)]
pub struct DeleteUsersPayload {
    user_ids: Vec<ID>,
}

#[derive(SimpleObject)]
pub struct UserMutationPayload {
    user: User,
}

#[derive(InputObject)]
pub struct CreateApiKeyInput {
    name: String,
    description: Option<String>,
    expires_at: Option<String>,
}

#[derive(SimpleObject)]
pub struct CreateUserApiKeyMutationPayload {
    jwt: String,
    api_key: UserApiKey,
}

#[derive(SimpleObject)]
pub struct CreateSystemApiKeyMutationPayload {
    jwt: String,
    api_key: SystemApiKey,
}

#[derive(InputObject)]
pub struct DeleteApiKeyInput {
    id: ID,
}

#[derive(SimpleObject)]
pub struct DeleteApiKeyMutationPayload {
    #[graphql(name = "apiKeyId")]
    api_key_id: ID,
}

/// An empty string counts as not given, as Phoenix's inputs treat it.
fn given(value: Option<String>) -> Option<String> {
    value.filter(|value| !value.is_empty())
}

fn key_input(input: CreateApiKeyInput) -> Result<ApiKeyInput> {
    let expires_at = match input.expires_at {
        Some(text) => Some(
            parse_timestamp(&text)
                .ok_or_else(|| bad_input(ErrorCode::Unprocessable, format!("expiresAt {text:?} is not an ISO 8601 time")))?,
        ),
        None => None,
    };
    Ok(ApiKeyInput {
        name: input.name,
        description: input.description,
        expires_at,
        project: None,
        ingest_only: false,
        past_expiry: PastExpiry::Allowed,
    })
}

/// Phoenix's GraphQL answers every key a caller may not revoke, a system caller's personal-key
/// attempt included, with one message, so that keys cannot be probed.
fn key_not_found(error: ServiceError) -> async_graphql::Error {
    let hidden = error.code() == ErrorCode::NotFound || error.client_message() == SYSTEM_KEYS_ELSEWHERE;
    graphql_error(if hidden { ServiceError::not_found("API key not found") } else { error })
}

#[derive(Default)]
pub struct UserMutations;

#[Object]
impl UserMutations {
    async fn create_user(&self, context: &Context<'_>, input: CreateUserInput) -> Result<UserMutationPayload> {
        let (services, caller) = self::context(context)?;
        let password = given(input.password);
        let sign_in = match input.auth_method.unwrap_or(AuthMethod::Local) {
            AuthMethod::Local => SignIn::Local { password },
            method if password.is_some() => {
                let name = if method == AuthMethod::Ldap { "LDAP" } else { "OAuth2" };
                return Err(bad_input(ErrorCode::BadRequest, format!("Password is not allowed for {name} authentication")));
            }
            AuthMethod::OAuth2 => SignIn::OAuth2 { client_id: None, user_id: None },
            AuthMethod::Ldap => SignIn::Ldap,
        };
        let welcome = input.send_welcome_email.unwrap_or(false);
        let input = UserInput { email: input.email, username: input.username, role: input.role.name().to_string(), sign_in };
        let user = services.users().create(caller, input).await.map_err(graphql_error)?;
        if welcome {
            services.auth().send_welcome(&user).await;
        }
        Ok(UserMutationPayload { user: User(user) })
    }

    async fn patch_user(&self, context: &Context<'_>, input: PatchUserInput) -> Result<UserMutationPayload> {
        let (services, caller) = self::context(context)?;
        let id = rowid_of(&input.user_id, GlobalType::User)?;
        let patch = UserPatch {
            username: given(input.new_username),
            role: input.new_role.map(|role| role.name().to_string()),
            password: given(input.new_password),
        };
        let user = services.users().patch(caller, id, patch).await.map_err(graphql_error)?;
        Ok(UserMutationPayload { user: User(user) })
    }

    async fn patch_viewer(&self, context: &Context<'_>, input: PatchViewerInput) -> Result<UserMutationPayload> {
        let (services, caller) = self::context(context)?;
        let new_password = given(input.new_password);
        let clears_session = new_password.is_some();
        let patch = ViewerPatch { username: given(input.new_username), new_password, current_password: given(input.current_password) };
        let user = services.users().patch_viewer(caller, patch).await.map_err(graphql_error)?;
        if clears_session {
            let mut headers = axum::http::HeaderMap::new();
            context.data::<CookieSettings>()?.clear_session(&mut headers);
            for value in headers.get_all(axum::http::header::SET_COOKIE) {
                context.append_http_header(axum::http::header::SET_COOKIE, value.clone());
            }
        }
        Ok(UserMutationPayload { user: User(user) })
    }

    async fn delete_users(&self, context: &Context<'_>, input: DeleteUsersInput) -> Result<DeleteUsersPayload> {
        let (services, caller) = self::context(context)?;
        let ids = input
            .user_ids
            .iter()
            .map(|id| {
                GlobalId::decode_as(id, GlobalType::User)
                    .ok_or_else(|| bad_input(ErrorCode::BadRequest, format!("Invalid user ID: '{}'", id.as_str())))
            })
            .collect::<Result<Vec<_>>>()?;
        services.users().delete_many(caller, &ids).await.map_err(graphql_error)?;
        Ok(DeleteUsersPayload { user_ids: input.user_ids })
    }

    async fn create_user_api_key(&self, context: &Context<'_>, input: CreateApiKeyInput) -> Result<CreateUserApiKeyMutationPayload> {
        let (services, caller) = self::context(context)?;
        let CreatedApiKey { record, key } = services.api_keys().create_own(caller, key_input(input)?).await.map_err(graphql_error)?;
        Ok(CreateUserApiKeyMutationPayload { jwt: key, api_key: UserApiKey(record) })
    }

    async fn create_system_api_key(&self, context: &Context<'_>, input: CreateApiKeyInput) -> Result<CreateSystemApiKeyMutationPayload> {
        let (services, caller) = self::context(context)?;
        let CreatedApiKey { record, key } = services.api_keys().create_system(caller, key_input(input)?).await.map_err(graphql_error)?;
        Ok(CreateSystemApiKeyMutationPayload { jwt: key, api_key: SystemApiKey(record) })
    }

    async fn delete_user_api_key(&self, context: &Context<'_>, input: DeleteApiKeyInput) -> Result<DeleteApiKeyMutationPayload> {
        let (services, caller) = self::context(context)?;
        services.api_keys().delete_own(caller, &input.id).await.map_err(key_not_found)?;
        Ok(DeleteApiKeyMutationPayload { api_key_id: input.id })
    }

    async fn delete_system_api_key(&self, context: &Context<'_>, input: DeleteApiKeyInput) -> Result<DeleteApiKeyMutationPayload> {
        let (services, caller) = self::context(context)?;
        services.api_keys().delete_system(caller, &input.id).await.map_err(key_not_found)?;
        Ok(DeleteApiKeyMutationPayload { api_key_id: input.id })
    }
}
