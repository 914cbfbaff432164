//! Metadata set on spans after ingestion. On SQLite it is kept apart from the stored attributes
//! (table `span_metadata_patches`: one JSON object of keys per span) and merged over them
//! wherever attributes are read, so a bulk update never rewrites the spans themselves.

use serde_json::{Map, Value};

/// Sets each key of `patch` in `attributes.metadata`, creating the object when absent. A
/// `metadata` that is not an object is left alone: updates refuse such spans.
pub(crate) fn apply(attributes: &mut Map<String, Value>, patch: &Map<String, Value>) {
    if let Value::Object(metadata) = attributes.entry("metadata").or_insert_with(|| Value::Object(Map::new())) {
        for (key, value) in patch {
            metadata.insert(key.clone(), value.clone());
        }
    }
}

/// The `metadata` entry of an attributes JSON text, skipping the rest unparsed: `[]` when there
/// is none, `[value]` otherwise (JSON null included), as JSON text.
pub(crate) fn metadata_entry(attributes: &str) -> serde_json::Result<String> {
    #[derive(serde::Deserialize)]
    struct MetadataOnly {
        #[serde(default, deserialize_with = "present")]
        metadata: Option<Value>,
    }
    /// A present key is `Some`, even when its value is JSON null.
    fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
        serde::Deserialize::deserialize(deserializer).map(Some)
    }
    let entry: Vec<Value> = serde_json::from_str::<MetadataOnly>(attributes)?.metadata.into_iter().collect();
    serde_json::to_string(&entry)
}

/// The attributes JSON text `attributes` with the patch JSON text `patch` applied.
pub(crate) fn merge(attributes: &str, patch: &str) -> serde_json::Result<String> {
    let mut merged: Map<String, Value> = serde_json::from_str(attributes)?;
    apply(&mut merged, &serde_json::from_str(patch)?);
    serde_json::to_string(&merged)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn patched_keys_replace_stored_ones_and_others_stay() {
        let merged = merge(r#"{"a":1,"metadata":{"x":"old","y":2}}"#, r#"{"x":"new","z":null}"#).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&merged).unwrap(), json!({"a": 1, "metadata": {"x": "new", "y": 2, "z": null}}));
    }

    #[test]
    fn a_span_without_metadata_gets_the_patch_as_its_metadata() {
        let merged = merge(r#"{"a":1}"#, r#"{"x":true}"#).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&merged).unwrap(), json!({"a": 1, "metadata": {"x": true}}));
    }

    #[test]
    fn the_metadata_entry_tells_absent_from_null() {
        assert_eq!(metadata_entry(r#"{"a":{"metadata":1},"metadata":{"x":[1]}}"#).unwrap(), r#"[{"x":[1]}]"#);
        assert_eq!(metadata_entry(r#"{"metadata":null}"#).unwrap(), "[null]");
        assert_eq!(metadata_entry(r#"{"a":"metadata"}"#).unwrap(), "[]");
    }

    #[test]
    fn metadata_that_is_not_an_object_is_left_alone() {
        let merged = merge(r#"{"metadata":"text"}"#, r#"{"x":1}"#).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&merged).unwrap(), json!({"metadata": "text"}));
    }
}
