//! The query plans of the reads a piece of code runs, for the plan test (feature `testsuite`).
//!
//! [`recording`] runs a future with a task-local log that every statement the store executes on
//! that task is appended to (outside a recording, and in builds without the feature, logging is a
//! no-op). [`Store::full_scans`] then asks the database how it would run a logged read, with its
//! own bound values, and names every step that walks a whole table ([`Store::sqlite_plan`] gives
//! SQLite's whole plan):
//! - SQLite: `EXPLAIN QUERY PLAN` lines `SCAN <table>` (a table walk, or a walk of a whole index,
//!   `USING INDEX`), for the table or any alias the statement gives it;
//! - PostgreSQL: `EXPLAIN (FORMAT JSON)` nodes on the table that are a `Seq Scan`, or an index scan
//!   with no index condition. Seq scans are disabled for the explain (`enable_seqscan = off`), so
//!   the planner of a small test database answers as it would for a large table: a seq scan still
//!   chosen means no index can serve the query.

use crate::engine::backend::Statement;

#[cfg(feature = "testsuite")]
pub use recorder::*;

/// Logs a statement about to run, when the current task is recording.
#[cfg(not(feature = "testsuite"))]
#[inline(always)]
pub(crate) fn record(_statement: &Statement) {}

#[cfg(feature = "testsuite")]
mod recorder {
    use std::cell::RefCell;
    use std::future::Future;

    use sea_query::Values;
    use sea_query_binder::SqlxValues;
    use serde_json::Value;

    use super::Statement;
    use crate::engine::backend::Pool;
    use crate::error::Result;
    use crate::Store;

    tokio::task_local! {
        static RECORDING: RefCell<Vec<Statement>>;
    }

    /// A statement a recorded future ran.
    #[derive(Debug, Clone)]
    pub struct RecordedStatement {
        pub sql: String,
        values: Values,
    }

    impl RecordedStatement {
        /// A statement with no bound values, to check the checker.
        pub fn unbound(sql: &str) -> Self {
            RecordedStatement { sql: sql.to_string(), values: Values(Vec::new()) }
        }

        /// Whether the statement only reads (`SELECT`, or `WITH` … `SELECT`).
        pub fn is_read(&self) -> bool {
            let head = self.sql.trim_start().get(..6).unwrap_or_default().to_ascii_uppercase();
            head.starts_with("SELECT") || (head.starts_with("WITH") && !self.sql.to_ascii_uppercase().contains("INSERT INTO"))
        }
    }

    /// Logs a statement about to run, when the current task is recording.
    pub(crate) fn record(statement: &Statement) {
        let _ = RECORDING.try_with(|log| log.borrow_mut().push(statement.clone()));
    }

    /// Runs `future`, returning its output and every statement it ran on its own task.
    pub async fn recording<F: Future>(future: F) -> (F::Output, Vec<RecordedStatement>) {
        RECORDING
            .scope(RefCell::new(Vec::new()), async move {
                let output = future.await;
                let log = RECORDING.with(|log| std::mem::take(&mut *log.borrow_mut()));
                (output, log.into_iter().map(|Statement { sql, values }| RecordedStatement { sql, values }).collect())
            })
            .await
    }

    impl Store {
        /// The steps of `statement`'s plan that walk the whole of `table` (see the module's doc).
        pub async fn full_scans(&self, statement: &RecordedStatement, table: &str) -> Result<Vec<String>> {
            match &self.reader {
                Pool::Sqlite(_) => {
                    let names = names_of(&statement.sql, table);
                    Ok(self.sqlite_plan(statement).await?.into_iter().filter(|detail| scans_one_of(detail, &names)).collect())
                }
                Pool::Postgres(pool) => {
                    let mut tx = pool.begin().await?;
                    sqlx::query("SET LOCAL enable_seqscan = off").execute(&mut *tx).await?;
                    let sql = format!("EXPLAIN (FORMAT JSON) {}", statement.sql);
                    let (plan,): (Value,) = sqlx::query_as_with(&sql, SqlxValues(statement.values.clone())).fetch_one(&mut *tx).await?;
                    tx.rollback().await?;
                    let mut found = Vec::new();
                    if let Some(root) = plan.get(0).and_then(|entry| entry.get("Plan")) {
                        walk_postgres(root, table, &mut found);
                    }
                    Ok(found)
                }
            }
        }
    }

