//! The store suite on an SQLite file, and what only SQLite does.

use ember_store::{DatabaseUrl, Store, StoreOptions};

use crate::suite::{self, TestDatabase};

store_suite!(Some(TestDatabase::sqlite()));

#[tokio::test]
async fn data_survives_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions::new(DatabaseUrl::SqliteFile(dir.path().join("ember.db")));
    let store = Store::open(&options).await.unwrap();
    suite::write(&store, vec![suite::routed("p", suite::span(1, 1, None))]).await;
    store.close().await;
    let reopened = Store::open(&options).await.unwrap();
    assert!(reopened.get_span(None, Some(&format!("{:016x}", 1))).await.unwrap().is_some());
}

/// The migration that scopes sessions to their project rebuilds `project_sessions`, which traces
/// and session annotations reference: a database written before it keeps its sessions, their
/// traces and annotations, and deleting a session still cascades.
#[tokio::test]
async fn sessions_written_before_they_were_per_project_survive_the_migration() {
    use ember_core::AnnotationTarget;
    use sqlx::Connection;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ember.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    {
        let mut migrator =
            sqlx::migrate::Migrator::new(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))).await.unwrap();
        migrator.migrations = migrator.migrations.iter().filter(|migration| migration.version < 14).cloned().collect::<Vec<_>>().into();
        let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
        migrator.run_direct(&mut connection).await.unwrap();
        for statement in [
            "INSERT INTO project_sessions (id, session_id, project_id, start_time, end_time) VALUES (7, 's-1', 1, 1000, 1500)",
            "INSERT INTO traces (id, trace_id, project_id, session_rowid, start_time, end_time) VALUES (3, 't-1', 1, 7, 1000, 1500)",
            "INSERT INTO project_session_annotations (session_rowid, name, label, annotator_kind, source, created_at, updated_at) \
             VALUES (7, 'quality', 'good', 'HUMAN', 'API', 1, 1)",
        ] {
            sqlx::query(statement).execute(&mut connection).await.unwrap();
        }
        connection.close().await.unwrap();
    }
    let store = Store::open(&StoreOptions::new(DatabaseUrl::SqliteFile(path))).await.expect("the migration runs");
    let session = store.get_session(None, Some("s-1")).await.unwrap().expect("the session is kept");
    assert_eq!((session.rowid, session.traces.len()), (7, 1));
    let of_session = || ember_store::AnnotationQuery { target_ids: vec!["s-1".into()], limit: 10, ..Default::default() };
    let annotations = store.list_annotations(AnnotationTarget::Session, 1, &of_session()).await.unwrap().items;
    assert_eq!(annotations.len(), 1, "its annotation is kept");
    // A second project may now use the same session id.
    suite::write(
        &store,
        vec![suite::routed("other", {
            let mut span = suite::span(9, 9, None);
            span.attributes = serde_json::json!({"session": {"id": "s-1"}}).as_object().cloned().unwrap();
            span
        })],
    )
    .await;
    let other = store.get_project_by_name("other").await.unwrap().unwrap().id;
    assert_eq!(store.list_sessions(other, None, None, 10, true).await.unwrap().items.len(), 1);
    // References still resolve: deleting the session deletes its trace and annotation.
    assert_eq!(store.delete_sessions(&[7]).await.unwrap(), 1);
    assert!(store.get_trace(None, Some("t-1")).await.unwrap().is_none());
    assert!(store.list_annotations(AnnotationTarget::Session, 1, &of_session()).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn in_memory_databases_share_data_between_writer_and_readers() {
    let store = Store::open(&StoreOptions::new(DatabaseUrl::SqliteMemory)).await.unwrap();
    suite::write(&store, vec![suite::routed("p", suite::span(1, 1, None))]).await;
    assert!(store.get_span(None, Some(&format!("{:016x}", 1))).await.unwrap().is_some());
}

#[tokio::test]
async fn a_failing_submission_does_not_take_down_the_batch_it_was_merged_into() {
    use ember_store::{IngestQueue, QueueLimits};
    use sqlx::Connection;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ember.db");
    let store = Store::open(&StoreOptions::new(DatabaseUrl::SqliteFile(path.clone()))).await.unwrap();
    let mut other = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("CREATE TRIGGER reject_poison BEFORE INSERT ON spans WHEN NEW.name = 'poison' BEGIN SELECT RAISE(ABORT, 'poison'); END")
        .execute(&mut other)
        .await
        .unwrap();
    let (queue, _writer) = IngestQueue::start(store.clone(), QueueLimits::default());

    // Hold the write lock so both submissions wait in the queue and merge into one batch.
    sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.unwrap();
    let mut poison = suite::span(2, 2, None);
    poison.name = "poison".into();
    let blocked = queue.submit(store.prepare_spans(vec![suite::routed("p", suite::span(9, 9, None))])).unwrap();
    let good = queue.submit(store.prepare_spans(vec![suite::routed("p", suite::span(1, 1, None))])).unwrap();
    let bad = queue.submit(store.prepare_spans(vec![suite::routed("p", poison)])).unwrap();
    let first = tokio::spawn(blocked);
    while queue.queued_spans() < 3 {
        tokio::task::yield_now().await;
    }
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();

    first.await.unwrap().expect("the first submission commits");
    good.await.expect("a good submission merged with a bad one still commits");
    assert!(matches!(bad.await, Err(ember_store::StoreError::BatchFailed)));
    assert!(store.get_span(None, Some(&format!("{:016x}", 1))).await.unwrap().is_some());
    assert!(store.get_span(None, Some(&format!("{:016x}", 2))).await.unwrap().is_none());
}

#[tokio::test]
async fn commits_are_checkpointed_into_the_database_file_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ember.db");
    let store = Store::open(&StoreOptions::new(DatabaseUrl::SqliteFile(path.clone()))).await.unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    let spans = (1..=200u8).map(|id| suite::routed("p", suite::span(id, id, None))).collect();
    suite::write(&store, spans).await;
    // Far below the writer's own checkpoint threshold: only the background checkpointer moves
    // these pages from the WAL into the database file.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::metadata(&path).unwrap().len() <= before {
        assert!(std::time::Instant::now() < deadline, "the WAL was not checkpointed");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    store.close().await;
}

