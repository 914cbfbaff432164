//! The prompt hub through GraphQL, with Phoenix's shapes: the `Prompt`, `PromptVersion`,
//! `PromptVersionTag` and `PromptLabel` nodes, the `prompts` list (filtered by name and labels)
//! and `promptLabels`, and the mutations Phoenix's tests and UI use — `createChatPrompt`,
//! `createChatPromptVersion`, `setPromptVersionTag`, `deletePromptVersionTag` and the label
//! mutations — served by the same services as REST. A version's template, parameters and tools
//! are read through REST (`GET /v1/prompt_versions/{id}`).

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, InputObject, Json, Object, Result, SimpleObject, ID};
use ember_core::time::format_nanos;
use ember_core::{ErrorCode, GlobalId, GlobalType};
use ember_service::prompts::PromptRequest;
use ember_store::{
    PromptFilter as ListFilter, PromptLabelChanges, PromptLabelRecord, PromptRecord, PromptVersionRecord, PromptVersionTagRecord,
};
use serde_json::Value;

use super::authors::author;
use super::connection::{edges_wanted, keyset, resume_after};
use super::prompt_input::{ChatPromptVersionInput, CreatePromptVersionTagInput, Identifier};
use super::users::User;
use super::{bad_input, context, graphql_error, rowid_of, QueryRoot};

/// A prompt, with its labels when the list that made it read them for the whole page.
pub struct Prompt(pub PromptRecord, Option<Vec<PromptLabelRecord>>);

impl Prompt {
    pub fn of(record: PromptRecord) -> Self {
        Prompt(record, None)
    }
}

#[Object]
impl Prompt {
    pub async fn id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::Prompt, self.0.id))
    }

    async fn source_prompt_id(&self) -> Option<ID> {
        self.0.source_prompt_id.map(|id| ID(GlobalId::encode(GlobalType::Prompt, id)))
    }

    async fn name(&self) -> Identifier {
        Identifier(self.0.name.clone())
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    async fn metadata(&self) -> Json<Value> {
        Json(self.0.metadata.clone())
    }

    async fn created_at(&self) -> String {
        format_nanos(self.0.created_at)
    }

    /// Nobody is signed in without authentication.
    async fn created_by(&self) -> Option<User> {
        None
    }

    async fn updated_by(&self) -> Option<User> {
        None
    }

    /// The version `versionId` names, the one tagged `tagName`, or the latest.
    async fn version(&self, ctx: &Context<'_>, version_id: Option<ID>, tag_name: Option<Identifier>) -> Result<PromptVersion> {
        let (services, caller) = context(ctx)?;
        let prompts = services.prompts();
        let identifier = GlobalId::encode(GlobalType::Prompt, self.0.id);
        let version = match (version_id, tag_name) {
            (Some(id), _) => {
                let version = prompts.version(caller, rowid_of(&id, GlobalType::PromptVersion)?).await.map_err(graphql_error)?;
                if version.prompt_id != self.0.id {
                    return Err(bad_input(ErrorCode::NotFound, format!("version {} is not a version of this prompt", id.as_str())));
                }
                version
            }
            (None, Some(tag)) => prompts.by_tag(caller, &identifier, &tag.0).await.map_err(graphql_error)?,
            (None, None) => prompts.latest(caller, &identifier).await.map_err(graphql_error)?,
        };
        Ok(PromptVersion(version))
    }

    async fn version_tags(&self, ctx: &Context<'_>) -> Result<Vec<PromptVersionTag>> {
        let (services, caller) = context(ctx)?;
        let tags = services.prompts().tags_of(caller, &self.0).await.map_err(graphql_error)?;
        Ok(tags.into_iter().map(PromptVersionTag).collect())
    }

    /// The versions, newest first.
    async fn prompt_versions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, PromptVersion>> {
        let (services, caller) = context(ctx)?;
        let page = services.prompts().versions_of(caller, &self.0, resume_after(after.as_deref())?, edges_wanted(first)?).await;
        Ok(keyset(page.map_err(graphql_error)?, |version| version.id, PromptVersion))
    }

    async fn source_prompt(&self, ctx: &Context<'_>) -> Result<Option<Prompt>> {
        let Some(source) = self.0.source_prompt_id else { return Ok(None) };
        let (services, caller) = context(ctx)?;
        Ok(Some(Prompt::of(services.prompts().by_rowid(caller, source).await.map_err(graphql_error)?)))
    }

    async fn labels(&self, ctx: &Context<'_>) -> Result<Vec<PromptLabel>> {
        if let Some(labels) = &self.1 {
            return Ok(labels.iter().cloned().map(PromptLabel).collect());
        }
        let (services, caller) = context(ctx)?;
        let identifier = GlobalId::encode(GlobalType::Prompt, self.0.id);
        let labels = services.prompt_labels().of_prompt(caller, &identifier).await.map_err(graphql_error)?;
        Ok(labels.into_iter().map(PromptLabel).collect())
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum PromptTemplateType {
    String,
    Chat,
}

pub struct PromptVersion(pub PromptVersionRecord);

#[Object]
impl PromptVersion {
    pub async fn id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::PromptVersion, self.0.id))
    }

    async fn description(&self) -> Option<&str> {
        self.0.content.description.as_deref()
    }

    async fn template_type(&self) -> PromptTemplateType {
        match self.0.content.template_type.as_str() {
            "STR" => PromptTemplateType::String,
            _ => PromptTemplateType::Chat,
        }
    }

    /// `MUSTACHE`, `F_STRING` or `NONE`.
    async fn template_format(&self) -> &str {
        &self.0.content.template_format
    }

    async fn model_name(&self) -> &str {
        &self.0.content.model_name
    }

    async fn model_provider(&self) -> &str {
        &self.0.content.model_provider
    }

    async fn metadata(&self) -> Json<Value> {
        Json(self.0.content.metadata.clone())
    }

    async fn created_at(&self) -> String {
        format_nanos(self.0.created_at)
    }

    async fn tags(&self, ctx: &Context<'_>) -> Result<Vec<PromptVersionTag>> {
        let (services, caller) = context(ctx)?;
        let page = services.prompts().version_tags(caller, self.0.id, None, MAX_TAGS).await.map_err(graphql_error)?;
        Ok(page.items.into_iter().map(PromptVersionTag).collect())
    }

    /// Who wrote the version.
    async fn user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        author(ctx, self.0.user_id).await
    }
}

