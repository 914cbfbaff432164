//! Per-project access: a restricted project's grants, which projects a list shows a user or a
//! scoped key, grants and scopes that go with their project or user, and the audit log's pages.

use ember_store::{
    GrantSubject, GrantableRole, KeyScope, NewToken, NewUser, ProjectAccessRecord, ProjectGrant, ProjectVisibility, Store, TokenKind,
};

fn member(email: &'static str) -> NewUser<'static> {
    NewUser {
        email,
        username: email,
        role: "MEMBER",
        auth_method: "LOCAL",
        password_hash: None,
        password_needs_reset: false,
        oauth2_client_id: None,
        oauth2_user_id: None,
        ldap_unique_id: None,
    }
}

async fn names(store: &Store, visibility: ProjectVisibility) -> Vec<String> {
    let page = store.list_projects(None, 100, None, true, visibility).await.unwrap();
    page.items.into_iter().map(|project| project.name).collect()
}

pub async fn restricted_projects_show_only_to_their_grantees(store: Store) {
    let ann = store.create_user(&member("ann@x.com")).await.unwrap();
    let bob = store.create_user(&member("bob@x.com")).await.unwrap();
    let open = store.create_project("open", None).await.unwrap();
    let secret = store.create_project("secret", None).await.unwrap();
    let access = ProjectAccessRecord {
        restricted: true,
        grants: vec![
            ProjectGrant { subject: GrantSubject::User(ann.id), level: "VIEWER".into() },
            ProjectGrant { subject: GrantSubject::Role("VIEWER".into()), level: "VIEWER".into() },
        ],
    };
    store.set_project_access(secret.id, &access).await.unwrap();
    assert_eq!(store.project_access(secret.id).await.unwrap(), access);
    assert_eq!(store.project_access(open.id).await.unwrap(), ProjectAccessRecord::default());

    assert_eq!(store.project_grant_for(secret.id, ann.id, "MEMBER").await.unwrap(), Some((true, Some("VIEWER".into()))));
    assert_eq!(store.project_grant_for(secret.id, bob.id, "MEMBER").await.unwrap(), Some((true, None)));
    assert_eq!(store.project_grant_for(secret.id, bob.id, "VIEWER").await.unwrap(), Some((true, Some("VIEWER".into()))));
    assert_eq!(store.project_grant_for(open.id, bob.id, "MEMBER").await.unwrap(), Some((false, None)));
    assert_eq!(store.project_grant_for(i64::MAX, bob.id, "MEMBER").await.unwrap(), None);
    // A user granted MEMBER beside a role granted VIEWER gets the better of the two.
    let both = ProjectAccessRecord {
        restricted: true,
        grants: vec![
            ProjectGrant { subject: GrantSubject::Role("MEMBER".into()), level: "VIEWER".into() },
            ProjectGrant { subject: GrantSubject::User(ann.id), level: "MEMBER".into() },
        ],
    };
    store.set_project_access(secret.id, &both).await.unwrap();
    assert_eq!(store.project_grant_for(secret.id, ann.id, "MEMBER").await.unwrap(), Some((true, Some("MEMBER".into()))));

    let default_project = "default".to_string();
    assert_eq!(names(&store, ProjectVisibility::All).await, ["secret", "open", default_project.as_str()]);
    let for_bob = ProjectVisibility::GrantedTo { user_id: bob.id, role: GrantableRole::Member };
    assert_eq!(names(&store, for_bob).await, ["secret", "open", default_project.as_str()], "bob's role is granted it");
    store.set_project_access(secret.id, &ProjectAccessRecord { restricted: true, grants: vec![] }).await.unwrap();
    assert_eq!(names(&store, for_bob).await, ["open", default_project.as_str()]);
    assert_eq!(names(&store, ProjectVisibility::Only(secret.id)).await, ["secret"]);
    assert!(names(&store, ProjectVisibility::Nothing).await.is_empty());

    // A user's grants go with the user; a key's scope and the grants go with the project.
    store.set_project_access(secret.id, &both).await.unwrap();
    assert!(store.delete_user(ann.id).await.unwrap());
    assert_eq!(store.project_access(secret.id).await.unwrap().grants.len(), 1);
    let scope = KeyScope { project_id: Some(secret.id), ingest_only: true };
    let key = NewToken {
        kind: TokenKind::ApiKey,
        user_id: bob.id,
        refresh_token_id: None,
        name: Some("collector"),
        description: None,
        expires_at: None,
        scope,
    };
    let key = store.create_token(&key, "nonce").await.unwrap();
    assert_eq!(store.token_holder(key).await.unwrap().unwrap().scope, scope);
    assert_eq!(store.api_key(key).await.unwrap().unwrap().project_name.as_deref(), Some("secret"));
    assert!(store.delete_project(secret.id).await.unwrap());
    assert!(store.token_holder(key).await.unwrap().is_none(), "a scoped key dies with its project");
}

pub async fn the_audit_log_pages_newest_first(store: Store) {
    for n in 0..5 {
        store.append_audit(Some(2), "signed_in", &format!("{{\"n\": {n}}}")).await.unwrap();
    }
    let first = store.audit_log(None, 3).await.unwrap();
    assert_eq!(first.items.iter().map(|entry| entry.detail.as_str()).collect::<Vec<_>>(), ["{\"n\": 4}", "{\"n\": 3}", "{\"n\": 2}"]);
    let rest = store.audit_log(first.next_cursor, 3).await.unwrap();
    assert_eq!(rest.items.len(), 2);
    assert!(rest.next_cursor.is_none());
    assert_eq!((rest.items[1].action.as_str(), rest.items[1].actor_user_id), ("signed_in", Some(2)));
}
