//! The MCP resources: reference text an agent reads before writing a filter (README's own
//! section, so the two cannot drift apart) or a query (the views as the store defines them).

use rmcp::model::{Resource, ResourceContents};

/// The filter languages' reference.
pub const FILTER_LANGUAGE_URI: &str = "ember://docs/filter-language";

/// The SQL views' reference.
pub const SQL_VIEWS_URI: &str = "ember://docs/sql-views";

const README: &str = include_str!("../../../../README.md");

/// README's description of the filter languages: from its `## Filters` heading to the notes on
/// what keeps filters fast.
fn filter_language() -> &'static str {
    let start = README.find("## Filters").unwrap_or(0);
    let section = &README[start..];
    let end = section.find("What keeps filters fast").unwrap_or(section.len());
    section[..end].trim_end()
}

pub fn list() -> Vec<Resource> {
    vec![
        Resource::new(FILTER_LANGUAGE_URI, "filter-language")
            .with_title("ember's filter languages")
            .with_description("Phoenix's span filter language, Arize AX span filters, and trace and session filters, with examples")
            .with_mime_type("text/markdown"),
        Resource::new(SQL_VIEWS_URI, "sql-views")
            .with_title("ember's SQL views")
            .with_description("The views run_sql reads, their columns, the database's SQL dialect and what a query may use")
            .with_mime_type("text/markdown"),
    ]
}

/// The contents at `uri`, if it names a resource.
pub fn read(uri: &str, services: &ember_service::Services) -> Option<ResourceContents> {
    let text = match uri {
        FILTER_LANGUAGE_URI => filter_language().to_string(),
        SQL_VIEWS_URI => services.agent_sql().reference(),
        _ => return None,
    };
    Some(ResourceContents::text(text, uri).with_mime_type("text/markdown"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_filter_reference_is_readmes_section() {
        let text = super::filter_language();
        assert!(text.starts_with("## Filters"));
        assert!(text.contains("metadata['customer_id'] == 'c-42'"));
        assert!(!text.contains("What keeps filters fast"));
    }
}
