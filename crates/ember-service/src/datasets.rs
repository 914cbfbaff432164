//! Datasets: listing, lookups, versions and examples, uploads (whole or in batches), examples made
//! from spans, and deletion. A dataset is named by its rowid, or by its GlobalID or name.

use std::collections::HashMap;

use ember_core::{GlobalId, GlobalType};
use ember_store::{
    DatasetRecord, DatasetSplitRecord, DatasetVersionRecord, ExampleBatches, ExampleInput, ExampleRecord, Page, SpanFilters, UploadAction,
    UploadOutcome,
};
use serde_json::{json, Value};

use crate::error::{Result, ServiceError};
use crate::limits::{check_description, check_name};
use crate::projects::ProjectRef;
use crate::{Caller, Services};

/// How a request names a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetRef<'a> {
    /// Its rowid (the web UI's paths, and GlobalIDs the transport has decoded).
    Id(i64),
    /// Its GlobalID or its name.
    Identifier(&'a str),
}

impl std::fmt::Display for DatasetRef<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatasetRef::Id(id) => write!(formatter, "{id}"),
            DatasetRef::Identifier(text) => formatter.write_str(text),
        }
    }
}

/// A dataset upload: the dataset's name and what to do with it.
#[derive(Debug, Clone)]
pub struct Upload<'a> {
    pub action: UploadAction,
    pub name: &'a str,
    pub description: Option<&'a str>,
}

/// An example written by hand: input, output and metadata must each be a JSON object, as an
/// upload's are.
fn example_of([input, output, metadata]: [Value; 3]) -> Result<ExampleInput> {
    for (name, value) in [("input", &input), ("output", &output), ("metadata", &metadata)] {
        if !value.is_object() {
            return Err(ServiceError::invalid(format!("the example's {name} must be a JSON object, e.g. {{\"question\": \"…\"}}")));
        }
    }
    Ok(ExampleInput { input, output, metadata, splits: None, span_id: None, external_id: None })
}

pub struct Datasets<'a> {
    pub(crate) services: &'a Services,
}

