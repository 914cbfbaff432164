//! Credentials: a token's row with its holder's current role, revocation by deletion, sessions
//! ended without touching API keys, and row ids that are never handed out twice.

use ember_store::{NewToken, NewUser, Store, TokenKind, DEFAULT_ADMIN_ID, SYSTEM_USER_ID};

fn token(kind: TokenKind, user_id: i64, expires_at: Option<i64>) -> NewToken<'static> {
    NewToken { kind, user_id, refresh_token_id: None, name: None, description: None, expires_at, scope: Default::default() }
}

pub async fn tokens_are_revoked_by_deletion_and_their_ids_never_come_back(store: Store) {
    let member = NewUser {
        email: "m@x.com",
        username: "m",
        role: "MEMBER",
        auth_method: "LOCAL",
        password_hash: None,
        password_needs_reset: false,
        oauth2_client_id: None,
        oauth2_user_id: None,
        ldap_unique_id: None,
    };
    let member = store.create_user(&member).await.unwrap();
    let refresh = store.create_token(&token(TokenKind::Refresh, member.id, Some(i64::MAX)), "nonce").await.unwrap();
    let access = store
        .create_token(&NewToken { refresh_token_id: Some(refresh), ..token(TokenKind::Access, member.id, Some(i64::MAX)) }, "nonce")
        .await
        .unwrap();
    let key = NewToken { name: Some("ci"), description: Some("for CI"), ..token(TokenKind::ApiKey, member.id, None) };
    let key = store.create_token(&key, "nonce").await.unwrap();
    let system_key =
        store.create_token(&NewToken { name: Some("collector"), ..token(TokenKind::ApiKey, SYSTEM_USER_ID, None) }, "nonce").await.unwrap();

    let holder = store.token_holder(access).await.unwrap().unwrap();
    assert_eq!(
        (holder.kind, holder.user_id, holder.role.as_str(), holder.nonce.as_str()),
        (TokenKind::Access, member.id, "MEMBER", "nonce")
    );
    let keys = store.user_api_keys(member.id).await.unwrap();
    assert_eq!(
        (keys.len(), keys[0].name.as_str(), keys[0].description.as_deref(), keys[0].owner_is_system),
        (1, "ci", Some("for CI"), false)
    );
    assert_eq!(store.system_api_keys().await.unwrap().iter().map(|key| key.id).collect::<Vec<_>>(), [system_key]);
    let everyone = store.all_user_api_keys(None, 10).await.unwrap();
    assert_eq!(everyone.items.iter().map(|key| key.id).collect::<Vec<_>>(), [key], "system keys are not users' keys");

    // Signing out ends the sessions and keeps the key; a deleted row is gone for good.
    store.end_sign_in_sessions(member.id).await.unwrap();
    assert!(store.token_holder(access).await.unwrap().is_none() && store.token_holder(refresh).await.unwrap().is_none());
    assert!(store.token_holder(key).await.unwrap().is_some());
    assert!(!store.delete_token(key, TokenKind::Access).await.unwrap(), "only a row of the kind named is deleted");
    assert!(store.delete_token(key, TokenKind::ApiKey).await.unwrap());
    let next = store.create_token(&token(TokenKind::ApiKey, DEFAULT_ADMIN_ID, None), "nonce").await.unwrap();
    assert!(next > system_key, "ids are never reused: {next} after {system_key}");

    // Expired rows are swept; deleting a user deletes their rows.
    let stale = store.create_token(&token(TokenKind::Access, DEFAULT_ADMIN_ID, Some(5)), "nonce").await.unwrap();
    assert_eq!(store.delete_expired_tokens(10).await.unwrap(), 1);
    assert!(store.token_holder(stale).await.unwrap().is_none());
    let another = store.create_token(&token(TokenKind::ApiKey, member.id, None), "nonce").await.unwrap();
    assert!(store.delete_user(member.id).await.unwrap());
    assert!(store.token_holder(another).await.unwrap().is_none());
}