/// The most tags a version lists (a prompt has one per name).
const MAX_TAGS: usize = 1000;

pub struct PromptVersionTag(pub PromptVersionTagRecord);

#[Object]
impl PromptVersionTag {
    pub async fn id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::PromptVersionTag, self.0.id))
    }

    async fn prompt_version_id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::PromptVersion, self.0.prompt_version_id))
    }

    async fn name(&self) -> Identifier {
        Identifier(self.0.name.clone())
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    async fn user(&self) -> Option<User> {
        None
    }
}

pub struct PromptLabel(pub PromptLabelRecord);

#[Object]
impl PromptLabel {
    pub async fn id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::PromptLabel, self.0.id))
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    async fn color(&self) -> &str {
        &self.0.color
    }

    /// How many prompts carry the label.
    async fn usage_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let (services, caller) = context(ctx)?;
        services.prompt_labels().usage(caller, &self.0).await.map_err(graphql_error)
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "lowercase")]
pub enum PromptFilterColumn {
    Name,
}

#[derive(InputObject)]
pub struct PromptFilter {
    col: PromptFilterColumn,
    value: String,
}

#[derive(Default)]
pub struct PromptQueries;

#[Object]
impl PromptQueries {
    /// Prompts newest first: names containing `filter.value` (any case), carrying any of `labelIds`.
    async fn prompts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<PromptFilter>,
        label_ids: Option<Vec<ID>>,
    ) -> Result<Connection<String, Prompt>> {
        let (services, caller) = context(ctx)?;
        let label_ids = label_ids.unwrap_or_default().iter().map(|id| rowid_of(id, GlobalType::PromptLabel)).collect::<Result<Vec<_>>>()?;
        let name_contains = filter.as_ref().map(|filter| match filter.col {
            PromptFilterColumn::Name => filter.value.as_str(),
        });
        let filter = ListFilter { name_contains, label_ids: &label_ids };
        let page = services.prompts().list(caller, resume_after(after.as_deref())?, edges_wanted(first)?, &filter).await;
        let page = page.map_err(graphql_error)?;
        // The page's labels in one read when the query asks for them.
        let mut labels = match ctx.look_ahead().field("edges").field("node").field("labels").exists() {
            true => {
                let ids: Vec<i64> = page.items.iter().map(|prompt| prompt.id).collect();
                Some(services.prompt_labels().of_prompts(caller, &ids).await.map_err(graphql_error)?)
            }
            false => None,
        };
        Ok(keyset(
            page,
            |prompt| prompt.id,
            |prompt| {
                let prompt_labels = labels.as_mut().map(|labels| labels.remove(&prompt.id).unwrap_or_default());
                Prompt(prompt, prompt_labels)
            },
        ))
    }

    async fn prompt_labels(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> Result<Connection<String, PromptLabel>> {
        let (services, caller) = context(ctx)?;
        let page = services.prompt_labels().list(caller, resume_after(after.as_deref())?, edges_wanted(first)?).await;
        Ok(keyset(page.map_err(graphql_error)?, |label| label.id, PromptLabel))
    }
}

