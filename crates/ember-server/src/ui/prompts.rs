//! Prompts: the list, and a prompt's versions with their tags and a diff between two of them.

use std::collections::HashMap;

use axum::extract::{Query, State};
use ember_store::{PromptVersionInput, PromptVersionRecord};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::json;
use similar::{ChangeTag, TextDiff};

use super::error::UiResult;
use super::format;
use super::ids::{PageId, PromptPage, UiPath};
use super::layout::{shell, Section};
use crate::authentication::RequestCaller;
use crate::AppState;

const VERSIONS_SHOWN: usize = 100;

pub async fn list(State(state): State<AppState>, RequestCaller(caller): RequestCaller) -> UiResult<Markup> {
    let prompts = state.services.prompts().list(&caller, None, 500, &Default::default()).await?;
    let body = html! {
        h1 { "Prompts" }
        table.grid #prompts {
            thead { tr { th { "Name" } th { "Description" } th { "Updated" } } }
            tbody {
                @for prompt in &prompts.items {
                    @let href = format!("/prompts/{}", prompt.id);
                    tr data-href=(href) data-nav-row tabindex="-1" {
                        td { a href=(href) { (prompt.name) } }
                        td { (prompt.description.as_deref().unwrap_or("")) }
                        td { (format::local_time(prompt.updated_at)) }
                    }
                }
            }
        }
        @if prompts.items.is_empty() { p.muted { "No prompts yet: push one with " code { "ember prompts push" } " or a Phoenix client." } }
    };
    Ok(shell("Prompts", Section::Prompts, &caller, body))
}

#[derive(Debug, Default, Deserialize)]
pub struct DiffQuery {
    /// The older version of the diff.
    a: Option<i64>,
    /// The newer version.
    b: Option<i64>,
}

/// A version as the text the diff compares: the fields people change, one per line block.
fn version_text(content: &PromptVersionInput) -> String {
    let readable = json!({
        "model": format!("{} / {}", content.model_provider, content.model_name),
        "template_format": content.template_format,
        "template": content.template,
        "invocation_parameters": content.invocation_parameters,
        "tools": content.tools,
        "response_format": content.response_format,
    });
    serde_json::to_string_pretty(&readable).unwrap_or_default()
}

fn diff(older: &PromptVersionRecord, newer: &PromptVersionRecord) -> Markup {
    let (old_text, new_text) = (version_text(&older.content), version_text(&newer.content));
    let diff = TextDiff::from_lines(&old_text, &new_text);
    html! {
        pre.diff #prompt-diff {
            @for change in diff.iter_all_changes() {
                @match change.tag() {
                    ChangeTag::Delete => span.del { "- " (change.value()) },
                    ChangeTag::Insert => span.add { "+ " (change.value()) },
                    ChangeTag::Equal => span { "  " (change.value()) },
                }
            }
        }
    }
}

pub async fn page(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath(PageId(prompt_id, ..)): UiPath<PageId<PromptPage>>,
    Query(query): Query<DiffQuery>,
) -> UiResult<Markup> {
    let prompts = state.services.prompts();
    let prompt = prompts.by_rowid(&caller, prompt_id).await?;
    let versions = prompts.versions_of(&caller, &prompt, None, VERSIONS_SHOWN).await?.items;
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    for tag in prompts.tags_of(&caller, &prompt).await? {
        tags.entry(tag.prompt_version_id).or_default().push(tag.name);
    }
    let by_id = |id: Option<i64>| id.and_then(|id| versions.iter().find(|v| v.id == id));
    // Versions list newest first: by default the latest against the one before it.
    let newer = by_id(query.b).or(versions.first());
    let older = by_id(query.a).or_else(|| versions.get(1)).or(newer);
    let body = html! {
        div.crumbs { a href="/prompts" { "Prompts" } " / " (prompt.name) }
        h1 { (prompt.name) }
        @if let Some(description) = &prompt.description { p.muted { (description) } }
        table.grid #prompt-versions {
            thead { tr { th { "Version" } th { "Created" } th { "Model" } th { "Description" } th { "Tags" } th { "Diff" } th {} } }
            tbody {
                @for version in &versions {
                    tr {
                        td.mono { (version.id) }
                        td { (format::local_time(version.created_at)) }
                        td { (version.content.model_provider) " / " (version.content.model_name) }
                        td { (version.content.description.as_deref().unwrap_or("")) }
                        td { @for tag in tags.get(&version.id).map(Vec::as_slice).unwrap_or_default() { span.status { (tag) } " " } }
                        td.mono {
                            label { input type="radio" name="a" value=(version.id) form="diff-form" checked[older.is_some_and(|o| o.id == version.id)]; " a" } " "
                            label { input type="radio" name="b" value=(version.id) form="diff-form" checked[newer.is_some_and(|n| n.id == version.id)]; " b" }
                        }
                        td { a.open-in-playground href=(format!("/playground?prompt={prompt_id}&version={}", version.id)) { "Open in playground" } }
                    }
                }
            }
        }
        form #diff-form method="get" action=(format!("/prompts/{prompt_id}")) { button type="submit" { "Compare a → b" } }
        @if let (Some(older), Some(newer)) = (older, newer) {
            h2 { "Version " (older.id) " → " (newer.id) }
            (diff(older, newer))
        }
    };
    Ok(shell(&prompt.name, Section::Prompts, &caller, body))
}
