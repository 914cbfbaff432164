//! What differs in SQL text between SQLite and PostgreSQL, in one place.

use ember_query::SQLITE_SPAN_ATTRIBUTES_JSON;
use sea_query::{PostgresQueryBuilder, QueryBuilder, SimpleExpr, SqliteQueryBuilder};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub(crate) fn query_builder(self) -> &'static dyn QueryBuilder {
        match self {
            Dialect::Sqlite => &SqliteQueryBuilder,
            Dialect::Postgres => &PostgresQueryBuilder,
        }
    }

    /// The filter compiler's name for this dialect.
    pub(crate) fn query(self) -> ember_query::Dialect {
        match self {
            Dialect::Sqlite => ember_query::Dialect::Sqlite,
            Dialect::Postgres => ember_query::Dialect::Postgres,
        }
    }

    /// The `n`th (1-based) bind placeholder of a long statement. SQLite gets anonymous `?`: sqlx
    /// resolves numbered `$n` parameters by name, which is quadratic in the parameter count.
    pub(crate) fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => "?".to_string(),
            Dialect::Postgres => format!("${n}"),
        }
    }

    /// The attributes column as [`crate::backend::Row::attributes_json`] reads it.
    pub(crate) fn attributes_column(self) -> &'static str {
        match self {
            // Metadata patches live apart from the spans on SQLite (see `metadata_patch`).
            Dialect::Sqlite => "ember_attributes(spans.attributes, (SELECT patch FROM span_metadata_patches WHERE span_rowid = spans.id))",
            Dialect::Postgres => "CAST(spans.attributes AS TEXT)",
        }
    }

    /// `spans.attributes` at `path` equals the JSON `value` (strings, numbers, booleans, null;
    /// objects and arrays compare as JSON).
    pub(crate) fn attribute_equals(self, path: &[String], value: &Value) -> SimpleExpr {
        match self {
            Dialect::Sqlite => sqlite_attribute_equals(path, value),
            Dialect::Postgres => postgres_attribute_equals(path, value),
        }
    }
}

/// A JSON path for SQLite's `json_extract`: `$."a"."b"[0]`.
fn sqlite_json_path(segments: &[String]) -> String {
    let mut path = String::from("$");
    for segment in segments {
        if is_array_index(segment) {
            path.push_str(&format!("[{segment}]"));
        } else {
            path.push_str(&format!(".\"{}\"", segment.replace('"', "\\\"")));
        }
    }
    path
}

fn is_array_index(segment: &str) -> bool {
    !segment.is_empty() && segment.len() < 10 && segment.bytes().all(|b| b.is_ascii_digit())
}

fn sqlite_attribute_equals(path: &[String], value: &Value) -> SimpleExpr {
    use sea_query::Expr;
    // Only `metadata` can have a patch to merge (see `metadata_patch`).
    let json = if path.first().is_none_or(|key| key == "metadata") { SQLITE_SPAN_ATTRIBUTES_JSON } else { "ember_json(spans.attributes)" };
    let path = sqlite_json_path(path);
    match value {
        Value::Bool(flag) => {
            Expr::cust_with_values(format!("json_type({json}, ?) = ?"), [path, if *flag { "true" } else { "false" }.to_string()])
        }
        Value::Null => Expr::cust_with_values(format!("json_type({json}, ?) = 'null'"), [path]),
        Value::Number(number) => match number.as_i64() {
            Some(int) => Expr::cust_with_values(format!("json_extract({json}, ?) = ?"), [sea_query::Value::from(path), int.into()]),
            None => Expr::cust_with_values(
                format!("json_extract({json}, ?) = ?"),
                [sea_query::Value::from(path), number.as_f64().unwrap_or(f64::NAN).into()],
            ),
        },
        Value::String(text) => Expr::cust_with_values(format!("json_extract({json}, ?) = ?"), [path, text.clone()]),
        other => Expr::cust_with_values(format!("json_extract({json}, ?) = json(?)"), [path, other.to_string()]),
    }
}

/// `attributes #> path = value` is exact; when the path has no array index, the equivalent
/// containment test `attributes @> {"a":{"b":value}}` is added so the GIN index can find the rows.
fn postgres_attribute_equals(path: &[String], value: &Value) -> SimpleExpr {
    use sea_query::Expr;
    let exact = Expr::cust_with_values(
        "(spans.attributes #> CAST($1 AS TEXT[])) = CAST($2 AS JSONB)",
        [sea_query::Value::from(postgres_text_array(path)), sea_query::Value::from(value.to_string())],
    );
    if path.iter().any(|segment| is_array_index(segment)) {
        return exact;
    }
    let contained = path.iter().rev().fold(value.clone(), |inner, key| {
        let mut object = serde_json::Map::new();
        object.insert(key.clone(), inner);
        Value::Object(object)
    });
    Expr::cust_with_values("spans.attributes @> CAST($1 AS JSONB)", [contained.to_string()]).and(exact)
}

/// A PostgreSQL array literal of text: `{"a","b"}`.
fn postgres_text_array(segments: &[String]) -> String {
    let quoted: Vec<String> = segments.iter().map(|s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))).collect();
    format!("{{{}}}", quoted.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths_quote_keys_and_index_arrays() {
        let path = sqlite_json_path(&["metadata".into(), "a\"b".into(), "0".into()]);
        assert_eq!(path, r#"$."metadata"."a\"b"[0]"#);
        assert_eq!(postgres_text_array(&["metadata".into(), "a\"b\\".into(), "0".into()]), r#"{"metadata","a\"b\\","0"}"#);
    }
}
