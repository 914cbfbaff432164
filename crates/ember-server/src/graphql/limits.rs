//! What a GraphQL request may cost, checked before the schema sees it. Validating and executing
//! a document expands its fragment spreads, so a ~1 KB document whose fragments each spread the
//! next twice stands for billions of fields; that work is synchronous and would hold a runtime
//! thread. Here each fragment's expanded size is computed once (memoised), so the check is linear
//! in the document, and a document that expands past [`MAX_SELECTIONS`] is refused.

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

/// The longest query text accepted.
pub const MAX_QUERY_BYTES: usize = 256 << 10;

/// The most fields (and fragment spreads) a document may expand to. Phoenix's and Arize's
/// clients send a few dozen.
pub const MAX_SELECTIONS: u64 = 20_000;

/// Why a query text is refused before it is parsed (`None`: it may be).
pub fn refuse_text(query: &str) -> Option<String> {
    (query.len() > MAX_QUERY_BYTES).then(|| format!("the query is {} bytes; at most {MAX_QUERY_BYTES} are accepted", query.len()))
}

/// Why a parsed document is refused before validation (`None`: it may run).
pub fn refuse(document: &ExecutableDocument) -> Option<String> {
    let mut sizes = FragmentSizes { document, known: HashMap::new() };
    for (_, operation) in document.operations.iter() {
        let size = sizes.of(&operation.node.selection_set.node);
        if size > MAX_SELECTIONS {
            return Some(format!("the query expands to more than {MAX_SELECTIONS} fields once its fragments are spread"));
        }
    }
    None
}

struct FragmentSizes<'a> {
    document: &'a ExecutableDocument,
    /// Expanded size per fragment; `None` while it is being computed (a cycle, which the
    /// schema's validation refuses, counts as nothing here).
    known: HashMap<&'a str, Option<u64>>,
}

impl<'a> FragmentSizes<'a> {
    /// The number of selections `set` expands to, saturating.
    fn of(&mut self, set: &'a SelectionSet) -> u64 {
        let mut size: u64 = 0;
        for item in &set.items {
            let item_size = match &item.node {
                Selection::Field(field) => 1 + self.of(&field.node.selection_set.node),
                Selection::InlineFragment(fragment) => 1 + self.of(&fragment.node.selection_set.node),
                Selection::FragmentSpread(spread) => 1 + self.fragment(spread.node.fragment_name.node.as_str()),
            };
            size = size.saturating_add(item_size);
        }
        size
    }

    fn fragment(&mut self, name: &'a str) -> u64 {
        if let Some(known) = self.known.get(name) {
            return known.unwrap_or(0);
        }
        let Some(definition) = self.document.fragments.get(name) else { return 0 };
        self.known.insert(name, None);
        let size = self.of(&definition.node.selection_set.node);
        self.known.insert(name, Some(size));
        size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(query: &str) -> Option<String> {
        refuse(&async_graphql::parser::parse_query(query).unwrap())
    }

    fn doubling(levels: usize) -> String {
        let fragments: String =
            (0..levels).map(|level| format!("fragment F{level} on QueryRoot {{ ...F{next} ...F{next} }} ", next = level + 1)).collect();
        format!("query {{ __typename ...F0 }} {fragments} fragment F{levels} on QueryRoot {{ __typename }}")
    }

    #[test]
    fn fragment_doubling_is_refused_without_expanding_it() {
        assert_eq!(refused(&doubling(5)), None);
        // 2^60 fields: refused by arithmetic, not by expansion.
        assert!(refused(&doubling(60)).is_some_and(|reason| reason.contains("more than 20000 fields")));
    }

    #[test]
    fn ordinary_queries_and_cycles_pass_to_the_schema() {
        assert_eq!(refused("query { node(id: \"U3Bhbjox\") { id ... on Span { name } } }"), None);
        assert_eq!(refused("query { ...A } fragment A on QueryRoot { ...B } fragment B on QueryRoot { ...A }"), None);
        assert!(refuse_text(&" ".repeat(MAX_QUERY_BYTES + 1)).is_some());
        assert_eq!(refuse_text("query { __typename }"), None);
    }

    #[test]
    fn many_aliases_count_too() {
        let aliases: String = (0..MAX_SELECTIONS + 1).map(|index| format!("a{index}: __typename ")).collect();
        assert!(refused(&format!("query {{ {aliases} }}")).is_some());
    }
}
