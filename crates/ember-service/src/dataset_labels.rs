//! Dataset labels (name, color, description) and the labels of each dataset. A label's name is
//! non-empty and its color a lowercase six-digit hex color.

use ember_store::{DatasetLabelChanges, DatasetLabelRecord, Page};

use ember_core::{GlobalId, GlobalType};

use crate::datasets::DatasetRef;
use crate::error::{Result, ServiceError};
use crate::{Caller, Services};

fn not_found_text(id: i64) -> String {
    format!("Dataset label {} not found", GlobalId::encode(GlobalType::DatasetLabel, id))
}

/// A non-empty name, trimmed, within the length limit.
pub(crate) fn valid_name(name: &str) -> Result<String> {
    match name.trim() {
        "" => Err(ServiceError::invalid("name must be a non-empty string")),
        name => {
            crate::limits::check_name("name", "name", name)?;
            Ok(name.to_string())
        }
    }
}

/// A lowercase six-digit hex color such as `#00cc88`.
fn valid_color(color: &str) -> Result<String> {
    let valid = color.len() == 7 && color.starts_with('#') && color[1..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !valid {
        return Err(ServiceError::invalid(format!("color must be a lowercase hex color such as #00cc88, not {color:?}")));
    }
    Ok(color.to_string())
}

pub struct DatasetLabels<'a> {
    pub(crate) services: &'a Services,
}

impl DatasetLabels<'_> {
    pub async fn list(&self, _caller: &Caller, cursor: Option<i64>, limit: usize) -> Result<Page<DatasetLabelRecord>> {
        Ok(self.services.store.list_dataset_labels(cursor, limit).await?)
    }

    /// A label by rowid; 404 when there is none.
    pub async fn resolve(&self, _caller: &Caller, id: i64) -> Result<DatasetLabelRecord> {
        let label = self.services.store.get_dataset_label(id).await?;
        label.ok_or_else(|| ServiceError::not_found(not_found_text(id)))
    }

    pub async fn create(&self, caller: &Caller, name: &str, description: Option<&str>, color: &str) -> Result<DatasetLabelRecord> {
        caller.require_write()?;
        let (name, color) = (valid_name(name)?, valid_color(color)?);
        Ok(self.services.store.create_dataset_label(&name, description, &color).await?)
    }

    /// Changes the given fields; 404 when there is no such label.
    pub async fn update(&self, caller: &Caller, id: i64, mut changes: DatasetLabelChanges) -> Result<DatasetLabelRecord> {
        caller.require_write()?;
        changes.name = changes.name.as_deref().map(valid_name).transpose()?;
        changes.color = changes.color.as_deref().map(valid_color).transpose()?;
        let label = self.services.store.update_dataset_label(id, &changes).await?;
        label.ok_or_else(|| ServiceError::not_found(not_found_text(id)))
    }

    pub async fn delete(&self, caller: &Caller, id: i64) -> Result<()> {
        caller.require_write()?;
        if !self.services.store.delete_dataset_label(id).await? {
            return Err(ServiceError::not_found(not_found_text(id)));
        }
        Ok(())
    }

    pub async fn of_dataset(&self, caller: &Caller, dataset: DatasetRef<'_>) -> Result<Vec<DatasetLabelRecord>> {
        let dataset = self.services.datasets().resolve(caller, dataset).await?;
        Ok(self.services.store.labels_of_dataset(dataset.id).await?)
    }

    /// Replaces the dataset's labels (404 when a label does not exist, nothing changed); returns them.
    pub async fn set_for_dataset(&self, caller: &Caller, dataset: DatasetRef<'_>, label_ids: &[i64]) -> Result<Vec<DatasetLabelRecord>> {
        caller.require_write()?;
        let dataset = self.services.datasets().resolve(caller, dataset).await?;
        let store = &self.services.store;
        store.set_dataset_labels(dataset.id, label_ids).await.map_err(|error| match ServiceError::from(error) {
            error if error.code() == ember_core::ErrorCode::NotFound => {
                ServiceError::not_found("A dataset label in dataset_label_ids does not exist")
            }
            error => error,
        })?;
        Ok(store.labels_of_dataset(dataset.id).await?)
    }

    /// Applies a label to a dataset; returns the label.
    pub async fn add_to_dataset(&self, caller: &Caller, dataset: DatasetRef<'_>, label_id: i64) -> Result<DatasetLabelRecord> {
        caller.require_write()?;
        let dataset = self.services.datasets().resolve(caller, dataset).await?;
        let label = self.resolve(caller, label_id).await?;
        self.services.store.add_dataset_label(dataset.id, label.id).await?;
        Ok(label)
    }

    pub async fn remove_from_dataset(&self, caller: &Caller, dataset: DatasetRef<'_>, label_id: i64) -> Result<()> {
        caller.require_write()?;
        let dataset = self.services.datasets().resolve(caller, dataset).await?;
        let label = self.resolve(caller, label_id).await?;
        self.services.store.remove_dataset_label(dataset.id, label.id).await?;
        Ok(())
    }
}