#[tokio::test]
async fn a_trained_attribute_dictionary_is_stored_and_values_stay_readable() {
    use sqlx::Connection;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ember.db");
    let mut options = StoreOptions::new(DatabaseUrl::SqliteFile(path.clone()));
    options.dictionary_samples = 50;
    let store = Store::open(&options).await.unwrap();
    let large = |trace: u8, id: u8| {
        let mut span = suite::span(trace, id, None);
        let text = format!("customer {id} asked about the refund policy for order {} and shipping delays ", u32::from(id) * 7919).repeat(6);
        span.attributes = serde_json::json!({"input": {"value": text}, "metadata": {"tier": "gold"}}).as_object().cloned().unwrap();
        suite::routed("p", span)
    };
    // D19: a huge first value is not sampled (it used to fill the sample budget alone, fail the
    // training and disable it until restart).
    let mut huge = suite::span(200, 200, None);
    huge.attributes = serde_json::json!({"input": {"value": "h".repeat(17 << 20)}}).as_object().cloned().unwrap();
    suite::write(&store, vec![suite::routed("p", huge)]).await;
    suite::write(&store, (1..=60).map(|id| large(id, id)).collect()).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !store.has_attribute_dictionary() {
        assert!(std::time::Instant::now() < deadline, "no dictionary was trained");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    suite::write(&store, (100..=110).map(|id| large(id, id)).collect()).await;

    let mut raw = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    let dictionaries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM attribute_dictionaries").fetch_one(&mut raw).await.unwrap();
    assert_eq!(dictionaries, 1);
    let format: Vec<u8> = sqlx::query_scalar("SELECT attributes FROM spans WHERE span_id = ?")
        .bind(format!("{:016x}", 105))
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert_eq!(format[0], 2, "new values use the dictionary");

    let check = |store: Store| async move {
        let record = store.get_span(None, Some(&format!("{:016x}", 105))).await.unwrap().unwrap();
        assert!(record.span.attribute("input.value").unwrap().as_str().unwrap().starts_with("customer 105"));
        let project = suite::project_id(&store, "p").await;
        let filter = ember_store::SpanFilters {
            attributes: vec![ember_store::AttributeFilter { key: "metadata.tier".into(), value: serde_json::json!("gold") }],
            ..Default::default()
        };
        let matched = store.list_spans(project, &filter, None, 1000).await.unwrap().items.len();
        assert_eq!(matched, 71, "SQL reads plain and dictionary values alike through ember_json");
        assert!(store.get_span(None, Some(&format!("{:016x}", 200))).await.unwrap().is_some());
    };
    check(store.clone()).await;
    store.close().await;
    check(Store::open(&options).await.unwrap()).await;
}

#[tokio::test]
async fn spans_stored_before_the_attribute_index_existed_are_indexed_when_the_store_opens() {
    use ember_store::{Filter, Grain, SpanFilters};
    use sqlx::Connection;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ember.db");
    let options = StoreOptions::new(DatabaseUrl::SqliteFile(path.clone()));
    let store = Store::open(&options).await.unwrap();
    let spans = (1..=30u8)
        .map(|id| {
            let mut span = suite::span(id, id, None);
            span.attributes.insert("metadata".into(), serde_json::json!({"customer_id": format!("c-{}", id % 3)}));
            suite::routed("p", span)
        })
        .collect();
    suite::write(&store, spans).await;
    let project = store.get_project_by_name("p").await.unwrap().unwrap().id;
    store.close().await;

    // The state a database written before the index existed is in after its migration.
    let mut connection = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("DELETE FROM span_attribute_values").execute(&mut connection).await.unwrap();
    sqlx::query("INSERT INTO pending_backfills (name, next_rowid) VALUES ('span_attribute_values', 0)")
        .execute(&mut connection)
        .await
        .unwrap();
    connection.close().await.unwrap();

    let reopened = Store::open(&options).await.unwrap();
    let filter = Filter::phoenix("metadata['customer_id'] == 'c-1'", Grain::Span).unwrap();
    let filters = SpanFilters { condition: Some(filter), ..Default::default() };
    let page = reopened.list_spans(project, &filters, None, 100).await.unwrap();
    assert_eq!(page.items.len(), 10, "every span with c-1 is found through the backfilled index");
    reopened.close().await;
    let mut connection = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pending_backfills").fetch_one(&mut connection).await.unwrap();
    let indexed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM span_attribute_values").fetch_one(&mut connection).await.unwrap();
    assert_eq!((pending, indexed), (0, 30));
}

#[tokio::test]
async fn metadata_updates_leave_the_stored_attributes_alone_and_every_read_merges_them() {
    use ember_store::{Filter, Grain, MetadataUpdate, SpanFilters};
    use serde_json::json;
    use sqlx::Connection;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ember.db");
    let store = Store::open(&StoreOptions::new(DatabaseUrl::SqliteFile(path.clone()))).await.unwrap();
    let spans = (1..=3u8)
        .map(|id| {
            let mut span = suite::span(id, id, None);
            span.attributes.insert("metadata".into(), json!({"tier": "gold", "n": 1}));
            suite::routed("p", span)
        })
        .collect();
    suite::write(&store, spans).await;
    let project = store.get_project_by_name("p").await.unwrap().unwrap().id;
    let mut connection = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    let stored_blob = "SELECT attributes FROM spans WHERE span_id = '0000000000000002'";
    let before: Vec<u8> = sqlx::query_scalar(stored_blob).fetch_one(&mut connection).await.unwrap();

    let update = |values: serde_json::Value| MetadataUpdate { span_id: format!("{:016x}", 2), values: values.as_object().unwrap().clone() };
    let outcome =
        store.update_span_metadata(project, &[update(json!({"tier": "platinum"})), update(json!({"region": "eu"}))]).await.unwrap();
    assert_eq!((outcome.updated, outcome.failed.len()), (2, 0));
    let after: Vec<u8> = sqlx::query_scalar(stored_blob).fetch_one(&mut connection).await.unwrap();
    assert_eq!(after, before, "the span's stored attributes are not rewritten");
    let patch: String = sqlx::query_scalar("SELECT patch FROM span_metadata_patches").fetch_one(&mut connection).await.unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&patch).unwrap(), json!({"tier": "platinum", "region": "eu"}));

    // Whole-span reads, SQL attribute paths (index and JSON), the raw-JSON pre-test.
    let read = store.get_span(None, Some(&format!("{:016x}", 2))).await.unwrap().unwrap();
    assert_eq!(read.span.attributes["metadata"], json!({"tier": "platinum", "n": 1, "region": "eu"}));
    let matching = |condition: &str| {
        let filters = SpanFilters { condition: Some(Filter::phoenix(condition, Grain::Span).unwrap()), ..Default::default() };
        let store = store.clone();
        async move { store.list_spans(project, &filters, None, 10).await.unwrap().items.into_iter().map(|r| r.span.span_id).collect::<Vec<_>>() }
    };
    assert_eq!(matching("metadata['tier'] == 'platinum'").await, vec![format!("{:016x}", 2)]);
    assert_eq!(matching("metadata['tier'] == 'gold'").await.len(), 2);
    assert_eq!(matching("'tinu' in metadata['tier']").await, vec![format!("{:016x}", 2)]);
    assert_eq!(matching("metadata['region'] == 'eu' and metadata['n'] == 1").await, vec![format!("{:016x}", 2)]);

    // A patched value's type is the one later updates must keep.
    let conflict = store.update_span_metadata(project, &[update(json!({"tier": 3}))]).await.unwrap();
    assert!(
        matches!(&conflict.failed[..], [(_, ember_store::MetadataFailure::TypeConflict { stored: "Utf8", .. })]),
        "{:?}",
        conflict.failed
    );

    // Deleting the span deletes its patch.
    assert!(store.delete_span(read.rowid).await.unwrap());
    let patches: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM span_metadata_patches").fetch_one(&mut connection).await.unwrap();
    assert_eq!(patches, 0);
}

