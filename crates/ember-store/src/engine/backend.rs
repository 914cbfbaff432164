//! The two database backends behind one small surface.
//!
//! Statements are built once (sea-query, or text with `$n` placeholders, which both SQLite and
//! PostgreSQL accept) into a [`Statement`]; [`Pool`], [`Transaction`] and [`Row`] dispatch it to
//! the native sqlx driver of the store's backend. Only what truly differs between the backends
//! (opening, the attributes column, a few functions) is written per backend.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_query::Values;
use sea_query_binder::SqlxValues;
use sqlx::postgres::{PgConnection, PgPool, PgRow};
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{Postgres, Sqlite};

use crate::error::{Result, StoreError};
use crate::sqlite::codec::Codec;

/// SQL text and its bound values, for one backend.
#[derive(Clone)]
pub(crate) struct Statement {
    pub sql: String,
    pub values: Values,
}

impl Statement {
    /// A text statement; `$1`, `$2`, ... name the values in order.
    pub(crate) fn new(sql: impl Into<String>, values: impl IntoIterator<Item = sea_query::Value>) -> Self {
        Statement { sql: sql.into(), values: Values(values.into_iter().collect()) }
    }
}

/// PostgreSQL's text and JSONB cannot hold U+0000, which any text from a client may carry. Every
/// value bound on PostgreSQL goes through here: U+0000 becomes U+FFFD, raw or escaped (`\u0000`)
/// in text that is JSON (bound for a JSONB column); other text is left as it is. SQLite stores
/// U+0000 as given.
fn without_nul(values: Values) -> Values {
    let clean = |value: sea_query::Value| match value {
        sea_query::Value::String(Some(text)) if text.contains('\0') || text.contains("\\u0000") => {
            let mut text = text.replace('\0', "\u{FFFD}");
            if text.contains("\\u0000") {
                if let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) {
                    text = json_without_nul(json).to_string();
                }
            }
            sea_query::Value::String(Some(Box::new(text)))
        }
        other => other,
    };
    Values(values.0.into_iter().map(clean).collect())
}

/// `text` as the database stores it (see [`without_nul`]), for matching what a statement returns
/// against what was sent.
pub(crate) fn as_stored(dialect: crate::engine::dialect::Dialect, text: &str) -> String {
    match dialect {
        crate::engine::dialect::Dialect::Postgres if text.contains('\0') => text.replace('\0', "\u{FFFD}"),
        _ => text.to_string(),
    }
}

/// A JSON value as the database stores it (see [`without_nul`]), for comparing what an upload
/// sends with what is stored.
pub(crate) fn json_as_stored(
    dialect: crate::engine::dialect::Dialect,
    value: &serde_json::Value,
) -> std::borrow::Cow<'_, serde_json::Value> {
    match dialect {
        crate::engine::dialect::Dialect::Postgres if has_nul(value) => std::borrow::Cow::Owned(json_without_nul(value.clone())),
        _ => std::borrow::Cow::Borrowed(value),
    }
}

fn has_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(key, value)| key.contains('\0') || has_nul(value)),
        _ => false,
    }
}

fn json_without_nul(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let text = |text: String| if text.contains('\0') { text.replace('\0', "\u{FFFD}") } else { text };
    match value {
        Value::String(string) => Value::String(text(string)),
        Value::Array(items) => Value::Array(items.into_iter().map(json_without_nul).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(key, value)| (text(key), json_without_nul(value))).collect()),
        other => other,
    }
}

/// SQLite: `inner`'s rows as one row holding a JSON array of arrays (`columns` of each row, in
/// `order_by` when given). sqlx hands SQLite rows over one at a time across threads, waking the
/// reading task for each, which costs more than the query for pages of many small rows; read the
/// answer with [`decode_json_page`].
pub(crate) fn json_page(inner: Statement, columns: &str, order_by: Option<&str>) -> Statement {
    let order = order_by.map(|order| format!(" ORDER BY {order}")).unwrap_or_default();
    Statement { sql: format!("SELECT json_group_array(json_array({columns}){order}) FROM ({})", inner.sql), values: inner.values }
}

