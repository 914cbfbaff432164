//! Reading a dataset's examples as they were at a version.

use serde_json::Value;

use super::{json_text, latest_revision_at};
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

/// The select list of an example read from example `e`, revision `revision` and span `s`, in
/// the order [`ExampleRecord::from_row`] reads it.
pub(crate) fn example_columns(d: Dialect, revision: &str) -> String {
    format!(
        "e.id AS id, e.external_id AS external_id, {} AS input, {} AS output, {} AS metadata, \
         {revision}.created_at AS updated_at, s.id AS span_rowid, s.span_id AS span_id",
        json_text(d, &format!("{revision}.input")),
        json_text(d, &format!("{revision}.output")),
        json_text(d, &format!("{revision}.metadata")),
    )
}

impl ExampleRecord {
    pub(crate) fn from_row(row: &Row) -> Result<Self> {
        Self::from_row_at(row, 0)
    }

    /// The example whose columns start at `first`.
    pub(crate) fn from_row_at(row: &Row, first: usize) -> Result<Self> {
        Ok(ExampleRecord {
            id: row.get(first)?,
            external_id: row.get(first + 1)?,
            input: serde_json::from_str(&row.get::<String>(first + 2)?)?,
            output: serde_json::from_str(&row.get::<String>(first + 3)?)?,
            metadata: serde_json::from_str(&row.get::<String>(first + 4)?)?,
            updated_at: row.get(first + 5)?,
            span: match (row.get::<Option<i64>>(first + 6)?, row.get::<Option<String>>(first + 7)?) {
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
        self.examples_at(dataset_id, version_id, split_ids, split_names, None).await
    }

    /// The first `limit` of [`Store::dataset_examples`], for a page that shows a few.
    pub async fn first_dataset_examples(
        &self,
        dataset_id: i64,
        version_id: i64,
        split_names: &[String],
        limit: usize,
    ) -> Result<Vec<ExampleRecord>> {
        self.examples_at(dataset_id, version_id, &[], split_names, Some(limit)).await
    }

    async fn examples_at(
        &self,
        dataset_id: i64,
        version_id: i64,
        split_ids: &[i64],
        split_names: &[String],
        limit: Option<usize>,
    ) -> Result<Vec<ExampleRecord>> {
        let d = self.dialect;
        let mut sql = format!(
            "SELECT {} FROM dataset_examples AS e JOIN dataset_example_revisions AS r ON r.id = {} \
             LEFT JOIN spans AS s ON s.id = e.span_rowid WHERE e.dataset_id = {} AND r.revision_kind <> 'DELETE'",
            example_columns(d, "r"),
            latest_revision_at("e.id", &d.placeholder(1)),
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
        if let Some(limit) = limit {
            sql.push_str(&format!(" ORDER BY e.id LIMIT {limit}"));
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
                if limit.is_none() {
                    sql.push_str(" ORDER BY e.id");
                }
                let rows = self.fetch_within_budget(Statement::new(sql, values)).await?;
                rows.iter().map(ExampleRecord::from_row).collect()
            }
        }
    }

    /// The id of the dataset's example with this caller-given id.
    pub async fn dataset_example_id_by_external_id(&self, dataset_id: i64, external_id: &str) -> Result<Option<i64>> {
        let row = self
            .reader
            .exec()
            .fetch_optional(Statement::new(
                "SELECT id FROM dataset_examples WHERE dataset_id = $1 AND external_id = $2",
                [dataset_id.into(), external_id.into()],
            ))
            .await?;
        row.map(|row| row.get(0)).transpose()
    }
}
