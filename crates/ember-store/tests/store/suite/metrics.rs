//! A project's metrics beyond the hourly totals: LLM usage by model and errored spans by kind
//! (rollups kept by ingest, re-pricing and deletion) and mean annotation scores, each binned as
//! the activity charts are.

use ember_core::{AnnotationSource, AnnotationTarget, AnnotatorKind, SpanKind, StatusCode};
use ember_store::{ActivityWindow, AnnotationInput, NewModelPrice, Store};
use serde_json::json;

use super::{project_id, routed, span, write};

const HOUR: i64 = 3_600_000_000_000;
const BASE: i64 = 2_000 * HOUR;

fn llm_span(trace: u8, id: u8, hour: i64, model: &str, prompt: i64) -> ember_core::Span {
    let mut s = span(trace, id, None);
    s.span_kind = SpanKind::Llm;
    s.start_time = BASE + hour * HOUR + 5;
    s.end_time = s.start_time + 1_000;
    s.attributes = json!({"llm": {"model_name": model, "token_count": {"prompt": prompt, "completion": 10}}}).as_object().cloned().unwrap();
    s
}

fn window(hours: i64, bins: usize) -> ActivityWindow {
    ActivityWindow { start: BASE, end: BASE + hours * HOUR, bins, latency_per_bin: false }
}

pub async fn model_usage_error_kinds_and_annotation_trends_follow_the_data(store: Store) {
    let mut failed_tool = span(4, 4, None);
    failed_tool.span_kind = SpanKind::Tool;
    failed_tool.start_time = BASE + 3 * HOUR;
    failed_tool.status_code = StatusCode::Error;
    let mut failed_llm = llm_span(5, 5, 3, "gpt-4o", 1);
    failed_llm.status_code = StatusCode::Error;
    write(
        &store,
        vec![
            routed("p", llm_span(1, 1, 0, "gpt-4o", 100)),
            routed("p", llm_span(2, 2, 1, "gpt-4o", 200)),
            routed("p", llm_span(3, 3, 1, "acme-1", 1_000)),
            routed("p", failed_tool),
            routed("p", failed_llm),
        ],
    )
    .await;
    let p = project_id(&store, "p").await;

    // Four hours in two bins; the model with the most tokens first.
    let usage = store.project_model_usage(p, window(4, 2)).await.unwrap();
    let names: Vec<&str> = usage.iter().map(|u| u.model_name.as_str()).collect();
    assert_eq!(names, ["acme-1", "gpt-4o"]);
    assert_eq!(usage[1].bins.iter().map(|(tokens, _)| *tokens).collect::<Vec<_>>(), [110 + 210, 11]);
    assert_eq!(usage[1].span_count, 3);
    assert_eq!(usage[0].bins[0], (1_010, 0.0), "an unknown model is counted, unpriced");
    let gpt_4o_first_bin = (100.0 + 200.0) * 2.5e-6 + 20.0 * 1e-5;
    assert!((usage[1].bins[0].1 - gpt_4o_first_bin).abs() < 1e-12, "{usage:?}");

    // A price for acme re-prices its span, in the model rollups too.
    let acme = NewModelPrice {
        name: "acme".into(),
        name_pattern: "^acme-".into(),
        provider: String::new(),
        effective_from: None,
        rates: ember_core::cost::TokenRates { input: 1.0, output: 1.0, ..Default::default() },
    };
    store.create_price(&acme).await.unwrap();
    store.recompute_costs(&[("acme-1".into(), String::new())], None).await.unwrap();
    let usage = store.project_model_usage(p, window(4, 2)).await.unwrap();
    assert_eq!(usage[0].bins[0], (1_010, 1_010.0));

    // Deleting a trace rebuilds its hour.
    let trace = store.get_trace(None, Some(&format!("{:032x}", 3))).await.unwrap().unwrap();
    store.delete_trace(trace.rowid).await.unwrap();
    let usage = store.project_model_usage(p, window(4, 2)).await.unwrap();
    assert_eq!(usage.iter().map(|u| u.model_name.as_str()).collect::<Vec<_>>(), ["gpt-4o"], "the acme hour was rebuilt without it");

    // Errors by kind, in their bins.
    let errors = store.project_errors_by_kind(p, window(4, 4)).await.unwrap();
    let by_kind: Vec<(&str, &[i64])> = errors.iter().map(|s| (s.name.as_str(), s.bins.as_slice())).collect();
    assert_eq!(by_kind, [("LLM", &[0, 0, 0, 1][..]), ("TOOL", &[0, 0, 0, 1][..])]);

    // Mean scores per annotation name and bin; notes and unscored annotations left out.
    let annotation = |span_id: u8, name: &str, score: Option<f64>| AnnotationInput {
        target_id: format!("{span_id:016x}"),
        name: name.into(),
        label: None,
        score,
        explanation: Some("x".into()),
        metadata: json!({}),
        annotator_kind: AnnotatorKind::Llm,
        identifier: String::new(),
        source: AnnotationSource::Api,
    };
    let annotations = [
        annotation(1, "quality", Some(1.0)),
        annotation(2, "quality", Some(0.0)),
        annotation(5, "quality", Some(0.5)),
        annotation(1, "note", Some(9.0)),
        annotation(2, "tone", None),
    ];
    store.upsert_annotations(AnnotationTarget::Span, &annotations, None).await.unwrap();
    let trends = store.project_annotation_score_trends(p, window(4, 2)).await.unwrap();
    assert_eq!(trends.len(), 1, "{trends:?}");
    assert_eq!((trends[0].name.as_str(), trends[0].bins.as_slice()), ("quality", &[Some(0.5), Some(0.5)][..]));
    let elsewhere = store.project_annotation_score_trends(p, ActivityWindow { start: BASE + 10 * HOUR, ..window(12, 2) }).await.unwrap();
    assert!(elsewhere.is_empty());

    // Deleting the failed LLM span's trace rebuilds its hour's kinds.
    let failed = store.get_trace(None, Some(&format!("{:032x}", 5))).await.unwrap().unwrap();
    store.delete_trace(failed.rowid).await.unwrap();
    let errors = store.project_errors_by_kind(p, window(4, 4)).await.unwrap();
    assert_eq!(errors.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["TOOL"]);
}
