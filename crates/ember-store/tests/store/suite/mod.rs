//! The store test suite: every test takes a fresh, empty [`Store`] (some take two handles on
//! one database, as two ember processes would have) and is instantiated once per backend by
//! [`store_suite!`], given an `Option<TestDatabase>` (`None`: that backend is not here, and its
//! tests are skipped).
mod auth_tokens;
mod bulk_updates;
mod dataset_pages;
mod filters;
mod project_access;
mod prompts;
mod rollups;
mod root_spans;

pub use auth_tokens::*;
pub use bulk_updates::*;
pub use dataset_pages::*;
pub use filters::*;
pub use project_access::*;
pub use prompts::*;
pub use rollups::*;
pub use root_spans::*;

use ember_core::{RoutedSpan, Span, SpanKind, StatusCode};
pub use ember_store::testing::TestDatabase;
use ember_store::{
    AttributeFilter, IngestQueue, PreparedSpan, QueueFull, QueueLimits, SpanFilters, Store, TraceFilters, TraceOrder, TraceSort,
};
use serde_json::json;

pub fn span(trace: u8, id: u8, parent: Option<u8>) -> Span {
    Span {
        trace_id: format!("{trace:032x}"),
        span_id: format!("{id:016x}"),
        parent_id: parent.map(|p| format!("{p:016x}")),
        name: format!("span-{id}"),
        span_kind: SpanKind::Chain,
        start_time: 1_000 * i64::from(id),
        end_time: 1_000 * i64::from(id) + 500,
        attributes: json!({"input": {"value": "hi"}}).as_object().cloned().unwrap(),
        events: vec![],
        status_code: StatusCode::Ok,
        status_message: String::new(),
    }
}

pub fn llm(mut span: Span, prompt: i64, completion: i64, error: bool) -> Span {
    span.span_kind = SpanKind::Llm;
    span.attributes = json!({"llm": {"token_count": {"prompt": prompt, "completion": completion}}}).as_object().cloned().unwrap();
    if error {
        span.status_code = StatusCode::Error;
    }
    span
}

pub fn routed(project: &str, span: Span) -> RoutedSpan {
    RoutedSpan { project_name: project.to_string(), span }
}

pub async fn write(store: &Store, spans: Vec<RoutedSpan>) {
    let prepared = store.prepare_spans(spans);
    let refs: Vec<&PreparedSpan> = prepared.iter().collect();
    store.write_spans(&refs).await.expect("write spans");
}

/// (cumulative errors, cumulative prompt, cumulative completion) of a stored span.
pub async fn cumulative(store: &Store, id: u8) -> (i64, i64, i64) {
    let record = store.get_span(None, Some(&format!("{id:016x}"))).await.unwrap().expect("span stored");
    (record.cumulative_error_count, record.cumulative_llm_token_count_prompt, record.cumulative_llm_token_count_completion)
}

pub async fn project_id(store: &Store, name: &str) -> i64 {
    store.get_project_by_name(name).await.unwrap().expect("project exists").id
}

pub async fn cumulative_counts_are_right_when_children_arrive_first(store: Store) {
    // root(1) <- mid(2) <- leaf(3); leaf arrives first, then root, then mid, in separate batches.
    write(&store, vec![routed("p", llm(span(1, 3, Some(2)), 10, 5, true))]).await;
    write(&store, vec![routed("p", span(1, 1, None))]).await;
    assert_eq!(cumulative(&store, 1).await, (0, 0, 0), "root has no stored descendants yet");
    write(&store, vec![routed("p", llm(span(1, 2, Some(1)), 1, 2, false))]).await;
    assert_eq!(cumulative(&store, 3).await, (1, 10, 5));
    assert_eq!(cumulative(&store, 2).await, (1, 11, 7));
    assert_eq!(cumulative(&store, 1).await, (1, 11, 7));
    let leaf = store.get_span(None, Some(&format!("{:016x}", 3))).await.unwrap().unwrap();
    assert_eq!((leaf.llm_token_count_prompt, leaf.llm_token_count_completion), (Some(10), Some(5)));
    let root = store.get_span(None, Some(&format!("{:016x}", 1))).await.unwrap().unwrap();
    assert_eq!(root.llm_token_count_prompt, None, "token counts are kept for LLM spans only");
}