#[tokio::test]
async fn a_metadata_update_of_many_transactions_sees_its_own_earlier_chunks() {
    use ember_store::{MetadataFailure, MetadataUpdate};
    use serde_json::json;

    let store = Store::open(&StoreOptions::new(DatabaseUrl::SqliteMemory)).await.unwrap();
    // More spans than one transaction takes: reads run ahead of writes, over a commit.
    let count = 12_000u32;
    let spans = (0..count)
        .map(|n| {
            let mut span = suite::span(1, 1, None);
            span.span_id = format!("{n:016x}");
            suite::routed("p", span)
        })
        .collect();
    suite::write(&store, spans).await;
    let project = store.get_project_by_name("p").await.unwrap().unwrap().id;
    let update =
        |n: u32, values: serde_json::Value| MetadataUpdate { span_id: format!("{n:016x}"), values: values.as_object().unwrap().clone() };
    let mut updates: Vec<MetadataUpdate> = (0..count).map(|n| update(n, json!({"n": n}))).collect();
    updates[1] = update(0, json!({"label": "text"}));
    // The last chunk names span 0 again, with a type its first chunk's patch conflicts with.
    updates.push(update(0, json!({"label": 5})));
    let outcome = store.update_span_metadata(project, &updates).await.unwrap();
    assert_eq!(outcome.updated, count as usize);
    assert!(
        matches!(&outcome.failed[..], [(id, MetadataFailure::TypeConflict { stored: "Utf8", .. })] if *id == format!("{:016x}", 0)),
        "{:?}",
        outcome.failed
    );
    let first = store.get_span(None, Some(&format!("{:016x}", 0))).await.unwrap().unwrap();
    assert_eq!(first.span.attributes["metadata"], json!({"n": 0, "label": "text"}));
    let last = store.get_span(None, Some(&format!("{:016x}", count - 1))).await.unwrap().unwrap();
    assert_eq!(last.span.attributes["metadata"], json!({"n": count - 1}));
}

