//! Datasets through GraphQL, with Phoenix's shapes: the `Dataset` node and its examples (each with
//! its latest revision and the span it came from), and the mutations Phoenix's tests and scripts
//! use — `createDataset`, `addExamplesToDataset`, `deleteDatasetExamples`, `deleteDataset`,
//! `createDatasetSplitWithExamples` — served by the same services as REST.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Json, Object, Result, SimpleObject, ID};
use ember_core::time::format_nanos;
use ember_core::{ErrorCode, GlobalId, GlobalType};
use ember_service::dataset_splits::NewSplit;
use ember_service::datasets::DatasetRef;
use ember_store::{DatasetRecord, DatasetSplitRecord, ExampleInput, ExampleRecord};
use serde_json::Value;

use super::connection::{edges_wanted, positional};
use super::types::Span;
use super::{bad_input, context, graphql_error, rowid_of};

pub struct Dataset(pub DatasetRecord);

#[Object]
impl Dataset {
    pub async fn id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::Dataset, self.0.id))
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    async fn metadata(&self) -> Json<Value> {
        Json(self.0.metadata.clone())
    }

    async fn example_count(&self) -> i64 {
        self.0.example_count
    }

    async fn created_at(&self) -> String {
        format_nanos(self.0.created_at)
    }

    async fn updated_at(&self) -> String {
        format_nanos(self.0.updated_at)
    }

    /// The examples alive at the latest version, oldest first.
    async fn examples(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> Result<Connection<String, DatasetExample>> {
        let (services, caller) = context(ctx)?;
        let datasets = services.datasets();
        let examples = match datasets.version(caller, &self.0, None).await.map_err(graphql_error)? {
            Some(version) => datasets.examples(caller, &self.0, &version, &[], &[]).await.map_err(graphql_error)?,
            None => Vec::new(),
        };
        positional(examples.into_iter().map(DatasetExample).collect(), edges_wanted(first)?, after.as_deref())
    }
}

pub struct DatasetExample(ExampleRecord);

/// An example's content at a revision.
#[derive(SimpleObject)]
pub struct DatasetExampleRevision {
    input: Json<Value>,
    output: Json<Value>,
    metadata: Json<Value>,
}

#[Object]
impl DatasetExample {
    pub async fn id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::DatasetExample, self.0.id))
    }

    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }

    async fn revision(&self) -> DatasetExampleRevision {
        DatasetExampleRevision {
            input: Json(self.0.input.clone()),
            output: Json(self.0.output.clone()),
            metadata: Json(self.0.metadata.clone()),
        }
    }

    /// The span the example was made from, while it is stored.
    async fn span(&self, ctx: &Context<'_>) -> Result<Option<Span>> {
        let Some((rowid, _)) = self.0.span else { return Ok(None) };
        let (services, caller) = context(ctx)?;
        Ok(services.spans().by_rowid(caller, rowid).await.map_err(graphql_error)?.map(Span))
    }
}

pub struct DatasetSplit(pub DatasetSplitRecord);

#[Object]
impl DatasetSplit {
    pub async fn id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::DatasetSplit, self.0.id))
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

    async fn metadata(&self) -> Json<Value> {
        Json(self.0.metadata.clone())
    }
}

#[derive(InputObject)]
pub struct CreateDatasetInput {
    name: String,
    description: Option<String>,
    metadata: Option<Json<Value>>,
}

#[derive(InputObject)]
pub struct DatasetExampleInput {
    input: Json<Value>,
    output: Json<Value>,
    metadata: Json<Value>,
    /// The GlobalID of the span the example comes from.
    span_id: Option<ID>,
    external_id: Option<String>,
}

#[derive(InputObject)]
pub struct AddExamplesToDatasetInput {
    dataset_id: ID,
    examples: Vec<DatasetExampleInput>,
    dataset_version_description: Option<String>,
    dataset_version_metadata: Option<Json<Value>>,
}

#[derive(InputObject)]
pub struct DeleteDatasetExamplesInput {
    example_ids: Vec<ID>,
    dataset_version_description: Option<String>,
    dataset_version_metadata: Option<Json<Value>>,
    /// When given, every example must be this dataset's.
    dataset_id: Option<ID>,
}

#[derive(InputObject)]
pub struct DeleteDatasetInput {
    dataset_id: ID,
}

#[derive(InputObject)]
pub struct CreateDatasetSplitWithExamplesInput {
    name: String,
    description: Option<String>,
    color: String,
    metadata: Option<Json<Value>>,
    example_ids: Vec<ID>,
}

