//! SQL written by an agent (MCP's `run_sql`), run over ember's views of the projects a caller
//! may read: checked and placed under the views by `ember_query::agent_sql`, run read-only on a
//! reader within a time budget, its rows capped and returned as JSON values.

use std::time::Duration;

use ember_query::agent_sql;
use serde_json::{Map, Number, Value};
use sqlx::{Column, Row as _, TypeInfo, ValueRef};

use crate::engine::backend::Row;
use crate::engine::backend::Statement;
use crate::error::Result;
use crate::{ProjectVisibility, Store, StoreError};

/// What a query answered: its columns, its rows (values in column order), and whether rows
/// were left out past the cap.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlAnswer {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    pub truncated: bool,
}

impl Store {
    /// The views and the rules of [`Store::agent_sql`], in Markdown, for this store's engine.
    pub fn agent_sql_reference(&self) -> String {
        agent_sql::reference(self.dialect)
    }

    /// Runs `sql` over the views of the projects `visibility` lets the caller read: at most
    /// `max_rows` rows, cancelled past `budget`. A refused query or one the database rejects is
    /// [`StoreError::Invalid`] saying why.
    pub async fn agent_sql(&self, sql: &str, visibility: ProjectVisibility, max_rows: usize, budget: Duration) -> Result<SqlAnswer> {
        let checked = agent_sql::checked_query(sql, self.dialect).map_err(|refusal| StoreError::Invalid(refusal.0))?;
        let text = agent_sql::statement(self.dialect, &checked, visibility.condition().as_deref(), max_rows + 1);
        let rows = match self.current_reader().fetch_all_read_only_within(Statement::new(text, []), budget).await {
            Ok(rows) => rows,
            Err(StoreError::Database(sqlx::Error::Database(error))) => {
                return Err(StoreError::Invalid(format!("The database refused the query: {}", error.message())));
            }
            Err(error) => return Err(error),
        };
        let truncated = rows.len() > max_rows;
        let mut answer = SqlAnswer { columns: Vec::new(), rows: Vec::with_capacity(rows.len().min(max_rows)), truncated };
        for row in rows.iter().take(max_rows) {
            match row {
                Row::Sqlite(row) => {
                    if answer.columns.is_empty() {
                        answer.columns = row.columns().iter().map(|column| column.name().to_string()).collect();
                    }
                    answer.rows.push((0..row.columns().len()).map(|index| sqlite_value(row, index)).collect::<Result<_>>()?);
                }
                Row::Postgres(row) => {
                    // One JSON object per row, its keys in column order (`row_to_json`).
                    let text: String = row.try_get(0)?;
                    let object: Map<String, Value> = serde_json::from_str(&text)?;
                    if answer.columns.is_empty() {
                        answer.columns = object.keys().cloned().collect();
                    }
                    answer.rows.push(object.into_iter().map(|(_, value)| value).collect());
                }
            }
        }
        Ok(answer)
    }
}

/// An SQLite result value as JSON, by the type it has in this row (SQLite's columns have none).
fn sqlite_value(row: &sqlx::sqlite::SqliteRow, index: usize) -> Result<Value> {
    let raw = row.try_get_raw(index)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let kind = raw.type_info().name().to_string();
    Ok(match kind.as_str() {
        "INTEGER" => Value::Number(row.try_get_unchecked::<i64, _>(index)?.into()),
        "REAL" => Number::from_f64(row.try_get_unchecked::<f64, _>(index)?).map_or(Value::Null, Value::Number),
        "BLOB" => Value::String(format!("<{} bytes>", row.try_get_unchecked::<Vec<u8>, _>(index)?.len())),
        _ => Value::String(row.try_get_unchecked::<String, _>(index)?),
    })
}