/// A SQLite store at `path` with a one-example dataset and an experiment on it.
async fn store_with_experiment(path: &std::path::Path) -> (Store, i64, i64) {
    use ember_store::{ExampleInput, NewExperiment, UploadAction};
    use serde_json::json;

    let store = Store::open(&StoreOptions::new(DatabaseUrl::SqliteFile(path.to_path_buf()))).await.unwrap();
    let example =
        ExampleInput { input: json!({"q": 1}), output: json!({}), metadata: json!({}), splits: None, span_id: None, external_id: None };
    let uploaded = store.upload_examples(UploadAction::Create, "d", None, &json!({}), vec![example]).await.unwrap();
    let experiment = store
        .create_experiment(NewExperiment {
            dataset_id: uploaded.dataset_id,
            dataset_version_id: uploaded.version_id,
            name: "e",
            description: None,
            metadata: &json!({}),
            repetitions: 1,
            split_ids: &[],
            project_name: "Experiment-test",
            project_description: "",
        })
        .await
        .unwrap();
    let example_id = store.dataset_examples(uploaded.dataset_id, uploaded.version_id, &[], &[]).await.unwrap()[0].id;
    (store, experiment.id, example_id)
}

#[tokio::test]
async fn small_writes_waiting_together_commit_together_and_a_failing_one_fails_alone() {
    use ember_store::{AnnotatorKind, ExperimentEvaluationInput, ExperimentRunInput, RunWrite};
    use serde_json::json;
    use sqlx::Connection;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ember.db");
    let (store, experiment_id, example_id) = store_with_experiment(&path).await;
    let run = ExperimentRunInput {
        dataset_example_id: example_id,
        repetition_number: 1,
        output: json!(1),
        start_time: 0,
        end_time: 1,
        trace_id: None,
        error: None,
    };
    let RunWrite::Recorded(run_id) = store.record_experiment_run(experiment_id, &run).await.unwrap() else { panic!("the run is new") };

    let mut other = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("CREATE TRIGGER reject_poison BEFORE INSERT ON experiment_run_annotations WHEN NEW.name = 'poison' BEGIN SELECT RAISE(ABORT, 'poison'); END")
        .execute(&mut other)
        .await
        .unwrap();
    let evaluation = |name: &str| ExperimentEvaluationInput {
        experiment_run_id: run_id,
        name: name.into(),
        annotator_kind: AnnotatorKind::Code,
        label: None,
        score: Some(1.0),
        explanation: None,
        error: None,
        metadata: json!({}),
        trace_id: None,
        start_time: 0,
        end_time: 1,
    };
    // Hold the write lock: the first write waits in its transaction, the rest queue behind it and
    // go into the next transaction together.
    sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.unwrap();
    let spawn = |name: &'static str| {
        let (store, evaluation) = (store.clone(), evaluation(name));
        tokio::spawn(async move { store.upsert_experiment_evaluation(&evaluation).await })
    };
    let first = spawn("first");
    // Taken into a transaction: submitted, no longer waiting.
    while store.small_writes_in_progress() != (0, 1) {
        tokio::task::yield_now().await;
    }
    let together = [spawn("good-1"), spawn("poison"), spawn("good-2")];
    while store.small_writes_in_progress().0 < 3 {
        tokio::task::yield_now().await;
    }
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();

    first.await.unwrap().expect("the first write commits");
    let [good_1, poison, good_2] = together;
    good_1.await.unwrap().expect("a write grouped with a failing one still commits");
    assert!(poison.await.unwrap().is_err(), "the failing write reports its failure");
    good_2.await.unwrap().expect("a write after the failing one in its group commits");
    let names: Vec<String> =
        store.export_experiment_runs(experiment_id).await.unwrap()[0].evaluations.iter().map(|e| e.name.clone()).collect();
    assert_eq!(names, ["first", "good-1", "good-2"]);
}

