//! Opening a database: connection pools, pragmas, migrations.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sea_query::{QueryStatementWriter, SqliteQueryBuilder};
use sea_query_binder::{SqlxBinder, SqlxValues};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::checkpoint::Checkpointer;
use crate::codec::{register_sql_functions, Codec};
use crate::error::Result;
use crate::url::DatabaseUrl;

/// The SQL dialect of a store, for the few statements written as text rather than built with
/// sea-query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
}

impl Dialect {
    /// The `n`th (1-based) bind placeholder. SQLite gets anonymous `?`: sqlx resolves numbered
    /// `$n` parameters by name, which is quadratic in the parameter count.
    pub(crate) fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => {
                let _ = n;
                "?".to_string()
            }
        }
    }
}

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub url: DatabaseUrl,
    /// Connections in the read pool.
    pub read_connections: u32,
    /// Attribute values to collect before training a compression dictionary (0: never).
    pub dictionary_samples: usize,
}

impl StoreOptions {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url, read_connections: 4, dictionary_samples: 2000 }
    }
}

/// A handle on one database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    /// The single writer connection: every write is serialised through it.
    /// Transactions on it start with `BEGIN IMMEDIATE`, so waiting for another process's write
    /// lock goes through the busy timeout instead of failing when a read upgrades to a write.
    pub(crate) writer: SqlitePool,
    pub(crate) reader: SqlitePool,
    pub(crate) checkpointer: Option<Checkpointer>,
    pub(crate) codec: Arc<Codec>,
}

impl Store {
    /// Opens (creating if needed) the database and applies pending migrations.
    pub async fn open(options: &StoreOptions) -> Result<Store> {
        let base = match &options.url {
            DatabaseUrl::SqliteFile(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(sqlx::Error::Io)?;
                }
                SqliteConnectOptions::new().filename(path)
            }
            // A named shared-cache memory database, so the writer and readers see the same data.
            DatabaseUrl::SqliteMemory => SqliteConnectOptions::from_str(&format!(
                "file:ember-memory-{}?mode=memory&cache=shared",
                std::process::id() as u64 * 1_000_000 + u64::from(rand_suffix())
            ))?,
        };
        let base = base
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Rows of a few KB waste most of a 4 KiB page; 16 KiB pages hold several.
            // Only takes effect when the database file is created.
            .page_size(16384)
            .pragma("cache_size", "-32768")
            .pragma("temp_store", "memory");
        // FULL: a commit is on disk before the writer acknowledges it. Checkpoints run on their
        // own connection (see `checkpoint`); the writer checkpoints only past 20,000 WAL pages.
        let writer_options = base.clone().synchronous(SqliteSynchronous::Full).pragma("wal_autocheckpoint", "20000");
        let codec = Codec::new(options.dictionary_samples);
        let for_writer = codec.clone();
        let writer = SqlitePoolOptions::new()
            .after_connect(move |connection, _| Box::pin(register_sql_functions(connection, for_writer.clone())))
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(writer_options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        codec.attach(writer.clone()).await?;
        let for_readers = codec.clone();
        let reader = SqlitePoolOptions::new()
            .after_connect(move |connection, _| Box::pin(register_sql_functions(connection, for_readers.clone())))
            .max_connections(options.read_connections.max(1))
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(base.clone().read_only(matches!(options.url, DatabaseUrl::SqliteFile(_))))
            .await?;
        let checkpointer = match options.url {
            DatabaseUrl::SqliteFile(_) => {
                let pool =
                    SqlitePoolOptions::new().max_connections(1).connect_with(base.clone().synchronous(SqliteSynchronous::Full)).await?;
                Some(Checkpointer::start(pool))
            }
            // An in-memory database has no WAL.
            DatabaseUrl::SqliteMemory => None,
        };
        Ok(Store { writer, reader, checkpointer, codec })
    }

    pub(crate) fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    /// Builds a sea-query statement for this store's dialect.
    pub(crate) fn build<S: QueryStatementWriter + SqlxBinder>(&self, statement: &S) -> (String, SqlxValues) {
        statement.build_sqlx(SqliteQueryBuilder)
    }

    /// Prepares decoded spans for writing: JSON serialised and compressed. CPU work: call it
    /// from a blocking thread.
    pub fn prepare_spans(&self, spans: Vec<ember_core::RoutedSpan>) -> Vec<crate::PreparedSpan> {
        spans.into_iter().map(|span| crate::PreparedSpan::new(span, &self.codec)).collect()
    }

    /// Whether new attribute values are compressed with a trained dictionary.
    pub fn has_attribute_dictionary(&self) -> bool {
        self.codec.has_dictionary()
    }

    /// Closes every connection, checkpointing the WAL.
    pub async fn close(&self) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.close().await;
        }
        self.reader.close().await;
        self.writer.close().await;
    }
}

fn rand_suffix() -> u32 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
}