pub async fn cumulative_counts_are_right_within_one_batch(store: Store) {
    write(
        &store,
        vec![
            routed("p", llm(span(1, 3, Some(2)), 10, 5, true)),
            routed("p", llm(span(1, 2, Some(1)), 1, 2, true)),
            routed("p", span(1, 1, None)),
            routed("p", llm(span(1, 4, Some(1)), 100, 0, false)),
        ],
    )
    .await;
    assert_eq!(cumulative(&store, 1).await, (2, 111, 7));
    assert_eq!(cumulative(&store, 2).await, (2, 11, 7));
}

pub async fn deleting_a_span_corrects_ancestors_and_empty_traces_go(store: Store) {
    write(
        &store,
        vec![
            routed("p", span(1, 1, None)),
            routed("p", llm(span(1, 2, Some(1)), 4, 4, true)),
            routed("p", llm(span(1, 3, Some(2)), 1, 1, false)),
        ],
    )
    .await;
    assert_eq!(cumulative(&store, 1).await, (1, 5, 5));
    let mid = store.get_span(None, Some(&format!("{:016x}", 2))).await.unwrap().unwrap();
    assert!(store.delete_span(mid.rowid).await.unwrap());
    assert_eq!(cumulative(&store, 1).await, (0, 0, 0));
    assert_eq!(cumulative(&store, 3).await, (0, 1, 1), "the orphaned child keeps its own counts");
    assert!(!store.delete_span(mid.rowid).await.unwrap(), "second delete finds nothing");
    for id in [1, 3] {
        let record = store.get_span(None, Some(&format!("{id:016x}"))).await.unwrap().unwrap();
        store.delete_span(record.rowid).await.unwrap();
    }
    assert!(store.get_trace(None, Some(&format!("{:032x}", 1))).await.unwrap().is_none(), "trace with no spans is deleted");
}

/// D21: the AX bulk delete removes many spans of a project in one transaction — parents and
/// children together, other projects' spans untouched — with counts, rollups and empty traces
/// right.
pub async fn bulk_span_deletes_are_one_transaction_with_exact_counts(store: Store) {
    let mut spans = vec![routed("p", span(1, 1, None)), routed("q", span(9, 240, None))];
    for id in 2..=200_u8 {
        spans.push(routed("p", llm(span(1, id, Some(if id % 2 == 0 { 1 } else { id - 1 })), 1, 1, id % 10 == 0)));
    }
    spans.push(routed("p", span(2, 201, None)));
    write(&store, spans).await;
    let p = project_id(&store, "p").await;
    // Every odd child and its even parent, the other trace's only span, an unknown id, and q's span.
    let mut ids: Vec<String> = (3..=200_u8).map(|id| format!("{id:016x}")).collect();
    ids.extend([format!("{:016x}", 201), format!("{:016x}", 250), format!("{:016x}", 240)]);
    let deleted = store.delete_spans_by_id(p, &ids).await.unwrap();
    let missing: Vec<&String> = ids.iter().filter(|id| !deleted.contains(id)).collect();
    assert_eq!(deleted.len(), 198 + 1, "p's listed spans, not q's or unknown ones; not deleted: {missing:?}");
    assert_eq!(cumulative(&store, 1).await.0, 0, "the root keeps none of the deleted errors");
    let remaining = store.get_span(None, Some(&format!("{:016x}", 2))).await.unwrap().unwrap();
    assert_eq!(remaining.span.parent_id.as_deref(), Some(format!("{:016x}", 1).as_str()));
    assert!(store.get_trace(None, Some(&format!("{:032x}", 2))).await.unwrap().is_none(), "the emptied trace is gone");
    assert!(store.get_span(None, Some(&format!("{:016x}", 240))).await.unwrap().is_some(), "q's span stays");
    let window = ember_store::ActivityWindow { start: 0, end: i64::MAX / 2, bins: 1, latency_per_bin: false };
    assert_eq!(store.project_activity(&[p], window).await.unwrap()[&p].spans, 2, "rollups count the two spans left");
}

