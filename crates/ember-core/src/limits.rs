//! Size limits on the names and free text every resource carries (projects, annotations and
//! their configs, datasets, labels, splits, experiments, prompts). A name is shown in every list
//! and URL and a description on pages, so one value must not be able to make those unusable; the
//! limits are far above what people write. Every way in (ingest, REST, UI, GraphQL) applies them
//! through the resource's service.

/// The longest name, in bytes of UTF-8.
pub const MAX_NAME_BYTES: usize = 1_024;
/// The longest description, in bytes of UTF-8.
pub const MAX_DESCRIPTION_BYTES: usize = 100_000;

/// Why `name` (a `what`, e.g. "project name") cannot be stored, or `None`.
pub fn name_problem(what: &str, name: &str) -> Option<String> {
    (name.len() > MAX_NAME_BYTES).then(|| format!("the {what} is {} bytes long; at most {MAX_NAME_BYTES} are allowed", name.len()))
}

/// Why `description` cannot be stored, or `None`.
pub fn description_problem(what: &str, description: &str) -> Option<String> {
    (description.len() > MAX_DESCRIPTION_BYTES)
        .then(|| format!("the {what} is {} bytes long; at most {MAX_DESCRIPTION_BYTES} are allowed", description.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_inclusive_and_named() {
        assert_eq!(name_problem("project name", &"a".repeat(MAX_NAME_BYTES)), None);
        let problem = name_problem("project name", &"a".repeat(MAX_NAME_BYTES + 1)).unwrap();
        assert_eq!(problem, "the project name is 1025 bytes long; at most 1024 are allowed");
        assert_eq!(description_problem("dataset description", "short"), None);
        assert!(description_problem("dataset description", &"é".repeat(MAX_DESCRIPTION_BYTES)).is_some(), "bytes, not characters");
    }
}
