//! The dataset page's forms: add, edit and delete examples (each a new version), make a split of
//! the selected examples or delete one, and set the dataset's labels, through the dataset,
//! split and label services (the same rules as over REST).

use axum::extract::{Form, State};
use axum::response::Redirect;
use ember_core::ErrorCode;
use ember_service::dataset_splits::NewSplit;
use ember_service::datasets::DatasetRef;
use ember_service::ServiceError;
use serde::Deserialize;
use serde_json::Value;

use super::error::UiResult;
use super::ids::{DatasetPage, PageId, UiPath};
use crate::authentication::RequestCaller;
use crate::AppState;

/// Back to the dataset's examples with a notice or an error.
fn back(dataset_id: i64, key: &str, message: &str) -> Redirect {
    super::redirect_with(&format!("/datasets/{dataset_id}?tab=examples"), key, message)
}

/// A refusal by a rule is said on the page; anything else is an error page.
fn answer(dataset_id: i64, result: Result<String, ServiceError>) -> UiResult<Redirect> {
    match result {
        Ok(done) => Ok(back(dataset_id, "notice", &done)),
        Err(error) if matches!(error.code(), ErrorCode::Unprocessable | ErrorCode::BadRequest | ErrorCode::Conflict) => {
            Ok(back(dataset_id, "error", &error.to_string()))
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct ExampleForm {
    input: String,
    output: String,
    #[serde(default)]
    metadata: String,
}

impl ExampleForm {
    /// The three fields as JSON (an empty field is `{}`), or which one does not parse.
    fn content(&self) -> Result<[Value; 3], String> {
        let parse = |name: &str, text: &str| -> Result<Value, String> {
            if text.trim().is_empty() {
                return Ok(Value::Object(Default::default()));
            }
            serde_json::from_str(text).map_err(|error| format!("The {name} is not JSON: {error}."))
        };
        Ok([parse("input", &self.input)?, parse("output", &self.output)?, parse("metadata", &self.metadata)?])
    }
}

pub async fn add_example(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath(PageId(dataset_id, ..)): UiPath<PageId<DatasetPage>>,
    Form(form): Form<ExampleForm>,
) -> UiResult<Redirect> {
    let content = match form.content() {
        Ok(content) => content,
        Err(problem) => return Ok(back(dataset_id, "error", &problem)),
    };
    let datasets = state.services.datasets();
    let dataset = datasets.resolve(&caller, DatasetRef::Id(dataset_id)).await?;
    let result = datasets
        .add_example(&caller, &dataset, content)
        .await
        .map(|outcome| format!("Added an example in version {}.", outcome.version_id));
    answer(dataset_id, result)
}

pub async fn edit_example(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath((PageId(dataset_id, ..), example_id)): UiPath<(PageId<DatasetPage>, i64)>,
    Form(form): Form<ExampleForm>,
) -> UiResult<Redirect> {
    let content = match form.content() {
        Ok(content) => content,
        Err(problem) => return Ok(back(dataset_id, "error", &problem)),
    };
    let datasets = state.services.datasets();
    let dataset = datasets.resolve(&caller, DatasetRef::Id(dataset_id)).await?;
    let result = datasets
        .revise_example(&caller, &dataset, example_id, content)
        .await
        .map(|version| format!("Saved example {example_id} in version {version}."));
    answer(dataset_id, result)
}

/// The values of a repeated form field.
fn all<'a>(form: &'a [(String, String)], key: &'a str) -> impl Iterator<Item = &'a str> {
    form.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn example_ids(form: &[(String, String)]) -> Result<Vec<i64>, String> {
    all(form, "example_id").map(|id| id.parse::<i64>().map_err(|_| format!("{id:?} is not an example id."))).collect()
}

pub async fn delete_examples(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath(PageId(dataset_id, ..)): UiPath<PageId<DatasetPage>>,
    Form(form): Form<Vec<(String, String)>>,
) -> UiResult<Redirect> {
    let ids = match example_ids(&form) {
        Ok(ids) => ids,
        Err(problem) => return Ok(back(dataset_id, "error", &problem)),
    };
    let datasets = state.services.datasets();
    let result =
        datasets.delete_examples(&caller, Some(dataset_id), &ids, Some("deleted in the web UI"), &Value::Object(Default::default())).await;
    answer(dataset_id, result.map(|_| format!("Deleted {} examples.", ids.len())))
}

pub async fn create_split(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath(PageId(dataset_id, ..)): UiPath<PageId<DatasetPage>>,
    Form(form): Form<Vec<(String, String)>>,
) -> UiResult<Redirect> {
    let ids = match example_ids(&form) {
        Ok(ids) => ids,
        Err(problem) => return Ok(back(dataset_id, "error", &problem)),
    };
    let name = all(&form, "split_name").next().unwrap_or("").trim().to_string();
    let split = NewSplit { name: name.clone(), description: None, color: None, metadata: None, example_ids: ids };
    let result = state.services.dataset_splits().create(&caller, DatasetRef::Id(dataset_id), split).await;
    answer(dataset_id, result.map(|split| format!("Made the split {} of {} examples.", split.name, split.example_count)))
}

pub async fn delete_split(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath((PageId(dataset_id, ..), split_id)): UiPath<(PageId<DatasetPage>, i64)>,
) -> UiResult<Redirect> {
    let splits = state.services.dataset_splits();
    let result = splits.delete(&caller, DatasetRef::Id(dataset_id), split_id).await;
    answer(dataset_id, result.map(|_| "Deleted the split.".to_string()))
}

pub async fn set_labels(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath(PageId(dataset_id, ..)): UiPath<PageId<DatasetPage>>,
    Form(form): Form<Vec<(String, String)>>,
) -> UiResult<Redirect> {
    let labels = state.services.dataset_labels();
    let mut ids = Vec::new();
    for id in all(&form, "label_id") {
        match id.parse::<i64>() {
            Ok(id) => ids.push(id),
            Err(_) => return Ok(back(dataset_id, "error", &format!("{id:?} is not a label id."))),
        }
    }
    if let Some(name) = all(&form, "new_label").next().map(str::trim).filter(|name| !name.is_empty()) {
        match labels.create(&caller, name, None, "#e8743b").await {
            Ok(label) => ids.push(label.id),
            Err(error) => return answer(dataset_id, Err(error)),
        }
    }
    let result = labels.set_for_dataset(&caller, DatasetRef::Id(dataset_id), &ids).await;
    answer(dataset_id, result.map(|set| format!("The dataset has {} labels.", set.len())))
}
