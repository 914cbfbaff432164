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

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreatePromptVersion {
    /// The prompt's name (letters, digits, `-` and `_`); made when it does not exist.
    pub prompt: String,
    /// The prompt's description, when the prompt is made.
    pub prompt_description: Option<String>,
    /// The version in Phoenix's shape, e.g. `{"model_provider": "OPENAI", "model_name": "gpt-4o",
    /// "template_type": "CHAT", "template_format": "MUSTACHE", "template": {"type": "chat",
    /// "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi {{name}}"}]}]},
    /// "invocation_parameters": {"type": "openai", "openai": {"temperature": 0.2}}, "description": "..."}`
    /// (also `tools` and `response_format`).
    pub version: serde_json::Map<String, serde_json::Value>,
    /// Tags to put on the new version (e.g. `staging`), moved from the version that had them.
    #[serde(default)]
    pub tags: Vec<String>,
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

    /// Adds a version to a prompt (making the prompt when it does not exist), and tags it.
    #[tool(annotations(read_only_hint = false, destructive_hint = false))]
    async fn create_prompt_version(
        &self,
        Parameters(args): Parameters<CreatePromptVersion>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let version: ember_core::prompt::PromptVersionData = serde_json::from_value(serde_json::Value::Object(args.version.clone()))
                .map_err(|error| ServiceError::invalid(format!("Invalid prompt version: {error}")))?;
            let request = ember_service::prompts::PromptRequest {
                name: args.prompt.clone(),
                description: args.prompt_description.clone(),
                metadata: None,
                version,
            };
            let prompts = services.prompts();
            let created = prompts.create(caller, request).await?;
            for tag in &args.tags {
                prompts.tag_version(caller, created.id, tag, None).await?;
            }
            Ok(wire::prompt_version(&created))
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