#[derive(SimpleObject)]
pub struct DatasetMutationPayload {
    dataset: Dataset,
}

#[derive(SimpleObject)]
pub struct DatasetSplitMutationPayloadWithExamples {
    dataset_split: DatasetSplit,
}

async fn dataset_of(ctx: &Context<'_>, id: &ID) -> Result<DatasetRecord> {
    let (services, caller) = context(ctx)?;
    let rowid = rowid_of(id, GlobalType::Dataset)?;
    services.datasets().resolve(caller, DatasetRef::Id(rowid)).await.map_err(graphql_error)
}

#[derive(Default)]
pub struct DatasetMutations;

#[Object]
impl DatasetMutations {
    async fn create_dataset(&self, ctx: &Context<'_>, input: CreateDatasetInput) -> Result<DatasetMutationPayload> {
        let (services, caller) = context(ctx)?;
        let metadata = input.metadata.map_or_else(|| Value::Object(Default::default()), |metadata| metadata.0);
        let dataset = services.datasets().create_empty(caller, &input.name, input.description.as_deref(), &metadata).await;
        Ok(DatasetMutationPayload { dataset: Dataset(dataset.map_err(graphql_error)?) })
    }

    async fn add_examples_to_dataset(&self, ctx: &Context<'_>, input: AddExamplesToDatasetInput) -> Result<DatasetMutationPayload> {
        let (services, caller) = context(ctx)?;
        let dataset = dataset_of(ctx, &input.dataset_id).await?;
        let mut examples = Vec::with_capacity(input.examples.len());
        for example in input.examples {
            let span_id = match &example.span_id {
                Some(id) => {
                    let span = services.spans().by_rowid(caller, rowid_of(id, GlobalType::Span)?).await.map_err(graphql_error)?;
                    Some(span.ok_or_else(|| bad_input(ErrorCode::NotFound, format!("no span with id {}", id.as_str())))?.span.span_id)
                }
                None => None,
            };
            examples.push(ExampleInput {
                input: example.input.0,
                output: example.output.0,
                metadata: example.metadata.0,
                splits: None,
                span_id,
                external_id: example.external_id,
            });
        }
        services.datasets().add_examples(caller, &dataset, examples).await.map_err(graphql_error)?;
        Ok(DatasetMutationPayload { dataset: dataset_of(ctx, &input.dataset_id).await.map(Dataset)? })
    }

    async fn delete_dataset_examples(&self, ctx: &Context<'_>, input: DeleteDatasetExamplesInput) -> Result<DatasetMutationPayload> {
        let (services, caller) = context(ctx)?;
        let example_ids = input.example_ids.iter().map(|id| rowid_of(id, GlobalType::DatasetExample)).collect::<Result<Vec<_>>>()?;
        let dataset_id = input.dataset_id.as_ref().map(|id| rowid_of(id, GlobalType::Dataset)).transpose()?;
        let metadata = input.dataset_version_metadata.map_or_else(|| Value::Object(Default::default()), |metadata| metadata.0);
        let description = input.dataset_version_description.as_deref();
        let dataset = services.datasets().delete_examples(caller, dataset_id, &example_ids, description, &metadata).await;
        Ok(DatasetMutationPayload { dataset: Dataset(dataset.map_err(graphql_error)?) })
    }

    async fn delete_dataset(&self, ctx: &Context<'_>, input: DeleteDatasetInput) -> Result<DatasetMutationPayload> {
        let (services, caller) = context(ctx)?;
        let dataset = dataset_of(ctx, &input.dataset_id).await?;
        services.datasets().delete(caller, DatasetRef::Id(dataset.id)).await.map_err(graphql_error)?;
        Ok(DatasetMutationPayload { dataset: Dataset(dataset) })
    }

    async fn create_dataset_split_with_examples(
        &self,
        ctx: &Context<'_>,
        input: CreateDatasetSplitWithExamplesInput,
    ) -> Result<DatasetSplitMutationPayloadWithExamples> {
        let (services, caller) = context(ctx)?;
        let split = NewSplit {
            name: input.name,
            description: input.description,
            color: Some(input.color),
            metadata: input.metadata.map(|metadata| metadata.0),
            example_ids: input.example_ids.iter().map(|id| rowid_of(id, GlobalType::DatasetExample)).collect::<Result<Vec<_>>>()?,
        };
        let created = services.dataset_splits().create_with_examples(caller, split).await.map_err(graphql_error)?;
        Ok(DatasetSplitMutationPayloadWithExamples { dataset_split: DatasetSplit(created) })
    }
}