pub async fn duplicates_are_ignored(store: Store) {
    let first = routed("p", llm(span(1, 1, None), 3, 3, true));
    let prepared = store.prepare_spans(vec![first.clone()]).remove(0);
    let outcome = store.write_spans(&[&prepared, &prepared]).await.unwrap();
    assert_eq!((outcome.inserted, outcome.duplicates), (1, 1));
    let mut changed = first.clone();
    changed.span.name = "changed".into();
    let outcome = store.write_spans(&[&store.prepare_spans(vec![changed]).remove(0)]).await.unwrap();
    assert_eq!((outcome.inserted, outcome.duplicates), (0, 1));
    let stored = store.get_span(None, Some(&first.span.span_id)).await.unwrap().unwrap();
    assert_eq!(stored.span, first.span, "the first write wins and is stored faithfully");
    assert_eq!(cumulative(&store, 1).await, (1, 3, 3), "duplicates do not count twice");
}

pub async fn existing_traces_keep_their_project_and_widen(store: Store) {
    write(&store, vec![routed("first", span(1, 1, None))]).await;
    let mut late = span(1, 2, Some(1));
    late.start_time = 10;
    late.end_time = 1_000_000;
    write(&store, vec![routed("second", late)]).await;
    let trace = store.get_trace(None, Some(&format!("{:032x}", 1))).await.unwrap().unwrap();
    assert_eq!(trace.project_id, project_id(&store, "first").await);
    assert_eq!((trace.start_time, trace.end_time), (10, 1_000_000));
    assert!(store.get_project_by_name("second").await.unwrap().is_none(), "no project is created for a span joining an existing trace");
}

pub async fn sessions_belong_to_their_project_and_widen(store: Store) {
    let with_session = |trace, id, session: &str| {
        let mut s = span(trace, id, None);
        s.attributes = json!({"session": {"id": session}}).as_object().cloned().unwrap();
        s
    };
    write(&store, vec![routed("a", with_session(1, 1, "s-1"))]).await;
    write(&store, vec![routed("a", with_session(3, 3, "s-1"))]).await;
    // D14: the same session id in another project is another session.
    write(&store, vec![routed("b", with_session(2, 50, "s-1"))]).await;
    let (a, b) = (project_id(&store, "a").await, project_id(&store, "b").await);
    let session = store.get_session(None, Some("s-1")).await.unwrap().unwrap();
    assert_eq!(session.project_id, a, "by its text alone, a session id names the session seen first");
    assert_eq!(session.traces.len(), 2);
    assert_eq!((session.start_time, session.end_time), (1_000, 3_500), "widened over its own project's traces only");
    let of_b = store.list_sessions(b, None, None, 10, true).await.unwrap().items;
    assert_eq!(of_b.len(), 1, "b lists its own session");
    assert_eq!((of_b[0].traces.len(), of_b[0].start_time), (1, 50_000));
    assert_eq!(
        store.session_rowids_by_session_id(&["s-1"]).await.unwrap(),
        vec![session.rowid, of_b[0].rowid],
        "one session per project, oldest first"
    );

    // Moving one of a's traces to b joins b's session; a's keeps its other trace, narrowed.
    let trace_3 = store.get_trace(None, Some(&format!("{:032x}", 3))).await.unwrap().unwrap();
    store.transfer_traces(&[trace_3.rowid], b).await.unwrap();
    let of_a = store.get_session(Some(session.rowid), None).await.unwrap().unwrap();
    assert_eq!((of_a.traces.len(), of_a.start_time, of_a.end_time), (1, 1_000, 1_500));
    let of_b = store.get_session(Some(of_b[0].rowid), None).await.unwrap().unwrap();
    assert_eq!((of_b.project_id, of_b.traces.len(), of_b.start_time, of_b.end_time), (b, 2, 3_000, 50_500));
    // Moving a session's last trace where no session of that id exists moves the session whole.
    write(&store, vec![routed("c", with_session(4, 4, "s-2"))]).await;
    let s2 = store.get_session(None, Some("s-2")).await.unwrap().unwrap();
    let trace_4 = store.get_trace(None, Some(&format!("{:032x}", 4))).await.unwrap().unwrap();
    store.transfer_traces(&[trace_4.rowid], a).await.unwrap();
    let moved = store.get_session(Some(s2.rowid), None).await.unwrap().unwrap();
    assert_eq!((moved.project_id, moved.traces.len()), (a, 1));

    // Deleting a's session deletes a's traces only (b's trace of the same session id stays).
    assert_eq!(store.delete_sessions(&[session.rowid]).await.unwrap(), 1);
    assert!(store.get_trace(None, Some(&format!("{:032x}", 1))).await.unwrap().is_none(), "deleting a session deletes its traces");
    for trace in [2, 3] {
        assert!(store.get_trace(None, Some(&format!("{trace:032x}"))).await.unwrap().is_some(), "b's trace {trace} stays");
    }
    assert_eq!(store.get_session(None, Some("s-1")).await.unwrap().unwrap().project_id, b);
}

