//! The one owner of ember's physical schema as SQL text, shared by the filter compiler and the
//! store: the [`Dialect`] and what differs between SQLite and PostgreSQL (placeholders, JSON
//! columns read and written as text), the JSON-path encoders, the names of the SQL functions the
//! store registers on every SQLite connection, and the expressions that read a span's attributes.
//!
//! Attribute keys and path segments are always bound as values, never written into SQL text.

use std::fmt::Write;

use sea_query::{PostgresQueryBuilder, QueryBuilder, SqliteQueryBuilder};

use crate::ast::Segment;

/// Bytes counted for a span row beyond its content (ids, times, counters, row header).
pub const SPAN_ROW_ALLOWANCE: i64 = 64;

/// A span row's content bytes, as [`Dialect::span_bytes_sql`] counts them in SQL.
pub fn span_row_bytes(attributes: usize, events: usize, name: usize, status_message: usize, span_id: usize) -> i64 {
    (attributes + events + name + status_message + span_id) as i64 + SPAN_ROW_ALLOWANCE
}

/// The SQL dialect of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// SQL functions the store registers on every SQLite connection; the filter SQL calls them.
pub mod functions {
    /// `ember_json(attributes[, patch])`: stored span attributes (and a metadata patch, merged)
    /// as JSON text.
    pub const JSON: &str = "ember_json";
    /// `ember_attributes(attributes, patch)`: as `ember_json`, for reading whole spans.
    pub const ATTRIBUTES: &str = "ember_attributes";
    /// `ember_metadata(attributes)`: the stored `metadata` entry as `[]` or `[value]`.
    pub const METADATA: &str = "ember_metadata";
    /// `ember_json_icontains(attributes, patch, needle)`: whether the JSON text contains the
    /// needle, ignoring case (a cheap pre-test for `'x' in <attribute>`).
    pub const JSON_ICONTAINS: &str = "ember_json_icontains";
    /// `ember_icontains(text, needle)`: case-insensitive substring test.
    pub const ICONTAINS: &str = "ember_icontains";
    /// `ember_floor(real)`: floor, which SQLite lacks.
    pub const FLOOR: &str = "ember_floor";
    /// `ember_ln(real)`: the natural logarithm, which SQLite lacks.
    pub const LN: &str = "ember_ln";
}

/// SQLite: the metadata set on a span after ingestion (JSON text, NULL for none), which every read
/// of its attributes merges in.
pub const SQLITE_SPAN_METADATA_PATCH: &str = "(SELECT patch FROM span_metadata_patches WHERE span_rowid = spans.id)";

/// SQLite: a span's attributes as JSON text, metadata patch merged in
/// (`ember_json(spans.attributes, <SQLITE_SPAN_METADATA_PATCH>)`).
pub const SQLITE_SPAN_ATTRIBUTES_JSON: &str =
    "ember_json(spans.attributes, (SELECT patch FROM span_metadata_patches WHERE span_rowid = spans.id))";

/// SQLite: a span's attributes as JSON text without looking for a patch (paths a patch cannot
/// change).
pub const SQLITE_SPAN_ATTRIBUTES_UNPATCHED: &str = "ember_json(spans.attributes)";

/// SQLite: a span's attributes, patch merged, as whole-span reads decode them.
const SQLITE_SPAN_ATTRIBUTES_READ: &str =
    "ember_attributes(spans.attributes, (SELECT patch FROM span_metadata_patches WHERE span_rowid = spans.id))";

