//! Filters through the store: random filters over random spans must select exactly what the
//! reference evaluator selects; trace and session filters; the query time budget.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use ember_core::{RoutedSpan, Span, SpanKind, StatusCode};
use ember_query::reference::{span_matches, RefAnnotation, RefSpan};
use ember_store::testing::TestDatabase;
use ember_store::{
    AnnotationInput, AnnotationSource, AnnotatorKind, Filter, Grain, MetadataUpdate, SpanFilters, Store, StoreError, TraceFilters,
    TraceOrder, TraceSort,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

use super::{project_id, write};

const BASE_TIME: i64 = 1_700_000_000_000_000_000;

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Attributes drawn from a small vocabulary so that filters hit, miss and meet every JSON type.
fn random_attributes(rng: &mut StdRng) -> Map<String, Value> {
    let mut attributes = Map::new();
    if rng.random_bool(0.8) {
        let input = *pick(rng, &["Refund please", "REFUND", "hello", "refunds and returns", "", "Héllo wörld", "it's 100%"]);
        attributes.insert("input".into(), json!({"value": input}));
    }
    let mut llm = Map::new();
    if rng.random_bool(0.6) {
        llm.insert("model_name".into(), json!(*pick(rng, &["gpt-4o", "gpt-4o-mini", "claude"])));
    }
    if rng.random_bool(0.6) {
        let total = match rng.random_range(0..10) {
            0 => json!("12"),
            1 => json!(12.5),
            _ => json!(rng.random_range(0..2000)),
        };
        llm.insert(
            "token_count".into(),
            json!({"total": total, "prompt": rng.random_range(0..100), "completion": rng.random_range(0..100)}),
        );
    }
    if !llm.is_empty() {
        attributes.insert("llm".into(), Value::Object(llm));
    }
    if rng.random_bool(0.7) {
        let mut metadata = Map::new();
        let customer = match rng.random_range(0..7) {
            0 => json!(42),
            1 => Value::Null,
            n => json!(format!("c-{n}")),
        };
        metadata.insert("customer_id".into(), customer);
        if rng.random_bool(0.5) {
            metadata.insert("tier".into(), pick(rng, &[json!("gold"), json!("silver"), Value::Null]).clone());
        }
        if rng.random_bool(0.5) {
            metadata.insert("flag".into(), pick(rng, &[json!(true), json!(false), json!("true"), json!(1), json!(0), json!("no")]).clone());
        }
        if rng.random_bool(0.5) {
            metadata.insert("score".into(), pick(rng, &[json!(0.5), json!(1.5), json!(2), json!(-3)]).clone());
        }
        attributes.insert("metadata".into(), Value::Object(metadata));
    }
    if rng.random_bool(0.3) {
        attributes.insert("tags".into(), json!(["a", "b"]));
    }
    attributes
}

struct Corpus {
    project_id: i64,
    spans: Vec<RefSpan>,
}

/// Writes random traces with random annotations and returns what the reference evaluator needs.
async fn random_corpus(store: &Store, seed: u64) -> Corpus {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut spans = Vec::new();
    for trace in 0..60u32 {
        let trace_id = format!("{trace:032x}");
        let mut ids: Vec<String> = Vec::new();
        for index in 0..rng.random_range(1..7u32) {
            let span_id = format!("{:016x}", trace * 100 + index);
            let parent_id = match (index, rng.random_range(0..10)) {
                (0, 0) => Some("ffffffffffffffff".to_string()), // an orphan whose parent never arrives
                (0, _) => None,
                (_, _) => Some(pick(&mut rng, &ids).clone()),
            };
            let start_time = BASE_TIME + rng.random_range(0..1_000) * 1_000_000_000 + rng.random_range(0..1_000_000);
            let span = Span {
                trace_id: trace_id.clone(),
                span_id: span_id.clone(),
                parent_id,
                name: pick(&mut rng, &["chat", "Chat", "search", "tool-call", "refund flow", "a_b%c"]).to_string(),
                span_kind: *pick(&mut rng, &[SpanKind::Llm, SpanKind::Chain, SpanKind::Tool, SpanKind::Retriever]),
                start_time,
                end_time: start_time + rng.random_range(0..5_000_000_000),
                attributes: random_attributes(&mut rng),
                events: vec![],
                status_code: *pick(&mut rng, &[StatusCode::Ok, StatusCode::Error, StatusCode::Unset]),
                status_message: pick(&mut rng, &["", "boom"]).to_string(),
            };
            ids.push(span_id);
            spans.push(RoutedSpan { project_name: "filters".into(), span });
        }
    }
    write(store, spans.clone()).await;
    let mut span_annotations: HashMap<String, Vec<RefAnnotation>> = HashMap::new();
    let mut trace_annotations: HashMap<String, Vec<RefAnnotation>> = HashMap::new();
    let mut span_inputs = Vec::new();
    let mut trace_inputs = Vec::new();
    for routed in &spans {
        for (name, identifier) in [("correctness", ""), ("correctness", "second-judge"), ("quality", "")] {
            if !rng.random_bool(0.35) {
                continue;
            }
            let annotation = RefAnnotation {
                name: name.into(),
                label: rng.random_bool(0.8).then(|| pick(&mut rng, &["correct", "incorrect", "Incorrect"]).to_string()),
                score: rng.random_bool(0.8).then(|| *pick(&mut rng, &[0.0, 0.25, 0.5, 1.0])),
                explanation: rng.random_bool(0.5).then(|| "because".to_string()),
            };
            span_inputs.push(input(&routed.span.span_id, identifier, &annotation));
            span_annotations.entry(routed.span.span_id.clone()).or_default().push(annotation);
        }
    }
    for trace in 0..60u32 {
        if rng.random_bool(0.3) {
            let trace_id = format!("{trace:032x}");
            let annotation = RefAnnotation {
                name: "resolved".into(),
                label: Some(pick(&mut rng, &["yes", "no"]).to_string()),
                score: None,
                explanation: None,
            };
            trace_inputs.push(input(&trace_id, "", &annotation));
            trace_annotations.entry(trace_id).or_default().push(annotation);
        }
    }
    store.upsert_annotations(ember_core::AnnotationTarget::Span, &span_inputs, None).await.expect("span annotations");
    store.upsert_annotations(ember_core::AnnotationTarget::Trace, &trace_inputs, None).await.expect("trace annotations");
    let project_id = project_id(store, "filters").await;
    // Metadata set after ingestion (kept apart from the stored attributes on SQLite) must read
    // the same to the SQL and to the reference, which sees spans as the store returns them.
    let mut updates = Vec::new();
    for routed in &spans {
        if rng.random_bool(0.3) {
            let mut values = Map::new();
            values.insert("customer_id".into(), pick(&mut rng, &[json!("c-3"), json!("c-9"), Value::Null]).clone());
            if rng.random_bool(0.5) {
                values.insert("tier".into(), pick(&mut rng, &[json!("gold"), json!("platinum")]).clone());
            }
            updates.push(MetadataUpdate { span_id: routed.span.span_id.clone(), values });
        }
    }
    // Some fail on a type conflict or a non-object metadata; those spans stay as they were.
    store.update_span_metadata(project_id, &updates).await.expect("metadata updates");
    let stored_ids: HashSet<&str> = spans.iter().map(|s| s.span.span_id.as_str()).collect();
    let mut corpus = Vec::new();
    for routed in &spans {
        let record = store.get_span(None, Some(&routed.span.span_id)).await.unwrap().expect("stored");
        let span = &record.span;
        corpus.push(RefSpan {
            span_id: span.span_id.clone(),
            trace_id: span.trace_id.clone(),
            parent_id: span.parent_id.clone(),
            name: span.name.clone(),
            span_kind: span.span_kind.as_str().to_string(),
            status_code: span.status_code.as_str().to_string(),
            status_message: span.status_message.clone(),
            start_time: span.start_time,
            end_time: span.end_time,
            attributes: Value::Object(span.attributes.clone()),
            cumulative_llm_token_count_prompt: record.cumulative_llm_token_count_prompt,
            cumulative_llm_token_count_completion: record.cumulative_llm_token_count_completion,
            parent_stored: span.parent_id.as_deref().is_some_and(|p| stored_ids.contains(p)),
            annotations: span_annotations.remove(&span.span_id).unwrap_or_default(),
            trace_annotations: trace_annotations.get(&span.trace_id).cloned().unwrap_or_default(),
        });
    }
    Corpus { project_id, spans: corpus }
}

fn input(target_id: &str, identifier: &str, annotation: &RefAnnotation) -> AnnotationInput {
    AnnotationInput {
        target_id: target_id.into(),
        name: annotation.name.clone(),
        label: annotation.label.clone(),
        score: annotation.score,
        explanation: annotation.explanation.clone(),
        metadata: json!({}),
        annotator_kind: AnnotatorKind::Llm,
        identifier: identifier.into(),
        source: AnnotationSource::Api,
    }
}

fn phoenix_atom() -> BoxedStrategy<String> {
    let number = || prop::sample::select(vec![0, 1, 2, 12, 100, 500, 1000, 2500]);
    prop_oneof![
        prop::sample::select(vec![
            "span_kind == 'llm'",
            "span_kind in ['LLM', 'tool']",
            "status_code != 'ERROR'",
            "status_code == 'unset'",
            "name == 'chat'",
            "'CHAT' in name",
            "'%' in name",
            "name < 'm'",
            "name + '!' == 'chat!'",
            "status_message == ''",
            "'refund' in input.value",
            "'refund' not in input.value",
            "'HÉLLO' in input.value",
            "input.value == 'hello'",
            "input.value is None",
            "metadata['customer_id'] == 'c-3'",
            "metadata['customer_id'] == 'c-9'",
            "'-3' in metadata['customer_id']",
            "metadata['tier'] == 'platinum'",
            "metadata['customer_id'] in ['c-2', 'c-4']",
            "metadata['customer_id'] == '42'",
            "metadata['customer_id'] is None",
            "metadata['customer_id'] > 'c-3'",
            "metadata['flag'] == True",
            "metadata['flag'] != False",
            "metadata['flag'] in [True]",
            "metadata['tier'] is None",
            "metadata['tier'] is not None",
            "metadata['score'] > 1",
            "metadata['score'] == metadata['score']",
            "metadata['score'] < llm.token_count.total",
            "-metadata['score'] >= 1",
            "int(metadata['score']) == 1",
            "str(int(metadata['score'])) == '-3'",
            "str(metadata['score']) == '0.5'",
            "llm.model_name == 'gpt-4o'",
            "llm.model_name in ['claude', 'gpt-4o-mini']",
            "llm.token_count.total is None",
            "llm.token_count.total == '12'",
            "attributes['llm']['model_name'] == 'claude'",
            "attributes[['llm', 'token_count', 'total']] >= 12",
            "tags[0] == 'a'",
            "tags[1] == 'a'",
            "evals['correctness'].label == 'incorrect'",
            "evals['correctness'].label != 'incorrect'",
            "evals['correctness'].label in ['correct', 'Incorrect']",
            "'INCORRECT' in evals['correctness'].label",
            "evals['correctness'].score < 0.5",
            "evals['correctness'].label is None",
            "evals['correctness'].score is not None",
            "annotations['correctness'].explanation is not None",
            "evals['quality'].score >= 0.25",
            "evals['quality']",
            "not evals['quality']",
            "evals['missing'].label is None",
            "evals['correctness'].score + evals['quality'].score > 1",
            "trace_annotations['resolved'].label == 'yes'",
            "not trace_annotations['resolved']",
            "parent_span is None",
            "parent_span is not None",
            "parent_id is None",
            "start_time > '2023-11-14T22:21:00Z'",
            "end_time <= '2023-11-14T22:25:00+00:00'",
        ])
        .prop_map(str::to_string),
        number().prop_map(|n| format!("latency_ms > {n}")),
        number().prop_map(|n| format!("latency_ms // 1000 == {}", n % 5)),
        number().prop_map(|n| format!("latency_ms % 7 < {}", n % 7)),
        number().prop_map(|n| format!("llm.token_count.total > {n}")),
        number().prop_map(|n| format!("float(llm.token_count.total) / 2 >= {n}")),
        number().prop_map(|n| format!("cumulative_token_count.total > {n}")),
        number().prop_map(|n| format!("cumulative_llm_token_count_prompt <= {n}")),
    ]
    .boxed()
}

fn ax_atom() -> BoxedStrategy<String> {
    let number = || prop::sample::select(vec![0, 12, 500, 1000, 2500]);
    prop_oneof![
        prop::sample::select(vec![
            "status_code = 'ERROR'",
            "status_code != 'OK'",
            "span_kind = 'LLM'",
            "span_kind IN ('TOOL', 'retriever')",
            "name = 'chat'",
            "name LIKE 'ch%'",
            "name LIKE 'a!_b%'",
            "name LIKE 'a\\_b\\%c'",
            "name NOT LIKE '%t%'",
            "name CONTAINS 'CHAT'",
            "eval.correctness.label = 'correct'",
            "eval.correctness.score >= 0.5",
            "annotation.quality.score < 0.5",
            "annotation.quality.text IS NOT NULL",
            "metadata.customer_id = 'c-3'",
            "metadata.customer_id IN ('c-2', 'c-5')",
            "metadata.tier IS NULL",
            "metadata.flag = true",
            "attributes.input.value CONTAINS 'refund'",
            "attributes.input.value NOT CONTAINS 'refund'",
            "attributes.llm.model_name = 'gpt-4o'",
            "attributes.tags.0 = 'a'",
            "context.trace_id = '00000000000000000000000000000003'",
            "parent_id IS NULL",
        ])
        .prop_map(str::to_string),
        number().prop_map(|n| format!("latency_ms > {n}")),
        number().prop_map(|n| format!("attributes.llm.token_count.total <= {n}")),
    ]
    .boxed()
}

/// Random combinations of atoms with and/or/not and parentheses.
fn combined(atom: BoxedStrategy<String>, and: &'static str, or: &'static str, not: &'static str) -> impl Strategy<Value = String> {
    atom.prop_recursive(3, 12, 3, move |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(move |(a, b)| format!("({a}) {and} ({b})")),
            (inner.clone(), inner.clone()).prop_map(move |(a, b)| format!("({a}) {or} ({b})")),
            inner.prop_map(move |a| format!("{not} ({a})")),
        ]
    })
}

