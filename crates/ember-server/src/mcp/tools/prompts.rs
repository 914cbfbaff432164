//! Prompts: list them, read a version (the latest, a tagged one or a given one), list versions.

use ember_core::GlobalType;
use ember_service::ServiceError;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, RoleServer};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{limit, rowid};
use crate::mcp::EmberMcp;
use crate::wire;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListPrompts {
    /// Only prompts whose name contains this text.
    pub name_contains: Option<String>,
    /// At most this many prompts (default 100, at most 1000).
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetPrompt {
    /// The prompt's name or GlobalID.
    pub prompt: String,
    /// The version carrying this tag (e.g. `production`); the latest version by default.
    pub tag: Option<String>,
    /// A version's GlobalID instead (then `prompt` only names it).
    pub version_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListPromptVersions {
    /// The prompt's name or GlobalID.
    pub prompt: String,
    /// At most this many versions, newest first (default 20, at most 1000).
    pub limit: Option<u32>,
}

#[tool_router(router = prompt_tools, vis = "pub(in crate::mcp)")]
impl EmberMcp {
    /// The prompts kept in ember's prompt registry.
    #[tool(annotations(read_only_hint = true))]
    async fn list_prompts(&self, Parameters(args): Parameters<ListPrompts>, context: RequestContext<RoleServer>) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let filter = ember_store::PromptFilter { name_contains: args.name_contains.as_deref(), label_ids: &[] };
            let page = services.prompts().list(caller, None, limit(args.limit, 100, 1000)?, &filter).await?;
            Ok(wire::page(page.items.iter().map(wire::prompt).collect(), page.next_cursor, GlobalType::Prompt))
        })
        .await
    }

    /// A prompt version: its template, model, invocation parameters, tools and output schema.
    #[tool(annotations(read_only_hint = true))]
    async fn get_prompt(&self, Parameters(args): Parameters<GetPrompt>, context: RequestContext<RoleServer>) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let prompts = services.prompts();
            let version = match (&args.version_id, &args.tag) {
                (Some(_), Some(_)) => return Err(ServiceError::invalid("Give either tag or version_id, not both")),
                (Some(id), None) => prompts.version(caller, rowid(id, GlobalType::PromptVersion)?).await?,
                (None, Some(tag)) => prompts.by_tag(caller, &args.prompt, tag).await?,
                (None, None) => prompts.latest(caller, &args.prompt).await?,
            };
            Ok(wire::prompt_version(&version))
        })
        .await
    }

    /// A prompt's versions, newest first.
    #[tool(annotations(read_only_hint = true))]
    async fn list_prompt_versions(
        &self,
        Parameters(args): Parameters<ListPromptVersions>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let page = services.prompts().versions(caller, &args.prompt, None, limit(args.limit, 20, 1000)?).await?;
            Ok(wire::page(page.items.iter().map(wire::prompt_version).collect(), page.next_cursor, GlobalType::PromptVersion))
        })
        .await
    }
}
