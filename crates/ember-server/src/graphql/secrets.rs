//! Secrets through GraphQL, with Phoenix's shapes: `secrets(keys:)` lists them with their values
//! redacted (`DecryptedSecret.value` is a `RedactedString`, for admins only; a value that cannot
//! be opened is an `UnparsableSecret`), `node(id:)` finds one by its id, and `upsertOrDeleteSecrets` applies a batch through the same service as
//! `PUT /v1/secrets`.

use async_graphql::connection::Connection;
use async_graphql::{
    Context, InputObject, InputValueError, InputValueResult, Object, Result, Scalar, ScalarType, SimpleObject, Union, Value, ID,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ember_core::time::format_nanos;
use ember_service::secrets::{SecretEntry, SecretValue, SecretView};
use ember_service::ServiceError;

use super::connection::{edges_wanted, positional};
use super::users::User;
use super::{context, graphql_error};

/// A secret's value as it leaves the server: redacted, never the plain value.
pub struct RedactedString(String);

#[Scalar(name = "RedactedString")]
impl ScalarType for RedactedString {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(text) => Ok(RedactedString(text)),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

#[derive(SimpleObject)]
pub struct DecryptedSecret {
    value: RedactedString,
}

#[derive(SimpleObject)]
pub struct UnparsableSecret {
    parse_error: String,
}

#[derive(Union)]
pub enum ResolvedSecret {
    DecryptedSecret(DecryptedSecret),
    UnparsableSecret(UnparsableSecret),
}

pub struct Secret(SecretView);

#[Object]
impl Secret {
    /// `Secret:<key>`: a secret is named by its key.
    pub async fn id(&self) -> ID {
        secret_id(&self.0.key)
    }

    async fn key(&self) -> &str {
        &self.0.key
    }

    /// Admins only (the service withholds the value from others).
    async fn value(&self) -> Result<ResolvedSecret> {
        match &self.0.value {
            SecretValue::Redacted(redacted) => {
                Ok(ResolvedSecret::DecryptedSecret(DecryptedSecret { value: RedactedString(redacted.clone()) }))
            }
            SecretValue::Unparsable(problem) => Ok(ResolvedSecret::UnparsableSecret(UnparsableSecret { parse_error: problem.clone() })),
            SecretValue::Withheld => Err(graphql_error(ServiceError::forbidden(ember_service::ADMINS_ONLY))),
        }
    }

    async fn updated_at(&self) -> String {
        format_nanos(self.0.updated_at)
    }

    async fn user(&self) -> Option<User> {
        None
    }
}

fn secret_id(key: &str) -> ID {
    ID(STANDARD.encode(format!("Secret:{key}")))
}

/// The key a secret's id names (`Secret:<key>`, base64), if it names one.
pub fn secret_key(id: &ID) -> Option<String> {
    let decoded = String::from_utf8(STANDARD.decode(id.as_str()).ok()?).ok()?;
    decoded.strip_prefix("Secret:").map(str::to_string)
}

/// The secret `key` names, for `node(id:)`.
pub async fn secret_node(ctx: &Context<'_>, key: String) -> Result<Option<Secret>> {
    let (services, caller) = context(ctx)?;
    let found = services.secrets().list(caller, Some(&[key])).await.map_err(graphql_error)?;
    Ok(found.into_iter().next().map(Secret))
}

#[derive(Default)]
pub struct SecretQueries;

#[Object]
impl SecretQueries {
    /// Secrets by key, only those named when `keys` is given.
    async fn secrets(
        &self,
        ctx: &Context<'_>,
        keys: Option<Vec<String>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Secret>> {
        let (services, caller) = context(ctx)?;
        let secrets = services.secrets().list(caller, keys.as_deref()).await.map_err(graphql_error)?;
        positional(secrets.into_iter().map(Secret).collect(), edges_wanted(first)?, after.as_deref())
    }
}

#[derive(InputObject)]
pub struct SecretKeyValueInput {
    key: String,
    /// A value sets the secret; null deletes it.
    value: Option<String>,
}

#[derive(InputObject)]
pub struct UpsertOrDeleteSecretsMutationInput {
    secrets: Vec<SecretKeyValueInput>,
}

#[derive(SimpleObject)]
pub struct UpsertOrDeleteSecretsMutationPayload {
    upserted_secrets: Vec<Secret>,
    deleted_ids: Vec<ID>,
}

#[derive(Default)]
pub struct SecretMutations;

#[Object]
impl SecretMutations {
    /// Sets or deletes secrets in one batch (the last entry of a key wins), as `PUT /v1/secrets`.
    async fn upsert_or_delete_secrets(
        &self,
        ctx: &Context<'_>,
        input: UpsertOrDeleteSecretsMutationInput,
    ) -> Result<UpsertOrDeleteSecretsMutationPayload> {
        let (services, caller) = context(ctx)?;
        let entries = input.secrets.into_iter().map(|secret| SecretEntry { key: secret.key, value: secret.value }).collect();
        let applied = services.secrets().apply(caller, entries).await.map_err(graphql_error)?;
        let upserted = services.secrets().list(caller, Some(&applied.upserted_keys)).await.map_err(graphql_error)?;
        Ok(UpsertOrDeleteSecretsMutationPayload {
            upserted_secrets: upserted.into_iter().map(Secret).collect(),
            deleted_ids: applied.deleted_keys.iter().map(|key| secret_id(key)).collect(),
        })
    }
}
