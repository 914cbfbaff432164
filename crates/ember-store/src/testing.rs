//! Fresh databases for tests (feature `testsuite`): an SQLite file in a temporary directory, or
//! a schema of its own in the PostgreSQL server named by `EMBER_TEST_POSTGRES_URL`
//! (`scripts/test` starts one). `EMBER_TEST_BACKEND` (`sqlite`, the default, or `postgresql`)
//! picks the backend of suites that run on either.
//!
//! Plain `cargo test` on a bare machine runs the SQLite world: tests that need what the machine
//! lacks (a PostgreSQL server, chromedriver) are skipped with one printed line saying so
//! ([`skip_unless`]). `scripts/test` sets `EMBER_TEST_REQUIRE_ALL=1`, which turns a skip into a
//! failure, so CI cannot pass by skipping.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{DatabaseUrl, Store, StoreOptions};

pub use crate::engine::plans::{recording, RecordedStatement};

/// A fresh, empty database, removed (SQLite) or abandoned (PostgreSQL) when dropped.
pub struct TestDatabase {
    pub options: StoreOptions,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// The PostgreSQL test database, or `None` when the tests run without a server (see
    /// [`postgres_available`]).
    pub fn postgres_if_available() -> Option<Self> {
        postgres_available().then(Self::postgres)
    }

    /// The backend `EMBER_TEST_BACKEND` names.
    pub fn from_env() -> Self {
        match std::env::var("EMBER_TEST_BACKEND").as_deref() {
            Ok("postgresql") => Self::postgres(),
            Ok("sqlite") | Err(_) => Self::sqlite(),
            Ok(other) => panic!("EMBER_TEST_BACKEND={other:?}: expected sqlite or postgresql"),
        }
    }

    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let options = StoreOptions::new(DatabaseUrl::SqliteFile(dir.path().join("ember.db")));
        TestDatabase { options, _dir: Some(dir) }
    }

    pub fn postgres() -> Self {
        let mut options = StoreOptions::new(DatabaseUrl::parse(&postgres_url()).expect("a postgresql:// url"));
        options.schema = Some(unique_schema());
        options.pool_size = 4;
        TestDatabase { options, _dir: None }
    }

    pub async fn open(&self) -> Store {
        Store::open(&self.options).await.expect("open store")
    }

    /// Holds the database's write lock from another connection (SQLite: `BEGIN IMMEDIATE`;
    /// PostgreSQL: an exclusive lock on `traces`, which every span batch writes first), so
    /// writers wait until [`WriteBlocker::release`].
    pub async fn block_writes(&self) -> WriteBlocker {
        use sqlx::Connection;
        match &self.options.url {
            DatabaseUrl::SqliteFile(path) => {
                let mut connection = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.expect("connect");
                sqlx::query("BEGIN IMMEDIATE").execute(&mut connection).await.expect("lock");
                WriteBlocker::Sqlite(connection)
            }
            DatabaseUrl::Postgres(url) => {
                let mut options: sqlx::postgres::PgConnectOptions = url.parse().expect("url");
                if let Some(schema) = &self.options.schema {
                    options = options.options([("search_path", schema.as_str())]);
                }
                let mut connection = sqlx::PgConnection::connect_with(&options).await.expect("connect");
                sqlx::query("BEGIN").execute(&mut connection).await.expect("begin");
                sqlx::query("LOCK TABLE traces IN EXCLUSIVE MODE").execute(&mut connection).await.expect("lock");
                WriteBlocker::Postgres(connection)
            }
            DatabaseUrl::SqliteMemory => panic!("an in-memory database cannot be locked from outside"),
        }
    }

    /// Installs a trigger that makes any write of a metadata update to span `span_id` fail (an
    /// error in the middle of a bulk update, from the database itself).
    pub async fn refuse_metadata_writes(&self, span_id: &str) {
        use sqlx::Connection;
        // Span ids are hex in the tests; refuse anything else rather than quote it.
        assert!(span_id.chars().all(|c| c.is_ascii_alphanumeric()), "a plain span id");
        match &self.options.url {
            DatabaseUrl::SqliteFile(path) => {
                let mut connection = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.expect("connect");
                // SQLite keeps a span's new metadata keys in `span_metadata_patches`.
                let trigger = format!(
                    "CREATE TRIGGER refuse_metadata BEFORE INSERT ON span_metadata_patches \
                     WHEN NEW.span_rowid = (SELECT id FROM spans WHERE span_id = '{span_id}') \
                     BEGIN SELECT RAISE(ABORT, 'metadata writes refused by the test'); END"
                );
                sqlx::query(&trigger).execute(&mut connection).await.expect("create trigger");
            }
            DatabaseUrl::Postgres(url) => {
                let mut options: sqlx::postgres::PgConnectOptions = url.parse().expect("url");
                if let Some(schema) = &self.options.schema {
                    options = options.options([("search_path", schema.as_str())]);
                }
                let mut connection = sqlx::PgConnection::connect_with(&options).await.expect("connect");
                let function = "CREATE FUNCTION refuse_metadata() RETURNS trigger LANGUAGE plpgsql AS \
                                $$ BEGIN RAISE EXCEPTION 'metadata writes refused by the test'; END $$";
                sqlx::query(function).execute(&mut connection).await.expect("create function");
                let trigger = format!(
                    "CREATE TRIGGER refuse_metadata BEFORE UPDATE ON spans FOR EACH ROW \
                     WHEN (NEW.span_id = '{span_id}') EXECUTE FUNCTION refuse_metadata()"
                );
                sqlx::query(&trigger).execute(&mut connection).await.expect("create trigger");
            }
            DatabaseUrl::SqliteMemory => panic!("an in-memory database cannot be reached from outside"),
        }
    }

    /// PostgreSQL: rewrites the tables (`VACUUM FULL`), returning the space of deleted rows as an
    /// operator would; SQLite returns it itself (incremental vacuum), so nothing is done there.
    pub async fn reclaim_space(&self) {
        use sqlx::Connection;
        if let DatabaseUrl::Postgres(url) = &self.options.url {
            let mut options: sqlx::postgres::PgConnectOptions = url.parse().expect("url");
            if let Some(schema) = &self.options.schema {
                options = options.options([("search_path", schema.as_str())]);
            }
            let mut connection = sqlx::PgConnection::connect_with(&options).await.expect("connect");
            for table in ["spans", "traces", "project_sessions"] {
                sqlx::query(&format!("VACUUM FULL {table}")).execute(&mut connection).await.expect("vacuum");
            }
        }
    }

    /// `PHOENIX_*` variables that make an `ember serve` process use this database.
    pub fn serve_env(&self) -> Vec<(&'static str, String)> {
        match &self.options.url {
            DatabaseUrl::Postgres(url) => {
                let mut env = vec![("PHOENIX_SQL_DATABASE_URL", url.clone())];
                env.extend(self.options.schema.clone().map(|schema| ("PHOENIX_SQL_DATABASE_SCHEMA", schema)));
                env
            }
            DatabaseUrl::SqliteFile(path) => vec![("PHOENIX_SQL_DATABASE_URL", format!("sqlite:///{}", path.display()))],
            DatabaseUrl::SqliteMemory => vec![("PHOENIX_SQL_DATABASE_URL", "sqlite:///:memory:".into())],
        }
    }
}