    impl Store {
        /// SQLite: the lines of `EXPLAIN QUERY PLAN` for `statement` with its own bound values
        /// (`SEARCH spans USING INTEGER PRIMARY KEY (rowid=?)`, `USE TEMP B-TREE FOR ORDER BY`);
        /// none on PostgreSQL.
        pub async fn sqlite_plan(&self, statement: &RecordedStatement) -> Result<Vec<String>> {
            let Pool::Sqlite(pool) = &self.reader else { return Ok(Vec::new()) };
            let sql = format!("EXPLAIN QUERY PLAN {}", statement.sql);
            let rows: Vec<(i64, i64, i64, String)> =
                sqlx::query_as_with(&sql, SqlxValues(statement.values.clone())).fetch_all(pool).await?;
            Ok(rows.into_iter().map(|(.., detail)| detail).collect())
        }
    }

    /// `table` and the aliases `statement` gives it (`FROM spans AS s`, `JOIN spans s`).
    fn names_of(sql: &str, table: &str) -> Vec<String> {
        const NOT_ALIASES: [&str; 14] =
            ["WHERE", "JOIN", "INNER", "LEFT", "CROSS", "ON", "ORDER", "GROUP", "LIMIT", "USING", "SET", "INDEXED", "UNION", "NATURAL"];
        let words: Vec<&str> =
            sql.split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')').filter(|w| !w.is_empty()).collect();
        let mut names = vec![table.to_string()];
        for (index, word) in words.iter().enumerate() {
            if !word.trim_matches('"').eq_ignore_ascii_case(table) {
                continue;
            }
            let mut next = words.get(index + 1).copied();
            if next.is_some_and(|w| w.eq_ignore_ascii_case("AS")) {
                next = words.get(index + 2).copied();
            }
            if let Some(alias) = next.map(|w| w.trim_matches('"')) {
                let is_name = alias.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if is_name && !NOT_ALIASES.iter().any(|keyword| keyword.eq_ignore_ascii_case(alias)) {
                    names.push(alias.to_string());
                }
            }
        }
        names
    }

    /// Whether an SQLite plan line walks one of `names` whole.
    fn scans_one_of(detail: &str, names: &[String]) -> bool {
        let Some(rest) = detail.strip_prefix("SCAN ") else { return false };
        let scanned = rest.split_whitespace().next().unwrap_or_default();
        names.iter().any(|name| name == scanned)
    }

    fn walk_postgres(node: &Value, table: &str, found: &mut Vec<String>) {
        let text = |key: &str| node.get(key).and_then(Value::as_str).unwrap_or_default();
        if text("Relation Name") == table {
            let kind = text("Node Type");
            let unbounded_index = matches!(kind, "Index Scan" | "Index Only Scan") && node.get("Index Cond").is_none();
            if kind == "Seq Scan" || unbounded_index {
                found.push(format!("{kind} on {table} ({} {})", text("Index Name"), text("Filter")).replace(" ()", ""));
            }
        }
        for child in node.get("Plans").and_then(Value::as_array).into_iter().flatten() {
            walk_postgres(child, table, found);
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn aliases_are_found_and_keywords_are_not() {
            let names =
                names_of("SELECT 1 FROM spans AS parents JOIN spans s ON s.id = 1 WHERE NOT EXISTS (SELECT 1 FROM spans WHERE x)", "spans");
            assert_eq!(names, ["spans", "parents", "s"]);
            assert!(scans_one_of("SCAN parents", &names));
            assert!(scans_one_of("SCAN spans USING INDEX ix_spans_start", &names));
            assert!(!scans_one_of("SEARCH spans USING INDEX ix_spans_project (project_id=?)", &names));
            assert!(!scans_one_of("SCAN spans_of_page", &names));
        }
    }
}