/// The rows of a [`json_page`] answer, each read into `T` field by field in column order (serde
/// reads a struct from an array in the order of its fields).
pub(crate) fn decode_json_page<T: serde::de::DeserializeOwned>(rows: &[Row]) -> Result<Vec<T>> {
    match rows.first() {
        Some(row) => Ok(serde_json::from_str(&row.get::<String, _>(0)?)?),
        None => Ok(Vec::new()),
    }
}

/// Whether SQLite text numbers some values (`$n`) and leaves others to position (`?`): SQLite
/// gives a `?` the number after the highest seen so far, so such a mix binds values to the wrong
/// places. Checked on every SQLite statement in debug builds (the tests).
fn mixes_placeholder_styles(sql: &str) -> bool {
    let numbered = sql.as_bytes().windows(2).any(|pair| pair[0] == b'$' && pair[1].is_ascii_digit());
    numbered && sql.contains('?')
}

#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

pub(crate) enum Transaction {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// Where a statement runs: a pool (any connection) or one connection (inside a transaction).
pub(crate) enum Exec<'a> {
    SqlitePool(&'a SqlitePool),
    PostgresPool(&'a PgPool),
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

pub(crate) enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

/// Runs `$run` with `$executor` bound to the native executor of each backend, wrapping rows.
macro_rules! on_executor {
    ($exec:expr, $executor:ident => $run:expr) => {
        match $exec {
            Exec::SqlitePool($executor) => $run.map(RowsOf::sqlite),
            Exec::Sqlite($executor) => $run.map(RowsOf::sqlite),
            Exec::PostgresPool($executor) => $run.map(RowsOf::postgres),
            Exec::Postgres($executor) => $run.map(RowsOf::postgres),
        }
    };
}

/// Wraps what a native query returned into backend-neutral rows.
trait RowsOf<S, P>: Sized {
    fn sqlite(value: S) -> Self;
    fn postgres(value: P) -> Self;
}

impl RowsOf<Vec<SqliteRow>, Vec<PgRow>> for Vec<Row> {
    fn sqlite(rows: Vec<SqliteRow>) -> Self {
        rows.into_iter().map(Row::Sqlite).collect()
    }
    fn postgres(rows: Vec<PgRow>) -> Self {
        rows.into_iter().map(Row::Postgres).collect()
    }
}

impl RowsOf<Option<SqliteRow>, Option<PgRow>> for Option<Row> {
    fn sqlite(row: Option<SqliteRow>) -> Self {
        row.map(Row::Sqlite)
    }
    fn postgres(row: Option<PgRow>) -> Self {
        row.map(Row::Postgres)
    }
}

impl RowsOf<sqlx::sqlite::SqliteQueryResult, sqlx::postgres::PgQueryResult> for u64 {
    fn sqlite(result: sqlx::sqlite::SqliteQueryResult) -> Self {
        result.rows_affected()
    }
    fn postgres(result: sqlx::postgres::PgQueryResult) -> Self {
        result.rows_affected()
    }
}

impl Exec<'_> {
    /// A shorter-lived copy, to run several statements on one connection.
    pub(crate) fn reborrow(&mut self) -> Exec<'_> {
        match self {
            Exec::SqlitePool(pool) => Exec::SqlitePool(pool),
            Exec::PostgresPool(pool) => Exec::PostgresPool(pool),
            Exec::Sqlite(connection) => Exec::Sqlite(connection),
            Exec::Postgres(connection) => Exec::Postgres(connection),
        }
    }

    /// Checks a statement before it runs, and makes its values storable on the backend.
    fn prepare(&self, statement: Statement) -> (String, Values) {
        crate::engine::plans::record(&statement);
        let Statement { sql, values } = statement;
        if matches!(self, Exec::SqlitePool(_) | Exec::Sqlite(_)) {
            debug_assert!(!mixes_placeholder_styles(&sql), "`$n` and `?` placeholders in one SQLite statement: {sql}");
            return (sql, values);
        }
        (sql, without_nul(values))
    }

    pub(crate) async fn fetch_all(self, statement: Statement) -> Result<Vec<Row>> {
        let (sql, values) = self.prepare(statement);
        let rows: Vec<Row> = on_executor!(self, executor => sqlx::query_with(&sql, SqlxValues(values)).fetch_all(executor).await)?;
        Ok(rows)
    }

    pub(crate) async fn fetch_optional(self, statement: Statement) -> Result<Option<Row>> {
        let (sql, values) = self.prepare(statement);
        let row: Option<Row> = on_executor!(self, executor => sqlx::query_with(&sql, SqlxValues(values)).fetch_optional(executor).await)?;
        Ok(row)
    }

    pub(crate) async fn fetch_one(self, statement: Statement) -> Result<Row> {
        self.fetch_optional(statement).await?.ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }

    /// Runs a statement; returns the rows it affected.
    pub(crate) async fn execute(self, statement: Statement) -> Result<u64> {
        let (sql, values) = self.prepare(statement);
        let affected: u64 = on_executor!(self, executor => sqlx::query_with(&sql, SqlxValues(values)).execute(executor).await)?;
        Ok(affected)
    }
}

impl Pool {
    pub(crate) fn exec(&self) -> Exec<'_> {
        match self {
            Pool::Sqlite(pool) => Exec::SqlitePool(pool),
            Pool::Postgres(pool) => Exec::PostgresPool(pool),
        }
    }