async fn selected_ids(store: &Store, project_id: i64, filter: &Filter) -> BTreeSet<String> {
    let filters = SpanFilters { condition: Some(filter.clone()), ..Default::default() };
    let page = store.list_spans(project_id, &filters, None, 10_000).await.expect("filter query runs");
    page.items.into_iter().map(|record| record.span.span_id).collect()
}

fn check_language(store: &Store, corpus: &Corpus, strategy: impl Strategy<Value = String>, parse: fn(&str) -> Filter, cases: u32) {
    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let outcome = runner.run(&strategy, |text| {
        let filter = parse(&text);
        let expected: BTreeSet<String> =
            corpus.spans.iter().filter(|span| span_matches(&filter, span)).map(|s| s.span_id.clone()).collect();
        // With the default probe limit every candidate subquery of this small corpus drives
        // the query; with a limit of 0 each is tested span by span instead.
        for (plan, store) in [("driving", store.clone()), ("testing", store.clone().with_filter_probe_limit(0))] {
            let actual = tokio::task::block_in_place(|| handle.block_on(selected_ids(&store, corpus.project_id, &filter)));
            if actual != expected {
                let missing: Vec<_> = expected.difference(&actual).collect();
                let extra: Vec<_> = actual.difference(&expected).collect();
                return Err(TestCaseError::fail(format!("{text} ({plan} candidates): SQL missed {missing:?}, SQL added {extra:?}")));
            }
        }
        Ok(())
    });
    if let Err(error) = outcome {
        panic!("{error}");
    }
}

