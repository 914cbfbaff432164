//! Cost tracking: LLM spans priced at ingest by type of token, costs summed per trace, session
//! and time window (whole hours from the rollups), and re-pricing when prices change.

use ember_core::cost::{BuiltInTable, TokenRates};
use ember_core::Span;
use ember_store::{NewModelPrice, Store};
use serde_json::json;

use super::{project_id, routed, span, write};

const HOUR: i64 = 3_600_000_000_000;
const BASE: i64 = 1_000 * HOUR;

/// An LLM span of `model` from `provider` at `BASE + offset`, with these token counts.
fn priced(trace: u8, id: u8, offset: i64, model: &str, provider: &str, tokens: serde_json::Value) -> Span {
    let mut s = span(trace, id, None);
    s.span_kind = ember_core::SpanKind::Llm;
    s.start_time = BASE + offset;
    s.end_time = s.start_time + 1_000;
    let mut llm = json!({"model_name": model, "token_count": tokens});
    if !provider.is_empty() {
        llm["provider"] = json!(provider);
    }
    s.attributes = json!({"llm": llm, "session": {"id": format!("session-{trace}")}}).as_object().cloned().unwrap();
    s
}

async fn span_rowid(store: &Store, id: u8) -> i64 {
    store.get_span(None, Some(&format!("{id:016x}"))).await.unwrap().expect("span stored").rowid
}

/// (prompt cost, completion cost) of a span; `None` when unpriced.
async fn cost_of(store: &Store, id: u8) -> Option<(f64, f64)> {
    let rowid = span_rowid(store, id).await;
    let record = store.span_costs(&[rowid]).await.unwrap().remove(&rowid).expect("a cost row");
    record.cost.map(|cost| (cost.prompt, cost.completion))
}

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= 1e-12 + expected.abs() * 1e-9
}

fn user_price(pattern: &str, effective_from: Option<i64>, input: f64, output: f64) -> NewModelPrice {
    NewModelPrice {
        name: pattern.into(),
        name_pattern: pattern.into(),
        provider: String::new(),
        effective_from,
        rates: TokenRates { input, output, ..TokenRates::default() },
    }
}

pub async fn llm_spans_are_priced_at_ingest_and_summed_per_trace_session_and_window(store: Store) {
    let tokens = json!({"prompt": 1000, "completion": 100, "prompt_details": {"cache_read": 200}});
    let mut chain = span(1, 4, None);
    chain.start_time = BASE;
    write(
        &store,
        vec![
            routed("p", priced(1, 1, 0, "gpt-4o", "openai", tokens.clone())),
            routed("p", priced(1, 2, 30 * 60 * 1_000_000_000, "gpt-4o-2024-08-06", "", json!({"prompt": 10, "completion": 10}))),
            routed("p", priced(1, 3, 2 * HOUR + 5, "acme-unknown", "", json!({"prompt": 7, "completion": 3}))),
            routed("p", chain),
        ],
    )
    .await;
    // gpt-4o: 800 input at 2.5e-6, 200 cache reads at 1.25e-6, 100 output at 1e-5.
    let (prompt, completion) = cost_of(&store, 1).await.expect("gpt-4o is priced");
    assert!(close(prompt, 800.0 * 2.5e-6 + 200.0 * 1.25e-6), "{prompt}");
    assert!(close(completion, 100.0 * 1e-5), "{completion}");
    assert!(cost_of(&store, 2).await.is_some(), "a dated name takes its model's price");
    assert_eq!(cost_of(&store, 3).await, None, "an unknown model is kept unpriced");
    let chain_rowid = span_rowid(&store, 4).await;
    assert!(store.span_costs(&[chain_rowid]).await.unwrap().is_empty(), "a chain span is not priced");

    let span_1 = 800.0 * 2.5e-6 + 200.0 * 1.25e-6 + 100.0 * 1e-5;
    let span_2 = 10.0 * 2.5e-6 + 10.0 * 1e-5;
    let trace = store.get_trace(None, Some(&format!("{:032x}", 1))).await.unwrap().unwrap();
    let totals = store.trace_costs(&[trace.rowid]).await.unwrap()[&trace.rowid];
    assert!(close(totals.total_cost(), span_1 + span_2), "{totals:?}");
    assert_eq!((totals.prompt_tokens, totals.completion_tokens), (1017, 113));
    let session = store.get_session(None, Some("session-1")).await.unwrap().unwrap();
    assert!(close(store.session_costs(&[session.rowid]).await.unwrap()[&session.rowid].total_cost(), span_1 + span_2));

    // Whole hours from the rollups, the edges from the spans: every cut gives the same answer.
    let p = project_id(&store, "p").await;
    let all = store.project_cost_summary(p, BASE - HOUR, BASE + 4 * HOUR).await.unwrap();
    assert!(close(all.total_cost(), span_1 + span_2), "{all:?}");
    assert_eq!((all.prompt_tokens, all.completion_tokens), (1017, 113));
    let edges = store.project_cost_summary(p, BASE + 1, BASE + 3 * HOUR - 1).await.unwrap();
    assert!(close(edges.total_cost(), span_2), "{edges:?}");
    assert_eq!(edges.prompt_tokens, 17);
    let one_edge = store.project_cost_summary(p, BASE + 1, BASE + HOUR).await.unwrap();
    assert!(close(one_edge.total_cost(), span_2), "{one_edge:?}");
    assert_eq!(store.project_cost_summary(p, BASE, BASE).await.unwrap().total_cost(), 0.0);
    // An edge holding all its hour's spans is read from the rollup, one that does not from its
    // spans: the span just past the window's end is left out, the one just inside counted.
    let tokens = |totals: ember_store::CostTotals| (totals.prompt_tokens, totals.completion_tokens);
    assert_eq!(tokens(store.project_cost_summary(p, BASE + 2 * HOUR, BASE + 2 * HOUR + 5).await.unwrap()), (0, 0));
    assert_eq!(tokens(store.project_cost_summary(p, BASE + 2 * HOUR, BASE + 2 * HOUR + 6).await.unwrap()), (7, 3));
    assert_eq!(tokens(store.project_cost_summary(p, BASE + 2 * HOUR + 5, BASE + 3 * HOUR).await.unwrap()), (7, 3));
    assert_eq!(tokens(store.project_cost_summary(p, BASE + 1, BASE + 30 * 60 * 1_000_000_000).await.unwrap()), (0, 0));

    // Deleting the trace takes its costs out of the rollups.
    assert!(store.delete_trace(trace.rowid).await.unwrap());
    assert_eq!(store.project_cost_summary(p, BASE - HOUR, BASE + 4 * HOUR).await.unwrap().total_cost(), 0.0);
}