    /// Starts a write transaction. SQLite's starts with `BEGIN IMMEDIATE`, so waiting for another
    /// process's write lock goes through the busy timeout instead of failing when a read upgrades.
    pub(crate) async fn begin(&self) -> Result<Transaction> {
        Ok(match self {
            Pool::Sqlite(pool) => Transaction::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(pool) => Transaction::Postgres(pool.begin().await?),
        })
    }

    /// Starts a read-only transaction whose reads all see one snapshot: SQLite's (WAL) from its
    /// first read, PostgreSQL's under `REPEATABLE READ`.
    pub(crate) async fn begin_snapshot(&self) -> Result<Transaction> {
        Ok(match self {
            Pool::Sqlite(pool) => Transaction::Sqlite(pool.begin_with("BEGIN DEFERRED").await?),
            Pool::Postgres(pool) => Transaction::Postgres(pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?),
        })
    }

    /// Runs a read that is cancelled once it has run for `budget`: SQLite's connection is
    /// interrupted from a timer, PostgreSQL's statement runs under `statement_timeout`.
    pub(crate) async fn fetch_all_within(&self, statement: Statement, budget: Duration) -> Result<Vec<Row>> {
        self.fetch_within(statement, budget, false).await
    }

    /// [`Pool::fetch_all_within`] in a transaction that cannot write (SQLite's readers of a
    /// database file are read-only connections already).
    pub(crate) async fn fetch_all_read_only_within(&self, statement: Statement, budget: Duration) -> Result<Vec<Row>> {
        self.fetch_within(statement, budget, true).await
    }

    async fn fetch_within(&self, statement: Statement, budget: Duration, read_only: bool) -> Result<Vec<Row>> {
        crate::engine::plans::record(&statement);
        let Statement { sql, values } = statement;
        let timed_out = || StoreError::QueryTimeout { budget_ms: budget.as_millis() };
        match self {
            Pool::Sqlite(pool) => {
                // An agent's read-only query has no parameters but may spell both in its text.
                debug_assert!(read_only || !mixes_placeholder_styles(&sql), "`$n` and `?` placeholders in one SQLite statement: {sql}");
                let mut connection = pool.acquire().await?;
                let handle = connection.lock_handle().await?.as_raw_handle().as_ptr() as usize;
                // Declared after the connection, so it disarms before the connection returns to the pool.
                let _timer = InterruptTimer::start(handle, budget);
                match sqlx::query_with(&sql, SqlxValues(values)).fetch_all(&mut *connection).await {
                    Ok(rows) => Ok(rows.into_iter().map(Row::Sqlite).collect()),
                    Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("9") => Err(timed_out()),
                    Err(error) => Err(error.into()),
                }
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin_with(if read_only { "BEGIN READ ONLY" } else { "BEGIN" }).await?;
                // A plan made for one filter's values can be ruinous for another's (a GIN lookup
                // of a rare value against a walk of the whole table), so every list is planned
                // for its own values rather than from a cached generic plan.
                sqlx::query("SELECT set_config('statement_timeout', $1, true), set_config('plan_cache_mode', 'force_custom_plan', true)")
                    .bind(budget.as_millis().max(1).to_string())
                    .execute(&mut *tx)
                    .await?;
                let rows = match sqlx::query_with(&sql, SqlxValues(without_nul(values))).fetch_all(&mut *tx).await {
                    Ok(rows) => rows,
                    Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("57014") => return Err(timed_out()),
                    Err(error) => return Err(error.into()),
                };
                tx.commit().await?;
                Ok(rows.into_iter().map(Row::Postgres).collect())
            }
        }
    }

