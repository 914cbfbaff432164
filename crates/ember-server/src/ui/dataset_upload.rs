//! Uploading a CSV or JSON-lines file as a dataset from the datasets page: the form is the one
//! the REST API's `POST /v1/datasets/upload` reads (`dataset_form`: the file, its name, and
//! the columns chosen as input, output, metadata and splits, which the page's script offers
//! from the file's first line), spooled and written by the same dataset service. The browser
//! lands on the new version's dataset page, or back on the list with the refusal.

use axum::extract::{Multipart, State};
use axum::response::Redirect;
use ember_service::datasets::Upload;

use crate::authentication::RequestCaller;
use crate::routes::dataset_form;
use crate::AppState;

fn refused(message: &str) -> Redirect {
    Redirect::to(&format!("{}#upload", super::with_message("/datasets", "error", message)))
}

pub async fn upload(State(state): State<AppState>, RequestCaller(caller): RequestCaller, multipart: Multipart) -> Redirect {
    let form = match dataset_form::read(multipart, state.max_upload_bytes).await {
        Ok(form) => form,
        Err(error) => return refused(error.client_message()),
    };
    let (name, description) = (form.name.clone(), form.description.clone());
    let upload = Upload { action: form.action, name: &name, description: description.as_deref() };
    let mut batches = form.into_batches();
    match state.services.datasets().upload_batches(&caller, &upload, &mut batches).await {
        Ok(outcome) => {
            let message = format!("Uploaded: {} examples added, {} updated.", outcome.created, outcome.updated);
            super::redirect_with(&format!("/datasets/{}", outcome.dataset_id), "notice", &message)
        }
        Err(error) => match batches.take_failure() {
            Some(failure) => refused(failure.client_message()),
            None => {
                let error = crate::error::ApiError::from(error);
                refused(error.client_message())
            }
        },
    }
}