pub async fn span_lists_paginate_and_filter(store: Store) {
    let mut spans: Vec<RoutedSpan> = (1..=25).map(|id| routed("p", span(id, id, None))).collect();
    spans.push(routed("p", span(1, 100, Some(1))));
    spans.push(routed("other", span(200, 200, None)));
    write(&store, spans).await;
    let project = project_id(&store, "p").await;
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.list_spans(project, &SpanFilters::default(), cursor, 10).await.unwrap();
        seen.extend(page.items.iter().map(|s| s.rowid));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 26);
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first, no repeats");
    let roots = SpanFilters { parent_id: Some(None), ..Default::default() };
    assert_eq!(store.list_spans(project, &roots, None, 100).await.unwrap().items.len(), 25);
    let children = SpanFilters { parent_id: Some(Some(format!("{:016x}", 1))), ..Default::default() };
    assert_eq!(store.list_spans(project, &children, None, 100).await.unwrap().items[0].span.name, "span-100");
    let window = SpanFilters { start_time: Some(5_000), end_time: Some(7_000), ..Default::default() };
    let names: Vec<String> = store.list_spans(project, &window, None, 100).await.unwrap().items.into_iter().map(|s| s.span.name).collect();
    assert_eq!(names, vec!["span-6", "span-5"]);
    let by_attribute = SpanFilters {
        attributes: vec![AttributeFilter { key: "input.value".into(), value: json!("hi") }],
        trace_ids: vec![format!("{:032x}", 3)],
        ..Default::default()
    };
    assert_eq!(store.list_spans(project, &by_attribute, None, 100).await.unwrap().items.len(), 1);
    let wrong_type = SpanFilters { attributes: vec![AttributeFilter { key: "input.value".into(), value: json!(1) }], ..Default::default() };
    assert!(store.list_spans(project, &wrong_type, None, 100).await.unwrap().items.is_empty());
}

pub async fn trace_lists_sort_by_start_and_latency(store: Store) {
    let mut spans = Vec::new();
    for id in 1..=9u8 {
        let mut s = span(id, id, None);
        s.end_time = s.start_time + 1_000 * i64::from(10 - id);
        spans.push(routed("p", s));
    }
    write(&store, spans).await;
    let project = project_id(&store, "p").await;
    let collect = |sort, order| {
        let store = store.clone();
        async move {
            let mut ids = Vec::new();
            let mut cursor = None;
            loop {
                let page = store.list_traces(project, &TraceFilters::default(), sort, order, cursor, 4).await.unwrap();
                ids.extend(page.items.iter().map(|t| t.end_time - t.start_time));
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break ids,
                }
            }
        }
    };
    let by_latency = collect(TraceSort::LatencyMs, TraceOrder::Desc).await;
    assert_eq!(by_latency, (1..=9).rev().map(|n| n * 1_000).collect::<Vec<i64>>());
    let by_start_asc = collect(TraceSort::StartTime, TraceOrder::Asc).await;
    assert_eq!(by_start_asc, (1..=9).rev().map(|n| n * 1_000).collect::<Vec<i64>>(), "earliest trace has the longest latency here");
}

pub async fn projects_crud(store: Store) {
    let created = store.create_project("alpha", Some("first")).await.unwrap();
    assert!(matches!(store.create_project("alpha", None).await, Err(ember_store::StoreError::Conflict(_))));
    let updated = store.update_project_description(created.id, Some("second")).await.unwrap();
    assert_eq!(updated.description.as_deref(), Some("second"));
    let page = store.list_projects(None, 1, None, true, ember_store::ProjectVisibility::All).await.unwrap();
    assert_eq!(page.items[0].name, "alpha");
    assert!(page.next_cursor.is_some());
    let filtered = store.list_projects(None, 10, Some("ALP"), true, ember_store::ProjectVisibility::All).await.unwrap();
    assert_eq!(filtered.items.len(), 1);
    assert!(store.delete_project(created.id).await.unwrap());
    assert!(store.get_project(created.id).await.unwrap().is_none());
}

