//! The prompt hub in the store: versions added to a prompt by name, listed newest first, and
//! tags that point at one version per prompt.

use ember_store::{NewPrompt, PromptChanges, PromptFilter, PromptLabelChanges, PromptVersionInput, Store, StoreError, DEFAULT_ADMIN_ID};
use serde_json::json;

fn version(model: &str, text: &str) -> PromptVersionInput {
    PromptVersionInput {
        description: Some(format!("asks with {model}")),
        template_type: "CHAT".into(),
        template_format: "MUSTACHE".into(),
        template: json!({"type": "chat", "messages": [{"role": "user", "content": text}]}),
        invocation_parameters: json!({"type": "openai", "openai": {"temperature": 0.2}}),
        tools: None,
        response_format: Some(json!({"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}}})),
        model_provider: "OPENAI".into(),
        model_name: model.into(),
        metadata: json!({}),
    }
}

pub async fn prompt_versions_are_immutable_and_tags_point_at_one_version_per_prompt(store: Store) {
    let metadata = json!({"team": "support"});
    let new = NewPrompt { name: "qa", description: Some("answers"), metadata: &metadata, source_prompt_id: None };
    let (prompt, first) = store.create_prompt_version(&new, &version("gpt-4o", "{{question}}"), Some(DEFAULT_ADMIN_ID)).await.unwrap();
    assert_eq!(first.user_id, Some(DEFAULT_ADMIN_ID));
    assert_eq!((prompt.name.as_str(), prompt.description.as_deref(), &prompt.metadata), ("qa", Some("answers"), &metadata));
    assert_eq!(first.content, version("gpt-4o", "{{question}}"));

    // The same name adds a version; the prompt keeps its description and metadata.
    let other_metadata = json!({"team": "other"});
    let again = NewPrompt { name: "qa", description: Some("ignored"), metadata: &other_metadata, source_prompt_id: None };
    let (same, second) = store.create_prompt_version(&again, &version("gpt-4o-mini", "Q: {{question}}"), None).await.unwrap();
    assert_eq!((same.id, same.description.as_deref(), &same.metadata), (prompt.id, Some("answers"), &metadata));
    assert!(second.id > first.id);

    let stored = store.get_prompt_version(first.id).await.unwrap().unwrap();
    assert_eq!(stored, first, "a version reads back as written, JSON columns and author included");
    assert_eq!(store.get_prompt_version(second.id).await.unwrap().unwrap().user_id, None, "written without authentication");
    assert_eq!(store.latest_prompt_version(prompt.id).await.unwrap().unwrap().id, second.id);
    let page = store.list_prompt_versions(prompt.id, None, 1).await.unwrap();
    assert_eq!((page.items[0].id, page.next_cursor), (second.id, Some(first.id)));
    assert_eq!(store.list_prompt_versions(prompt.id, page.next_cursor, 1).await.unwrap().items[0].id, first.id);

    // Tags: one version per name per prompt; tagging another version moves the tag.
    store.set_prompt_version_tag(first.id, "production", Some("live")).await.unwrap();
    store.set_prompt_version_tag(first.id, "staging", None).await.unwrap();
    assert_eq!(store.prompt_version_by_tag(prompt.id, "production").await.unwrap().unwrap().id, first.id);
    let moved = store.set_prompt_version_tag(second.id, "production", None).await.unwrap();
    assert_eq!((moved.prompt_version_id, moved.description), (second.id, None));
    assert_eq!(store.prompt_version_by_tag(prompt.id, "production").await.unwrap().unwrap().id, second.id);
    let names =
        |page: ember_store::Page<ember_store::PromptVersionTagRecord>| page.items.into_iter().map(|tag| tag.name).collect::<Vec<_>>();
    assert_eq!(names(store.list_prompt_version_tags(first.id, None, 10).await.unwrap()), ["staging"]);
    assert_eq!(names(store.list_prompt_version_tags(second.id, None, 10).await.unwrap()), ["production"]);

    // A second prompt may use the same tag name.
    let other = NewPrompt { name: "summary", description: None, metadata: &json!({}), source_prompt_id: Some(prompt.id) };
    let (summary, summary_version) = store.create_prompt_version(&other, &version("claude", "Summarise {{text}}"), None).await.unwrap();
    assert_eq!(summary.source_prompt_id, Some(prompt.id));
    store.set_prompt_version_tag(summary_version.id, "production", None).await.unwrap();
    assert_eq!(store.prompt_version_by_tag(prompt.id, "production").await.unwrap().unwrap().id, second.id);
    assert_eq!(store.prompt_version_by_tag(summary.id, "production").await.unwrap().unwrap().id, summary_version.id);

    // Deleting a tag through any version of its prompt; unknown versions are NotFound.
    assert!(store.delete_prompt_version_tag(first.id, "production").await.unwrap());
    assert!(store.prompt_version_by_tag(prompt.id, "production").await.unwrap().is_none());
    assert!(!store.delete_prompt_version_tag(first.id, "production").await.unwrap());
    assert!(matches!(store.set_prompt_version_tag(9_999, "x", None).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.delete_prompt_version_tag(9_999, "x").await, Err(StoreError::NotFound(_))));

    // Prompts list newest first; patches change description and metadata only.
    let listed = store.list_prompts(None, 10, &PromptFilter::default()).await.unwrap();
    assert_eq!(listed.items.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["summary", "qa"]);
    let patched = store
        .patch_prompt(prompt.id, &PromptChanges { description: Some(None), metadata: Some(json!({"team": "new"})) })
        .await
        .unwrap()
        .unwrap();
    assert_eq!((patched.description, patched.metadata), (None, json!({"team": "new"})));
    assert_eq!(store.get_prompt_by_name("qa").await.unwrap().unwrap().metadata, json!({"team": "new"}));
    assert!(store.patch_prompt(9_999, &PromptChanges::default()).await.unwrap().is_none());

    // Deleting a prompt takes its versions and tags; the copy's source link is cleared.
    assert!(store.delete_prompt(prompt.id).await.unwrap());
    assert!(store.get_prompt_version(first.id).await.unwrap().is_none());
    assert_eq!(store.get_prompt(summary.id).await.unwrap().unwrap().source_prompt_id, None);
    assert!(!store.delete_prompt(prompt.id).await.unwrap());

    // Keys keep the order they were sent in (PostgreSQL JSONB would sort them).
    let mut ordered = version("gpt-4o", "x");
    ordered.template = json!({"type": "chat", "messages": [{"role": "tool", "content": [
        {"type": "tool_result", "tool_call_id": "c1", "tool_result": {"temp_c": 21, "sky": "clear"}}]}]});
    let (_, ordered_version) = store.create_prompt_version(&new, &ordered, None).await.unwrap();
    let read_back = store.get_prompt_version(ordered_version.id).await.unwrap().unwrap();
    assert_eq!(read_back.content.template.to_string(), ordered.template.to_string());
}

pub async fn prompt_labels_apply_to_prompts_and_filter_their_list(store: Store) {
    let empty = json!({});
    let mut ids = Vec::new();
    for name in ["test-one", "another", "test-another", "plain"] {
        let new = NewPrompt { name, description: None, metadata: &empty, source_prompt_id: None };
        ids.push(store.create_prompt_version(&new, &version("gpt-4o", "hi"), None).await.unwrap().0.id);
    }
    let red = store.create_prompt_label("red", Some("hot"), "#FF0000").await.unwrap();
    let green = store.create_prompt_label("green", None, "#00ff00").await.unwrap();
    assert!(matches!(store.create_prompt_label("red", None, "#000000").await, Err(StoreError::Conflict(_))));

    // Applying is additive and idempotent; an unknown label changes nothing.
    store.add_prompt_labels(ids[0], &[red.id]).await.unwrap();
    store.add_prompt_labels(ids[1], &[red.id, green.id]).await.unwrap();
    store.add_prompt_labels(ids[1], &[red.id]).await.unwrap();
    store.add_prompt_labels(ids[2], &[green.id]).await.unwrap();
    assert!(matches!(store.add_prompt_labels(ids[3], &[green.id, 9_999]).await, Err(StoreError::NotFound(_))));
    assert!(store.labels_of_prompt(ids[3]).await.unwrap().is_empty());
    assert_eq!(store.labels_of_prompt(ids[1]).await.unwrap(), vec![red.clone(), green.clone()]);
    assert_eq!((store.prompt_label_usage(red.id).await.unwrap(), store.prompt_label_usage(green.id).await.unwrap()), (2, 2));
    let of_page = store.labels_of_prompts(&[ids[0], ids[1], ids[3]]).await.unwrap();
    assert_eq!(of_page, vec![(ids[0], red.clone()), (ids[1], red.clone()), (ids[1], green.clone())], "a page's labels in one read");

    let names = |page: ember_store::Page<ember_store::PromptRecord>| page.items.into_iter().map(|p| p.name).collect::<Vec<_>>();
    let list = |name_contains: Option<&'static str>, label_ids: Vec<i64>| {
        let store = store.clone();
        async move { names(store.list_prompts(None, 10, &PromptFilter { name_contains, label_ids: &label_ids }).await.unwrap()) }
    };
    assert_eq!(list(Some("TEST"), vec![]).await, ["test-another", "test-one"], "names match in any case");
    assert_eq!(list(Some("%"), vec![]).await, Vec::<String>::new(), "LIKE wildcards are literal");
    assert_eq!(list(None, vec![red.id]).await, ["another", "test-one"]);
    assert_eq!(list(None, vec![red.id, green.id]).await, ["test-another", "another", "test-one"], "any of the labels");
    assert_eq!(list(Some("test"), vec![green.id]).await, ["test-another"]);

    // Taking labels off, renaming, deleting (which takes them off every prompt).
    store.remove_prompt_labels(ids[1], &[red.id, 9_999]).await.unwrap();
    assert_eq!(store.labels_of_prompt(ids[1]).await.unwrap(), vec![green.clone()]);
    let changes = PromptLabelChanges { name: Some("scarlet".into()), description: Some(None) };
    let renamed = store.patch_prompt_label(red.id, &changes).await.unwrap().unwrap();
    assert_eq!((renamed.name.as_str(), renamed.description), ("scarlet", None));
    let taken = PromptLabelChanges { name: Some("green".into()), description: None };
    assert!(matches!(store.patch_prompt_label(red.id, &taken).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.delete_prompt_labels(&[green.id, 9_999]).await.unwrap(), vec![green.id]);
    assert!(store.labels_of_prompt(ids[2]).await.unwrap().is_empty());
    let page = store.list_prompt_labels(None, 10).await.unwrap();
    assert_eq!(page.items.iter().map(|label| label.name.as_str()).collect::<Vec<_>>(), ["scarlet"]);
}
