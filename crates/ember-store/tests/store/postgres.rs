//! The store suite on PostgreSQL (`EMBER_TEST_POSTGRES_URL`), each test in a schema of its own,
//! and what only PostgreSQL does; skipped without a server.

use ember_store::testing::{postgres_available, postgres_url};
use ember_store::{DatabaseUrl, Store, StoreOptions};

use crate::suite::{self, TestDatabase};

store_suite!(TestDatabase::postgres_if_available());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_migrate_once() {
    if !postgres_available() {
        return;
    }
    let mut options = StoreOptions::new(DatabaseUrl::parse(&postgres_url()).unwrap());
    options.schema = Some(ember_store::testing::unique_schema());
    let opens: Vec<_> = (0..4)
        .map(|_| {
            tokio::spawn({
                let options = options.clone();
                async move { Store::open(&options).await }
            })
        })
        .collect();
    for open in opens {
        open.await.unwrap().expect("every replica opens the store");
    }
    let store = Store::open(&options).await.unwrap();
    let default = store.get_project_by_name("default").await.unwrap().expect("the default project");
    assert_eq!(default.id, 1);
    assert_eq!(
        store.list_projects(None, 10, None, true, ember_store::ProjectVisibility::All).await.unwrap().items.len(),
        1,
        "migrations ran once"
    );
}

#[tokio::test]
async fn reads_go_to_the_read_replica() {
    if !postgres_available() {
        return;
    }
    let mut options = StoreOptions::new(DatabaseUrl::parse(&postgres_url()).unwrap());
    options.schema = Some(ember_store::testing::unique_schema());
    // A "replica" that is a different database: what the store reads must come from it.
    let replica_database = ember_store::testing::unique_schema();
    let admin = Store::open(&options).await.unwrap();
    drop(admin);
    let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(&postgres_url()).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {replica_database}")).execute(&mut connection).await.unwrap();
    let replica_url = {
        let base = postgres_url();
        let (server, _) = base.rsplit_once('/').unwrap();
        format!("{server}/{replica_database}")
    };
    // Migrate the replica database so it has the tables, then point reads at it.
    let mut replica_options = options.clone();
    replica_options.url = DatabaseUrl::parse(&replica_url).unwrap();
    Store::open(&replica_options).await.unwrap().close().await;
    options.read_replica_url = Some(replica_url);
    let store = Store::open(&options).await.unwrap();
    suite::write(&store, vec![suite::routed("p", suite::span(1, 1, None))]).await;
    assert!(store.get_project_by_name("p").await.unwrap().is_none(), "reads come from the replica, which has not seen the write");
    let primary = Store::open(&StoreOptions { read_replica_url: None, ..options.clone() }).await.unwrap();
    assert!(primary.get_project_by_name("p").await.unwrap().is_some(), "the write went to the primary");
}

#[tokio::test]
async fn bad_schema_names_are_refused() {
    if !postgres_available() {
        return;
    }
    let mut options = StoreOptions::new(DatabaseUrl::parse(&postgres_url()).unwrap());
    options.schema = Some("Robert'); DROP TABLE spans;--".into());
    let error = Store::open(&options).await.err().expect("refused");
    assert!(error.to_string().contains("not a plain lowercase identifier"), "{error}");
}

#[tokio::test]
async fn the_rollup_migration_counts_stored_spans_as_ingest_does() {
    if !postgres_available() {
        return;
    }
    let schema = ember_store::testing::unique_schema();
    let mut options = StoreOptions::new(DatabaseUrl::parse(&postgres_url()).unwrap());
    options.schema = Some(schema.clone());
    let store = Store::open(&options).await.unwrap();
    suite::write_mixed_spans(&store).await;
    let by_ingest = suite::mixed_activity(&store).await;
    assert_eq!(by_ingest[0].traces, 40);

    let mut other = <sqlx::PgConnection as sqlx::Connection>::connect(&postgres_url()).await.unwrap();
    sqlx::query(&format!("SET search_path TO {schema}")).execute(&mut other).await.unwrap();
    sqlx::query("DELETE FROM project_hourly_rollups").execute(&mut other).await.unwrap();
    sqlx::query("DELETE FROM project_hourly_latencies").execute(&mut other).await.unwrap();
    let statements = suite::backfill_statements(include_str!("../../migrations/postgres/0010_project_rollups.sql"));
    assert_eq!(statements.len(), 2);
    for statement in statements {
        sqlx::query(&statement).execute(&mut other).await.unwrap();
    }
    assert_eq!(suite::mixed_activity(&store).await, by_ingest);
}
