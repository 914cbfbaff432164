//! Secrets (provider keys and base URLs for the playground), set and deleted in one batch. Keys
//! are identifiers as Phoenix 20.26 requires them (a letter or underscore, then letters, digits and
//! underscores); values are sealed before they are stored (see [`crate::secret_box`]) and never
//! returned.

use ember_store::SecretChange;

use serde_json::json;

use crate::error::{Result, ServiceError};
use crate::{Caller, Services};

/// One entry of a batch: a value sets the secret, `None` deletes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretEntry {
    pub key: String,
    pub value: Option<String>,
}

/// The keys a batch set and deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretsApplied {
    pub upserted_keys: Vec<String>,
    pub deleted_keys: Vec<String>,
}

/// What is wrong with a secret's key, in Phoenix's words (a FastAPI validation message).
fn key_problem(key: &str) -> Option<&'static str> {
    let mut characters = key.chars();
    match characters.next() {
        None => Some("Value error, Key cannot be empty"),
        Some(first) if (first.is_ascii_alphabetic() || first == '_') && characters.all(|c| c.is_ascii_alphanumeric() || c == '_') => None,
        Some(_) => Some("Value error, Key must start with a letter or underscore and contain only letters, digits, and underscores"),
    }
}

/// A secret as it may leave the server: its key, and for admins its value redacted (see
/// [`crate::redaction`]) or why the stored value cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretView {
    pub key: String,
    pub value: SecretValue,
    pub updated_at: i64,
}

/// A secret's value as a caller sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretValue {
    Redacted(String),
    /// Why the stored value cannot be opened.
    Unparsable(String),
    /// Only admins see values, even redacted (as in Phoenix); others see the keys.
    Withheld,
}

pub struct Secrets<'a> {
    pub(crate) services: &'a Services,
}

impl Secrets<'_> {
    /// Secrets by key (those named, when `keys` is given), values redacted, and withheld from
    /// all but admins.
    pub async fn list(&self, caller: &Caller, keys: Option<&[String]>) -> Result<Vec<SecretView>> {
        let playground = &self.services.playground;
        let stored = self.services.store.list_secrets(keys).await?;
        let sees_values = caller.require_admin().is_ok();
        Ok(stored
            .into_iter()
            .map(|(key, secret)| SecretView {
                value: match playground.secrets.open(&secret.value) {
                    _ if !sees_values => SecretValue::Withheld,
                    Ok(value) => SecretValue::Redacted(playground.redactor.redact(&value)),
                    Err(error) => SecretValue::Unparsable(error.to_string()),
                },
                key,
                updated_at: secret.updated_at,
            })
            .collect())
    }

    /// Applies a batch; the last entry of a key wins.
    pub async fn apply(&self, caller: &Caller, entries: Vec<SecretEntry>) -> Result<SecretsApplied> {
        caller.require_admin()?;
        if entries.is_empty() {
            return Err(ServiceError::invalid("At least one secret is required"));
        }
        let mut changes: Vec<SecretChange> = Vec::new();
        for (index, entry) in entries.into_iter().enumerate() {
            let key = entry.key;
            if let Some(problem) = key_problem(&key) {
                let path = [index.into(), "key".into()];
                return Err(ServiceError::field(&[&["secrets".into()][..], &path].concat(), "value_error", problem, json!(key)));
            }
            if entry.value.as_deref().is_some_and(|value| value.trim().is_empty()) {
                let path = [index.into(), "value".into()];
                let problem = "Value error, Value cannot be empty";
                return Err(ServiceError::field(&[&["secrets".into()][..], &path].concat(), "value_error", problem, json!(entry.value)));
            }
            if let Some(reason) = entry.value.as_deref().and_then(|value| self.services.playground.refuse_secret(&key, value)) {
                return Err(ServiceError::invalid(format!("secrets[{index}]: {reason}")));
            }
            changes.retain(|change| change.key != key);
            changes.push(SecretChange { key, value: entry.value });
        }
        let keys =
            |deleted: bool| changes.iter().filter(|change| change.value.is_none() == deleted).map(|change| change.key.clone()).collect();
        let applied = SecretsApplied { upserted_keys: keys(false), deleted_keys: keys(true) };
        for change in &mut changes {
            if let Some(value) = &change.value {
                let sealed = self.services.playground.secrets.seal(value);
                change.value = Some(sealed.ok_or_else(|| ServiceError::invalid(format!("the value of {} is too large", change.key)))?);
            }
        }
        self.services.store.apply_secret_changes(&changes).await?;
        Ok(applied)
    }
}