impl Dialect {
    pub fn query_builder(self) -> &'static dyn QueryBuilder {
        match self {
            Dialect::Sqlite => &SqliteQueryBuilder,
            Dialect::Postgres => &PostgresQueryBuilder,
        }
    }

    /// The `n`th (1-based) bind placeholder of a statement written as text. SQLite gets `?`:
    /// sqlx resolves numbered `$n` parameters by name, in time quadratic in their count.
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => "?".to_string(),
            Dialect::Postgres => format!("${n}"),
        }
    }

    /// `count` placeholders from the `first`th, comma-separated.
    pub fn placeholders(self, first: usize, count: usize) -> String {
        (first..first + count).map(|n| self.placeholder(n)).collect::<Vec<_>>().join(", ")
    }

    /// The `VALUES` list of a multi-row write: `rows` tuples of `columns`, where each column is a
    /// template with `?` standing for its value (`"?"`, `"CAST(? AS JSONB)"`), numbered in order
    /// from the `first`th placeholder.
    pub fn values_rows(self, first: usize, rows: usize, columns: &[&str]) -> String {
        let mut next = first;
        let mut text = String::with_capacity(rows * columns.len() * 4);
        for row in 0..rows {
            text.push_str(if row == 0 { "(" } else { ", (" });
            for (index, column) in columns.iter().enumerate() {
                if index > 0 {
                    text.push_str(", ");
                }
                let mut parts = column.split('?');
                text.push_str(parts.next().unwrap_or_default());
                for part in parts {
                    text.push_str(&self.placeholder(next));
                    next += 1;
                    text.push_str(part);
                }
            }
            text.push(')');
        }
        text
    }

    /// `rows` tuples of `width` plain placeholders numbered from 1: the `VALUES` list of a
    /// multi-row write whose columns take their values as they are.
    pub fn values_list(self, rows: usize, width: usize) -> String {
        match self {
            // The same tuple every time: built once and repeated.
            Dialect::Sqlite => {
                let tuple = format!("({})", vec!["?"; width].join(", "));
                vec![tuple; rows].join(", ")
            }
            Dialect::Postgres => self.values_rows(1, rows, &vec!["?"; width]),
        }
    }

    /// The column definition of a table's own integer id, numbered by the database.
    pub fn identity_primary_key(self) -> &'static str {
        match self {
            Dialect::Sqlite => "INTEGER PRIMARY KEY",
            Dialect::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        }
    }

    /// What ends a `SELECT` whose rows the transaction deletes next, so that rows another
    /// transaction is writing are passed over rather than waited for (PostgreSQL; SQLite's single
    /// writer never meets such rows).
    pub fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// The bytes a span row's content holds, in SQL over `spans` aliased `alias` (as
    /// [`span_row_bytes`] computes them at ingest): attributes as stored (SQLite's codec bytes,
    /// PostgreSQL's JSON text), events, names, id, and [`SPAN_ROW_ALLOWANCE`].
    pub fn span_bytes_sql(self, alias: &str) -> String {
        let attributes = match self {
            Dialect::Sqlite => format!("length({alias}.attributes)"),
            Dialect::Postgres => format!("octet_length(CAST({alias}.attributes AS TEXT))"),
        };
        format!(
            "({attributes} + length({alias}.events) + length({alias}.name) + length({alias}.status_message) + length({alias}.span_id) + {SPAN_ROW_ALLOWANCE})"
        )
    }

    /// A query answering the bytes the database's data uses: SQLite's pages less its free list,
    /// PostgreSQL's tables with their indexes and TOAST in the current schema.
    pub fn used_bytes_query(self) -> &'static str {
        match self {
            Dialect::Sqlite => {
                "SELECT (p.page_count - f.freelist_count) * s.page_size FROM pragma_page_count() AS p, pragma_freelist_count() AS f, \
                 pragma_page_size() AS s"
            }
            Dialect::Postgres => {
                "SELECT CAST(COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS BIGINT) FROM pg_class AS c \
                 JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')"
            }
        }
    }

    /// The natural logarithm of `expression`.
    pub fn natural_log(self, expression: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{}({expression})", functions::LN),
            Dialect::Postgres => format!("LN({expression})"),
        }
    }

    /// `FROM` items joined to a row whose JSON text column `json` maps names to embeddings, and
    /// the condition that goes with them: together they yield one row per number of the array at
    /// `<json>[<name>].vector`, as `element_row.value` at position `element_row.key`. `name` is a
    /// placeholder bound to the key (never SQL text).
    pub fn json_vector_elements(self, json: &str, name: &str) -> (String, String) {
        match self {
            Dialect::Sqlite => (
                format!("json_each({json}) AS named, json_each(named.value, '$.vector') AS element_row"),
                format!("named.key = {name}"),
            ),
            Dialect::Postgres => (
                format!(
                    "jsonb_array_elements_text(CAST({json} AS JSONB) -> CAST({name} AS TEXT) -> 'vector') WITH ORDINALITY AS element_row(value, key)"
                ),
                "TRUE".to_string(),
            ),
        }
    }

    /// The most values one statement may bind (SQLite's `SQLITE_MAX_VARIABLE_NUMBER` of the
    /// bundled build, PostgreSQL's 16-bit parameter count), with room to spare.
    pub fn max_bound_values(self) -> usize {
        match self {
            Dialect::Sqlite => 32_000,
            Dialect::Postgres => 65_000,
        }
    }

    /// A JSON column (`JSONB` on PostgreSQL, text on SQLite) read as JSON text.
    pub fn json_text(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => column.to_string(),
            Dialect::Postgres => format!("CAST({column} AS TEXT)"),
        }
    }

    /// A bind placeholder holding JSON text, as a value of a `JSONB` column.
    pub fn json_param(self, placeholder: &str) -> String {
        match self {
            Dialect::Sqlite => placeholder.to_string(),
            Dialect::Postgres => format!("CAST({placeholder} AS JSONB)"),
        }
    }

    /// A bind placeholder holding JSON text, as a value of a `JSON` column (PostgreSQL keeps its
    /// key order, which prompt templates need).
    pub fn ordered_json_param(self, placeholder: &str) -> String {
        match self {
            Dialect::Sqlite => placeholder.to_string(),
            Dialect::Postgres => format!("CAST({placeholder} AS JSON)"),
        }
    }

    /// A span's attributes (metadata patch merged on SQLite), as whole-span reads select them.
    pub fn span_attributes_column(self) -> &'static str {
        match self {
            Dialect::Sqlite => SQLITE_SPAN_ATTRIBUTES_READ,
            Dialect::Postgres => "CAST(spans.attributes AS TEXT)",
        }
    }

    /// A span's attributes as a JSON value the dialect's JSON functions read at `path`: on
    /// SQLite JSON text (with the metadata patch merged when the path can see it), on PostgreSQL
    /// the `JSONB` column.
    pub fn span_attributes_json(self, path: &[Segment]) -> &'static str {
        match self {
            Dialect::Sqlite if may_be_patched(path) => SQLITE_SPAN_ATTRIBUTES_JSON,
            Dialect::Sqlite => SQLITE_SPAN_ATTRIBUTES_UNPATCHED,
            Dialect::Postgres => "spans.attributes",
        }
    }
}