#[derive(InputObject)]
pub struct CreateChatPromptInput {
    name: Identifier,
    description: Option<String>,
    prompt_version: ChatPromptVersionInput,
    metadata: Option<Json<Value>>,
    tags: Option<Vec<CreatePromptVersionTagInput>>,
}

#[derive(InputObject)]
pub struct CreateChatPromptVersionInput {
    prompt_id: ID,
    prompt_version: ChatPromptVersionInput,
    tags: Option<Vec<CreatePromptVersionTagInput>>,
}

#[derive(InputObject)]
pub struct SetPromptVersionTagInput {
    prompt_version_id: ID,
    name: Identifier,
    description: Option<String>,
}

#[derive(InputObject)]
pub struct DeletePromptVersionTagInput {
    prompt_version_tag_id: ID,
}

#[derive(SimpleObject)]
pub struct PromptVersionTagMutationPayload {
    prompt_version_tag: Option<PromptVersionTag>,
    prompt: Prompt,
    query: QueryRoot,
}

#[derive(InputObject)]
pub struct CreatePromptLabelInput {
    name: String,
    description: Option<String>,
    color: String,
}

#[derive(InputObject)]
pub struct PatchPromptLabelInput {
    prompt_label_id: ID,
    name: Option<String>,
    description: Option<String>,
}

#[derive(InputObject)]
pub struct DeletePromptLabelsInput {
    prompt_label_ids: Vec<ID>,
}

#[derive(InputObject)]
pub struct SetPromptLabelsInput {
    prompt_id: ID,
    prompt_label_ids: Vec<ID>,
}

#[derive(InputObject)]
pub struct UnsetPromptLabelsInput {
    prompt_id: ID,
    prompt_label_ids: Vec<ID>,
}

#[derive(SimpleObject)]
pub struct PromptLabelMutationPayload {
    prompt_labels: Vec<PromptLabel>,
    query: QueryRoot,
}

#[derive(SimpleObject)]
pub struct PromptLabelDeleteMutationPayload {
    deleted_prompt_label_ids: Vec<ID>,
    query: QueryRoot,
}

#[derive(SimpleObject)]
pub struct PromptLabelAssociationMutationPayload {
    query: QueryRoot,
}

fn tags_of(tags: Option<Vec<CreatePromptVersionTagInput>>) -> Vec<(String, Option<String>)> {
    tags.unwrap_or_default().into_iter().map(|tag| (tag.name.0, tag.description)).collect()
}

fn version_of(input: ChatPromptVersionInput) -> Result<ember_core::prompt::PromptVersionData> {
    input.into_version().map_err(|message| bad_input(ErrorCode::Unprocessable, message))
}

fn label_ids(ids: &[ID]) -> Result<Vec<i64>> {
    ids.iter().map(|id| rowid_of(id, GlobalType::PromptLabel)).collect()
}

#[derive(Default)]
pub struct PromptMutations;

#[Object]
impl PromptMutations {
    /// A new prompt with its first version; a taken name is refused.
    async fn create_chat_prompt(&self, ctx: &Context<'_>, input: CreateChatPromptInput) -> Result<Prompt> {
        let (services, caller) = context(ctx)?;
        let metadata = match input.metadata.map(|metadata| metadata.0) {
            None | Some(Value::Null) => None,
            Some(Value::Object(metadata)) => Some(metadata),
            Some(_) => return Err(bad_input(ErrorCode::Unprocessable, "metadata must be a JSON object")),
        };
        let request =
            PromptRequest { name: input.name.0, description: input.description, metadata, version: version_of(input.prompt_version)? };
        let created = services.prompts().create_new(caller, request, &tags_of(input.tags)).await.map_err(graphql_error)?;
        Ok(Prompt::of(services.prompts().by_rowid(caller, created.prompt_id).await.map_err(graphql_error)?))
    }

    /// A new version of a prompt.
    async fn create_chat_prompt_version(&self, ctx: &Context<'_>, input: CreateChatPromptVersionInput) -> Result<Prompt> {
        let (services, caller) = context(ctx)?;
        let prompt = services.prompts().by_rowid(caller, rowid_of(&input.prompt_id, GlobalType::Prompt)?).await.map_err(graphql_error)?;
        let identifier = GlobalId::encode(GlobalType::Prompt, prompt.id);
        let version = version_of(input.prompt_version)?;
        services.prompts().add_version(caller, &identifier, version, &tags_of(input.tags)).await.map_err(graphql_error)?;
        Ok(Prompt::of(prompt))
    }

