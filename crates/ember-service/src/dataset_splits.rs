//! Dataset splits (global names, as in Phoenix) managed through a dataset whose examples they may
//! hold. A split's name is non-empty and its color a six-digit hex color.

use ember_store::{DatasetSplitChanges, DatasetSplitRecord};
use serde_json::Value;

use crate::dataset_labels::valid_name;
use ember_core::{GlobalId, GlobalType};

use crate::datasets::DatasetRef;
use crate::error::{Result, ServiceError};
use crate::{Caller, Services};

fn not_found_text(id: i64) -> String {
    format!("Dataset split {} not found", GlobalId::encode(GlobalType::DatasetSplit, id))
}

/// The color of a split created without one.
const DEFAULT_COLOR: &str = "#33c5e8";

/// A hex color such as `#33c5e8`.
fn valid_color(color: &str) -> Result<String> {
    if color.len() == 7 && color.starts_with('#') && color[1..].bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(color.to_string());
    }
    Err(ServiceError::invalid(format!("color must be a hex color such as #33c5e8, not {color:?}")))
}

/// A new split.
#[derive(Debug, Clone, Default)]
pub struct NewSplit {
    pub name: String,
    pub description: Option<String>,
    pub color: Option<String>,
    pub metadata: Option<Value>,
    /// Examples of the dataset the split starts with.
    pub example_ids: Vec<i64>,
}

pub struct DatasetSplits<'a> {
    pub(crate) services: &'a Services,
}

impl DatasetSplits<'_> {
    pub async fn create(&self, caller: &Caller, dataset: DatasetRef<'_>, split: NewSplit) -> Result<DatasetSplitRecord> {
        caller.require_write()?;
        let dataset = self.services.datasets().resolve(caller, dataset).await?;
        let name = valid_name(&split.name)?;
        let color = valid_color(split.color.as_deref().unwrap_or(DEFAULT_COLOR))?;
        let metadata = split.metadata.unwrap_or_else(|| Value::Object(Default::default()));
        let store = &self.services.store;
        Ok(store.create_dataset_split(Some(dataset.id), &name, split.description.as_deref(), &color, &metadata, &split.example_ids).await?)
    }

    /// A split made from examples (all of one dataset), without naming the dataset.
    pub async fn create_with_examples(&self, caller: &Caller, split: NewSplit) -> Result<DatasetSplitRecord> {
        caller.require_write()?;
        let owners = self.services.store.datasets_of_examples(&split.example_ids).await?;
        match (owners.len(), owners.first()) {
            (1, Some(owner)) => self.create(caller, DatasetRef::Id(*owner), split).await,
            (0, _) if split.example_ids.is_empty() => {
                let name = valid_name(&split.name)?;
                let color = valid_color(split.color.as_deref().unwrap_or(DEFAULT_COLOR))?;
                let metadata = split.metadata.unwrap_or_else(|| Value::Object(Default::default()));
                Ok(self.services.store.create_dataset_split(None, &name, split.description.as_deref(), &color, &metadata, &[]).await?)
            }
            (0, _) => Err(ServiceError::not_found("No examples found")),
            _ => Err(ServiceError::invalid("A split's examples must be from one dataset")),
        }
    }

    /// Changes a split; 404 when there is none.
    pub async fn update(
        &self,
        caller: &Caller,
        dataset: DatasetRef<'_>,
        split_id: i64,
        mut changes: DatasetSplitChanges,
    ) -> Result<DatasetSplitRecord> {
        caller.require_write()?;
        let dataset = self.services.datasets().resolve(caller, dataset).await?;
        changes.name = changes.name.as_deref().map(valid_name).transpose()?;
        changes.color = changes.color.as_deref().map(valid_color).transpose()?;
        let updated = self.services.store.update_dataset_split(dataset.id, split_id, &changes).await?;
        updated.ok_or_else(|| ServiceError::not_found(not_found_text(split_id)))
    }

    pub async fn delete(&self, caller: &Caller, dataset: DatasetRef<'_>, split_id: i64) -> Result<()> {
        caller.require_write()?;
        self.services.datasets().resolve(caller, dataset).await?;
        if !self.services.store.delete_dataset_split(split_id).await? {
            return Err(ServiceError::not_found(not_found_text(split_id)));
        }
        Ok(())
    }

    /// A split by rowid or, failing that, by name.
    pub async fn find(&self, _caller: &Caller, id: Option<i64>, name: &str) -> Result<Option<DatasetSplitRecord>> {
        let store = &self.services.store;
        Ok(match id {
            Some(id) => store.get_dataset_split(id).await?,
            None => store.get_dataset_split_by_name(name).await?,
        })
    }
}