/// Whether an attribute path reads what a metadata patch may change: `metadata` and below, or
/// the whole attributes object.
pub fn may_be_patched(path: &[Segment]) -> bool {
    match path.first() {
        None => true,
        Some(Segment::Key(key)) => key == "metadata",
        Some(Segment::Index(_)) => false,
    }
}

/// A dotted attribute key (`metadata.tags.0`) as a path: all-digit segments index arrays.
pub fn dotted_path(key: &str) -> Vec<Segment> {
    key.split('.')
        .map(|segment| match segment.parse::<i64>() {
            Ok(index) if index >= 0 && segment.bytes().all(|b| b.is_ascii_digit()) && segment.len() < 10 => Segment::Index(index),
            _ => Segment::Key(segment.to_string()),
        })
        .collect()
}

/// A JSON path for SQLite's JSON functions: `$."a"."b"[0]`, keys quoted with `\` and `"` escaped.
pub fn sqlite_json_path(path: &[Segment]) -> String {
    let mut text = String::from("$");
    for segment in path {
        match segment {
            Segment::Key(key) => {
                let _ = write!(text, ".\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""));
            }
            Segment::Index(index) => {
                let _ = write!(text, "[{index}]");
            }
        }
    }
    text
}

/// A path for PostgreSQL's `#>`: a text-array literal, `{"a","b","0"}`.
pub fn postgres_text_array(path: &[Segment]) -> String {
    let quoted: Vec<String> = path
        .iter()
        .map(|segment| match segment {
            Segment::Key(key) => format!("\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\"")),
            Segment::Index(index) => format!("\"{index}\""),
        })
        .collect();
    format!("{{{}}}", quoted.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_quote_keys_and_index_arrays_the_same_way_everywhere() {
        let path = dotted_path("metadata.a\"b\\.0");
        assert_eq!(path, [Segment::Key("metadata".into()), Segment::Key("a\"b\\".into()), Segment::Index(0)]);
        assert_eq!(sqlite_json_path(&path), r#"$."metadata"."a\"b\\"[0]"#);
        assert_eq!(postgres_text_array(&path), r#"{"metadata","a\"b\\","0"}"#);
        assert_eq!(
            dotted_path("a.-1.0123456789"),
            [Segment::Key("a".into()), Segment::Key("-1".into()), Segment::Key("0123456789".into())]
        );
    }

    #[test]
    fn values_rows_number_every_placeholder_once_in_order() {
        let columns = ["?", "CAST(? AS JSONB)"];
        assert_eq!(Dialect::Postgres.values_rows(3, 2, &columns), "($3, CAST($4 AS JSONB)), ($5, CAST($6 AS JSONB))");
        assert_eq!(Dialect::Sqlite.values_rows(3, 2, &columns), "(?, CAST(? AS JSONB)), (?, CAST(? AS JSONB))");
        assert_eq!(Dialect::Postgres.placeholders(2, 3), "$2, $3, $4");
        assert_eq!(Dialect::Postgres.values_list(2, 2), "($1, $2), ($3, $4)");
        assert_eq!(Dialect::Sqlite.values_list(2, 2), "(?, ?), (?, ?)");
    }

    #[test]
    fn the_attribute_expressions_call_the_registered_functions() {
        assert!(SQLITE_SPAN_ATTRIBUTES_JSON.starts_with(&format!("{}(spans.attributes, ", functions::JSON)));
        assert!(SQLITE_SPAN_ATTRIBUTES_JSON.contains(SQLITE_SPAN_METADATA_PATCH));
        assert_eq!(SQLITE_SPAN_ATTRIBUTES_UNPATCHED, format!("{}(spans.attributes)", functions::JSON));
        assert!(SQLITE_SPAN_ATTRIBUTES_READ.starts_with(&format!("{}(spans.attributes, ", functions::ATTRIBUTES)));
        assert!(SQLITE_SPAN_ATTRIBUTES_READ.contains(SQLITE_SPAN_METADATA_PATCH));
    }
}
