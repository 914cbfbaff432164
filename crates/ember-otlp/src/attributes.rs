//! Attribute conversions: OTLP `AnyValue` to JSON, Phoenix's unflatten rules (dotted keys to a
//! nested object), and flattening back to dotted keys for the REST API.

use std::collections::{BTreeMap, HashMap};

use ember_core::semconv::JSON_STRING_SUFFIXES;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use serde_json::{Map, Number, Value};

/// Converts an OTLP value to JSON, moving its strings. Non-finite doubles become `null` (JSON
/// cannot hold them); bytes become lowercase hex.
pub fn any_value_to_json(value: AnyValue) -> Value {
    match value.value {
        None => Value::Null,
        Some(any_value::Value::StringValue(text)) => Value::String(text),
        Some(any_value::Value::BoolValue(flag)) => Value::Bool(flag),
        Some(any_value::Value::IntValue(int)) => Value::Number(int.into()),
        Some(any_value::Value::DoubleValue(double)) => Number::from_f64(double).map_or(Value::Null, Value::Number),
        Some(any_value::Value::ArrayValue(array)) => Value::Array(array.values.into_iter().map(any_value_to_json).collect()),
        Some(any_value::Value::KvlistValue(list)) => {
            Value::Object(list.values.into_iter().map(|kv| (kv.key, kv.value.map_or(Value::Null, any_value_to_json))).collect())
        }
        Some(any_value::Value::BytesValue(bytes)) => Value::String(hex::encode(bytes)),
        Some(any_value::Value::StringValueStrindex(_)) => Value::Null,
    }
}

/// Decodes OTLP key-values into flat `(key, value)` pairs with the JSON-string attributes parsed.
pub fn decode_key_values(attributes: Vec<KeyValue>) -> Vec<(String, Value)> {
    parse_json_string_attributes(attributes.into_iter().map(|kv| (kv.key, kv.value.map_or(Value::Null, any_value_to_json))).collect())
}

/// Parses the JSON-string attributes Phoenix parses (`metadata`, `tool.parameters`, ...): kept
/// as text when not valid JSON, dropped when they hold JSON `null`.
pub fn parse_json_string_attributes(flat: Vec<(String, Value)>) -> Vec<(String, Value)> {
    flat.into_iter()
        .filter_map(|(key, value)| match value {
            Value::String(text) if JSON_STRING_SUFFIXES.iter().any(|suffix| key.ends_with(suffix)) => {
                match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Null) => None,
                    Ok(parsed) => Some((key, parsed)),
                    Err(_) => Some((key, Value::String(text))),
                }
            }
            other => Some((key, other)),
        })
        .collect()
}

/// A node with more named children than this finds them through a hash index, so unflattening
/// stays linear in the number of keys; fewer are scanned (cheaper for OpenInference's shapes).
const INDEXED_CHILDREN: usize = 8;

#[derive(Default)]
struct Node {
    value: Option<Value>,
    /// Named children in first-seen order.
    named: Vec<(String, Node)>,
    /// Positions in `named` by name, once there are more than [`INDEXED_CHILDREN`].
    positions: Option<HashMap<String, usize>>,
    /// Array children by index (a numeric segment followed by more segments).
    indexed: BTreeMap<u64, Node>,
}

impl Node {
    fn named_child(&mut self, segment: &str) -> &mut Node {
        let found = match &self.positions {
            Some(positions) => positions.get(segment).copied(),
            None => self.named.iter().position(|(name, _)| name == segment),
        };
        let position = match found {
            Some(position) => position,
            None => {
                self.named.push((segment.to_string(), Node::default()));
                let position = self.named.len() - 1;
                match &mut self.positions {
                    Some(positions) => {
                        positions.insert(segment.to_string(), position);
                    }
                    None if self.named.len() > INDEXED_CHILDREN => {
                        self.positions =
                            Some(self.named.iter().enumerate().map(|(position, (name, _))| (name.clone(), position)).collect());
                    }
                    None => {}
                }
                position
            }
        };
        &mut self.named[position].1
    }

    fn has_children(&self) -> bool {
        !self.named.is_empty() || !self.indexed.is_empty()
    }

    /// The node's children as JSON: an array when indexed, else an object.
    fn children_to_json(self) -> Value {
        if !self.indexed.is_empty() {
            // Index gaps collapse: elements keep the order of their indices.
            return Value::Array(self.indexed.into_values().map(Node::into_json).collect());
        }
        let mut object = Map::new();
        for (name, child) in self.named {
            child.insert_into(&mut object, name);
        }
        Value::Object(object)
    }

    /// An array element: its children when it has any (a value beside children has no slot in
    /// an array element and is dropped), else its value.
    fn into_json(self) -> Value {
        if self.has_children() {
            Node { value: None, ..self }.children_to_json()
        } else {
            self.value.unwrap_or(Value::Null)
        }
    }

