//! Prompts and their immutable versions and version tags. A prompt is named by its GlobalID or
//! its name (an identifier, `^[a-z0-9]([_a-z0-9-]*[a-z0-9])?$`); creating a version of an
//! existing prompt appends to it; a tag points at one version per prompt.

use ember_core::prompt::{is_identifier, PromptVersionData, TemplateType, IDENTIFIER_PATTERN};
use ember_core::{GlobalId, GlobalType};
use ember_store::{
    NewPrompt, Page, PromptChanges, PromptFilter, PromptRecord, PromptVersionInput, PromptVersionRecord, PromptVersionTagRecord,
};
use serde_json::{json, Map, Value};

use crate::error::{PathSegment, Result, ServiceError};
use crate::{Caller, Services};

/// A new prompt (or a new version of an existing one).
#[derive(Debug, Clone)]
pub struct PromptRequest {
    pub name: String,
    pub description: Option<String>,
    pub metadata: Option<Map<String, Value>>,
    pub version: PromptVersionData,
}

/// The most labels one list may filter by.
const MAX_LABELS_PER_FILTER: usize = 100;

fn pattern_mismatch(path: &[PathSegment], input: &str) -> ServiceError {
    ServiceError::field(path, "string_pattern_mismatch", format!("String should match pattern '{IDENTIFIER_PATTERN}'"), json!(input))
}

fn no_prompt() -> ServiceError {
    ServiceError::not_found("Prompt not found")
}

fn no_version() -> ServiceError {
    ServiceError::not_found("Prompt version not found")
}

/// The validated version as stored: each part as the JSON it reads back as.
fn stored_version(version: &PromptVersionData) -> Result<PromptVersionInput> {
    let to_json = |value: Result<Value, serde_json::Error>| value.map_err(ServiceError::internal);
    Ok(PromptVersionInput {
        description: version.description.clone(),
        template_type: version.template_type.as_str().into(),
        template_format: version.template_format.as_str().into(),
        template: to_json(serde_json::to_value(&version.template))?,
        invocation_parameters: to_json(serde_json::to_value(&version.invocation_parameters))?,
        tools: version.tools.as_ref().map(|tools| to_json(serde_json::to_value(tools))).transpose()?,
        response_format: version.response_format.as_ref().map(|format| to_json(serde_json::to_value(format))).transpose()?,
        model_provider: version.model_provider.as_str().into(),
        model_name: version.model_name.clone(),
        metadata: json!({}),
    })
}

pub struct Prompts<'a> {
    pub(crate) services: &'a Services,
}

