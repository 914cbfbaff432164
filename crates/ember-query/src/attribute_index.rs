//! The attribute values kept in an index table, so equality filters on them find their spans
//! without reading every span's attributes.
//!
//! SQLite stores attributes compressed, so `metadata['customer_id'] == 'c-42'` would otherwise
//! decompress and parse every span of the project. ember-store keeps the short string values of
//! the attributes people filter on (every key under `metadata`, session and user ids, model and
//! tool names) in `span_attribute_values (path, value, span_rowid)`, filled at ingest from
//! [`indexed_values`]; for SQLite an equality whose candidate list is small is answered from
//! those rows alone, without reading a span's attributes, so the table must hold exactly the
//! spans the comparison selects.
//!
//! It does. A comparison `text form of the attribute == literal` is TRUE only when the literal
//! is that text form. A literal that does not read as a JSON number, boolean, object or array
//! can only be the text form of a JSON string (those are the other text forms), and every string
//! of at most [`MAX_INDEXED_VALUE_BYTES`] under an indexed path is in the table, under that path,
//! and nothing else is: rows are written with the span and rewritten with its metadata. Other
//! literals (`'42'`, `'true'`, longer ones) keep the plain comparison. Under a negation the
//! comparison stays too: there an absent attribute (NULL) and a missing row (FALSE) differ.

use serde_json::{Map, Value};

use crate::ast::{Path, Segment};
use crate::schema::sqlite_json_path;

/// Longer strings are not indexed (nor looked up).
pub const MAX_INDEXED_VALUE_BYTES: usize = 256;

/// Paths under `metadata` are indexed down to this many keys (`metadata.a.b.c`).
const MAX_METADATA_DEPTH: usize = 4;

/// Single attributes that filters commonly compare with a literal.
const INDEXED_PATHS: &[&[&str]] =
    &[&["session", "id"], &["user", "id"], &["llm", "model_name"], &["llm", "provider"], &["tool", "name"], &["embedding", "model_name"]];

fn is_indexed<'a>(keys: impl ExactSizeIterator<Item = &'a str> + Clone) -> bool {
    let depth = keys.len();
    if keys.clone().next() == Some("metadata") {
        return (2..=MAX_METADATA_DEPTH).contains(&depth);
    }
    INDEXED_PATHS.iter().any(|indexed| indexed.len() == depth && indexed.iter().copied().eq(keys.clone()))
}

/// The table's key for `path` and the value to look up, when an equality of `path` with
/// `literal` may use the index.
pub(crate) fn lookup(path: &Path, literal: &str) -> Option<String> {
    let keys: Option<Vec<&str>> = path
        .iter()
        .map(|segment| match segment {
            Segment::Key(key) => Some(key.as_str()),
            Segment::Index(_) => None,
        })
        .collect();
    let keys = keys?;
    let only_a_string_spells_it =
        !matches!(serde_json::from_str::<Value>(literal), Ok(Value::Number(_) | Value::Bool(_) | Value::Object(_) | Value::Array(_)));
    (is_indexed(keys.iter().copied()) && literal.len() <= MAX_INDEXED_VALUE_BYTES && only_a_string_spells_it)
        .then(|| sqlite_json_path(path))
}

/// Every (path key, value) of `attributes` the index holds: string values of indexed paths.
pub fn indexed_values(attributes: &Map<String, Value>) -> Vec<(String, &str)> {
    let mut entries = Vec::new();
    if let Some(Value::Object(metadata)) = attributes.get("metadata") {
        let mut keys = vec!["metadata".to_string()];
        collect_strings(metadata, &mut keys, &mut entries);
    }
    for indexed in INDEXED_PATHS {
        let mut value = attributes.get(indexed[0]);
        for key in &indexed[1..] {
            value = value.and_then(|v| v.get(key));
        }
        if let Some(Value::String(text)) = value {
            if text.len() <= MAX_INDEXED_VALUE_BYTES {
                entries.push((key_of(indexed.iter().copied()), text.as_str()));
            }
        }
    }
    entries
}

fn collect_strings<'a>(object: &'a Map<String, Value>, keys: &mut Vec<String>, entries: &mut Vec<(String, &'a str)>) {
    for (key, value) in object {
        keys.push(key.clone());
        match value {
            Value::String(text) if text.len() <= MAX_INDEXED_VALUE_BYTES => {
                entries.push((key_of(keys.iter().map(String::as_str)), text.as_str()));
            }
            Value::Object(inner) if keys.len() < MAX_METADATA_DEPTH => collect_strings(inner, keys, entries),
            _ => {}
        }
        keys.pop();
    }
}

fn key_of<'a>(keys: impl Iterator<Item = &'a str>) -> String {
    sqlite_json_path(&keys.map(|key| Segment::Key(key.to_string())).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path(keys: &[&str]) -> Path {
        keys.iter().map(|key| Segment::Key(key.to_string())).collect()
    }

    #[test]
    fn indexes_short_strings_under_metadata_and_the_listed_paths() {
        let attributes = json!({
            "metadata": {"customer_id": "c-42", "n": 3, "flag": true, "deep": {"a": {"b": "x", "c": {"too": "deep"}}}, "long": "y".repeat(300)},
            "session": {"id": "s-1"},
            "llm": {"model_name": "gpt-4o", "token_count": {"prompt": 3}},
            "input": {"value": "not indexed"},
        });
        let mut entries = indexed_values(attributes.as_object().unwrap());
        entries.sort();
        assert_eq!(
            entries,
            vec![
                (r#"$."llm"."model_name""#.to_string(), "gpt-4o"),
                (r#"$."metadata"."customer_id""#.to_string(), "c-42"),
                (r#"$."metadata"."deep"."a"."b""#.to_string(), "x"),
                (r#"$."session"."id""#.to_string(), "s-1"),
            ]
        );
    }

    #[test]
    fn looks_up_only_literals_that_only_a_string_can_spell() {
        let customer = path(&["metadata", "customer_id"]);
        assert_eq!(lookup(&customer, "c-42").as_deref(), Some(r#"$."metadata"."customer_id""#));
        assert_eq!(lookup(&customer, "null").as_deref(), Some(r#"$."metadata"."customer_id""#));
        for literal in ["42", " 4.5e3", "true", "false", "{\"a\": 1}", "[1]"] {
            assert_eq!(lookup(&customer, literal), None, "{literal}");
        }
        assert_eq!(lookup(&customer, &"y".repeat(MAX_INDEXED_VALUE_BYTES + 1)), None);
        assert_eq!(lookup(&path(&["input", "value"]), "x"), None);
        assert_eq!(lookup(&path(&["metadata"]), "x"), None);
        assert_eq!(lookup(&path(&["metadata", "a", "b", "c", "d"]), "x"), None);
        let mut indexed_array = path(&["metadata", "tags"]);
        indexed_array.push(Segment::Index(0));
        assert_eq!(lookup(&indexed_array, "x"), None);
    }
}