    /// Inserts this node under `key`. A node that is both a value and a prefix keeps the value
    /// at `key` and puts its children beside it as dotted keys (`{"a": v, "a.b": w}`).
    fn insert_into(self, object: &mut Map<String, Value>, key: String) {
        match self.value {
            Some(value) if self.has_children() => {
                object.insert(key.clone(), value);
                let children = Node { value: None, named: self.named, positions: None, indexed: self.indexed };
                if let Value::Object(map) = children.children_to_json() {
                    for (child_key, child_value) in map {
                        object.insert(format!("{key}.{child_key}"), child_value);
                    }
                }
            }
            Some(value) => {
                object.insert(key, value);
            }
            None => {
                object.insert(key, self.children_to_json());
            }
        }
    }
}

/// Keys with more segments are kept whole: OpenInference keys have about ten, and unflattening
/// recurses once per segment.
pub const MAX_KEY_SEGMENTS: usize = 32;

/// The most attributes a span may carry (OpenTelemetry SDKs keep 128 by default).
pub const MAX_ATTRIBUTES: usize = 10_000;

/// Why a span's attributes are refused before they are unflattened (`None`: they are not).
pub fn too_many_attributes(count: usize) -> Option<String> {
    (count > MAX_ATTRIBUTES).then(|| format!("it has {count} attributes; at most {MAX_ATTRIBUTES} are accepted"))
}

fn numeric_segment(segment: &str) -> Option<u64> {
    if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    segment.parse().ok()
}

/// Unflattens dotted keys into a nested object with Phoenix's rules: segments are trimmed and
/// empty ones ignored; a numeric segment followed by more segments is an array index, a
/// terminal numeric segment is an object key; leading zeros are normalised; `null` values are
/// skipped; the last write wins. Linear in the number of keys.
pub fn unflatten(flat: impl IntoIterator<Item = (String, Value)>) -> Map<String, Value> {
    let mut root = Node::default();
    for (key, value) in flat {
        if value.is_null() {
            continue;
        }
        // Walked twice (counted, then followed) rather than collected: this runs for every
        // attribute of every span ingested.
        let segments = || key.split('.').map(str::trim).filter(|s| !s.is_empty());
        let count = segments().count();
        if count == 0 {
            continue;
        }
        let mut node = &mut root;
        if count > MAX_KEY_SEGMENTS {
            node = node.named_child(&key);
        } else {
            for (position, segment) in segments().enumerate() {
                node = match numeric_segment(segment) {
                    Some(index) if position + 1 < count => node.indexed.entry(index).or_default(),
                    Some(index) => node.named_child(&index.to_string()),
                    None => node.named_child(segment),
                };
            }
        }
        node.value = Some(value);
    }
    let mut object = Map::new();
    for (name, child) in root.named {
        child.insert_into(&mut object, name);
    }
    // Indexed children at the top level have no name to hang from; keep them as dotted keys.
    for (index, child) in root.indexed {
        object.insert(index.to_string(), child.into_json());
    }
    object
}

/// Flattens nested attributes to dotted keys as the Phoenix REST API returns them: objects
/// recurse, arrays of objects recurse with index segments, other arrays stay whole.
pub fn flatten(attributes: &Map<String, Value>) -> Map<String, Value> {
    let mut flat = Map::new();
    let _ = try_for_each_flat::<()>(attributes, |key, value| {
        flat.insert(key.to_string(), value.clone());
        Ok(())
    });
    flat
}