pub async fn transfer_moves_traces_and_spans(store: Store) {
    write(&store, vec![routed("src", span(1, 1, None)), routed("src", span(1, 2, Some(1)))]).await;
    let destination = store.create_project("dst", None).await.unwrap();
    let trace = store.get_trace(None, Some(&format!("{:032x}", 1))).await.unwrap().unwrap();
    store.transfer_traces(&[trace.rowid], destination.id).await.unwrap();
    let spans = store.list_spans(destination.id, &SpanFilters::default(), None, 10).await.unwrap();
    assert_eq!(spans.items.len(), 2);
}

pub async fn queue_acks_after_commit_and_refuses_when_full(store: Store) {
    let (queue, writer) =
        IngestQueue::start(store.clone(), QueueLimits { max_spans: 10, max_bytes: 1 << 20, max_batch_spans: 100, ..Default::default() });
    let committed = queue.submit(store.prepare_spans(vec![routed("p", span(1, 1, None))])).unwrap();
    committed.await.unwrap();
    assert!(store.get_span(None, Some(&format!("{:016x}", 1))).await.unwrap().is_some(), "acknowledged spans are readable");
    let too_many: Vec<RoutedSpan> = (2..=12).map(|id| routed("p", span(2, id, None))).collect();
    assert!(matches!(queue.submit(store.prepare_spans(too_many)), Err(QueueFull::TooLarge { .. })));
    // Fill the queue with one pending submission, then the next must be refused at once.
    let pending = queue.submit(store.prepare_spans((20..30).map(|id| routed("p", span(3, id, None))).collect())).unwrap();
    let refused = queue.submit(store.prepare_spans(vec![routed("p", span(4, 40, None))]));
    assert!(matches!(refused, Err(QueueFull::AtCapacity)) || queue.queued_spans() == 0, "a full queue refuses");
    pending.await.unwrap();
    // Finishing closes the queue while a clone is still alive (as a request dropped mid-decode
    // would hold one at shutdown): what was accepted is committed, what comes after is refused.
    let last = queue.submit(store.prepare_spans(vec![routed("p", span(5, 50, None))])).unwrap();
    writer.finished().await;
    last.await.expect("accepted before the close, so committed");
    assert!(store.get_span(None, Some(&format!("{:016x}", 29))).await.unwrap().is_some());
    assert!(store.get_span(None, Some(&format!("{:016x}", 50))).await.unwrap().is_some());
    assert!(matches!(queue.submit(store.prepare_spans(vec![routed("p", span(6, 60, None))])), Err(QueueFull::Closed)));
}

#[macro_export]
macro_rules! store_suite {
    ($database:expr) => {
        $crate::store_suite!(@tests $database;
            cumulative_counts_are_right_when_children_arrive_first,
            cumulative_counts_are_right_within_one_batch,
            deleting_a_span_corrects_ancestors_and_empty_traces_go,
            bulk_span_deletes_are_one_transaction_with_exact_counts,
            duplicates_are_ignored,
            existing_traces_keep_their_project_and_widen,
            sessions_belong_to_their_project_and_widen,
            span_lists_paginate_and_filter,
            trace_lists_sort_by_start_and_latency,
            projects_crud,
            transfer_moves_traces_and_spans,
            queue_acks_after_commit_and_refuses_when_full,
            attribute_filters_match_json_types_and_paths,
            nul_characters_are_stored_and_readable,
            queue_writers_keep_interleaved_traces_right,
            random_filters_select_what_the_reference_evaluator_selects,
            trace_and_session_filters_use_aggregates_and_comprehensions,
            prompt_versions_are_immutable_and_tags_point_at_one_version_per_prompt,
            prompt_labels_apply_to_prompts_and_filter_their_list,
            project_activity_follows_ingest_deletion_and_transfer,
            root_spans_sort_by_start_latency_and_tokens_across_pages,
            the_first_examples_of_a_version_come_oldest_first_within_a_split,
            external_ids_with_nul_match_their_stored_example,
            tokens_are_revoked_by_deletion_and_their_ids_never_come_back,
            restricted_projects_show_only_to_their_grantees,
            the_audit_log_pages_newest_first,
        );
        $crate::store_suite!(@databases $database;
            queries_past_their_budget_are_cancelled,
            a_metadata_update_that_fails_midway_changes_nothing,
        );
        $crate::store_suite!(@pairs $database;
            concurrent_writers_keep_counts_and_bounds_right,
            a_second_handle_sees_committed_spans,
        );
    };
    (@tests $database:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(database) = $database else { return };
                $crate::suite::$name(database.open().await).await;
            }
        )*
    };
    (@databases $database:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(database) = $database else { return };
                $crate::suite::$name(database).await;
            }
        )*
    };
    (@pairs $database:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(database) = $database else { return };
                $crate::suite::$name(database.open().await, database.open().await).await;
            }
        )*
    };
}