#[tokio::test]
async fn grouped_run_and_evaluation_writes_merge_and_each_gets_its_own_answer() {
    use ember_store::{AnnotatorKind, ExperimentEvaluationInput, ExperimentRunInput, RunWrite, StoreError};
    use serde_json::json;
    use sqlx::Connection;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ember.db");
    let (store, experiment_id, example_id) = store_with_experiment(&path).await;
    let run = |repetition: i64, error: Option<&str>| ExperimentRunInput {
        dataset_example_id: example_id,
        repetition_number: repetition,
        output: json!({"rep": repetition}),
        start_time: 0,
        end_time: 1,
        trace_id: None,
        error: error.map(str::to_string),
    };
    let RunWrite::Recorded(first_run) = store.record_experiment_run(experiment_id, &run(1, None)).await.unwrap() else { panic!("new") };
    let RunWrite::Recorded(failed_run) = store.record_experiment_run(experiment_id, &run(2, Some("boom"))).await.unwrap() else {
        panic!("new")
    };
    let evaluation = |run_id: i64, name: &str, score: f64| ExperimentEvaluationInput {
        experiment_run_id: run_id,
        name: name.into(),
        annotator_kind: AnnotatorKind::Code,
        label: None,
        score: Some(score),
        explanation: None,
        error: None,
        metadata: json!({}),
        trace_id: None,
        start_time: 0,
        end_time: 1,
    };

    // Hold the write lock so that everything below queues into one group.
    let mut other = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.unwrap();
    let blocker = {
        let store = store.clone();
        let input = evaluation(first_run, "blocker", 0.0);
        tokio::spawn(async move { store.upsert_experiment_evaluation(&input).await })
    };
    while store.small_writes_in_progress() != (0, 1) {
        tokio::task::yield_now().await;
    }
    let upsert = |input: ExperimentEvaluationInput| {
        let store = store.clone();
        tokio::spawn(async move { store.upsert_experiment_evaluation(&input).await })
    };
    let record = |input: ExperimentRunInput| {
        let store = store.clone();
        tokio::spawn(async move { store.record_experiment_run(experiment_id, &input).await })
    };
    let a = upsert(evaluation(first_run, "a", 0.1));
    let b = upsert(evaluation(first_run, "b", 0.2));
    let a_again = upsert(evaluation(first_run, "a", 0.3));
    let unknown_run = upsert(evaluation(first_run + 1000, "a", 0.4));
    let repeated = record(run(1, None));
    let retried = record(run(2, None));
    let third = record(run(3, None));
    while store.small_writes_in_progress().0 < 7 {
        tokio::task::yield_now().await;
    }
    let merged_before = store.small_writes_merged();
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    blocker.await.unwrap().unwrap();

    let (a, b, a_again) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap(), a_again.await.unwrap().unwrap());
    assert_ne!(a, b);
    assert_eq!(a, a_again, "a repeated key runs after the merged statement and updates the same row");
    assert!(matches!(unknown_run.await.unwrap(), Err(StoreError::NotFound(_))));
    assert_eq!(repeated.await.unwrap().unwrap(), RunWrite::AlreadySucceeded);
    assert_eq!(retried.await.unwrap().unwrap(), RunWrite::Recorded(failed_run), "a retried failed run keeps its id");
    let RunWrite::Recorded(third) = third.await.unwrap().unwrap() else { panic!("a new run") };
    assert!(third > failed_run);
    // Three evaluations and three runs went through merged statements; the repeated key alone.
    assert_eq!(store.small_writes_merged() - merged_before, 6);

    let runs = store.export_experiment_runs(experiment_id).await.unwrap();
    let outcomes: Vec<(i64, Option<String>, serde_json::Value)> =
        runs.iter().map(|r| (r.run.repetition_number, r.run.error.clone(), r.run.output.clone())).collect();
    assert_eq!(outcomes, vec![(1, None, json!({"rep": 1})), (2, None, json!({"rep": 2})), (3, None, json!({"rep": 3}))]);
    let scores: Vec<(String, Option<f64>)> = runs[0].evaluations.iter().map(|e| (e.name.clone(), e.score)).collect();
    assert_eq!(scores, vec![("blocker".to_string(), Some(0.0)), ("a".to_string(), Some(0.3)), ("b".to_string(), Some(0.2))]);
}

