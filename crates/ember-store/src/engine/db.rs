//! A store: its backend's pools, and what every operation shares.

use std::sync::Arc;
use std::time::Duration;

use sea_query::QueryStatementWriter;

use crate::defaults;
use crate::engine::backend::{Pool, Statement};
use crate::engine::dialect::Dialect;
use crate::engine::url::DatabaseUrl;
use crate::error::Result;
use crate::sqlite::checkpoint::Checkpointer;
use crate::sqlite::codec::Codec;
use crate::sqlite::group_commit::GroupCommit;

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub url: DatabaseUrl,
    /// Connections in SQLite's read pool.
    pub read_connections: u32,
    /// Connections in each PostgreSQL pool (the primary's, and the read replica's when set).
    pub pool_size: u32,
    /// Attribute values to collect before training a compression dictionary (0: never). SQLite only.
    pub dictionary_samples: usize,
    /// PostgreSQL schema holding ember's tables (created when missing); `None`: the server's default.
    pub schema: Option<String>,
    /// A PostgreSQL read replica serving reads; writes always go to `url`.
    pub read_replica_url: Option<String>,
    /// How long a list or filter query may run before it is cancelled.
    pub query_budget: Duration,
    /// SQLite: a filter's candidate subquery (annotation rows, indexed attribute values) with at
    /// least this many rows is tested span by span instead of driving the query.
    pub filter_probe_limit: usize,
    /// The most span JSON one read decodes (see [`crate::spans::records::span_records`]).
    pub max_read_json_bytes: usize,
    /// SQLite: past this many bytes of WAL, the checkpointer empties it (see `sqlite::checkpoint`).
    pub max_wal_bytes: u64,
    /// Whether ingest prices LLM spans (off: no `span_costs` rows are written).
    pub cost_tracking: bool,
}

impl StoreOptions {
    pub fn new(url: DatabaseUrl) -> Self {
        Self {
            url,
            read_connections: defaults::READ_CONNECTIONS,
            pool_size: defaults::POOL_SIZE,
            dictionary_samples: defaults::DICTIONARY_SAMPLES,
            schema: None,
            read_replica_url: None,
            query_budget: Duration::from_millis(defaults::QUERY_BUDGET_MS),
            filter_probe_limit: ember_query::PROBE_LIMIT,
            max_read_json_bytes: defaults::MAX_READ_JSON_BYTES,
            max_wal_bytes: defaults::MAX_WAL_BYTES,
            cost_tracking: true,
        }
    }
}

/// A handle on one database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) dialect: Dialect,
    /// SQLite: the single writer connection, through which every write is serialised.
    /// PostgreSQL: the pool of the primary.
    pub(crate) writer: Pool,
    pub(crate) reader: Pool,
    /// SQLite: one-row writes from many requests committed together (see `group_commit`).
    pub(crate) group_commit: Option<GroupCommit>,
    pub(crate) checkpointer: Option<Checkpointer>,
    /// How SQLite stores attributes; PostgreSQL stores them as JSONB.
    pub(crate) codec: Option<Arc<Codec>>,
    /// How long a list or filter query may run.
    pub(crate) query_budget: Duration,
    pub(crate) filter_probe_limit: usize,
    pub(crate) max_read_json_bytes: usize,
    /// When an ML write last marked hours stale (Unix ms), for the summarizer to wait for quiet.
    pub(crate) ml_written_at: Arc<std::sync::atomic::AtomicI64>,
    /// Whether monitoring reads hourly summaries (off: always the records, as tests compare).
    pub(crate) ml_summaries: bool,
    /// SQLite: the database file (none in memory).
    pub(crate) file: Option<std::path::PathBuf>,
    /// The prices spans are costed with (see `costs::prices` for the lock's role).
    pub(crate) prices: Arc<tokio::sync::RwLock<Arc<ember_core::cost::PriceBook>>>,
    /// The stored prices' fingerprint when the book was loaded (see `costs::prices`).
    pub(crate) prices_loaded: Arc<std::sync::Mutex<Option<(i64, i64, i64)>>>,
    /// Held by the one cost recomputation running.
    pub(crate) cost_recomputation: Arc<tokio::sync::Mutex<()>>,
    /// Whether ingest prices LLM spans.
    pub(crate) cost_tracking: bool,
}

/// Now, in Unix milliseconds.
pub(crate) fn unix_millis() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|elapsed| elapsed.as_millis() as i64).unwrap_or_default()
}

impl Store {
    /// Opens (creating if needed) the database and applies pending migrations.
    pub async fn open(options: &StoreOptions) -> Result<Store> {
        let store = match &options.url {
            DatabaseUrl::Postgres(url) => crate::postgres::open(url, options).await?,
            DatabaseUrl::SqliteFile(_) | DatabaseUrl::SqliteMemory => crate::sqlite::open(options).await?,
        };
        store.seed_built_in_prices(&ember_core::cost::built_in_prices()).await?;
        Ok(store)
    }