pub async fn attribute_filters_match_json_types_and_paths(store: Store) {
    let with = |id: u8, attributes: serde_json::Value| {
        let mut s = span(id, id, None);
        s.attributes = attributes.as_object().cloned().unwrap();
        routed("p", s)
    };
    write(
        &store,
        vec![
            with(1, json!({"metadata": {"tier": "gold", "n": 3, "ok": true, "none": null, "tags": ["a", "b"]}})),
            with(2, json!({"metadata": {"tier": "silver", "n": 3.5, "ok": false, "tags": ["b"]}})),
            with(3, json!({"metadata": {"tier": "gold", "n": "3"}})),
        ],
    )
    .await;
    let project = project_id(&store, "p").await;
    let matching = |path: &[&str], value: serde_json::Value| {
        let store = store.clone();
        let filter = SpanFilters { attributes: vec![AttributeFilter { key: path.join("."), value }], ..Default::default() };
        async move {
            let mut names: Vec<String> =
                store.list_spans(project, &filter, None, 100).await.unwrap().items.into_iter().map(|s| s.span.name).collect();
            names.sort();
            names
        }
    };
    assert_eq!(matching(&["metadata", "tier"], json!("gold")).await, ["span-1", "span-3"]);
    assert_eq!(matching(&["metadata", "n"], json!(3)).await, ["span-1"], "a number does not match the string \"3\"");
    assert_eq!(matching(&["metadata", "n"], json!("3")).await, ["span-3"]);
    assert_eq!(matching(&["metadata", "n"], json!(3.5)).await, ["span-2"]);
    assert_eq!(matching(&["metadata", "ok"], json!(true)).await, ["span-1"]);
    assert_eq!(matching(&["metadata", "ok"], json!(false)).await, ["span-2"]);
    assert_eq!(matching(&["metadata", "none"], json!(null)).await, ["span-1"], "null matches JSON null, not a missing key");
    assert_eq!(matching(&["metadata", "tags", "1"], json!("b")).await, ["span-1"], "numeric segments index arrays");
    assert_eq!(matching(&["metadata", "tags"], json!(["b"])).await, ["span-2"], "arrays compare whole");
    assert!(matching(&["metadata", "missing"], json!("gold")).await.is_empty());
}

pub async fn nul_characters_are_stored_and_readable(store: Store) {
    let mut s = span(1, 1, None);
    s.name = "nul\0name".into();
    s.attributes = json!({"input": {"value": "a\0b"}, "odd\0key": 1}).as_object().cloned().unwrap();
    write(&store, vec![routed("p", s)]).await;
    let stored = store.get_span(None, Some(&format!("{:016x}", 1))).await.unwrap().expect("stored");
    // SQLite keeps U+0000; PostgreSQL cannot store it in text or JSONB and keeps U+FFFD instead.
    let expected = if store.backend_name() == "sqlite" { '\0' } else { '\u{FFFD}' };
    assert_eq!(stored.span.name, format!("nul{expected}name"));
    assert_eq!(stored.span.attribute("input.value").unwrap(), &json!(format!("a{expected}b")));
    assert_eq!(stored.span.attributes.get(&format!("odd{expected}key")), Some(&json!(1)));
}

const INTERLEAVED_TRACES: u8 = 60;