#[tokio::test]
async fn the_rollup_migration_counts_stored_spans_as_ingest_does() {
    use sqlx::Connection;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ember.db");
    let store = Store::open(&StoreOptions::new(DatabaseUrl::SqliteFile(path.clone()))).await.unwrap();
    suite::write_mixed_spans(&store).await;
    let by_ingest = suite::mixed_activity(&store).await;
    assert_eq!(by_ingest[0].traces, 40);

    let mut other = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("DELETE FROM project_hourly_rollups").execute(&mut other).await.unwrap();
    sqlx::query("DELETE FROM project_hourly_latencies").execute(&mut other).await.unwrap();
    let statements = suite::backfill_statements(include_str!("../../migrations/sqlite/0012_project_rollups.sql"));
    assert_eq!(statements.len(), 2);
    for statement in statements {
        sqlx::query(&statement).execute(&mut other).await.unwrap();
    }
    assert_eq!(suite::mixed_activity(&store).await, by_ingest);
}

/// A full disk fails the write that meets it (nothing acknowledged, nothing half-stored), and
/// writes resume once there is room again: the writer's connection, which the driver believes is
/// still inside the transaction SQLite already rolled back, is replaced rather than reused.
#[tokio::test]
async fn writes_resume_after_the_database_was_full() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreOptions::new(DatabaseUrl::SqliteFile(dir.path().join("ember.db")))).await.unwrap();
    suite::write(&store, vec![suite::routed("p", suite::span(1, 1, None))]).await;
    // SQLite caps at the current size at least: the next pages the write needs are refused.
    store.cap_writer_pages(1).await;
    let mut big = suite::span(2, 2, None);
    // Text that does not compress, so the row needs new pages.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: String = (0..400_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'!' + (state % 90) as u8)
        })
        .collect();
    big.attributes.insert("input".into(), serde_json::json!({"value": noise}));
    let prepared = store.prepare_spans(vec![suite::routed("p", big.clone())]);
    let failed = store.write_spans(&prepared.iter().collect::<Vec<_>>()).await;
    assert!(failed.is_err(), "a write past the cap fails");
    assert!(store.get_span(None, Some(&format!("{:016x}", 2))).await.unwrap().is_none(), "nothing of it is stored");

    store.cap_writer_pages(i64::from(u32::MAX)).await;
    suite::write(&store, vec![suite::routed("p", big)]).await;
    assert!(store.get_span(None, Some(&format!("{:016x}", 2))).await.unwrap().is_some(), "writes resume");
}

/// Under steady ingest with a reader always at work, the WAL stays near its bound: the
/// checkpointer empties it once it passes the bound, instead of letting it grow with the data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_stays_bounded_under_ingest_and_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ember.db");
    let mut options = StoreOptions::new(DatabaseUrl::SqliteFile(path.clone()));
    const BOUND: u64 = 2 << 20;
    options.max_wal_bytes = BOUND;
    let store = Store::open(&options).await.unwrap();
    let wal = dir.path().join("ember.db-wal");
    let wal_size = || std::fs::metadata(&wal).map_or(0, |meta| meta.len());
    let reading = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let reader = {
        let (store, reading) = (store.clone(), reading.clone());
        tokio::spawn(async move {
            while reading.load(std::sync::atomic::Ordering::Relaxed) {
                store.get_span(None, Some(&format!("{:016x}", 5))).await.unwrap();
            }
        })
    };
    // Four writers at once keep the single writer connection busy, as steady ingest does.
    let writers: Vec<_> = (0..4_u32)
        .map(|writer| {
            let store = store.clone();
            tokio::spawn(async move {
                for batch in 0..75_u32 {
                    let spans = (0..50_u32)
                        .map(|i| {
                            let n = (writer * 100 + batch) * 100 + i;
                            let mut span = suite::span(0, 0, None);
                            span.trace_id = format!("{n:032x}");
                            span.span_id = format!("{n:016x}");
                            // Text that does not compress: 2 KB of a pseudo-random walk.
                            let mut state = u64::from(n) | 1;
                            let filler: String = (0..250)
                                .map(|_| {
                                    state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                                    format!("{:08x}", state >> 32)
                                })
                                .collect();
                            span.attributes.insert("filler".into(), serde_json::json!(filler));
                            suite::routed("p", span)
                        })
                        .collect();
                    suite::write(&store, spans).await;
                }
            })
        })
        .collect();
    let mut largest = 0;
    while writers.iter().any(|writer| !writer.is_finished()) {
        largest = largest.max(wal_size());
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    for writer in writers {
        writer.await.unwrap();
    }
    reading.store(false, std::sync::atomic::Ordering::Relaxed);
    reader.await.unwrap();
    // 4 × 75 batches of 50 spans of 2 KB write far more than the bound through the WAL.
    let database = std::fs::metadata(&path).unwrap().len();
    assert!(database > 10 * BOUND, "the load outgrows the bound: {database} bytes");
    assert!(largest < 4 * BOUND, "the WAL reached {largest} bytes with a bound of {BOUND}");
}

