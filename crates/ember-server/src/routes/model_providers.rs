//! `GET /v1/model_providers` (the built-in provider families, as Phoenix 20.26.1 lists them) and
//! `GET /v1/custom_model_providers` (ember keeps no custom providers yet: always an empty page).

use axum::Json;
use ember_core::prompt::ModelProvider;
use ember_wire::{Data, ModelProviderFamily, Page};

use crate::error::ApiResult;
use crate::params::QueryParams;

pub async fn list() -> Json<Data<Vec<ModelProviderFamily>>> {
    let families = ModelProvider::LISTED
        .iter()
        .map(|provider| ModelProviderFamily { provider: provider.as_str().into(), name: provider.display_name().into() })
        .collect();
    Json(Data::new(families))
}

pub async fn custom(params: QueryParams) -> ApiResult<Json<Page<ModelProviderFamily>>> {
    // The page's parameters are checked as for any list.
    params.any_cursor()?;
    params.limit(100, None)?;
    Ok(Json(Page { data: Vec::new(), next_cursor: None }))
}
