//! Opening an SQLite store: one writer connection, read-only readers, WAL, background checkpoints.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::engine::backend::Pool;
use crate::engine::dialect::Dialect;
use crate::engine::url::DatabaseUrl;
use crate::error::{Result, StoreError};
use crate::sqlite::checkpoint::Checkpointer;
use crate::sqlite::codec::Codec;
use crate::sqlite::functions::register as register_sql_functions;
use crate::sqlite::group_commit::GroupCommit;
use crate::{Store, StoreOptions};

/// SQLite's process-wide settings, made once before its first connection: no memory statistics.
/// Counting them takes a global mutex around every allocation SQLite makes (several per row
/// written), and ember never reads them.
fn configure_library() {
    static CONFIGURED: std::sync::Once = std::sync::Once::new();
    CONFIGURED.call_once(|| {
        // SAFETY: `sqlite3_config` takes an int for this option. It must run before SQLite
        // initializes and while no other thread calls SQLite: every connection ember opens waits
        // for this `Once`. Should something else in the process have initialized SQLite already,
        // the call changes nothing and answers SQLITE_MISUSE.
        let code = unsafe { libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int) };
        if code != libsqlite3_sys::SQLITE_OK {
            tracing::debug!(code, "SQLite was initialized before ember configured it; memory statistics stay on");
        }
    });
}

/// Rows a reader connection's thread may hold before the reading task takes them.
const READER_ROW_BUFFER: usize = 1024;

pub(crate) async fn open(options: &StoreOptions) -> Result<Store> {
    configure_library();
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
        DatabaseUrl::Postgres(_) => unreachable!("Store::open routes PostgreSQL urls elsewhere"),
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
    // The WAL file keeps its largest size when the writer starts it over, unless limited.
    let writer_options = base
        .clone()
        .synchronous(SqliteSynchronous::Full)
        .pragma("wal_autocheckpoint", "20000")
        .pragma("journal_size_limit", options.max_wal_bytes.min(i64::MAX as u64).to_string())
        // Pages freed by deletions go back to the file system a step at a time (see
        // `Store::return_free_space`). Takes effect only when the database file is created.
        .pragma("auto_vacuum", "INCREMENTAL");
    let codec = Codec::new(options.dictionary_samples);
    let for_writer = codec.clone();
    let writer = SqlitePoolOptions::new()
        .after_connect(move |connection, _| Box::pin(register_sql_functions(connection, for_writer.clone())))
        // After some errors (a full disk) SQLite rolls the transaction back itself; the
        // driver's ROLLBACK then fails and it goes on believing the connection is inside a
        // transaction, refusing every later BEGIN. Such a connection is replaced by a new one
        // instead of handed out, so writes resume once there is room again.
        .before_acquire(|connection, _| {
            let usable = <sqlx::sqlite::SqliteTransactionManager as sqlx::TransactionManager>::get_transaction_depth(connection) == 0;
            if !usable {
                tracing::warn!("replacing the writer connection left inside a failed transaction");
            }
            Box::pin(async move { Ok(usable) })
        })
        .max_connections(1)
        .min_connections(1)
        // A local file connection cannot go stale; pinging it costs a worker round trip per use.
        .test_before_acquire(false)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(writer_options)
        .await?;
    migrate(&writer).await?;
    codec.attach(writer.clone()).await?;
    crate::sqlite::attribute_index::backfill(&writer, &codec).await?;
    let for_readers = codec.clone();
    let reader = SqlitePoolOptions::new()
        .after_connect(move |connection, _| Box::pin(register_sql_functions(connection, for_readers.clone())))
        .max_connections(options.read_connections.max(1))
        .min_connections(1)
        .test_before_acquire(false)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(
            base.clone()
                .read_only(matches!(options.url, DatabaseUrl::SqliteFile(_)))
                // The driver hands rows from its thread through a channel; with its default of
                // 50, a page of thousands of rows (an export) wakes each side once per 50 rows.
                .row_buffer_size(READER_ROW_BUFFER),
        )
        .await?;
    let checkpointer = match options.url {
        DatabaseUrl::SqliteFile(_) => {
            let pool = SqlitePoolOptions::new().max_connections(1).connect_with(base.clone().synchronous(SqliteSynchronous::Full)).await?;
            Some(Checkpointer::start(pool, writer.clone(), options.max_wal_bytes))
        }
        // An in-memory database has no WAL.
        _ => None,
    };
    Ok(Store {
        dialect: Dialect::Sqlite,
        group_commit: Some(GroupCommit::start(Pool::Sqlite(writer.clone()))),
        writer: Pool::Sqlite(writer),
        reader: Pool::Sqlite(reader),
        checkpointer,
        codec: Some(codec),
        query_budget: options.query_budget,
        filter_probe_limit: options.filter_probe_limit,
        max_read_json_bytes: options.max_read_json_bytes,
        ml_written_at: Default::default(),
        ml_summaries: true,
        prices: Default::default(),
        prices_loaded: Default::default(),
        cost_recomputation: Default::default(),
        cost_tracking: options.cost_tracking,
        file: match &options.url {
            DatabaseUrl::SqliteFile(path) => Some(path.clone()),
            _ => None,
        },
    })
}

fn rand_suffix() -> u32 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
}

/// Applies pending migrations with foreign keys off, as SQLite requires for rebuilding a table
/// that others reference (dropping the old table would otherwise cascade to its referrers);
/// `PRAGMA foreign_key_check` then proves every reference still resolves before they go back on.
async fn migrate(writer: &sqlx::SqlitePool) -> Result<()> {
    let mut connection = writer.acquire().await?;
    sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut *connection).await?;
    let migrated = sqlx::migrate!("./migrations/sqlite").run_direct(&mut *connection).await;
    let dangling = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut *connection).await?.len();
    sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *connection).await?;
    migrated?;
    if dangling > 0 {
        return Err(StoreError::Corrupt(format!("{dangling} rows reference missing rows after migrating")));
    }
    Ok(())
}