    pub(crate) async fn close(&self) {
        match self {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

/// Interrupts an SQLite connection's running statement when its budget runs out, unless
/// disarmed first. Disarming and interrupting share a lock, so a disarmed timer never touches
/// the connection (which may be running someone else's statement by then).
struct InterruptTimer {
    armed: Arc<Mutex<Option<usize>>>,
    task: tokio::task::JoinHandle<()>,
}

impl InterruptTimer {
    fn start(handle: usize, budget: Duration) -> Self {
        let armed = Arc::new(Mutex::new(Some(handle)));
        let for_task = armed.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(budget).await;
            if let Some(handle) = *for_task.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) {
                // SAFETY: the handle is a live connection while armed (the owner disarms before
                // releasing it); sqlite3_interrupt may be called from any thread.
                unsafe { libsqlite3_sys::sqlite3_interrupt(handle as *mut libsqlite3_sys::sqlite3) };
            }
        });
        InterruptTimer { armed, task }
    }
}

impl Drop for InterruptTimer {
    fn drop(&mut self) {
        *self.armed.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
        self.task.abort();
    }
}

impl Transaction {
    pub(crate) fn exec(&mut self) -> Exec<'_> {
        match self {
            Transaction::Sqlite(tx) => Exec::Sqlite(tx),
            Transaction::Postgres(tx) => Exec::Postgres(tx),
        }
    }

    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            Transaction::Sqlite(tx) => tx.commit().await?,
            Transaction::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

impl Row {
    /// A column by position or by name (its alias), decoded as a type both backends decode the
    /// same way. Rows of more than a few columns are read by name.
    pub(crate) fn get<T, I>(&self, index: I) -> Result<T>
    where
        T: for<'r> sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite> + for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
        I: sqlx::ColumnIndex<SqliteRow> + sqlx::ColumnIndex<PgRow>,
    {
        Ok(match self {
            Row::Sqlite(row) => sqlx::Row::try_get(row, index)?,
            Row::Postgres(row) => sqlx::Row::try_get(row, index)?,
        })
    }

    /// The JSON text of a stored attributes column: SQLite stores it through the codec, PostgreSQL
    /// as JSONB selected as text.
    pub(crate) fn attributes_json(&self, index: usize, codec: Option<&Codec>) -> Result<String> {
        match self {
            Row::Sqlite(row) => {
                let stored: Vec<u8> = sqlx::Row::try_get(row, index)?;
                let codec = codec.ok_or_else(|| StoreError::Corrupt("no attribute codec".into()))?;
                Ok(crate::sqlite::codec::or_unreadable(codec.decode(&stored)))
            }
            Row::Postgres(row) => Ok(sqlx::Row::try_get(row, index)?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mixes_placeholder_styles;

    #[test]
    fn numbered_and_positional_placeholders_together_are_caught() {
        assert!(mixes_placeholder_styles("SELECT 1 WHERE a = $1 AND b IN (?, ?) AND c < $2"));
        assert!(!mixes_placeholder_styles("SELECT 1 WHERE a = $1 AND b = $2"));
        assert!(!mixes_placeholder_styles("SELECT 1 WHERE a = ? AND json_extract(x, '$.k') = ?"));
    }
}
