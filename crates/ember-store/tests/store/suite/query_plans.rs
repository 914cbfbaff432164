//! Request paths that select spans never walk the whole `spans` table: each read a listed path
//! runs is recorded and explained on the backend under test (SQLite `EXPLAIN QUERY PLAN`,
//! PostgreSQL `EXPLAIN` with seq scans disabled, see `ember_store::testing::recording`), and the
//! test fails naming every path whose plan scans `spans` (or `traces`, which the trace lists
//! select from) whole.
//!
//! The listed paths are the store reads behind the REST span, trace, session and annotation
//! lists, the span-query frame (`POST /v1/spans`), the AX span search, and the UI's project,
//! trace, session and search pages: selection by kind, status, name, attribute, annotation, time
//! window, ids, and the filter languages.

use std::future::Future;

use ember_core::{AnnotationTarget, RoutedSpan, SpanKind, StatusCode};
use ember_store::testing::{recording, RecordedStatement};
use ember_store::{
    AnnotationInput, AnnotationQuery, AnnotationSource, AnnotatorKind, AttributeFilter, Filter, Grain, RootSpanQuery, RootSpanSort,
    SpanFilters, SpanQueryOptions, Store, StoreError, TraceFilters, TraceOrder, TraceSort,
};
use serde_json::json;

use super::{project_id, write};

const HOUR: i64 = 3_600_000_000_000;
const BASE_TIME: i64 = 1_700_000_000_000_000_000;

/// Traces of a CHAIN root and LLM, RETRIEVER and TOOL children, in two projects, with the
/// attributes, sessions and annotations the filters ask about.
async fn corpus(store: &Store) {
    let mut spans = Vec::new();
    let mut annotations = Vec::new();
    for trace in 1..=40u8 {
        let project = if trace % 4 == 0 { "elsewhere" } else { "plans" };
        let start = BASE_TIME + i64::from(trace) * HOUR;
        for (offset, kind) in [SpanKind::Chain, SpanKind::Llm, SpanKind::Retriever, SpanKind::Tool].into_iter().enumerate() {
            let id = (trace - 1) * 4 + offset as u8 + 1;
            let mut span = super::span(trace, id, (offset > 0).then_some((trace - 1) * 4 + 1));
            span.span_kind = kind;
            span.start_time = start + offset as i64;
            span.end_time = start + 1_000_000 * i64::from(id);
            if trace % 5 == 0 && kind == SpanKind::Llm {
                span.status_code = StatusCode::Error;
            }
            let refund = if trace % 7 == 0 { "please refund my order" } else { "where is my order" };
            let mut attributes = json!({
                "input": {"value": refund},
                "openinference": {"span": {"kind": kind.as_str()}},
                "metadata": {"customer_id": format!("c-{}", trace % 5)},
                "session": {"id": format!("s-{}", trace % 3)},
                "user": {"id": format!("u-{}", trace % 2)},
            });
            if kind == SpanKind::Llm {
                attributes["llm"] = json!({"model_name": "gpt-4o", "token_count": {"prompt": 400 + i64::from(id), "completion": 300, "total": 700 + i64::from(id)}});
                annotations.push(AnnotationInput {
                    target_id: span.span_id.clone(),
                    name: "correctness".into(),
                    label: Some(if trace % 3 == 0 { "incorrect" } else { "correct" }.into()),
                    score: Some(f64::from(trace % 2)),
                    explanation: None,
                    metadata: json!({}),
                    annotator_kind: AnnotatorKind::Llm,
                    identifier: String::new(),
                    source: AnnotationSource::Api,
                });
            }
            span.attributes = attributes.as_object().cloned().unwrap();
            spans.push(RoutedSpan { project_name: project.into(), span });
        }
    }
    write(store, spans).await;
    store.upsert_annotations(AnnotationTarget::Span, &annotations, None).await.expect("annotations");
}

/// Runs one request path's reads, recording them, and adds to `findings` every read whose plan
/// walks `spans` (or `traces`) whole.
async fn explained<T, F: Future<Output = Result<T, StoreError>>>(store: &Store, path: &str, findings: &mut Vec<String>, future: F) -> T {
    let (output, statements) = recording(future).await;
    let output = output.unwrap_or_else(|error| panic!("{path}: {error}"));
    let reads: Vec<&RecordedStatement> = statements.iter().filter(|statement| statement.is_read()).collect();
    assert!(!reads.is_empty(), "{path}: no read was recorded, so its plan was not checked");
    for read in reads {
        for table in ["spans", "traces"] {
            let scans = store.full_scans(read, table).await.unwrap_or_else(|error| panic!("{path}: cannot explain {}: {error}", read.sql));
            if !scans.is_empty() {
                findings.push(format!("{path}: {scans:?}\n    {}", read.sql));
            }
        }
    }
    output
}