pub async fn random_filters_select_what_the_reference_evaluator_selects(store: Store) {
    let seed = rand::random::<u64>();
    eprintln!("corpus seed {seed}");
    let corpus = random_corpus(&store, seed).await;
    // Filters that select something and something else, so the comparison means something.
    let all = corpus.spans.len();
    let kinds: HashSet<&str> = corpus.spans.iter().map(|s| s.span_kind.as_str()).collect();
    assert!(all > 100 && kinds.len() > 2, "the corpus is varied: {all} spans");
    check_language(
        &store,
        &corpus,
        combined(phoenix_atom(), "and", "or", "not"),
        |text| Filter::phoenix(text, Grain::Span).unwrap_or_else(|e| panic!("{text}: {e}")),
        300,
    );
    check_language(
        &store,
        &corpus,
        combined(ax_atom(), "AND", "OR", "NOT"),
        |text| Filter::arize(text).unwrap_or_else(|e| panic!("{text}: {e}")),
        150,
    );
}

async fn trace_ids(store: &Store, project_id: i64, filter: &str) -> Vec<String> {
    let condition = Some(Filter::phoenix(filter, Grain::Trace).unwrap_or_else(|e| panic!("{filter}: {e}")));
    let filters = TraceFilters { condition, ..Default::default() };
    let page = store.list_traces(project_id, &filters, TraceSort::StartTime, TraceOrder::Asc, None, 100).await.unwrap();
    page.items.into_iter().map(|t| t.trace_id[30..].to_string()).collect()
}