/// The PostgreSQL server of the tests.
pub fn postgres_url() -> String {
    std::env::var("EMBER_TEST_POSTGRES_URL")
        .expect("EMBER_TEST_POSTGRES_URL must name a PostgreSQL server for the PostgreSQL tests (scripts/test starts one)")
}

/// Whether a test may run: `true` when what it needs is there (`available`); otherwise `false`
/// after printing, once per test process, that tests needing `what` are skipped (`how` says how
/// to get it). With `EMBER_TEST_REQUIRE_ALL` set, a missing requirement fails the test instead.
pub fn skip_unless(available: bool, what: &str, how: &str) -> bool {
    use std::io::Write;
    use std::sync::Mutex;

    static REPORTED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    if available {
        return true;
    }
    if std::env::var_os("EMBER_TEST_REQUIRE_ALL").is_some_and(|value| !value.is_empty() && value != "0") {
        panic!("EMBER_TEST_REQUIRE_ALL is set and {what} is missing: {how}");
    }
    let mut reported = REPORTED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if !reported.iter().any(|seen| seen == what) {
        reported.push(what.to_string());
        // Written past the test harness's capture, so it shows on a passing run.
        let _ = writeln!(std::io::stderr(), "note: skipping the tests that need {what}: {how}");
    }
    false
}

/// Whether the PostgreSQL tests may run (see [`skip_unless`]).
pub fn postgres_available() -> bool {
    skip_unless(
        std::env::var_os("EMBER_TEST_POSTGRES_URL").is_some(),
        "PostgreSQL",
        "set EMBER_TEST_POSTGRES_URL (scripts/test starts a private server)",
    )
}

/// A schema name no other test, in this or another test process, uses.
pub fn unique_schema() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("test_{}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed), nanos)
}

/// A connection holding the write lock; see [`TestDatabase::block_writes`].
pub enum WriteBlocker {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl WriteBlocker {
    pub async fn release(self) {
        match self {
            WriteBlocker::Sqlite(mut connection) => sqlx::query("ROLLBACK").execute(&mut connection).await.map(drop),
            WriteBlocker::Postgres(mut connection) => sqlx::query("ROLLBACK").execute(&mut connection).await.map(drop),
        }
        .expect("release the write lock");
    }
}

impl Store {
    /// SQLite: caps the database at `pages` pages for the writer's connection (`PRAGMA
    /// max_page_count`), so writes past it fail as they do on a full disk.
    pub async fn cap_writer_pages(&self, pages: i64) {
        let statement = crate::engine::backend::Statement::new(format!("PRAGMA max_page_count = {pages}"), Vec::<sea_query::Value>::new());
        self.writer.exec().fetch_all(statement).await.expect("cap the database's pages");
    }
}
