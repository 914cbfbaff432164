//! Bulk changes to stored spans (the AX span APIs) are all or nothing.

use ember_store::MetadataUpdate;
use serde_json::json;

use super::{routed, span, write, TestDatabase};

pub async fn a_metadata_update_that_fails_midway_changes_nothing(database: TestDatabase) {
    let store = database.open().await;
    // More spans than one read chunk, and more than the 10,000 a transaction once took.
    let count = 12_000u32;
    let id = |n: u32| format!("{n:016x}");
    let spans = (0..count)
        .map(|n| {
            let mut span = span(1, 1, None);
            span.span_id = id(n);
            routed("p", span)
        })
        .collect();
    write(&store, spans).await;
    let project = store.get_project_by_name("p").await.unwrap().unwrap().id;
    // The database refuses the write of the last span's update, after every other is written.
    database.refuse_metadata_writes(&id(count - 1)).await;
    let updates: Vec<MetadataUpdate> =
        (0..count).map(|n| MetadataUpdate { span_id: id(n), values: json!({"n": n}).as_object().unwrap().clone() }).collect();
    assert!(store.update_span_metadata(project, &updates).await.is_err(), "the refused write fails the update");
    for n in [0, count / 2, count - 2] {
        let stored = store.get_span(None, Some(&id(n))).await.unwrap().unwrap();
        assert_eq!(stored.span.attributes.get("metadata"), None, "span {n} was left as it was");
    }
}
