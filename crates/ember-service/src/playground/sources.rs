//! Where a playground variant comes from and where it is saved: an LLM span the caller may
//! read, a prompt version (or a prompt's latest), and a prompt version saved from a variant
//! (a new prompt, or a new version of the prompt of that name).

use ember_core::prompt::PromptVersionData;
use ember_store::{PromptVersionInput, PromptVersionRecord};
use serde_json::json;

use super::variant::Variant;
use super::PlaygroundService;
use crate::error::{Result, ServiceError};
use crate::prompts::PromptRequest;
use crate::Caller;

/// A stored version's content read back as the prompt hub's type.
fn version_data(content: &PromptVersionInput) -> Result<PromptVersionData> {
    let mut data = json!({
        "model_provider": content.model_provider,
        "model_name": content.model_name,
        "template": content.template,
        "template_type": content.template_type,
        "template_format": content.template_format,
        "invocation_parameters": content.invocation_parameters,
    });
    for (key, value) in [("tools", &content.tools), ("response_format", &content.response_format)] {
        if let Some(value) = value.as_ref().filter(|value| !value.is_null()) {
            data[key] = value.clone();
        }
    }
    serde_json::from_value(data).map_err(ServiceError::internal)
}

impl PlaygroundService<'_> {
    /// The variant of an LLM span (by OpenTelemetry id); 404 when the caller cannot read one.
    pub async fn variant_of_span(&self, caller: &Caller, span_id: &str) -> Result<Variant> {
        let record = self.services.spans().by_otel_id(caller, span_id).await?;
        let record = record.ok_or_else(|| ServiceError::not_found(format!("There is no span {span_id}.")))?;
        Ok(Variant::of_span_attributes(&record.span.attributes))
    }

    /// The variant of a prompt's version (by rowid), or of its latest version.
    pub async fn variant_of_prompt(&self, caller: &Caller, prompt_id: i64, version_id: Option<i64>) -> Result<(String, Variant)> {
        let prompts = self.services.prompts();
        let prompt = prompts.by_rowid(caller, prompt_id).await?;
        let version = match version_id {
            Some(id) => Some(prompts.version(caller, id).await?).filter(|version| version.prompt_id == prompt.id),
            None => Some(prompts.latest(caller, &prompt.name).await?),
        };
        let version = version.ok_or_else(|| ServiceError::not_found("Prompt version not found"))?;
        Ok((prompt.name, Variant::of_version(&version_data(&version.content)?)))
    }

    /// Saves a variant as a new version of the prompt named `prompt_name`, made when there is
    /// none (its name follows the prompt hub's rule).
    pub async fn save(
        &self,
        caller: &Caller,
        prompt_name: &str,
        description: Option<&str>,
        variant: &Variant,
    ) -> Result<PromptVersionRecord> {
        let mut version = variant.to_version().map_err(ServiceError::invalid)?;
        version.description = description.map(str::trim).filter(|text| !text.is_empty()).map(str::to_string);
        let request = PromptRequest { name: prompt_name.trim().to_string(), description: None, metadata: None, version };
        self.services.prompts().create(caller, request).await
    }
}