    /// The same store with another [`StoreOptions::filter_probe_limit`] (tests run both plans).
    #[cfg(feature = "testsuite")]
    pub fn with_filter_probe_limit(mut self, limit: usize) -> Store {
        self.filter_probe_limit = limit;
        self
    }

    /// The same store, its ML monitoring reading hourly summaries or (`false`) always the records.
    #[cfg(feature = "testsuite")]
    pub fn with_ml_summaries(mut self, enabled: bool) -> Store {
        self.ml_summaries = enabled;
        self
    }

    /// The same store with another [`StoreOptions::max_read_json_bytes`].
    #[cfg(feature = "testsuite")]
    pub fn with_max_read_json_bytes(mut self, bytes: usize) -> Store {
        self.max_read_json_bytes = bytes;
        self
    }

    /// Which backend this store runs on: `"sqlite"` or `"postgresql"`.
    pub fn backend_name(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgresql",
        }
    }

    /// Whether several transactions may write spans at once: PostgreSQL's do; SQLite has one
    /// writer connection.
    pub(crate) fn supports_concurrent_writers(&self) -> bool {
        self.dialect == Dialect::Postgres
    }

    /// The pool whose reads see every committed write: SQLite's readers (the same file), and
    /// PostgreSQL's primary, never a replica that may lag (a revoked token must fail at once).
    pub(crate) fn current_reader(&self) -> &Pool {
        match self.dialect {
            Dialect::Sqlite => &self.reader,
            Dialect::Postgres => &self.writer,
        }
    }

    /// Builds a sea-query statement for this store's dialect.
    pub(crate) fn build<S: QueryStatementWriter>(&self, statement: &S) -> Statement {
        let (sql, values) = statement.build_any(self.dialect.query_builder());
        Statement { sql, values }
    }

    /// Runs a one-row write (its first row, if any, once committed): on SQLite grouped with
    /// others in one transaction, on PostgreSQL on its own connection.
    /// With `merge`, statements of that kind in one SQLite group are written as one multi-row
    /// statement.
    pub(crate) async fn write_one(
        &self,
        statement: Statement,
        merge: Option<&'static crate::sqlite::group_commit::Merge>,
    ) -> Result<Option<crate::engine::backend::Row>> {
        match &self.group_commit {
            Some(group_commit) => group_commit.fetch_optional(statement, merge).await,
            None => self.writer.exec().fetch_optional(statement).await,
        }
    }

    /// One-row writes answered through merged multi-row statements so far (0 on PostgreSQL).
    #[cfg(feature = "testsuite")]
    pub fn small_writes_merged(&self) -> usize {
        self.group_commit.as_ref().map_or(0, GroupCommit::merged)
    }

    /// One-row writes waiting for a group transaction, and those not yet answered (both 0 on
    /// PostgreSQL, which does not group them).
    #[cfg(feature = "testsuite")]
    pub fn small_writes_in_progress(&self) -> (usize, usize) {
        self.group_commit.as_ref().map_or((0, 0), GroupCommit::load)
    }

    /// Runs a list or filter query on the read pool within the store's time budget.
    pub(crate) async fn fetch_within_budget(&self, statement: Statement) -> Result<Vec<crate::engine::backend::Row>> {
        self.reader.fetch_all_within(statement, self.query_budget).await
    }

    /// The engine this store runs on.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Prepares decoded spans for writing: JSON serialised (and on SQLite compressed). CPU work:
    /// call it from a blocking thread.
    pub fn prepare_spans(&self, spans: Vec<ember_core::RoutedSpan>) -> Vec<crate::PreparedSpan> {
        spans.into_iter().map(|span| crate::PreparedSpan::new(span, self.dialect, self.codec.as_ref())).collect()
    }

    /// Whether new attribute values are compressed with a trained dictionary.
    #[cfg(feature = "testsuite")]
    pub fn has_attribute_dictionary(&self) -> bool {
        self.codec.as_ref().is_some_and(|codec| codec.has_dictionary())
    }

    /// Overwrites a span's stored attributes with a value the codec cannot decode, as a damaged
    /// or oversized value would be; `false` on PostgreSQL, whose JSONB cannot hold one.
    #[cfg(feature = "testsuite")]
    pub async fn damage_span_attributes(&self, span_id: &str) -> Result<bool> {
        if self.dialect != Dialect::Sqlite {
            return Ok(false);
        }
        // Format byte 1 (a zstd frame) followed by bytes that are not one.
        let statement = Statement::new("UPDATE spans SET attributes = X'01FFFFFF' WHERE span_id = $1", [span_id.into()]);
        Ok(self.writer.exec().execute(statement).await? == 1)
    }

    /// Closes every connection (on SQLite, checkpointing the WAL).
    pub async fn close(&self) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.close().await;
        }
        self.reader.close().await;
        self.writer.close().await;
    }
}