fn traced(trace: u8, id: u8, parent: Option<u8>, kind: SpanKind, status: StatusCode, tokens: i64, session: Option<&str>) -> RoutedSpan {
    let mut span = super::span(trace, id, parent);
    span.span_kind = kind;
    span.status_code = status;
    span.start_time = 1_000_000 * i64::from(trace) + i64::from(id);
    span.end_time = span.start_time + 1_000_000 * i64::from(id);
    let mut attributes = json!({"llm": {"token_count": {"prompt": tokens, "completion": 1}}});
    if let Some(session) = session {
        attributes["session"] = json!({"id": session});
    }
    span.attributes = attributes.as_object().cloned().unwrap();
    RoutedSpan { project_name: "grains".into(), span }
}

pub async fn trace_and_session_filters_use_aggregates_and_comprehensions(store: Store) {
    use SpanKind::*;
    use StatusCode::*;
    write(
        &store,
        vec![
            // trace 1 (session s1): LLM + TOOL, one error, 3 spans
            traced(1, 1, None, Chain, Ok, 0, Some("s1")),
            traced(1, 2, Some(1), Llm, Error, 10, Some("s1")),
            traced(1, 3, Some(1), Tool, Ok, 0, Some("s1")),
            // trace 2 (session s1): a single LLM span
            traced(2, 4, None, Llm, Ok, 5, Some("s1")),
            // trace 3 (session s2): two chains
            traced(3, 5, None, Chain, Ok, 0, Some("s2")),
            traced(3, 6, Some(5), Chain, Unset, 0, Some("s2")),
        ],
    )
    .await;
    let project = project_id(&store, "grains").await;
    let cases: &[(&str, &[&str])] = &[
        ("num_spans >= 2", &["01", "03"]),
        ("error_count > 0", &["01"]),
        ("llm_span_count == 1 and tool_span_count == 0", &["02"]),
        ("token_count_prompt >= 10", &["01"]),
        ("token_count_total == 6", &["02"]),
        ("latency_ms > 5", &["03"]),
        ("any(s.span_kind == 'LLM' for s in spans)", &["01", "02"]),
        ("any(s.span_kind == 'llm' and s.status_code == 'ERROR' for s in spans)", &["01"]),
        ("all(s.status_code != 'ERROR' for s in spans)", &["02", "03"]),
        ("all(s.span_kind == 'LLM' for s in spans if s.llm.token_count.prompt > 0)", &["01", "02", "03"]),
        ("not any(s.name == 'span-5' for s in spans)", &["01", "02"]),
        ("trace_id == '00000000000000000000000000000002'", &["02"]),
        ("start_time >= '1970-01-01T00:00:00.002Z'", &["02", "03"]),
    ];
    for (filter, expected) in cases {
        assert_eq!(trace_ids(&store, project, filter).await, expected.to_vec(), "{filter}");
    }
    store
        .upsert_annotations(
            ember_core::AnnotationTarget::Span,
            &[AnnotationInput {
                target_id: format!("{:016x}", 6),
                name: "quality".into(),
                label: Some("bad".into()),
                score: Some(0.0),
                explanation: None,
                metadata: json!({}),
                annotator_kind: AnnotatorKind::Human,
                identifier: String::new(),
                source: AnnotationSource::Api,
            }],
            None,
        )
        .await
        .unwrap();
    assert_eq!(trace_ids(&store, project, "any(s.evals['quality'].label == 'bad' for s in spans)").await, vec!["03"]);

    let sessions = |filter: &'static str| {
        let store = store.clone();
        async move {
            let condition = Filter::phoenix(filter, Grain::Session).unwrap_or_else(|e| panic!("{filter}: {e}"));
            let page = store.list_sessions(project, Some(&condition), None, 100, true).await.unwrap();
            page.items.into_iter().map(|s| s.session_id).collect::<Vec<_>>()
        }
    };
    assert_eq!(sessions("num_traces == 2").await, vec!["s1"]);
    assert_eq!(sessions("num_spans > 3 and error_count == 1").await, vec!["s1"]);
    assert_eq!(sessions("token_count_prompt == 0").await, vec!["s2"]);
    assert_eq!(sessions("any(s.evals['quality'] for s in spans)").await, vec!["s2"]);
    assert_eq!(sessions("all(s.span_kind != 'TOOL' for s in spans)").await, vec!["s2"]);
    assert_eq!(sessions("session_id in ['s2', 'x']").await, vec!["s2"]);
    assert_eq!(sessions("latency_ms > 2").await, vec!["s1", "s2"]);
}