fn span_filter(text: &str) -> Filter {
    Filter::phoenix(text, Grain::Span).unwrap_or_else(|error| panic!("{text}: {error}"))
}

pub async fn no_listed_request_path_scans_all_spans(store: Store) {
    corpus(&store).await;
    let project = project_id(&store, "plans").await;

    // The detector itself: a read no index can serve is reported on this backend.
    let unindexed = recording(store.count_filtered_spans(project, &SpanFilters::default(), None)).await.1;
    let probe = unindexed.into_iter().find(RecordedStatement::is_read).expect("the count reads");
    let scan = RecordedStatement::unbound("SELECT COUNT(*) FROM spans WHERE status_message = 'nothing'");
    assert!(!store.full_scans(&scan, "spans").await.unwrap().is_empty(), "a walk of every span is reported");
    assert!(store.full_scans(&probe, "spans").await.unwrap().is_empty(), "a project's count is not a walk of every span");

    let mut findings = Vec::new();
    let f = &mut findings;
    let window = |filters: SpanFilters| SpanFilters { start_time: Some(BASE_TIME), end_time: Some(BASE_TIME + 24 * HOUR), ..filters };
    let list = |filters: SpanFilters| {
        let store = store.clone();
        async move { store.list_spans(project, &filters, None, 100).await }
    };

    // GET /v1/projects/{p}/spans (and the AX span list, the UI's spans tab)
    let first = explained(&store, "spans, first page", f, list(SpanFilters::default())).await;
    assert_eq!(first.items.len(), 100, "the project has more than a page");
    let cursor = first.next_cursor;
    explained(&store, "spans, next page", f, store.list_spans(project, &SpanFilters::default(), cursor, 100)).await;
    let kinds = SpanFilters { span_kinds: vec!["LLM".into()], ..Default::default() };
    let llm = explained(&store, "spans?span_kind=LLM", f, list(kinds.clone())).await;
    assert_eq!(llm.items.len(), 30);
    explained(&store, "spans?status_code=ERROR", f, list(SpanFilters { status_codes: vec!["ERROR".into()], ..Default::default() })).await;
    explained(&store, "spans?name=", f, list(SpanFilters { names: vec!["span-5".into()], ..Default::default() })).await;
    explained(&store, "spans, roots only", f, list(SpanFilters { parent_id: Some(None), ..Default::default() })).await;
    let root_id = format!("{:016x}", 1);
    explained(&store, "spans, children of", f, list(SpanFilters { parent_id: Some(Some(root_id.clone())), ..Default::default() })).await;
    let trace_ids = vec![format!("{:032x}", 2)];
    explained(&store, "spans?trace_id=", f, list(SpanFilters { trace_ids: trace_ids.clone(), ..Default::default() })).await;
    explained(&store, "spans?span_id=", f, list(SpanFilters { span_ids: vec![root_id.clone()], ..Default::default() })).await;
    explained(&store, "spans, 24 h window", f, list(window(SpanFilters::default()))).await;
    let attribute = |key: &str, value: serde_json::Value| SpanFilters {
        attributes: vec![AttributeFilter { key: key.into(), value }],
        ..Default::default()
    };
    let customer =
        explained(&store, "spans?attribute=metadata.customer_id:c-2", f, list(attribute("metadata.customer_id", json!("c-2")))).await;
    assert!(!customer.items.is_empty());
    explained(&store, "spans?attribute=user.id:u-1", f, list(attribute("user.id", json!("u-1")))).await;
    explained(&store, "spans?attribute=llm.token_count.total:710", f, list(attribute("llm.token_count.total", json!(710)))).await;

    // Filter conditions (REST `filter_condition`, the UI's filter box, AX filters)
    for text in [
        "span_kind == 'LLM'",
        "status_code == 'ERROR'",
        "span_kind == 'LLM' and status_code == 'ERROR'",
        "llm.model_name == 'gpt-4o' and llm.token_count.total > 600",
        "metadata['customer_id'] == 'c-2'",
        "evals['correctness'].label == 'incorrect'",
        "span_kind == 'LLM' and latency_ms > 1000 and evals['correctness'].label == 'incorrect'",
        "annotations['correctness'].score > 0.5",
        "name == 'span-5'",
        "latency_ms > 1000",
    ] {
        let filters = SpanFilters { condition: Some(span_filter(text)), ..Default::default() };
        explained(&store, &format!("filter {text}"), f, list(filters)).await;
    }
    let refund = SpanFilters { condition: Some(span_filter("'refund' in input.value")), ..Default::default() };
    explained(&store, "filter 'refund' in input.value, 24 h window", f, list(window(refund))).await;
    for text in ["status_code = 'ERROR' AND eval.correctness.label = 'correct'", "attributes.llm.model_name = 'gpt-4o'"] {
        let filters = SpanFilters { condition: Some(Filter::arize(text).unwrap()), ..Default::default() };
        explained(&store, &format!("AX filter {text}"), f, list(filters)).await;
    }
    // The AX span search's total.
    explained(&store, "count of LLM spans", f, store.count_filtered_spans(project, &kinds, None)).await;

    // POST /v1/spans (the span-query frame of the Python client)
    let query = |condition: Option<&str>, root_spans_only: bool, orphan_span_as_root_span: bool| SpanQueryOptions {
        start_time: Some(BASE_TIME),
        end_time: Some(BASE_TIME + 24 * HOUR),
        limit: 100,
        root_spans_only,
        orphan_span_as_root_span,
        condition: condition.map(span_filter),
    };
    explained(&store, "span query, window", f, store.query_spans(project, &query(None, false, false))).await;
    let errors = query(Some("span_kind == 'LLM' and status_code == 'ERROR'"), false, false);
    assert!(!explained(&store, "span query, LLM errors", f, store.query_spans(project, &errors)).await.is_empty());
    explained(&store, "span query, root spans", f, store.query_spans(project, &query(None, true, false))).await;
    explained(&store, "span query, root and orphan spans", f, store.query_spans(project, &query(None, true, true))).await;

    // The UI's project page: root spans by each sort, traces, sessions.
    for sort in [RootSpanSort::StartTime, RootSpanSort::Latency, RootSpanSort::Tokens] {
        for condition in [None, Some(span_filter("span_kind == 'CHAIN'"))] {
            let roots =
                RootSpanQuery { start_time: Some(BASE_TIME), end_time: Some(BASE_TIME + 48 * HOUR), condition, sort, descending: true };
            explained(&store, &format!("root spans by {sort:?}"), f, store.list_root_spans(project, &roots, None, 50)).await;
        }
    }
    let trace_filters = [
        TraceFilters::default(),
        TraceFilters { start_time: Some(BASE_TIME), end_time: Some(BASE_TIME + 24 * HOUR), ..Default::default() },
        TraceFilters { has_error: Some(true), ..Default::default() },
        TraceFilters { min_latency: Some(1_000_000), ..Default::default() },
        TraceFilters { condition: Some(Filter::phoenix("num_spans >= 4", Grain::Trace).unwrap()), ..Default::default() },
        TraceFilters {
            condition: Some(Filter::phoenix("any(s.span_kind == 'TOOL' for s in spans)", Grain::Trace).unwrap()),
            ..Default::default()
        },
    ];
    for filters in &trace_filters {
        for sort in [TraceSort::StartTime, TraceSort::LatencyMs] {
            explained(
                &store,
                &format!("traces by {sort:?}, {filters:?}"),
                f,
                store.list_traces(project, filters, sort, TraceOrder::Desc, None, 50),
            )
            .await;
        }
    }
    explained(&store, "sessions", f, store.list_sessions(project, None, None, 50, false)).await;
    let session_filter = Filter::phoenix("num_traces >= 2", Grain::Session).unwrap();
    explained(&store, "sessions filtered", f, store.list_sessions(project, Some(&session_filter), None, 50, false)).await;
    explained(&store, "filter box annotation names", f, store.span_annotation_names(project, BASE_TIME, BASE_TIME + 48 * HOUR)).await;

    // A trace page, a span, a session (and the search box's id lookups).
    let trace = explained(&store, "trace by id", f, store.get_trace(None, Some(&trace_ids[0]))).await.expect("trace stored");
    explained(&store, "spans of a trace", f, store.spans_of_traces(&[trace.rowid])).await;
    explained(&store, "outline of a trace", f, store.span_outlines_of_trace(trace.rowid)).await;
    explained(&store, "annotations of a trace's spans", f, store.span_annotations_of_trace(trace.rowid, 100)).await;
    let span = explained(&store, "span by id", f, store.get_span(None, Some(&root_id))).await.expect("span stored");
    explained(&store, "annotations of a span", f, store.annotations_of_span(span.rowid)).await;
    explained(&store, "spans by ids", f, store.spans_by_span_ids(&[root_id.as_str()])).await;
    explained(&store, "existing span ids", f, store.existing_span_ids(&[root_id.as_str()])).await;
    explained(&store, "session by id", f, store.get_session(None, Some("s-1"))).await;

    // GET /v1/projects/{p}/span_annotations
    let of_spans = AnnotationQuery { target_ids: vec![format!("{:016x}", 2)], limit: 100, ..Default::default() };
    explained(&store, "span annotations by span ids", f, store.list_annotations(AnnotationTarget::Span, project, &of_spans)).await;
    let named = AnnotationQuery { include_names: vec!["correctness".into()], limit: 100, ..Default::default() };
    explained(&store, "span annotations by name", f, store.list_annotations(AnnotationTarget::Span, project, &named)).await;

    assert!(findings.is_empty(), "request paths whose plan walks every span or trace:\n{}", findings.join("\n"));
}
