//! Ids in page paths: ember's rowids, or the GlobalIDs Phoenix's links carry (the Python client
//! prints `/datasets/<GlobalID>/experiments` after an experiment), read as the same rowid. A path
//! that names nothing is the styled not-found page, never a plain-text parse error.

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use ember_core::{GlobalId, GlobalType};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

use super::error::UiError;

/// The kind of object a page's id names.
pub trait PageKind {
    const TYPE: GlobalType;
}

macro_rules! page_kind {
    ($name:ident, $global_type:ident) => {
        pub struct $name;

        impl PageKind for $name {
            const TYPE: GlobalType = GlobalType::$global_type;
        }
    };
}

page_kind!(ProjectPage, Project);
page_kind!(DatasetPage, Dataset);
page_kind!(PromptPage, Prompt);
page_kind!(SessionPage, ProjectSession);

/// A rowid, as written or inside a GlobalID of the type `global_type`.
pub fn rowid_in(text: &str, global_type: GlobalType) -> Option<i64> {
    match text.parse::<i64>() {
        Ok(rowid) => Some(rowid),
        Err(_) => GlobalId::decode_as(text, global_type),
    }
}

/// The rowid a path segment names, by rowid or GlobalID.
pub struct PageId<K>(pub i64, pub PhantomData<K>);

impl<'de, K: PageKind> Deserialize<'de> for PageId<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let rowid = rowid_in(&text, K::TYPE).ok_or_else(|| D::Error::custom(format!("{text:?} is not a {} id", K::TYPE)))?;
        Ok(PageId(rowid, PhantomData))
    }
}

/// axum's `Path` for pages: a path it cannot read is the styled not-found page.
pub struct UiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for UiPath<T> {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, UiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(UiPath(value)),
            Err(_) => Err(UiError::not_found(format!("There is no page at {}.", parts.uri.path()))),
        }
    }
}