impl Datasets<'_> {
    /// The dataset `reference` names, or `None`.
    pub async fn find(&self, _caller: &Caller, reference: DatasetRef<'_>) -> Result<Option<DatasetRecord>> {
        let store = &self.services.store;
        Ok(match reference {
            DatasetRef::Id(id) => store.get_dataset(id).await?,
            DatasetRef::Identifier(text) => match GlobalId::decode_as(text, GlobalType::Dataset) {
                Some(id) => store.get_dataset(id).await?,
                None => store.get_dataset_by_name(text).await?,
            },
        })
    }

    /// The dataset `reference` names; 404 `Dataset with name <name> not found` as Phoenix words it.
    pub async fn resolve(&self, caller: &Caller, reference: DatasetRef<'_>) -> Result<DatasetRecord> {
        let missing = || match reference {
            DatasetRef::Identifier(name) if GlobalId::decode_as(name, GlobalType::Dataset).is_none() => {
                ServiceError::not_found(format!("Dataset with name {name} not found"))
            }
            _ => ServiceError::not_found(format!("Dataset {reference} not found")),
        };
        self.find(caller, reference).await?.ok_or_else(missing)
    }

    /// Datasets newest first, optionally only the one named `name`.
    pub async fn list(&self, _caller: &Caller, name: Option<&str>, cursor: Option<i64>, limit: usize) -> Result<Page<DatasetRecord>> {
        Ok(self.services.store.list_datasets(name, cursor, limit).await?)
    }

    pub async fn delete(&self, caller: &Caller, reference: DatasetRef<'_>) -> Result<()> {
        caller.require_write()?;
        let dataset = self.resolve(caller, reference).await?;
        self.services.store.delete_dataset(dataset.id).await?;
        Ok(())
    }

    /// A page of the dataset's versions, newest first.
    pub async fn versions(
        &self,
        _caller: &Caller,
        dataset: &DatasetRecord,
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<Page<DatasetVersionRecord>> {
        Ok(self.services.store.list_dataset_versions(dataset.id, cursor, limit).await?)
    }

    /// The dataset's version `version_id`, or its latest; `None` when there is no such version.
    pub async fn version(
        &self,
        _caller: &Caller,
        dataset: &DatasetRecord,
        version_id: Option<i64>,
    ) -> Result<Option<DatasetVersionRecord>> {
        Ok(self.services.store.get_dataset_version(dataset.id, version_id).await?)
    }

    /// The examples alive at a version, optionally only those in the given splits (by rowid or name).
    pub async fn examples(
        &self,
        _caller: &Caller,
        dataset: &DatasetRecord,
        version: &DatasetVersionRecord,
        split_ids: &[i64],
        split_names: &[String],
    ) -> Result<Vec<ExampleRecord>> {
        Ok(self.services.store.dataset_examples(dataset.id, version.id, split_ids, split_names).await?)
    }

    /// The names of the splits each example is in (examples in none are absent).
    pub async fn split_names(&self, _caller: &Caller, examples: &[ExampleRecord]) -> Result<HashMap<i64, Vec<String>>> {
        let ids: Vec<i64> = examples.iter().map(|example| example.id).collect();
        Ok(self.services.store.split_names_of_examples(&ids).await?)
    }

    /// The first `limit` examples alive at a version (pages show the start of a dataset).
    pub async fn first_examples(
        &self,
        _caller: &Caller,
        dataset: &DatasetRecord,
        version: &DatasetVersionRecord,
        split_names: &[String],
        limit: usize,
    ) -> Result<Vec<ExampleRecord>> {
        Ok(self.services.store.first_dataset_examples(dataset.id, version.id, split_names, limit).await?)
    }

    /// The splits that hold examples of the dataset, newest first, a page from the split `from_id` down.
    pub async fn splits(
        &self,
        _caller: &Caller,
        dataset: &DatasetRecord,
        from_id: Option<i64>,
        limit: usize,
    ) -> Result<Page<DatasetSplitRecord>> {
        Ok(self.services.store.splits_of_dataset(dataset.id, from_id, limit).await?)
    }

    /// Writes `examples` as a new version of the dataset the upload names.
    pub async fn upload(&self, caller: &Caller, upload: &Upload<'_>, examples: Vec<ExampleInput>) -> Result<UploadOutcome> {
        caller.require_write()?;
        check_upload(upload)?;
        let store = &self.services.store;
        Ok(store.upload_examples(upload.action, upload.name, upload.description, &json!({}), examples).await?)
    }

    /// A new dataset with no examples yet (one empty version); 409 when the name is taken.
    pub async fn create_empty(&self, caller: &Caller, name: &str, description: Option<&str>, metadata: &Value) -> Result<DatasetRecord> {
        caller.require_write()?;
        let upload = Upload { action: UploadAction::Create, name, description };
        check_upload(&upload)?;
        let outcome = self.services.store.upload_examples(upload.action, name, description, metadata, Vec::new()).await?;
        self.resolve(caller, DatasetRef::Id(outcome.dataset_id)).await
    }

    /// Adds examples to a dataset in a new version (examples naming a stored external id update it).
    pub async fn add_examples(&self, caller: &Caller, dataset: &DatasetRecord, examples: Vec<ExampleInput>) -> Result<UploadOutcome> {
        caller.require_write()?;
        let upload = Upload { action: UploadAction::Append, name: &dataset.name, description: None };
        self.upload(caller, &upload, examples).await
    }

    /// Deletes examples (all of one dataset; of `dataset_id` when given) in a new version.
    /// Returns the dataset.
    pub async fn delete_examples(
        &self,
        caller: &Caller,
        dataset_id: Option<i64>,
        example_ids: &[i64],
        description: Option<&str>,
        metadata: &Value,
    ) -> Result<DatasetRecord> {
        caller.require_write()?;
        if example_ids.is_empty() {
            return Err(ServiceError::invalid("Must provide examples to delete"));
        }
        let store = &self.services.store;
        let owners = store.datasets_of_examples(example_ids).await?;
        let owner = match (owners.len(), owners.first()) {
            (1, Some(owner)) => *owner,
            (0, _) => return Err(ServiceError::not_found("No examples found")),
            _ => return Err(ServiceError::invalid("Examples must be from the same dataset")),
        };
        if dataset_id.is_some_and(|dataset_id| dataset_id != owner) {
            return Err(ServiceError::invalid("Examples must belong to the given dataset"));
        }
        store.delete_dataset_examples(owner, example_ids, description, metadata).await?;
        self.resolve(caller, DatasetRef::Id(owner)).await
    }

    /// Replaces one example's input, output and metadata in a new version of its dataset; each
    /// must be a JSON object, as an upload's are. Returns the new version's id.
    pub async fn revise_example(&self, caller: &Caller, dataset: &DatasetRecord, example_id: i64, content: [Value; 3]) -> Result<i64> {
        caller.require_write()?;
        let example = example_of(content)?;
        Ok(self.services.store.revise_dataset_examples(dataset.id, &[(example_id, example)], Some("edited in the web UI")).await?)
    }

    /// Adds one example (input, output, metadata: JSON objects) in a new version.
    pub async fn add_example(&self, caller: &Caller, dataset: &DatasetRecord, content: [Value; 3]) -> Result<UploadOutcome> {
        let example = example_of(content)?;
        self.add_examples(caller, dataset, vec![example]).await
    }

    /// As [`Datasets::upload`], with examples arriving a batch at a time (an upload parsed as it
    /// is read). An error of `batches` aborts the upload and is returned as the batches report it.
    pub async fn upload_batches<B: ExampleBatches>(&self, caller: &Caller, upload: &Upload<'_>, batches: &mut B) -> Result<UploadOutcome> {
        caller.require_write()?;
        check_upload(upload)?;
        let store = &self.services.store;
        Ok(store.upload_example_batches(upload.action, upload.name, upload.description, &json!({}), batches).await?)
    }

    /// Appends examples made from a project's spans (input and output values, metadata) to the
    /// dataset `dataset_name`, creating it when needed.
    pub async fn append_spans(
        &self,
        caller: &Caller,
        project: ProjectRef<'_>,
        dataset_name: &str,
        span_ids: Vec<String>,
    ) -> Result<UploadOutcome> {
        caller.require_write()?;
        if dataset_name.trim().is_empty() || span_ids.is_empty() {
            return Err(ServiceError::bad_request("Select spans and name the dataset to add them to."));
        }
        crate::limits::check_id_count("span ids", span_ids.len())?;
        let project = self.services.projects().resolve(caller, project).await?;
        let limit = span_ids.len();
        let filters = SpanFilters { span_ids, ..Default::default() };
        let spans = self.services.store.list_spans(project.id, &filters, None, limit).await?.items;
        if spans.is_empty() {
            return Err(ServiceError::not_found(format!("None of those spans is in project {}.", project.name)));
        }
        let value = |span: &ember_core::Span, path: &str| span.attribute(path).cloned().unwrap_or(Value::Null);
        let examples = spans
            .iter()
            .map(|record| ExampleInput {
                input: json!({"input": value(&record.span, "input.value")}),
                output: json!({"output": value(&record.span, "output.value")}),
                metadata: match record.span.attribute("metadata") {
                    Some(Value::Object(map)) => Value::Object(map.clone()),
                    _ => json!({}),
                },
                splits: None,
                span_id: Some(record.span.span_id.clone()),
                external_id: None,
            })
            .collect();
        let description = format!("From spans of project {}", project.name);
        let upload = Upload { action: UploadAction::Append, name: dataset_name.trim(), description: Some(&description) };
        self.upload(caller, &upload, examples).await
    }
}

fn check_upload(upload: &Upload<'_>) -> Result<()> {
    if upload.name.trim().is_empty() {
        return Err(ServiceError::invalid("name must not be empty"));
    }
    check_name("dataset name", "name", upload.name)?;
    check_description("dataset description", "description", upload.description)
}
