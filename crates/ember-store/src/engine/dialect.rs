//! The store's dialect is `ember_query::schema`'s (the one owner of SQL text that differs between
//! SQLite and PostgreSQL); here is only what the store's own reads add to it.

use ember_query::schema::{dotted_path, postgres_text_array, sqlite_json_path};
pub(crate) use ember_query::Dialect;
use ember_query::Segment;
use sea_query::{Expr, SimpleExpr};
use serde_json::Value;

/// A JSON document as the value of a JSON column in a sea-query statement (`JSONB` on
/// PostgreSQL, text on SQLite).
pub(crate) fn json_value(dialect: Dialect, value: &Value) -> SimpleExpr {
    Expr::cust_with_values(dialect.json_param(&dialect.placeholder(1)), [value.to_string()])
}

/// `spans.attributes` at the dotted `key` (all-digit segments index arrays) equals the JSON
/// `value`: strings, numbers, booleans and null compare as such, objects and arrays as JSON.
pub(crate) fn attribute_equals(dialect: Dialect, key: &str, value: &Value) -> SimpleExpr {
    let path = dotted_path(key);
    match dialect {
        Dialect::Sqlite => sqlite_attribute_equals(dialect.span_attributes_json(&path), &path, value),
        Dialect::Postgres => postgres_attribute_equals(&path, value),
    }
}

fn sqlite_attribute_equals(json: &str, path: &[Segment], value: &Value) -> SimpleExpr {
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
fn postgres_attribute_equals(path: &[Segment], value: &Value) -> SimpleExpr {
    let exact = Expr::cust_with_values(
        "(spans.attributes #> CAST($1 AS TEXT[])) = CAST($2 AS JSONB)",
        [sea_query::Value::from(postgres_text_array(path)), sea_query::Value::from(value.to_string())],
    );
    let mut keys = Vec::with_capacity(path.len());
    for segment in path {
        match segment {
            Segment::Key(key) => keys.push(key.clone()),
            Segment::Index(_) => return exact,
        }
    }
    let contained = keys.into_iter().rev().fold(value.clone(), |inner, key| Value::Object([(key, inner)].into_iter().collect()));
    Expr::cust_with_values("spans.attributes @> CAST($1 AS JSONB)", [contained.to_string()]).and(exact)
}
