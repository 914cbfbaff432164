//! An agent's SQL (MCP `run_sql`): the views hold the visible projects' rows only, values come
//! back typed, rows are capped, refusals and database errors say why, and a query past its
//! budget is cancelled.

use std::time::Duration;

use ember_core::{AnnotationSource, AnnotationTarget, AnnotatorKind};
use ember_store::{AnnotationInput, ProjectVisibility, SqlAnswer, Store, StoreError};
use serde_json::{json, Value};

use super::{llm, routed, span, write};

const BUDGET: Duration = Duration::from_secs(10);

async fn run(store: &Store, sql: &str, visibility: ProjectVisibility) -> SqlAnswer {
    store.agent_sql(sql, visibility, 100, BUDGET).await.unwrap_or_else(|error| panic!("{sql}: {error}"))
}

pub async fn agent_sql_reads_the_visible_projects_views(store: Store) {
    write(&store, vec![routed("open", span(1, 1, None)), routed("open", llm(span(1, 2, Some(1)), 10, 5, true))]).await;
    write(&store, vec![routed("secret", span(2, 3, None)), routed("secret", span(2, 4, Some(3)))]).await;
    let open = store.get_project_by_name("open").await.unwrap().unwrap();
    let secret = store.get_project_by_name("secret").await.unwrap().unwrap();
    let annotation = AnnotationInput {
        target_id: format!("{:016x}", 2),
        name: "correctness".into(),
        label: Some("incorrect".into()),
        score: Some(0.5),
        explanation: None,
        metadata: json!({}),
        annotator_kind: AnnotatorKind::Llm,
        identifier: String::new(),
        source: AnnotationSource::Api,
    };
    store.upsert_annotations(AnnotationTarget::Span, &[annotation], None).await.unwrap();

    let per_project =
        "SELECT p.name, count(*) AS spans, sum(s.latency_ms) AS latency FROM spans AS s JOIN projects AS p ON p.id = s.project_id \
                       GROUP BY p.name ORDER BY p.name";
    let everything = run(&store, per_project, ProjectVisibility::All).await;
    assert_eq!(everything.columns, ["name", "spans", "latency"]);
    assert_eq!(everything.rows, vec![vec![json!("open"), json!(2), json!(0.001)], vec![json!("secret"), json!(2), json!(0.001)]]);
    assert!(!everything.truncated);
    let only_open = run(&store, per_project, ProjectVisibility::Only(open.id)).await;
    assert_eq!(only_open.rows, vec![vec![json!("open"), json!(2), json!(0.001)]]);
    assert!(run(&store, "SELECT count(*) AS n FROM traces", ProjectVisibility::Nothing).await.rows == vec![vec![json!(0)]]);
    // Another project's spans are out of reach through every view and every join.
    let secret_span = format!("SELECT count(*) FROM spans WHERE project_id = {} OR span_id = '{:016x}'", secret.id, 3);
    assert_eq!(run(&store, &secret_span, ProjectVisibility::Only(open.id)).await.rows, vec![vec![json!(0)]]);

    // Typed values: text, integers, reals, JSON attributes, times as ISO text.
    let failing = run(
        &store,
        "SELECT s.name, s.span_kind, s.status_code, s.llm_token_count_prompt, CASE WHEN s.parent_id IS NULL THEN 'root' ELSE 'child' END AS place, s.start_time, \
         a.name AS annotation, a.label, a.score FROM spans AS s JOIN span_annotations AS a ON a.span_id = s.span_id",
        ProjectVisibility::Only(open.id),
    )
    .await;
    assert_eq!(
        failing.rows,
        vec![vec![
            json!("span-2"),
            json!("LLM"),
            json!("ERROR"),
            json!(10),
            json!("child"),
            json!("1970-01-01T00:00:00.000Z"),
            json!("correctness"),
            json!("incorrect"),
            json!(0.5)
        ]]
    );
    let tokens = match store.dialect() {
        ember_query::schema::Dialect::Sqlite => {
            "SELECT json_extract(attributes, '$.llm.token_count.prompt') AS prompt FROM spans WHERE span_kind = 'LLM'"
        }
        ember_query::schema::Dialect::Postgres => {
            "SELECT CAST(attributes #>> '{llm,token_count,prompt}' AS INTEGER) AS prompt FROM spans WHERE span_kind = 'LLM'"
        }
    };
    assert_eq!(run(&store, tokens, ProjectVisibility::All).await.rows, vec![vec![json!(10)]]);

    // Rows past the cap are left out and said to be.
    let capped = store.agent_sql("SELECT span_id FROM spans ORDER BY span_id", ProjectVisibility::All, 3, BUDGET).await.unwrap();
    assert_eq!((capped.rows.len(), capped.truncated), (3, true));
    assert_eq!(capped.rows[0], vec![json!(format!("{:016x}", 1))]);

    // Refused before it runs, and rejected by the database, each saying why.
    let refused = store.agent_sql("DELETE FROM spans", ProjectVisibility::All, 10, BUDGET).await.unwrap_err();
    assert!(matches!(&refused, StoreError::Invalid(message) if message == "Only queries (SELECT) may run"), "{refused}");
    let unknown = store.agent_sql("SELECT no_such_column FROM spans", ProjectVisibility::All, 10, BUDGET).await.unwrap_err();
    assert!(matches!(&unknown, StoreError::Invalid(message) if message.starts_with("The database refused the query:")), "{unknown}");
    assert_eq!(
        run(&store, "SELECT count(*) FROM spans", ProjectVisibility::All).await.rows,
        vec![vec![Value::from(4)]],
        "nothing was deleted"
    );

    // A query past its budget is cancelled: a cross join of the spans with themselves ten times.
    let endless =
        "SELECT count(*) FROM spans a, spans b, spans c, spans d, spans e, spans f, spans g, spans h, spans i, spans j, spans k, spans l";
    let cancelled = store.agent_sql(endless, ProjectVisibility::All, 10, Duration::from_millis(100)).await.unwrap_err();
    assert!(matches!(cancelled, StoreError::QueryTimeout { budget_ms: 100 }), "{cancelled}");
}