impl Prompts<'_> {
    /// The prompt a GlobalID or name names, or `None`; a name that is not an identifier is a 422.
    pub async fn find(&self, _caller: &Caller, identifier: &str) -> Result<Option<PromptRecord>> {
        if identifier.is_empty() {
            return Err(ServiceError::invalid("Invalid prompt identifier"));
        }
        let store = &self.services.store;
        if let Some(id) = GlobalId::decode_as(identifier, GlobalType::Prompt) {
            return Ok(store.get_prompt(id).await?);
        }
        if !is_identifier(identifier) {
            return Err(ServiceError::invalid("Invalid prompt name"));
        }
        Ok(store.get_prompt_by_name(identifier).await?)
    }

    /// As [`Prompts::find`]; 404 `Prompt not found` when there is none.
    pub async fn resolve(&self, caller: &Caller, identifier: &str) -> Result<PromptRecord> {
        self.find(caller, identifier).await?.ok_or_else(no_prompt)
    }

    /// A prompt by rowid; 404 when there is none.
    pub async fn by_rowid(&self, _caller: &Caller, id: i64) -> Result<PromptRecord> {
        self.services.store.get_prompt(id).await?.ok_or_else(no_prompt)
    }

    /// Prompts newest first, those `filter` keeps (names containing a fragment, prompts carrying
    /// any of the labels).
    pub async fn list(&self, _caller: &Caller, cursor: Option<i64>, limit: usize, filter: &PromptFilter<'_>) -> Result<Page<PromptRecord>> {
        if filter.label_ids.len() > MAX_LABELS_PER_FILTER {
            return Err(ServiceError::invalid(format!("filter by at most {MAX_LABELS_PER_FILTER} labels")));
        }
        Ok(self.services.store.list_prompts(cursor, limit, filter).await?)
    }

    /// Creates the prompt (or appends a version to it) and returns the new version.
    pub async fn create(&self, caller: &Caller, request: PromptRequest) -> Result<PromptVersionRecord> {
        caller.require_write()?;
        if !is_identifier(&request.name) {
            return Err(pattern_mismatch(&["prompt".into(), "name".into()], &request.name));
        }
        crate::limits::check_description("prompt description", "description", request.description.as_deref())?;
        let version = request.version;
        version.check().map_err(|message| ServiceError::field(&["version".into()], "value_error", message, Value::Null))?;
        if version.template_type != TemplateType::Chat {
            return Err(ServiceError::invalid("Only CHAT template type is supported for prompts"));
        }
        let metadata = Value::Object(request.metadata.unwrap_or_default());
        let prompt =
            NewPrompt { name: &request.name, description: request.description.as_deref(), metadata: &metadata, source_prompt_id: None };
        let (_, created) = self.services.store.create_prompt_version(&prompt, &stored_version(&version)?, caller.user_id()).await?;
        Ok(created)
    }

    /// A new prompt (409 when the name is taken) with its first version, tagged with `tags`
    /// (`(name, description)`), as GraphQL's `createChatPrompt` makes one.
    pub async fn create_new(
        &self,
        caller: &Caller,
        request: PromptRequest,
        tags: &[(String, Option<String>)],
    ) -> Result<PromptVersionRecord> {
        caller.require_write()?;
        check_tag_names(tags)?;
        if is_identifier(&request.name) && self.services.store.get_prompt_by_name(&request.name).await?.is_some() {
            return Err(ServiceError::conflict(format!("A prompt named '{}' already exists", request.name)));
        }
        let created = self.create(caller, request).await?;
        for (name, description) in tags {
            self.tag_version(caller, created.id, name, description.as_deref()).await?;
        }
        Ok(created)
    }

    /// A new version of an existing prompt (404 when there is none), tagged with `tags`
    /// (`(name, description)`); the prompt's description and metadata stay.
    pub async fn add_version(
        &self,
        caller: &Caller,
        identifier: &str,
        version: PromptVersionData,
        tags: &[(String, Option<String>)],
    ) -> Result<PromptVersionRecord> {
        caller.require_write()?;
        let prompt = self.resolve(caller, identifier).await?;
        check_tag_names(tags)?;
        let request = PromptRequest { name: prompt.name, description: None, metadata: None, version };
        let created = self.create(caller, request).await?;
        for (name, description) in tags {
            self.tag_version(caller, created.id, name, description.as_deref()).await?;
        }
        Ok(created)
    }

    pub async fn patch(&self, caller: &Caller, identifier: &str, changes: &PromptChanges) -> Result<PromptRecord> {
        caller.require_write()?;
        let prompt = self.resolve(caller, identifier).await?;
        self.services.store.patch_prompt(prompt.id, changes).await?.ok_or_else(no_prompt)
    }

    pub async fn delete(&self, caller: &Caller, identifier: &str) -> Result<()> {
        caller.require_write()?;
        let prompt = self.resolve(caller, identifier).await?;
        if !self.services.store.delete_prompt(prompt.id).await? {
            return Err(no_prompt());
        }
        Ok(())
    }

    /// A prompt's versions, newest first; an unknown prompt has none (as in Phoenix).
    pub async fn versions(
        &self,
        caller: &Caller,
        identifier: &str,
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<Page<PromptVersionRecord>> {
        match self.find(caller, identifier).await? {
            Some(prompt) => self.versions_of(caller, &prompt, cursor, limit).await,
            None => Ok(Page { items: Vec::new(), next_cursor: None }),
        }
    }

    pub async fn versions_of(
        &self,
        _caller: &Caller,
        prompt: &PromptRecord,
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<Page<PromptVersionRecord>> {
        Ok(self.services.store.list_prompt_versions(prompt.id, cursor, limit).await?)
    }

    /// The prompt's newest version; 404 when the prompt or the version is missing.
    pub async fn latest(&self, caller: &Caller, identifier: &str) -> Result<PromptVersionRecord> {
        let version = match self.find(caller, identifier).await? {
            Some(prompt) => self.services.store.latest_prompt_version(prompt.id).await?,
            None => None,
        };
        version.ok_or_else(|| ServiceError::not_found(format!("No version of prompt {identifier}")))
    }

    /// The prompt's version tagged `tag`; 404 when there is none.
    pub async fn by_tag(&self, caller: &Caller, identifier: &str, tag: &str) -> Result<PromptVersionRecord> {
        if !is_identifier(tag) {
            return Err(ServiceError::invalid("Invalid tag name"));
        }
        let version = match self.find(caller, identifier).await? {
            Some(prompt) => self.services.store.prompt_version_by_tag(prompt.id, tag).await?,
            None => None,
        };
        version.ok_or_else(|| ServiceError::not_found(format!("No version of prompt {identifier} is tagged {tag}")))
    }

    /// A version by rowid; 404 when there is none.
    pub async fn version(&self, _caller: &Caller, id: i64) -> Result<PromptVersionRecord> {
        self.services.store.get_prompt_version(id).await?.ok_or_else(no_version)
    }

    pub async fn version_tags(&self, caller: &Caller, id: i64, cursor: Option<i64>, limit: usize) -> Result<Page<PromptVersionTagRecord>> {
        let version = self.version(caller, id).await?;
        Ok(self.services.store.list_prompt_version_tags(version.id, cursor, limit).await?)
    }

    /// Every tag of the prompt's versions.
    pub async fn tags_of(&self, _caller: &Caller, prompt: &PromptRecord) -> Result<Vec<PromptVersionTagRecord>> {
        Ok(self.services.store.prompt_tags(prompt.id).await?)
    }

    /// A tag by rowid; 404 when there is none.
    pub async fn tag(&self, _caller: &Caller, id: i64) -> Result<PromptVersionTagRecord> {
        let tag = self.services.store.get_prompt_version_tag(id).await?;
        tag.ok_or_else(|| {
            ServiceError::not_found(format!("Prompt version tag {} not found", GlobalId::encode(GlobalType::PromptVersionTag, id)))
        })
    }

    /// Tags a version (moving the tag from another version of the prompt).
    pub async fn tag_version(&self, caller: &Caller, id: i64, name: &str, description: Option<&str>) -> Result<()> {
        caller.require_write()?;
        if !is_identifier(name) {
            return Err(pattern_mismatch(&["name".into()], name));
        }
        self.services.store.set_prompt_version_tag(id, name, description).await.map_err(|error| not_found_as_version(error.into()))?;
        Ok(())
    }

    /// Removes a version's tag; 404 when the version or the tag is missing.
    pub async fn untag_version(&self, caller: &Caller, id: i64, name: &str) -> Result<()> {
        caller.require_write()?;
        if !is_identifier(name) {
            return Err(ServiceError::invalid("Invalid tag name"));
        }
        match self.services.store.delete_prompt_version_tag(id, name).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(ServiceError::not_found(format!("Tag {name} not found"))),
            Err(error) => Err(not_found_as_version(error.into())),
        }
    }
}

fn check_tag_names(tags: &[(String, Option<String>)]) -> Result<()> {
    match tags.iter().find(|(name, _)| !is_identifier(name)) {
        Some((name, _)) => Err(pattern_mismatch(&["tags".into(), "name".into()], name)),
        None => Ok(()),
    }
}

/// The store's "not found" of a tag write means the version is missing.
fn not_found_as_version(error: ServiceError) -> ServiceError {
    if error.code() == ember_core::ErrorCode::NotFound {
        no_version()
    } else {
        error
    }
}
