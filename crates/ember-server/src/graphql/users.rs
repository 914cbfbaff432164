//! `User`: who made an annotation or a prompt version. Without authentication nobody is signed
//! in, so every `user` field is null; the type exists so Phoenix's documents validate.

use async_graphql::{SimpleObject, ID};

#[derive(SimpleObject)]
pub struct User {
    pub id: ID,
    pub email: Option<String>,
    pub username: String,
}
