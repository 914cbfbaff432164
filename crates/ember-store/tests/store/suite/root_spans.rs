//! Root spans sorted by start time, latency and tokens, a page at a time, and selected by span
//! filters on the roots or by trace filters (the web UI's Traces tab).

use ember_store::{Filter, Grain, RootSpanQuery, RootSpanSort, Store};

use super::{llm, project_id, routed, span, write};

pub async fn root_spans_sort_by_start_latency_and_tokens_across_pages(store: Store) {
    // Six traces: root i starts at i ms, lasts (i * 7) % 6 ms, and has an LLM child of 10 * (i % 3) tokens.
    let mut spans = Vec::new();
    for i in 1..=6_u8 {
        let mut root = span(i, i, None);
        root.start_time = i64::from(i) * 1_000_000;
        root.end_time = root.start_time + i64::from((i * 7) % 6) * 1_000_000 + 1;
        spans.push(routed("p", root));
        let mut child = llm(span(i, 100 + i, Some(i)), i64::from(i % 3) * 10, 0, false);
        child.start_time = i64::from(i) * 1_000_000;
        child.end_time = child.start_time + 1;
        spans.push(routed("p", child));
    }
    write(&store, spans).await;
    let p = project_id(&store, "p").await;
    let ids = |page: &ember_store::Page<ember_store::SpanRecord>| page.items.iter().map(|r| r.span.name.clone()).collect::<Vec<_>>();
    let all_pages = |sort: RootSpanSort, descending: bool| {
        let store = store.clone();
        async move {
            let query = RootSpanQuery { sort, descending, ..RootSpanQuery::default() };
            let (mut names, mut cursor) = (Vec::new(), None);
            loop {
                let page = store.list_root_spans(p, &query, cursor, 4).await.unwrap();
                names.extend(ids(&page));
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => return names,
                }
            }
        }
    };
    assert_eq!(all_pages(RootSpanSort::StartTime, true).await, ["span-6", "span-5", "span-4", "span-3", "span-2", "span-1"]);
    // Latencies (i * 7) % 6: 1, 2, 3, 4, 5, 0 ms for i = 1..6.
    assert_eq!(all_pages(RootSpanSort::Latency, true).await, ["span-5", "span-4", "span-3", "span-2", "span-1", "span-6"]);
    // Tokens 10, 20, 0, 10, 20, 0: ties broken by rowid, in the same direction.
    assert_eq!(all_pages(RootSpanSort::Tokens, true).await, ["span-5", "span-2", "span-4", "span-1", "span-6", "span-3"]);
    assert_eq!(all_pages(RootSpanSort::Tokens, false).await, ["span-3", "span-6", "span-1", "span-4", "span-2", "span-5"]);

    // A filter and a time window narrow them; children never appear.
    let query = RootSpanQuery {
        start_time: Some(2_000_000),
        end_time: Some(6_000_000),
        condition: Some(Filter::phoenix("latency_ms >= 2", Grain::Span).unwrap()),
        sort: RootSpanSort::Latency,
        descending: false,
    };
    let page = store.list_root_spans(p, &query, None, 10).await.unwrap();
    assert_eq!(ids(&page), ["span-2", "span-3", "span-4", "span-5"]);

    // Trace filters select roots by their traces: aggregates and any() over the trace's spans.
    let by_trace = |text: &str| {
        let store = store.clone();
        let query = RootSpanQuery { condition: Some(Filter::phoenix_traces(text).unwrap()), ..RootSpanQuery::default() };
        async move { ids(&store.list_root_spans(p, &query, None, 10).await.unwrap()) }
    };
    assert_eq!(by_trace("token_count_total >= 20").await, ["span-2", "span-5"]);
    assert_eq!(by_trace("any(s.llm.token_count.prompt == 10 for s in spans)").await, ["span-1", "span-4"]);
    assert_eq!(by_trace("num_spans == 2 and not any(s.name == 'span-103' for s in spans)").await.len(), 5);
    assert!(by_trace("num_spans >= 3").await.is_empty());
}
