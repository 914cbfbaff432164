//! Who wrote an annotation or a prompt version: the `user` fields, loaded for a whole response at
//! once (one query for every author a page names, not one per row).

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Result};
use ember_service::{Caller, Services};
use ember_store::UserRecord;

use super::graphql_error;
use super::users::User;

/// Loads authors by user id for one request's caller.
pub struct AuthorLoader {
    services: Services,
    caller: Caller,
}

impl AuthorLoader {
    /// The loader of one request, batching the authors its resolvers ask for.
    pub fn for_request(services: Services, caller: Caller) -> DataLoader<AuthorLoader> {
        DataLoader::new(AuthorLoader { services, caller }, tokio::spawn)
    }
}

impl Loader<i64> for AuthorLoader {
    type Value = UserRecord;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, UserRecord>> {
        let authors = self.services.users().authors(&self.caller, ids).await.map_err(graphql_error)?;
        Ok(authors.into_iter().map(|user| (user.id, user)).collect())
    }
}

/// The author `user_id` names; `None` when nobody signed in wrote it or the user is gone.
pub async fn author(ctx: &Context<'_>, user_id: Option<i64>) -> Result<Option<User>> {
    let Some(id) = user_id else { return Ok(None) };
    Ok(ctx.data::<DataLoader<AuthorLoader>>()?.load_one(id).await?.map(User))
}