/// Trace `t` has root `3t+1` <- mid `3t+2` <- leaf `3t+3`, each an LLM span with tokens, the
/// leaf an error, and sessions shared by every 7th trace. Split in two halves so that every
/// child of a trace is in the other half from its parent, in orders that put children first.
fn interleaved_traces() -> (Vec<RoutedSpan>, Vec<RoutedSpan>) {
    let member = |trace: u8, level: u8| {
        let id = trace * 3 + level + 1;
        let parent = if level == 0 { None } else { Some(id - 1) };
        let mut s = llm(span(trace, id, parent), i64::from(level) + 1, 10 * (i64::from(level) + 1), level == 2);
        s.start_time = 1_000_000 * i64::from(trace) + 100 * i64::from(level);
        s.end_time = s.start_time + 1_000 - 100 * i64::from(level);
        s.attributes.insert("session".into(), json!({"id": format!("session-{}", trace % 7)}));
        routed("p", s)
    };
    let mut one = Vec::new();
    let mut other = Vec::new();
    for trace in 0..INTERLEAVED_TRACES {
        let (a, b) = if trace % 2 == 0 { (&mut one, &mut other) } else { (&mut other, &mut one) };
        a.push(member(trace, 2));
        b.push(member(trace, 1));
        a.push(member(trace, 0));
    }
    (one, other)
}

/// What [`interleaved_traces`] must leave stored, however its spans were written.
async fn assert_interleaved_traces_stored_right(store: &Store) {
    for trace in 0..INTERLEAVED_TRACES {
        let root = trace * 3 + 1;
        assert_eq!(cumulative(store, root).await, (1, 6, 60), "root of trace {trace}");
        assert_eq!(cumulative(store, root + 1).await, (1, 5, 50), "middle of trace {trace}");
        let stored = store.get_trace(None, Some(&format!("{trace:032x}"))).await.unwrap().unwrap();
        let start = 1_000_000 * i64::from(trace);
        assert_eq!((stored.start_time, stored.end_time), (start, start + 1_000), "bounds of trace {trace}");
    }
    for session in 0..7u8 {
        let stored = store.get_session(None, Some(&format!("session-{session}"))).await.unwrap().unwrap();
        let traces: Vec<u8> = (0..INTERLEAVED_TRACES).filter(|t| t % 7 == session).collect();
        assert_eq!(stored.traces.len(), traces.len(), "every trace of session {session} joined it");
        let first_start = 1_000_000 * i64::from(traces[0]);
        let last_end = 1_000_000 * i64::from(*traces.last().unwrap()) + 1_000;
        assert_eq!((stored.start_time, stored.end_time), (first_start, last_end), "bounds of session {session}");
    }
    let project = project_id(store, "p").await;
    assert_eq!(store.count_spans(project).await.unwrap(), i64::from(INTERLEAVED_TRACES) * 3, "nothing lost, nothing doubled");
}

/// Two handles (two processes' stores) write the halves at the same time, in small batches.
pub async fn concurrent_writers_keep_counts_and_bounds_right(first: Store, second: Store) {
    let (one, other) = interleaved_traces();
    let writer = |store: Store, spans: Vec<RoutedSpan>| async move {
        for batch in spans.chunks(3) {
            write(&store, batch.to_vec()).await;
        }
    };
    tokio::join!(writer(first.clone(), one), writer(second.clone(), other));
    assert_interleaved_traces_stored_right(&first).await;
}

/// One queue with several writer tasks (on PostgreSQL) gets every span as its own submission.
pub async fn queue_writers_keep_interleaved_traces_right(store: Store) {
    let (queue, writer) = IngestQueue::start(store.clone(), QueueLimits { writers: 4, ..Default::default() });
    let (one, other) = interleaved_traces();
    let mut submissions = Vec::new();
    for (a, b) in one.into_iter().zip(other) {
        submissions.push(queue.submit(store.prepare_spans(vec![a])).unwrap());
        submissions.push(queue.submit(store.prepare_spans(vec![b])).unwrap());
    }
    for committed in futures::future::join_all(submissions).await {
        committed.expect("committed");
    }
    drop(queue);
    writer.finished().await;
    assert_interleaved_traces_stored_right(&store).await;
}

pub async fn a_second_handle_sees_committed_spans(first: Store, second: Store) {
    write(&first, vec![routed("p", span(1, 1, None))]).await;
    assert!(second.get_span(None, Some(&format!("{:016x}", 1))).await.unwrap().is_some());
    // The second handle's duplicate is recognised although the first handle wrote the original.
    let outcome = second.write_spans(&[&second.prepare_spans(vec![routed("p", span(1, 1, None))]).remove(0)]).await.unwrap();
    assert_eq!((outcome.inserted, outcome.duplicates), (0, 1));
}