    /// Tags a version, moving the tag from another version of its prompt.
    async fn set_prompt_version_tag(&self, ctx: &Context<'_>, input: SetPromptVersionTagInput) -> Result<PromptVersionTagMutationPayload> {
        let (services, caller) = context(ctx)?;
        let prompts = services.prompts();
        let version =
            prompts.version(caller, rowid_of(&input.prompt_version_id, GlobalType::PromptVersion)?).await.map_err(graphql_error)?;
        prompts.tag_version(caller, version.id, &input.name.0, input.description.as_deref()).await.map_err(graphql_error)?;
        let prompt = prompts.by_rowid(caller, version.prompt_id).await.map_err(graphql_error)?;
        let tag = prompts.tags_of(caller, &prompt).await.map_err(graphql_error)?.into_iter().find(|tag| tag.name == input.name.0);
        Ok(PromptVersionTagMutationPayload {
            prompt_version_tag: tag.map(PromptVersionTag),
            prompt: Prompt::of(prompt),
            query: QueryRoot::default(),
        })
    }

    async fn delete_prompt_version_tag(
        &self,
        ctx: &Context<'_>,
        input: DeletePromptVersionTagInput,
    ) -> Result<PromptVersionTagMutationPayload> {
        let (services, caller) = context(ctx)?;
        let prompts = services.prompts();
        let tag =
            prompts.tag(caller, rowid_of(&input.prompt_version_tag_id, GlobalType::PromptVersionTag)?).await.map_err(graphql_error)?;
        let version = prompts.version(caller, tag.prompt_version_id).await.map_err(graphql_error)?;
        prompts.untag_version(caller, version.id, &tag.name).await.map_err(graphql_error)?;
        let prompt = prompts.by_rowid(caller, version.prompt_id).await.map_err(graphql_error)?;
        Ok(PromptVersionTagMutationPayload { prompt_version_tag: None, prompt: Prompt::of(prompt), query: QueryRoot::default() })
    }

    async fn create_prompt_label(&self, ctx: &Context<'_>, input: CreatePromptLabelInput) -> Result<PromptLabelMutationPayload> {
        let (services, caller) = context(ctx)?;
        let label = services.prompt_labels().create(caller, &input.name, input.description.as_deref(), &input.color).await;
        Ok(PromptLabelMutationPayload { prompt_labels: vec![PromptLabel(label.map_err(graphql_error)?)], query: QueryRoot::default() })
    }

    async fn patch_prompt_label(&self, ctx: &Context<'_>, input: PatchPromptLabelInput) -> Result<PromptLabelMutationPayload> {
        let (services, caller) = context(ctx)?;
        let id = rowid_of(&input.prompt_label_id, GlobalType::PromptLabel)?;
        let changes = PromptLabelChanges { name: input.name, description: input.description.map(Some) };
        let label = services.prompt_labels().patch(caller, id, changes).await.map_err(graphql_error)?;
        Ok(PromptLabelMutationPayload { prompt_labels: vec![PromptLabel(label)], query: QueryRoot::default() })
    }

    async fn delete_prompt_labels(&self, ctx: &Context<'_>, input: DeletePromptLabelsInput) -> Result<PromptLabelDeleteMutationPayload> {
        let (services, caller) = context(ctx)?;
        let deleted = services.prompt_labels().delete(caller, &label_ids(&input.prompt_label_ids)?).await.map_err(graphql_error)?;
        let deleted_prompt_label_ids = deleted.into_iter().map(|id| ID(GlobalId::encode(GlobalType::PromptLabel, id))).collect();
        Ok(PromptLabelDeleteMutationPayload { deleted_prompt_label_ids, query: QueryRoot::default() })
    }

    /// Applies labels to a prompt (in addition to those it has).
    async fn set_prompt_labels(&self, ctx: &Context<'_>, input: SetPromptLabelsInput) -> Result<PromptLabelAssociationMutationPayload> {
        let (services, caller) = context(ctx)?;
        let prompt_id = rowid_of(&input.prompt_id, GlobalType::Prompt)?;
        services.prompt_labels().apply(caller, prompt_id, &label_ids(&input.prompt_label_ids)?).await.map_err(graphql_error)?;
        Ok(PromptLabelAssociationMutationPayload { query: QueryRoot::default() })
    }

    async fn unset_prompt_labels(&self, ctx: &Context<'_>, input: UnsetPromptLabelsInput) -> Result<PromptLabelAssociationMutationPayload> {
        let (services, caller) = context(ctx)?;
        let prompt_id = rowid_of(&input.prompt_id, GlobalType::Prompt)?;
        services.prompt_labels().remove(caller, prompt_id, &label_ids(&input.prompt_label_ids)?).await.map_err(graphql_error)?;
        Ok(PromptLabelAssociationMutationPayload { query: QueryRoot::default() })
    }
}
