//! Who may run each root field of the schema: Phoenix's permission classes per query and
//! mutation, stated once here as the route table states them per route ([`Access`]). A request
//! is refused before it runs when the caller lacks the access of any root field its operation
//! selects, so a refusal never depends on the arguments (the services check again: this is the
//! outer gate, not the rule's only place). The role matrix test checks that the table names
//! exactly the schema's root fields, so a name missing here is one the schema does not have: it
//! passes to the schema, which says the field is unknown (a typo is not a permission problem).

use std::collections::HashSet;

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use ember_service::{Caller, ServiceError};

use crate::app::Access;

/// The access each root query field needs.
pub const QUERIES: &[(&str, Access)] = &[
    ("node", Access::SignedIn),
    ("projects", Access::SignedIn),
    ("getSpanByOtelId", Access::SignedIn),
    // Keys for anyone; their values only for admins (the secrets service withholds them).
    ("secrets", Access::SignedIn),
    ("prompts", Access::SignedIn),
    ("promptLabels", Access::SignedIn),
    ("viewer", Access::SignedIn),
    ("users", Access::Admin),
    ("userRoles", Access::SignedIn),
    ("userApiKeys", Access::Admin),
    ("systemApiKeys", Access::Admin),
];

/// The access each root mutation field needs.
pub const MUTATIONS: &[(&str, Access)] = &[
    ("createSpanAnnotations", Access::Write),
    ("createTraceAnnotations", Access::Write),
    ("patchSpanAnnotations", Access::Write),
    ("patchTraceAnnotations", Access::Write),
    ("deleteSpanAnnotations", Access::Write),
    ("deleteTraceAnnotations", Access::Write),
    ("updateAnnotations", Access::Write),
    ("upsertOrDeleteSecrets", Access::Admin),
    ("createDataset", Access::Write),
    ("addExamplesToDataset", Access::Write),
    ("deleteDatasetExamples", Access::Write),
    ("deleteDataset", Access::Write),
    ("createDatasetSplitWithExamples", Access::Write),
    ("createChatPrompt", Access::Write),
    ("createChatPromptVersion", Access::Write),
    ("setPromptVersionTag", Access::Write),
    ("deletePromptVersionTag", Access::Write),
    ("createPromptLabel", Access::Write),
    ("patchPromptLabel", Access::Write),
    ("deletePromptLabels", Access::Write),
    ("setPromptLabels", Access::Write),
    ("unsetPromptLabels", Access::Write),
    ("createUser", Access::Admin),
    ("patchUser", Access::Admin),
    // Every signed-in user changes their own name and password, and keeps their own keys.
    ("patchViewer", Access::SignedIn),
    ("deleteUsers", Access::Admin),
    ("createUserApiKey", Access::SignedIn),
    ("createSystemApiKey", Access::Admin),
    ("deleteUserApiKey", Access::SignedIn),
    ("deleteSystemApiKey", Access::Admin),
];

/// The access a root field needs; introspection, and names the schema does not have, need a
/// signed-in caller only.
pub fn access_of(operation: OperationType, field: &str) -> Access {
    let table = match operation {
        OperationType::Query => QUERIES,
        OperationType::Mutation => MUTATIONS,
        OperationType::Subscription => &[],
    };
    table.iter().find(|(name, _)| *name == field).map_or(Access::SignedIn, |(_, access)| *access)
}

/// Refuses the request when the caller may not run one of the root fields of the operation it
/// runs (`operation_name`, or every operation of the document when it names none).
pub fn check(document: &ExecutableDocument, operation_name: Option<&str>, caller: &Caller) -> Result<(), ServiceError> {
    for (name, operation) in document.operations.iter() {
        if operation_name.is_some_and(|wanted| name.map(|name| name.as_str()) != Some(wanted)) {
            continue;
        }
        let mut fields = HashSet::new();
        root_fields(document, &operation.node.selection_set.node, &mut HashSet::new(), &mut fields);
        for field in fields {
            match access_of(operation.node.ty, field) {
                Access::Public | Access::SignedIn => {}
                Access::Write => caller.require_write()?,
                Access::Admin => caller.require_admin()?,
            }
        }
    }
    Ok(())
}

/// The names of the fields `set` selects, through its fragments (each spread followed once).
fn root_fields<'a>(document: &'a ExecutableDocument, set: &'a SelectionSet, spread: &mut HashSet<&'a str>, fields: &mut HashSet<&'a str>) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                fields.insert(field.node.name.node.as_str());
            }
            Selection::InlineFragment(fragment) => root_fields(document, &fragment.node.selection_set.node, spread, fields),
            Selection::FragmentSpread(fragment) => {
                let name = fragment.node.fragment_name.node.as_str();
                if spread.insert(name) {
                    if let Some(definition) = document.fragments.get(name) {
                        root_fields(document, &definition.node.selection_set.node, spread, fields);
                    }
                }
            }
        }
    }
}
