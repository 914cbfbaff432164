//! The store suite on an SQLite file.

mod suite;

use ember_store::{DatabaseUrl, Store, StoreOptions};

async fn open_sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&StoreOptions::new(DatabaseUrl::SqliteFile(dir.path().join("ember.db")))).await.expect("open store");
    (store, dir)
}

store_suite!(open_sqlite());

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

#[tokio::test]
async fn in_memory_databases_share_data_between_writer_and_readers() {
    let store = Store::open(&StoreOptions::new(DatabaseUrl::SqliteMemory)).await.unwrap();
    suite::write(&store, vec![suite::routed("p", suite::span(1, 1, None))]).await;
    assert!(store.get_span(None, Some(&format!("{:016x}", 1))).await.unwrap().is_some());
}
