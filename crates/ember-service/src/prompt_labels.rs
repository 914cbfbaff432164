//! Prompt labels (a unique name, a `#rrggbb` color, a description) and the labels applied to
//! each prompt. Applying labels adds to those a prompt has; taking them off is separate.

use std::collections::HashMap;

use ember_core::{ErrorCode, GlobalId, GlobalType};
use ember_store::{Page, PromptLabelChanges, PromptLabelRecord};

use crate::dataset_labels::valid_name;
use crate::error::{Result, ServiceError};
use crate::{Caller, Services};

fn not_found_text(id: i64) -> String {
    format!("Prompt label {} not found", GlobalId::encode(GlobalType::PromptLabel, id))
}

/// A six-digit hex color such as `#FF0000` (either case, as Phoenix's own tests send).
fn valid_color(color: &str) -> Result<&str> {
    let hex = color.strip_prefix('#').filter(|hex| hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    match hex {
        Some(_) => Ok(color),
        None => Err(ServiceError::invalid(format!("color must be a hex color such as #ff0000, not {color:?}"))),
    }
}

pub struct PromptLabels<'a> {
    pub(crate) services: &'a Services,
}

impl PromptLabels<'_> {
    pub async fn list(&self, _caller: &Caller, cursor: Option<i64>, limit: usize) -> Result<Page<PromptLabelRecord>> {
        Ok(self.services.store.list_prompt_labels(cursor, limit).await?)
    }

    /// A label by rowid; 404 when there is none.
    pub async fn resolve(&self, _caller: &Caller, id: i64) -> Result<PromptLabelRecord> {
        let label = self.services.store.get_prompt_label(id).await?;
        label.ok_or_else(|| ServiceError::not_found(not_found_text(id)))
    }

    /// A new label; 409 when the name is taken.
    pub async fn create(&self, caller: &Caller, name: &str, description: Option<&str>, color: &str) -> Result<PromptLabelRecord> {
        caller.require_write()?;
        let name = valid_name(name)?;
        crate::limits::check_description("prompt label description", "description", description)?;
        Ok(self.services.store.create_prompt_label(&name, description, valid_color(color)?).await?)
    }

    /// Changes the given fields; 404 when there is no such label.
    pub async fn patch(&self, caller: &Caller, id: i64, mut changes: PromptLabelChanges) -> Result<PromptLabelRecord> {
        caller.require_write()?;
        changes.name = changes.name.as_deref().map(valid_name).transpose()?;
        if let Some(description) = &changes.description {
            crate::limits::check_description("prompt label description", "description", description.as_deref())?;
        }
        let label = self.services.store.patch_prompt_label(id, &changes).await?;
        label.ok_or_else(|| ServiceError::not_found(not_found_text(id)))
    }

    /// Deletes labels (taking them off every prompt); returns those that existed.
    pub async fn delete(&self, caller: &Caller, ids: &[i64]) -> Result<Vec<i64>> {
        caller.require_write()?;
        Ok(self.services.store.delete_prompt_labels(ids).await?)
    }

    /// How many prompts carry the label.
    pub async fn usage(&self, _caller: &Caller, label: &PromptLabelRecord) -> Result<i64> {
        Ok(self.services.store.prompt_label_usage(label.id).await?)
    }

    /// The labels of the prompt a GlobalID or name names.
    pub async fn of_prompt(&self, caller: &Caller, prompt: &str) -> Result<Vec<PromptLabelRecord>> {
        let prompt = self.services.prompts().resolve(caller, prompt).await?;
        Ok(self.services.store.labels_of_prompt(prompt.id).await?)
    }

    /// The labels of each of the prompts, read at once (a page of prompts, not one read each).
    pub async fn of_prompts(&self, _caller: &Caller, prompt_ids: &[i64]) -> Result<HashMap<i64, Vec<PromptLabelRecord>>> {
        let mut labels: HashMap<i64, Vec<PromptLabelRecord>> = prompt_ids.iter().map(|id| (*id, Vec::new())).collect();
        for (prompt_id, label) in self.services.store.labels_of_prompts(prompt_ids).await? {
            labels.entry(prompt_id).or_default().push(label);
        }
        Ok(labels)
    }

    /// Applies labels to a prompt (404 for an unknown label, nothing changed).
    pub async fn apply(&self, caller: &Caller, prompt_id: i64, label_ids: &[i64]) -> Result<()> {
        caller.require_write()?;
        let prompt = self.services.prompts().by_rowid(caller, prompt_id).await?;
        self.services.store.add_prompt_labels(prompt.id, label_ids).await.map_err(|error| match ServiceError::from(error) {
            error if error.code() == ErrorCode::NotFound => ServiceError::not_found("A prompt label in promptLabelIds does not exist"),
            error => error,
        })
    }

    /// Takes labels off a prompt (labels it does not carry are ignored).
    pub async fn remove(&self, caller: &Caller, prompt_id: i64, label_ids: &[i64]) -> Result<()> {
        caller.require_write()?;
        let prompt = self.services.prompts().by_rowid(caller, prompt_id).await?;
        Ok(self.services.store.remove_prompt_labels(prompt.id, label_ids).await?)
    }
}
