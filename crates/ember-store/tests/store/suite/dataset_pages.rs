//! The first examples of a dataset version, as a page that shows a few reads them.

use ember_store::{ExampleInput, Store, UploadAction};
use serde_json::json;

pub async fn the_first_examples_of_a_version_come_oldest_first_within_a_split(store: Store) {
    let examples = (0..5)
        .map(|i| ExampleInput {
            input: json!({"q": i}),
            output: json!({}),
            metadata: json!({}),
            splits: (i % 2 == 0).then(|| vec!["even".into()]),
            span_id: None,
            external_id: None,
        })
        .collect();
    let uploaded = store.upload_examples(UploadAction::Create, "numbers", None, &json!({}), examples).await.unwrap();
    let inputs =
        |examples: Vec<ember_store::ExampleRecord>| examples.into_iter().map(|e| e.input["q"].as_i64().unwrap()).collect::<Vec<_>>();
    let first = store.first_dataset_examples(uploaded.dataset_id, uploaded.version_id, &[], 2).await.unwrap();
    assert_eq!(inputs(first), [0, 1]);
    let even = store.first_dataset_examples(uploaded.dataset_id, uploaded.version_id, &["even".to_string()], 2).await.unwrap();
    assert_eq!(inputs(even), [0, 2]);
    let all = store.first_dataset_examples(uploaded.dataset_id, uploaded.version_id, &[], 10).await.unwrap();
    assert_eq!(inputs(all), [0, 1, 2, 3, 4]);
}

/// An external id with U+0000 (PostgreSQL stores it as U+FFFD) names the same example in every
/// upload; two ids that are stored alike are one id.
pub async fn external_ids_with_nul_match_their_stored_example(store: Store) {
    let example = |text: &str, id: &str| ExampleInput {
        input: json!({"q": text}),
        output: json!({}),
        metadata: json!({}),
        external_id: Some(id.to_string()),
        ..Default::default()
    };
    let first = store.upload_examples(UploadAction::Append, "nul-ids", None, &json!({}), vec![example("one", "r\0-1")]).await.unwrap();
    assert_eq!(first.created, 1);
    let again = store.upload_examples(UploadAction::Append, "nul-ids", None, &json!({}), vec![example("two", "r\0-1")]).await.unwrap();
    assert_eq!((again.created, again.updated), (0, 1), "the same id patches its example");
    let unchanged = store.upload_examples(UploadAction::Append, "nul-ids", None, &json!({}), vec![example("two", "r\0-1")]).await.unwrap();
    assert_eq!((unchanged.created, unchanged.updated, unchanged.version_id), (0, 0, again.version_id));

    // Content with U+0000 matches its stored example too, by id or by content.
    let with_nul =
        |id: Option<&str>| ExampleInput { input: json!({"q\0": "a\0b"}), external_id: id.map(str::to_string), ..Default::default() };
    let stored = store.upload_examples(UploadAction::Append, "nul-ids", None, &json!({}), vec![with_nul(Some("n"))]).await.unwrap();
    for example in [with_nul(Some("n")), with_nul(None)] {
        let again = store.upload_examples(UploadAction::Append, "nul-ids", None, &json!({}), vec![example]).await.unwrap();
        assert_eq!((again.created, again.updated, again.version_id), (0, 0, stored.version_id));
    }
}
