//! What a filter editor offers as completions for a project: the attribute keys and annotation
//! names seen on its newest spans, and the names of the annotation configs offered in it. The
//! cost is bounded whatever the project's size: one page of spans and their annotations.

use std::collections::BTreeSet;

use ember_core::AnnotationTarget;
use ember_store::SpanFilters;
use serde_json::{Map, Value};

use crate::error::Result;
use crate::projects::ProjectRef;
use crate::spans::Spans;
use crate::Caller;

/// How many of the newest spans the vocabulary is read from.
const SAMPLE_SPANS: usize = 100;
/// At most this many attribute keys (the rest are left out).
const MAX_KEYS: usize = 400;
/// Keys nested deeper than this are offered at this depth.
const MAX_DEPTH: usize = 6;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterVocabulary {
    /// Dotted attribute keys (`llm.model_name`), sorted; lists stop at the list's own key.
    pub attribute_keys: Vec<String>,
    /// Annotation names, sorted.
    pub annotation_names: Vec<String>,
}

/// Adds the dotted keys under `prefix` to `keys`: a leaf, a list, or an object keyed by
/// positions (a flattened list) ends a key.
fn collect_keys(prefix: &str, map: &Map<String, Value>, depth: usize, keys: &mut BTreeSet<String>) {
    for (key, value) in map {
        if keys.len() >= MAX_KEYS {
            return;
        }
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            Value::Object(inner) if depth < MAX_DEPTH && !inner.keys().any(|k| k.parse::<u64>().is_ok()) => {
                collect_keys(&path, inner, depth + 1, keys)
            }
            _ => {
                keys.insert(path);
            }
        }
    }
}

impl Spans<'_> {
    /// The completions a filter editor offers for `project` (see the module's contract).
    pub async fn filter_vocabulary(&self, caller: &Caller, project: ProjectRef<'_>) -> Result<FilterVocabulary> {
        let newest = self.list(caller, project, &SpanFilters::default(), None, SAMPLE_SPANS).await?.items;
        let mut keys = BTreeSet::new();
        for record in &newest {
            collect_keys("", &record.span.attributes, 1, &mut keys);
        }
        let services = self.services;
        let span_ids = newest.iter().map(|record| record.span.span_id.clone()).collect();
        let annotations = services.annotations().of_targets(caller, AnnotationTarget::Span, project, span_ids, SAMPLE_SPANS * 5).await?;
        let configs = services.annotation_configs().offered(caller, project, 200).await?;
        let names: BTreeSet<String> = annotations
            .into_iter()
            .map(|annotation| annotation.name)
            .filter(|name| name != crate::annotations::NOTE_NAME)
            .chain(configs.into_iter().map(|config| config.name))
            .collect();
        Ok(FilterVocabulary { attribute_keys: keys.into_iter().collect(), annotation_names: names.into_iter().collect() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_dotted_and_stop_at_lists() {
        let attributes = serde_json::json!({
            "llm": {"model_name": "gpt-4o", "input_messages": {"0": {"message": {"role": "user"}}}, "token_count": {"prompt": 3}},
            "retrieval": {"documents": [{"document": {"id": "a"}}]},
            "user": {"id": "u1"},
        });
        let mut keys = BTreeSet::new();
        collect_keys("", attributes.as_object().unwrap(), 1, &mut keys);
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        assert_eq!(keys, ["llm.input_messages", "llm.model_name", "llm.token_count.prompt", "retrieval.documents", "user.id"]);
    }
}
