//! Reading a dataset's examples as they were at a version.

use serde_json::Value;

use super::json_text;
use crate::backend::{Row, Statement};
use crate::dialect::Dialect;
use crate::error::Result;
use crate::Store;

/// An example as it was at a version.
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleRecord {
    pub id: i64,
    /// The caller's stable id, if the upload gave one.
    pub external_id: Option<String>,
    pub input: Value,
    pub output: Value,
    pub metadata: Value,
    /// When the revision read was written.
    pub updated_at: i64,
    /// The rowid and OpenTelemetry id of the span the example was made from, while it is stored.
    pub span: Option<(i64, String)>,
}

/// An example as SQLite's JSON row holds it (see `dataset_examples`).
type JsonExampleRow = (i64, Option<String>, Value, Value, Value, i64, Option<i64>, Option<String>);

impl From<JsonExampleRow> for ExampleRecord {
    fn from((id, external_id, input, output, metadata, updated_at, span_rowid, span_id): JsonExampleRow) -> Self {
        ExampleRecord { id, external_id, input, output, metadata, updated_at, span: span_rowid.zip(span_id) }
    }
}

impl ExampleRecord {
    fn from_row(row: &Row) -> Result<Self> {
        Ok(ExampleRecord {
            id: row.get(0)?,
            external_id: row.get(1)?,
            input: serde_json::from_str(&row.get::<String>(2)?)?,
            output: serde_json::from_str(&row.get::<String>(3)?)?,
            metadata: serde_json::from_str(&row.get::<String>(4)?)?,
            updated_at: row.get(5)?,
            span: match (row.get::<Option<i64>>(6)?, row.get::<Option<String>>(7)?) {
                (Some(rowid), Some(span_id)) => Some((rowid, span_id)),
                _ => None,
            },
        })
    }
}

impl Store {
    /// The dataset's examples alive at `version_id` (each at its latest revision at or before
    /// it), oldest first; with split ids or names, only the examples in one of those splits.
    pub async fn dataset_examples(
        &self,
        dataset_id: i64,
        version_id: i64,
        split_ids: &[i64],
        split_names: &[String],
    ) -> Result<Vec<ExampleRecord>> {
        let d = self.dialect;
        let mut sql = format!(
            "SELECT e.id AS id, e.external_id AS external_id, {} AS input, {} AS output, {} AS metadata, \
             r.created_at AS updated_at, s.id AS span_rowid, s.span_id AS span_id FROM dataset_examples AS e \
             JOIN dataset_example_revisions AS r ON r.id = (SELECT r2.id FROM dataset_example_revisions AS r2 \
             WHERE r2.dataset_example_id = e.id AND r2.dataset_version_id <= {} ORDER BY r2.dataset_version_id DESC LIMIT 1) \
             LEFT JOIN spans AS s ON s.id = e.span_rowid \
             WHERE e.dataset_id = {} AND r.revision_kind <> 'DELETE'",
            json_text(d, "r.input"),
            json_text(d, "r.output"),
            json_text(d, "r.metadata"),
            d.placeholder(1),
            d.placeholder(2)
        );
        let mut values: Vec<sea_query::Value> = vec![version_id.into(), dataset_id.into()];
        if !split_ids.is_empty() || !split_names.is_empty() {
            let placeholders = |first: usize, count: usize| (first..first + count).map(|n| d.placeholder(n)).collect::<Vec<_>>().join(", ");
            let ids = placeholders(values.len() + 1, split_ids.len());
            values.extend(split_ids.iter().map(|id| (*id).into()));
            let names = placeholders(values.len() + 1, split_names.len());
            values.extend(split_names.iter().map(|name| name.as_str().into()));
            sql.push_str(&format!(
                " AND e.id IN (SELECT m.dataset_example_id FROM dataset_splits_dataset_examples AS m \
                 JOIN dataset_splits AS sp ON sp.id = m.dataset_split_id WHERE sp.id IN ({}) OR sp.name IN ({}))",
                if ids.is_empty() { "NULL".to_string() } else { ids },
                if names.is_empty() { "NULL".to_string() } else { names }
            ));
        }
        match self.dialect {
            Dialect::Sqlite => {
                // sqlx hands SQLite rows over one at a time across threads, which costs more than
                // the query for a large dataset: SQLite returns the examples as one row of JSON.
                let sql = format!(
                    "SELECT json_group_array(json_array(id, external_id, json(input), json(output), json(metadata), \
                     updated_at, span_rowid, span_id) ORDER BY id) FROM ({sql})"
                );
                let rows = self.fetch_within_budget(Statement::new(sql, values)).await?;
                let page = rows.first().map(|row| row.get::<String>(0)).transpose()?.unwrap_or_else(|| "[]".into());
                Ok(serde_json::from_str::<Vec<JsonExampleRow>>(&page)?.into_iter().map(ExampleRecord::from).collect())
            }
            Dialect::Postgres => {
                sql.push_str(" ORDER BY e.id");
                let rows = self.fetch_within_budget(Statement::new(sql, values)).await?;
                rows.iter().map(ExampleRecord::from_row).collect()
            }
        }
    }
}
