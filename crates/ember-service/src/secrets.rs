//! Secrets (provider keys and base URLs for the playground), set and deleted in one batch. Keys
//! are printable ASCII; values are sealed before they are stored (see [`crate::secret_box`]) and
//! never returned.

use ember_store::SecretChange;

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

pub struct Secrets<'a> {
    pub(crate) services: &'a Services,
}

impl Secrets<'_> {
    /// Applies a batch; the last entry of a key wins.
    pub async fn apply(&self, _caller: &Caller, entries: Vec<SecretEntry>) -> Result<SecretsApplied> {
        if entries.is_empty() {
            return Err(ServiceError::invalid("At least one secret is required"));
        }
        let mut changes: Vec<SecretChange> = Vec::new();
        for (index, entry) in entries.into_iter().enumerate() {
            let key = entry.key.trim().to_string();
            if key.is_empty() || !key.is_ascii() || key.chars().any(char::is_control) {
                return Err(ServiceError::invalid(format!("secrets[{index}].key must be non-empty printable ASCII")));
            }
            if entry.value.as_deref().is_some_and(|value| value.trim().is_empty()) {
                return Err(ServiceError::invalid(format!("secrets[{index}].value must not be empty")));
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