/// A filter that runs past the budget is cancelled with a clear error, and the connection it
/// ran on serves the next query normally.
pub async fn queries_past_their_budget_are_cancelled(mut database: TestDatabase) {
    database.options.query_budget = Duration::from_millis(1);
    let store = database.open().await;
    let spans: Vec<RoutedSpan> = (0..4_000u32)
        .map(|i| {
            let mut span = super::span(0, 0, None);
            span.trace_id = format!("{:032x}", i / 10);
            span.span_id = format!("{i:016x}");
            span.attributes = json!({"input": {"value": "lorem ipsum dolor sit amet ".repeat(40)}}).as_object().cloned().unwrap();
            RoutedSpan { project_name: "slow".into(), span }
        })
        .collect();
    for batch in spans.chunks(1_000) {
        write(&store, batch.to_vec()).await;
    }
    let project = project_id(&store, "slow").await;
    let slow = Filter::phoenix("'needle' in input.value or 'NEEDLE' in str(input.value) + name", Grain::Span).unwrap();
    let mut timed_out = false;
    // The budget is 1 ms; a scan of 4,000 large attribute values takes longer on any machine.
    for _ in 0..3 {
        let filters = SpanFilters { condition: Some(slow.clone()), ..Default::default() };
        match store.list_spans(project, &filters, None, 100).await {
            Err(StoreError::QueryTimeout { budget_ms: 1 }) => {
                timed_out = true;
                break;
            }
            other => assert!(other.is_ok(), "{:?}", other.err()),
        }
    }
    assert!(timed_out, "a 1 ms budget cancels a 4,000-span scan");
    let message = StoreError::QueryTimeout { budget_ms: 1 }.to_string();
    assert!(message.contains("1 ms") && message.contains("narrow"), "{message}");
    // Unbudgeted reads on the same pool still work.
    assert!(store.get_span(None, Some(&format!("{:016x}", 7))).await.unwrap().is_some());
}