/// Visits every `(dotted key, value)` of the flattened attributes without building them,
/// stopping at the first error of `visit`.
pub fn try_for_each_flat<E>(attributes: &Map<String, Value>, mut visit: impl FnMut(&str, &Value) -> Result<(), E>) -> Result<(), E> {
    fn walk<E>(key: &mut String, value: &Value, visit: &mut impl FnMut(&str, &Value) -> Result<(), E>) -> Result<(), E> {
        let length = key.len();
        match value {
            Value::Object(object) if !object.is_empty() => {
                for (child_key, child) in object {
                    key.push('.');
                    key.push_str(child_key);
                    walk(key, child, visit)?;
                    key.truncate(length);
                }
            }
            Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
                for (index, child) in items.iter().enumerate() {
                    key.push('.');
                    key.push_str(&index.to_string());
                    walk(key, child, visit)?;
                    key.truncate(length);
                }
            }
            other => visit(key, other)?,
        }
        Ok(())
    }
    let mut key = String::with_capacity(64);
    for (top, value) in attributes {
        key.clear();
        key.push_str(top);
        walk(&mut key, value, &mut visit)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn unflat(pairs: &[(&str, Value)]) -> Value {
        Value::Object(unflatten(pairs.iter().map(|(k, v)| (k.to_string(), v.clone()))))
    }

    #[test]
    fn numeric_segments_followed_by_more_segments_become_arrays() {
        let nested = unflat(&[
            ("retrieval.documents.1.document.id", json!("b")),
            ("retrieval.documents.0.document.id", json!("a")),
            ("retrieval.documents.0.document.score", json!(0.5)),
        ]);
        assert_eq!(nested, json!({"retrieval": {"documents": [{"document": {"id": "a", "score": 0.5}}, {"document": {"id": "b"}}]}}));
    }

    #[test]
    fn terminal_numeric_segments_are_keys_and_leading_zeros_normalise() {
        assert_eq!(unflat(&[("tags.0", json!("x")), ("tags.01", json!("y"))]), json!({"tags": {"0": "x", "1": "y"}}));
    }

    #[test]
    fn index_gaps_collapse_in_index_order() {
        assert_eq!(unflat(&[("a.7.b", json!(2)), ("a.3.b", json!(1))]), json!({"a": [{"b": 1}, {"b": 2}]}));
    }

    #[test]
    fn value_and_prefix_keeps_both() {
        assert_eq!(unflat(&[("a", json!(1)), ("a.b", json!(2))]), json!({"a": 1, "a.b": 2}));
    }

    #[test]
    fn nulls_and_empty_segments_are_skipped_last_write_wins() {
        assert_eq!(unflat(&[("a..b ", json!(1)), ("c", Value::Null), ("a.b", json!(3))]), json!({"a": {"b": 3}}));
    }

    /// D3: 100k sibling keys (at the top and under one prefix) keep their order and values; this
    /// took minutes when siblings were found by a linear scan.
    #[test]
    fn many_sibling_keys_unflatten_in_linear_time_in_first_seen_order() {
        let count = 100_000;
        let flat = (0..count).flat_map(|i| [(format!("k{i}"), json!(i)), (format!("p.k{i}"), json!(i))]);
        let nested = unflatten(flat);
        assert_eq!(nested.len(), count + 1);
        assert_eq!(nested.keys().take(3).collect::<Vec<_>>(), ["k0", "p", "k1"]);
        let under = nested["p"].as_object().unwrap();
        assert_eq!(under.len(), count);
        assert_eq!((under.keys().next_back().map(String::as_str), &under["k99999"]), (Some("k99999"), &json!(99_999)));
        // Re-writing a key late (past the indexing threshold) still lands on the first slot.
        let rewritten = unflatten((0..20).map(|i| (format!("k{i}"), json!(i))).chain([("k3".to_string(), json!("last"))]));
        assert_eq!((rewritten.len(), &rewritten["k3"]), (20, &json!("last")));
    }

    #[test]
    fn attribute_counts_past_the_cap_are_named() {
        assert_eq!(too_many_attributes(MAX_ATTRIBUTES), None);
        assert_eq!(too_many_attributes(MAX_ATTRIBUTES + 1).unwrap(), "it has 10001 attributes; at most 10000 are accepted");
    }

    #[test]
    fn very_long_keys_are_kept_whole_instead_of_recursing() {
        let key = "a.".repeat(100_000) + "b";
        let nested = unflatten([(key.clone(), json!(1))]);
        assert_eq!(nested.get(&key), Some(&json!(1)));
    }

    #[test]
    fn flatten_recurses_objects_and_object_arrays_only() {
        let nested = json!({"llm": {"input_messages": [{"message": {"role": "user"}}], "model_name": "m"}, "tag": {"tags": ["a", "b"]}, "metadata": {}});
        let flat = flatten(nested.as_object().unwrap());
        assert_eq!(
            Value::Object(flat),
            json!({"llm.input_messages.0.message.role": "user", "llm.model_name": "m", "tag.tags": ["a", "b"], "metadata": {}})
        );
    }

    #[test]
    fn json_string_attributes_are_parsed() {
        let string = |s: &str| Some(AnyValue { value: Some(any_value::Value::StringValue(s.into())) });
        let pairs = decode_key_values(vec![
            KeyValue { key: "metadata".into(), value: string(r#"{"env":"prod"}"#), ..Default::default() },
            KeyValue { key: "tool.parameters".into(), value: string("not json"), ..Default::default() },
            KeyValue { key: "llm.prompt_template.variables".into(), value: string("null"), ..Default::default() },
            KeyValue { key: "llm.invocation_parameters".into(), value: string(r#"{"t":1}"#), ..Default::default() },
        ]);
        assert_eq!(
            pairs,
            vec![
                ("metadata".to_string(), json!({"env": "prod"})),
                ("tool.parameters".to_string(), json!("not json")),
                ("llm.invocation_parameters".to_string(), json!(r#"{"t":1}"#)),
            ]
        );
    }
}
