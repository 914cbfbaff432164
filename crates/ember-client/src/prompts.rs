//! Prompts: list, fetch a version (latest, by tag or by id), push a new version, tag one.

use ember_core::prompt::PromptVersionData;
use reqwest::Method;
use serde_json::{json, Value};

use crate::client::Envelope;
use crate::{Client, ClientError};

pub use ember_wire::{Prompt, PromptVersionTag};

/// A stored version: its id and its content, validated as the server validates it.
#[derive(Debug, Clone)]
pub struct StoredPromptVersion {
    pub id: String,
    pub version: PromptVersionData,
    /// The version as the server sent it.
    pub raw: Value,
}

/// Which version of a prompt to fetch.
#[derive(Debug, Clone, Copy)]
pub enum VersionSelector<'a> {
    Latest,
    Tag(&'a str),
    Id(&'a str),
}

/// A path segment, percent-encoded as the Phoenix clients encode path parameters.
fn segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

impl Client {
    /// Every prompt, newest first.
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, ClientError> {
        self.get_all("v1/prompts", &[]).await
    }

    /// One version of the prompt named (by name or id) `prompt`.
    pub async fn prompt_version(&self, prompt: &str, selector: VersionSelector<'_>) -> Result<StoredPromptVersion, ClientError> {
        let path = match selector {
            VersionSelector::Latest => format!("v1/prompts/{}/latest", segment(prompt)),
            VersionSelector::Tag(tag) => format!("v1/prompts/{}/tags/{}", segment(prompt), segment(tag)),
            VersionSelector::Id(id) => format!("v1/prompt_versions/{}", segment(id)),
        };
        let found: Envelope<Value> = self.get_json(&path, &[]).await?;
        stored_version(&format!("GET /{path}"), found.data)
    }

    /// Adds `version` to the prompt `name`, creating the prompt (with `description`) when there
    /// is none.
    pub async fn push_prompt_version(
        &self,
        name: &str,
        description: Option<&str>,
        version: &PromptVersionData,
    ) -> Result<StoredPromptVersion, ClientError> {
        let mut prompt = json!({"name": name});
        if let Some(description) = description {
            prompt["description"] = json!(description);
        }
        let created: Envelope<Value> = self.post_json("v1/prompts", &json!({"prompt": prompt, "version": version})).await?;
        stored_version("POST /v1/prompts", created.data)
    }

    /// Points the tag `name` at a version (moving it from another version of the prompt).
    pub async fn tag_prompt_version(&self, version_id: &str, name: &str, description: Option<&str>) -> Result<(), ClientError> {
        let path = format!("v1/prompt_versions/{}/tags", segment(version_id));
        let mut body = json!({"name": name});
        if let Some(description) = description {
            body["description"] = json!(description);
        }
        let label = format!("POST /{path}");
        self.send(&label, self.request(Method::POST, &path).json(&body)).await?;
        Ok(())
    }

    /// Removes the tag `name` from the prompt the version belongs to.
    pub async fn untag_prompt_version(&self, version_id: &str, name: &str) -> Result<(), ClientError> {
        let path = format!("v1/prompt_versions/{}/tags/{}", segment(version_id), segment(name));
        self.send(&format!("DELETE /{path}"), self.request(Method::DELETE, &path)).await?;
        Ok(())
    }

    /// The tags pointing at a version.
    pub async fn prompt_version_tags(&self, version_id: &str) -> Result<Vec<PromptVersionTag>, ClientError> {
        self.get_all(&format!("v1/prompt_versions/{}/tags", segment(version_id)), &[]).await
    }
}

fn stored_version(label: &str, raw: Value) -> Result<StoredPromptVersion, ClientError> {
    let decode_error = |problem: String| ClientError::Decode { request: label.to_string(), problem };
    let id = raw.get("id").and_then(Value::as_str).ok_or_else(|| decode_error("the version has no id".into()))?.to_string();
    let version = serde_json::from_value(raw.clone()).map_err(|error| decode_error(error.to_string()))?;
    Ok(StoredPromptVersion { id, version, raw })
}