pub async fn price_changes_reprice_the_spans_they_reach_and_keep_history(store: Store) {
    let tokens = json!({"prompt": 100, "completion": 10});
    write(
        &store,
        vec![
            routed("p", priced(1, 1, 0, "acme-1", "", tokens.clone())),
            routed("p", priced(2, 2, 10 * HOUR, "acme-1", "", tokens.clone())),
            routed("p", priced(3, 3, 10 * HOUR, "gpt-4o", "openai", tokens.clone())),
        ],
    )
    .await;
    let p = project_id(&store, "p").await;
    let window = |store: &Store| {
        let store = store.clone();
        async move { store.project_cost_summary(p, BASE - HOUR, BASE + 20 * HOUR).await.unwrap().total_cost() }
    };
    let gpt_4o = 100.0 * 2.5e-6 + 10.0 * 1e-5;
    assert_eq!(cost_of(&store, 1).await, None);

    // A user price from hour 5 reaches the later acme span only.
    let acme = store.create_price(&user_price("^acme-", Some(BASE + 5 * HOUR), 1.0, 2.0)).await.unwrap();
    let models = store.priced_models(|model, _| model.starts_with("acme-")).await.unwrap();
    assert_eq!(models, vec![("acme-1".to_string(), String::new())]);
    let done = store.recompute_costs(&models, Some(BASE + 5 * HOUR)).await.unwrap();
    assert_eq!((done.examined, done.changed), (1, 1));
    assert_eq!(cost_of(&store, 1).await, None, "a price does not reach spans before it");
    assert_eq!(cost_of(&store, 2).await, Some((100.0, 20.0)));
    assert!(close(window(&store).await, 120.0 + gpt_4o));

    // An override of a built-in model, from hour 5 too: the gpt-4o span takes it.
    let mut override_price = user_price("gpt-4o", Some(BASE + 5 * HOUR), 0.5, 0.5);
    override_price.provider = "openai".into();
    let override_price = store.create_price(&override_price).await.unwrap();
    store.recompute_costs(&[("gpt-4o".into(), "openai".into())], Some(BASE + 5 * HOUR)).await.unwrap();
    assert_eq!(cost_of(&store, 3).await, Some((50.0, 5.0)));
    // New spans are priced with the new book at once.
    write(&store, vec![routed("p", priced(4, 4, 11 * HOUR, "acme-2", "", tokens.clone()))]).await;
    assert_eq!(cost_of(&store, 4).await, Some((100.0, 20.0)));

    // Changing a price re-prices, and so does deleting one (back to the built-in price).
    let mut cheaper = user_price("^acme-", Some(BASE + 5 * HOUR), 0.25, 0.5);
    cheaper.name = "acme family".into();
    let changed = store.replace_price(acme.price.id, &cheaper).await.unwrap().expect("a user price");
    assert_eq!(changed.price.name, "acme family");
    let models = store.priced_models(|model, _| model.starts_with("acme-")).await.unwrap();
    assert_eq!(models.len(), 2);
    store.recompute_costs(&models, Some(BASE + 5 * HOUR)).await.unwrap();
    assert_eq!((cost_of(&store, 2).await, cost_of(&store, 4).await), (Some((25.0, 5.0)), Some((25.0, 5.0))));
    assert!(store.delete_price(override_price.price.id).await.unwrap());
    store.recompute_costs(&[("gpt-4o".into(), "openai".into())], None).await.unwrap();
    let (prompt, completion) = cost_of(&store, 3).await.unwrap();
    assert!(close(prompt + completion, gpt_4o));
    assert!(close(window(&store).await, 30.0 + 30.0 + gpt_4o), "the rollups follow every re-pricing");

    // Built-in prices cannot be changed or deleted through the user paths.
    let built_in = store.list_prices(Some(ember_core::cost::PriceOrigin::BuiltIn), Some("gpt-4o"), None, 500).await.unwrap();
    let gpt_4o_row = built_in.items.iter().find(|r| r.price.name == "gpt-4o" && r.price.provider == "openai").expect("built in");
    assert!(store.replace_price(gpt_4o_row.price.id, &cheaper).await.unwrap().is_none());
    assert!(!store.delete_price(gpt_4o_row.price.id).await.unwrap());

    // A new table changing gpt-4o's rates adds a price effective from now: old spans keep theirs.
    let mut table: BuiltInTable = ember_core::cost::built_in_prices();
    for model in table.models.iter_mut().filter(|m| m.name == "gpt-4o") {
        model.rates.input = 1.0;
    }
    store.seed_built_in_prices(&table).await.unwrap();
    let rows = store.list_prices(Some(ember_core::cost::PriceOrigin::BuiltIn), Some("gpt-4o"), None, 500).await.unwrap();
    let versions: Vec<_> = rows.items.iter().filter(|r| r.price.name == "gpt-4o" && r.price.provider == "openai").collect();
    assert_eq!(versions.len(), 2, "the old price stays");
    assert!(versions.iter().any(|r| r.price.effective_from.is_some() && r.price.rates.input == 1.0));
    store.recompute_costs(&[("gpt-4o".into(), "openai".into())], None).await.unwrap();
    let (prompt, _) = cost_of(&store, 3).await.unwrap();
    assert!(close(prompt, 100.0 * 2.5e-6), "a span from before the change keeps the old price: {prompt}");
    // Seeding the same table again changes nothing.
    store.seed_built_in_prices(&table).await.unwrap();
    let again = store.list_prices(Some(ember_core::cost::PriceOrigin::BuiltIn), Some("gpt-4o"), None, 500).await.unwrap();
    assert_eq!(again.items.len(), rows.items.len());
}

pub async fn a_price_changed_by_another_process_is_picked_up(first: Store, second: Store) {
    assert!(!second.reload_prices_if_changed().await.unwrap(), "nothing changed since it opened");
    let created = first.create_price(&user_price("^acme-", None, 1.0, 2.0)).await.unwrap();
    assert!(second.price_book().await.find("acme-1", "", 0).is_none(), "not yet seen");
    assert!(second.reload_prices_if_changed().await.unwrap());
    assert_eq!(second.price_book().await.find("acme-1", "", 0).map(|p| p.id), Some(created.price.id));
    assert!(!second.reload_prices_if_changed().await.unwrap());
    // A change and a deletion are seen too.
    first.replace_price(created.price.id, &user_price("^acme-", None, 3.0, 2.0)).await.unwrap();
    assert!(second.reload_prices_if_changed().await.unwrap());
    assert_eq!(second.price_book().await.get(created.price.id).map(|p| p.rates.input), Some(3.0));
    first.delete_price(created.price.id).await.unwrap();
    assert!(second.reload_prices_if_changed().await.unwrap());
    assert!(second.price_book().await.find("acme-1", "", 0).is_none());
}
