//! Reading a dataset's examples as they were at a version.

use serde_json::Value;

use super::latest_revision_at;
use sea_query::{Alias, Cond, Expr, JoinType, Order, Query};

use crate::engine::backend::{decode_json_page, json_page, Row, Statement};
use crate::engine::dialect::Dialect;
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

/// An example as SQLite's JSON page holds it (see `examples_at`), fields in column order.
#[derive(serde::Deserialize)]
struct JsonExampleRow {
    id: i64,
    external_id: Option<String>,
    input: Value,
    output: Value,
    metadata: Value,
    updated_at: i64,
    span_rowid: Option<i64>,
    span_id: Option<String>,
}

impl From<JsonExampleRow> for ExampleRecord {
    fn from(row: JsonExampleRow) -> Self {
        let JsonExampleRow { id, external_id, input, output, metadata, updated_at, span_rowid, span_id } = row;
        ExampleRecord { id, external_id, input, output, metadata, updated_at, span: span_rowid.zip(span_id) }
    }
}

/// The select list of an example read from example `e`, revision `revision` and span `s`,
/// each column aliased `<prefix><name>` as [`ExampleRecord::from_row_prefixed`] reads it.
pub(crate) fn example_columns(d: Dialect, revision: &str, prefix: &str) -> String {
    format!(
        "e.id AS {prefix}id, e.external_id AS {prefix}external_id, {} AS {prefix}input, {} AS {prefix}output, \
         {} AS {prefix}metadata, {revision}.created_at AS {prefix}updated_at, s.id AS {prefix}span_rowid, s.span_id AS {prefix}span_id",
        d.json_text(&format!("{revision}.input")),
        d.json_text(&format!("{revision}.output")),
        d.json_text(&format!("{revision}.metadata")),
    )
}

impl ExampleRecord {
    pub(crate) fn from_row(row: &Row) -> Result<Self> {
        Self::from_row_prefixed(row, "")
    }

    /// The example whose columns are named `<prefix><name>` (see [`example_columns`]).
    pub(crate) fn from_row_prefixed(row: &Row, prefix: &str) -> Result<Self> {
        let name = |column: &str| format!("{prefix}{column}");
        Ok(ExampleRecord {
            id: row.get(name("id").as_str())?,
            external_id: row.get(name("external_id").as_str())?,
            input: serde_json::from_str(&row.get::<String, _>(name("input").as_str())?)?,
            output: serde_json::from_str(&row.get::<String, _>(name("output").as_str())?)?,
            metadata: serde_json::from_str(&row.get::<String, _>(name("metadata").as_str())?)?,
            updated_at: row.get(name("updated_at").as_str())?,
            span: match (row.get::<Option<i64>, _>(name("span_rowid").as_str())?, row.get::<Option<String>, _>(name("span_id").as_str())?) {
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
        let (e, r, s) = (Alias::new("e"), Alias::new("r"), Alias::new("s"));
        let mut select = Query::select();
        select
            .expr(Expr::cust(example_columns(d, "r", "")))
            .from_as(Alias::new("dataset_examples"), e.clone())
            .join_as(
                JoinType::InnerJoin,
                Alias::new("dataset_example_revisions"),
                r.clone(),
                Expr::col((r.clone(), Alias::new("dataset_example_id"))).equals((e.clone(), Alias::new("id"))),
            )
            .join_as(
                JoinType::LeftJoin,
                Alias::new("spans"),
                s.clone(),
                Expr::col((s, Alias::new("id"))).equals((e.clone(), Alias::new("span_rowid"))),
            )
            // The example's latest revision at the version (sea-query numbers a custom expression's
            // values only where it is written with the dialect's own placeholder).
            .and_where(Expr::cust_with_values(format!("r.id = {}", latest_revision_at("e.id", &d.placeholder(1))), [version_id]))
            .and_where(Expr::col((e.clone(), Alias::new("dataset_id"))).eq(dataset_id))
            .and_where(Expr::col((r, Alias::new("revision_kind"))).ne("DELETE"));
        if !split_ids.is_empty() || !split_names.is_empty() {
            let (m, sp) = (Alias::new("m"), Alias::new("sp"));
            let in_splits = Query::select()
                .column((m.clone(), Alias::new("dataset_example_id")))
                .from_as(Alias::new("dataset_splits_dataset_examples"), m.clone())
                .join_as(
                    JoinType::InnerJoin,
                    Alias::new("dataset_splits"),
                    sp.clone(),
                    Expr::col((sp.clone(), Alias::new("id"))).equals((m, Alias::new("dataset_split_id"))),
                )
                .cond_where(
                    Cond::any()
                        .add(Expr::col((sp.clone(), Alias::new("id"))).is_in(split_ids.iter().copied()))
                        .add(Expr::col((sp, Alias::new("name"))).is_in(split_names.iter().map(String::as_str))),
                )
                .to_owned();
            select.and_where(Expr::col((e.clone(), Alias::new("id"))).in_subquery(in_splits));
        }
        // PostgreSQL returns the rows in order; SQLite orders them in its JSON page.
        if limit.is_some() || d == Dialect::Postgres {
            select.order_by((e, Alias::new("id")), Order::Asc);
        }
        if let Some(limit) = limit {
            select.limit(limit as u64);
        }
        let statement = self.build(&select);
        match d {
            Dialect::Sqlite => {
                let columns = "id, external_id, json(input), json(output), json(metadata), updated_at, span_rowid, span_id";
                let rows = self.fetch_within_budget(json_page(statement, columns, Some("id"))).await?;
                Ok(decode_json_page::<JsonExampleRow>(&rows)?.into_iter().map(ExampleRecord::from).collect())
            }
            Dialect::Postgres => {
                let rows = self.fetch_within_budget(statement).await?;
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