/// The byte-budget migration fills `span_bytes` from stored spans as ingest counts them.
#[tokio::test]
async fn the_span_bytes_migration_counts_stored_spans_as_ingest_does() {
    use sqlx::Connection;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ember.db");
    let store = Store::open(&StoreOptions::new(DatabaseUrl::SqliteFile(path.clone()))).await.unwrap();
    suite::write_mixed_spans(&store).await;
    let project = store.get_project_by_name("p").await.unwrap().unwrap().id;
    let by_ingest = store.project_bytes(project).await.unwrap();
    assert!(by_ingest > 0);

    let mut other = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("UPDATE project_hourly_rollups SET span_bytes = 0").execute(&mut other).await.unwrap();
    assert_eq!(store.project_bytes(project).await.unwrap(), 0);
    let migration = include_str!("../../migrations/sqlite/0024_project_byte_budgets.sql");
    let without_comments: String = migration.lines().filter(|line| !line.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n");
    let update = without_comments.split(';').map(str::trim).find(|statement| statement.starts_with("UPDATE")).unwrap();
    sqlx::query(update).execute(&mut other).await.unwrap();
    assert_eq!(store.project_bytes(project).await.unwrap(), by_ingest);
}

/// The REST `attribute=key:value` filter on a string the attribute index holds is answered
/// through the index, planned as the filter language's equality (few matches: from the index
/// alone, no span's attributes read; many: each span is tested), and selects exactly what the
/// plain comparison selects: a span whose index rows are gone is not found through it, a span
/// the index names is found without its attributes being read, and a non-string value keeps
/// the plain comparison.
#[tokio::test]
async fn the_attribute_filter_finds_strings_through_the_attribute_index() {
    use ember_store::{AttributeFilter, SpanFilters};
    use serde_json::json;
    use sqlx::Connection;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ember.db");
    let store = Store::open(&StoreOptions::new(DatabaseUrl::SqliteFile(path.clone()))).await.unwrap();
    let spans = (1..=40u8)
        .map(|id| {
            let mut span = suite::span(id, id, None);
            span.attributes.insert("user".into(), json!({"id": format!("u-{}", id % 4)}));
            span.attributes.insert("metadata".into(), json!({"n": id % 2, "tier": if id == 7 { "12" } else { "gold" }}));
            suite::routed("p", span)
        })
        .collect();
    suite::write(&store, spans).await;
    let project = store.get_project_by_name("p").await.unwrap().unwrap().id;
    let matching = |key: &str, value: serde_json::Value| {
        let store = store.clone();
        let filters = SpanFilters { attributes: vec![AttributeFilter { key: key.into(), value }], ..Default::default() };
        async move {
            let mut ids: Vec<String> =
                store.list_spans(project, &filters, None, 100).await.unwrap().items.into_iter().map(|r| r.span.span_id).collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(matching("user.id", json!("u-3")).await.len(), 10);
    assert_eq!(matching("metadata.n", json!(1)).await.len(), 20, "numbers keep the plain comparison");
    assert_eq!(matching("metadata.tier", json!("12")).await, [format!("{:016x}", 7)], "a string spelled like a number");

    // Without span 3's index rows, the index no longer offers it: the index drives the query.
    let mut connection = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("DELETE FROM span_attribute_values WHERE span_rowid = (SELECT id FROM spans WHERE span_id = ?)")
        .bind(format!("{:016x}", 3))
        .execute(&mut connection)
        .await
        .unwrap();
    let found = matching("user.id", json!("u-3")).await;
    assert_eq!(found.len(), 9);
    assert!(!found.contains(&format!("{:016x}", 3)));
    // An index row alone selects its span (span 1's attributes say u-1): the index answers.
    sqlx::query(
        "INSERT INTO span_attribute_values (span_rowid, path, value) SELECT id, '$.\"user\".\"id\"', 'u-3' FROM spans WHERE span_id = ?",
    )
    .bind(format!("{:016x}", 1))
    .execute(&mut connection)
    .await
    .unwrap();
    let found = matching("user.id", json!("u-3")).await;
    assert_eq!(found.len(), 10);
    assert!(found.contains(&format!("{:016x}", 1)));
    assert_eq!(matching("metadata.n", json!(1)).await.len(), 20, "the plain comparison reads the span itself");
}

/// A large time window is read by walking the project's spans newest first: from its newest
/// span when many spans start after it (a zoom into last week; found along the start-time index
/// alone), from the newest span of the project when it ends now; a small window through the
/// start-time index. Every page holds the window's newest spans, and no read scans `spans`.
#[tokio::test]
async fn large_windows_are_walked_from_their_newest_span() {
    use ember_store::testing::recording;
    use ember_store::SpanFilters;

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreOptions::new(DatabaseUrl::SqliteFile(dir.path().join("ember.db")))).await.unwrap();
    // 5,500 spans in an old window, then 7,000 newer ones, in ingest order.
    const OLD: i64 = 5_500;
    const NEWER: i64 = 7_000;
    const SPLIT: i64 = 1_000_000_000_000;
    let span = |index: i64| {
        let mut span = suite::span(1, 1, None);
        span.trace_id = format!("{:032x}", index / 10);
        span.span_id = format!("{index:016x}");
        span.start_time = if index < OLD { SPLIT - 1_000_000 + index } else { SPLIT + index };
        span.end_time = span.start_time + 10;
        suite::routed("p", span)
    };
    let all: Vec<_> = (0..OLD + NEWER).map(span).collect();
    for chunk in all.chunks(2_000) {
        suite::write(&store, chunk.to_vec()).await;
    }
    let project = store.get_project_by_name("p").await.unwrap().unwrap().id;
    let page = |start: i64, end: Option<i64>| {
        let store = store.clone();
        async move {
            let filters = SpanFilters { start_time: Some(start), end_time: end, ..Default::default() };
            let (page, statements) = recording(store.list_spans(project, &filters, None, 100)).await;
            for statement in statements.iter().filter(|statement| statement.is_read()) {
                assert_eq!(store.full_scans(statement, "spans").await.unwrap(), Vec::<String>::new(), "{}", statement.sql);
            }
            let ids: Vec<String> = page.unwrap().items.into_iter().map(|record| record.span.span_id).collect();
            let walked = statements.iter().any(|statement| statement.sql.contains("+spans.start_time >="));
            let from_newest_in_window = statements.iter().any(|statement| statement.sql.contains("MAX(spans.id + 0)"));
            (ids, walked, from_newest_in_window)
        }
    };
    let newest = |from: i64, to: i64| (from..to).rev().take(100).map(|index| format!("{index:016x}")).collect::<Vec<_>>();

    let (ids, walked, bounded) = page(SPLIT - 1_000_000, Some(SPLIT)).await;
    assert!(walked && bounded, "7,000 spans start after the window: walked from its newest span");
    assert_eq!(ids, newest(0, OLD));
    let (ids, walked, bounded) = page(SPLIT, None).await;
    assert!(walked && !bounded, "no span starts after a window ending now: walked from the newest span");
    assert_eq!(ids, newest(OLD, OLD + NEWER));
    let (ids, walked, _) = page(SPLIT - 1_000_000, Some(SPLIT - 1_000_000 + 1_000)).await;
    assert!(!walked, "1,000 spans: the start-time index drives");
    assert_eq!(ids, newest(0, 1_000));
}

/// A filter whose few candidates come from the attribute or annotation index drives the span list
/// through the span rowid, newest candidate first, stopping at the page: no sort of every
/// candidate (which SQLite chooses when the project's index is offered). A candidate list under
/// an `or` cannot drive, and the project's index stays.
#[tokio::test]
async fn few_candidates_drive_the_span_list_newest_first() {
    use ember_store::testing::recording;
    use ember_store::{AttributeFilter, Filter, Grain, SpanFilters};
    use serde_json::json;

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreOptions::new(DatabaseUrl::SqliteFile(dir.path().join("ember.db")))).await.unwrap();
    let spans = (1..=300i64)
        .map(|index| {
            let mut span = suite::span(1, 1, None);
            span.trace_id = format!("{:032x}", index);
            span.span_id = format!("{index:016x}");
            span.attributes.insert("metadata".into(), json!({"customer_id": format!("c-{}", index % 10)}));
            suite::routed("p", span)
        })
        .collect();
    suite::write(&store, spans).await;
    let project = store.get_project_by_name("p").await.unwrap().unwrap().id;
    let list = |filters: SpanFilters| {
        let store = store.clone();
        async move {
            let (page, statements) = recording(store.list_spans(project, &filters, None, 10)).await;
            let ids: Vec<String> = page.unwrap().items.into_iter().map(|record| record.span.span_id).collect();
            let listing = statements.iter().find(|statement| statement.sql.contains("ORDER BY")).expect("the list's statement").clone();
            (ids, store.sqlite_plan(&listing).await.unwrap())
        }
    };
    let newest_c3: Vec<String> = (1..=300i64).rev().filter(|index| index % 10 == 3).take(10).map(|index| format!("{index:016x}")).collect();
    let condition = |text: &str| Some(Filter::phoenix(text, Grain::Span).unwrap());

    for filters in [
        SpanFilters { condition: condition("metadata['customer_id'] == 'c-3'"), ..Default::default() },
        SpanFilters { attributes: vec![AttributeFilter { key: "metadata.customer_id".into(), value: json!("c-3") }], ..Default::default() },
    ] {
        let (ids, plan) = list(filters).await;
        assert_eq!(ids, newest_c3);
        assert!(plan.iter().any(|line| line.starts_with("SEARCH spans USING INTEGER PRIMARY KEY")), "{plan:?}");
        assert!(!plan.iter().any(|line| line.contains("TEMP B-TREE")), "{plan:?}");
    }
    let (ids, plan) =
        list(SpanFilters { condition: condition("metadata['customer_id'] == 'c-3' or name == 'nothing'"), ..Default::default() }).await;
    assert_eq!(ids, newest_c3);
    assert!(plan.iter().any(|line| line.starts_with("SEARCH spans USING INDEX ix_spans_project")), "{plan:?}");
}
