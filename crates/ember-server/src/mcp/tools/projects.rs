//! Projects and annotation configs.

use ember_core::GlobalType;
use ember_service::projects::ProjectListQuery;
use ember_service::ProjectRef;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, RoleServer};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{cursor, limit};
use crate::mcp::EmberMcp;
use crate::wire;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListProjects {
    /// Only projects whose name contains this text.
    pub name_contains: Option<String>,
    /// At most this many projects (default 100, at most 1000).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetProject {
    /// The project's name or GlobalID.
    pub project: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListAnnotationConfigs {
    /// At most this many configs (default 100, at most 1000).
    pub limit: Option<u32>,
}

#[tool_router(router = project_tools, vis = "pub(in crate::mcp)")]
impl EmberMcp {
    /// The projects the caller can read, by name: their GlobalIDs, names and descriptions.
    #[tool(annotations(read_only_hint = true))]
    async fn list_projects(&self, Parameters(args): Parameters<ListProjects>, context: RequestContext<RoleServer>) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let query = ProjectListQuery {
                limit: limit(args.limit, 100, 1000)?,
                cursor: cursor(args.cursor.as_deref(), GlobalType::Project)?,
                include_experiment_projects: false,
                name_contains: args.name_contains.as_deref(),
            };
            let page = services.projects().list(caller, &query).await?;
            Ok(wire::page(page.items.iter().map(wire::project).collect(), page.next_cursor, GlobalType::Project))
        })
        .await
    }

    /// One project by name or GlobalID.
    #[tool(annotations(read_only_hint = true))]
    async fn get_project(&self, Parameters(args): Parameters<GetProject>, context: RequestContext<RoleServer>) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let project = services.projects().resolve(caller, ProjectRef::Identifier(&args.project)).await?;
            Ok(wire::project(&project))
        })
        .await
    }

    /// The annotation configs (the names, kinds and allowed labels or score ranges annotations
    /// of those names follow).
    #[tool(annotations(read_only_hint = true))]
    async fn list_annotation_configs(
        &self,
        Parameters(args): Parameters<ListAnnotationConfigs>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let page = services.annotation_configs().list(caller, None, limit(args.limit, 100, 1000)?).await?;
            Ok(page.items.iter().map(wire::annotation_config).collect::<Vec<_>>())
        })
        .await
    }
}
