//! Query-string parsing with FastAPI's validation behaviour: repeated keys become lists, bad
//! values are 422 JSON errors naming the parameter.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use ember_core::time::parse_timestamp;
use ember_core::{GlobalId, GlobalType};
use ember_store::{Filter, QueryError};
use serde_json::json;

use crate::error::ApiError;

/// All query parameters, in order, repeated keys kept.
pub struct QueryParams(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .map_err(|_| ApiError::validation(&["query"], "query_parse", "the query string is malformed", json!(query)))?;
        Ok(QueryParams(pairs))
    }
}

impl QueryParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// Every value of a repeated parameter (`?trace_id=a&trace_id=b`).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(key, _)| key == name).map(|(_, value)| value.clone()).collect()
    }

    /// A filter parameter parsed by `parse` (422 `Invalid query: ...` naming the column when bad).
    pub fn filter(&self, name: &str, parse: impl Fn(&str) -> Result<Filter, QueryError>) -> Result<Option<Filter>, ApiError> {
        match self.get(name).filter(|text| !text.trim().is_empty()) {
            None => Ok(None),
            Some(text) => parse(text).map(Some).map_err(|error| ApiError::unprocessable(format!("Invalid query: {error}"))),
        }
    }

    /// `limit`: a positive integer, at most `max` when given.
    pub fn limit(&self, default: usize, max: Option<usize>) -> Result<usize, ApiError> {
        let Some(raw) = self.get("limit") else {
            return Ok(default);
        };
        let value: i64 = raw.trim().parse().map_err(|_| {
            ApiError::validation(
                &["query", "limit"],
                "int_parsing",
                "Input should be a valid integer, unable to parse string as an integer",
                json!(raw),
            )
        })?;
        if value <= 0 {
            return Err(ApiError::validation(&["query", "limit"], "greater_than", "Input should be greater than 0", json!(raw)));
        }
        if let Some(max) = max.filter(|max| value as usize > *max) {
            return Err(ApiError::validation(
                &["query", "limit"],
                "less_than_equal",
                format!("Input should be less than or equal to {max}"),
                json!(raw),
            ));
        }
        Ok(value as usize)
    }

    pub fn bool(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(name).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if ["true", "1", "yes", "on", "t", "y"].contains(&v.as_str()) => Ok(true),
            Some(v) if ["false", "0", "no", "off", "f", "n"].contains(&v.as_str()) => Ok(false),
            Some(v) => Err(ApiError::validation(
                &["query", name],
                "bool_parsing",
                "Input should be a valid boolean, unable to interpret input",
                json!(v),
            )),
        }
    }

    /// An optional non-negative number.
    pub fn non_negative_f64(&self, name: &str) -> Result<Option<f64>, ApiError> {
        let Some(raw) = self.get(name) else { return Ok(None) };
        let value: f64 = raw
            .trim()
            .parse()
            .map_err(|_| ApiError::validation(&["query", name], "float_parsing", "Input should be a valid number", json!(raw)))?;
        if !value.is_finite() || value < 0.0 {
            return Err(ApiError::validation(
                &["query", name],
                "greater_than_equal",
                "Input should be greater than or equal to 0",
                json!(raw),
            ));
        }
        Ok(Some(value))
    }

    /// An optional boolean.
    pub fn optional_bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(_) => self.bool(name, false).map(Some),
        }
    }

    /// A timestamp parameter (ISO 8601; naive values are UTC) as Unix nanoseconds.
    pub fn timestamp(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(raw) => parse_timestamp(raw).map(Some).ok_or_else(|| {
                ApiError::validation(&["query", name], "datetime_from_date_parsing", "Input should be a valid datetime", json!(raw))
            }),
        }
    }

    /// One of `allowed`, or the default.
    pub fn choice<'a>(&self, name: &str, allowed: &[&'a str], default: &'a str) -> Result<&'a str, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => allowed.iter().find(|a| **a == raw).copied().ok_or_else(|| {
                let expected = allowed.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(" or ");
                ApiError::validation(&["query", name], "enum", format!("Input should be {expected}"), json!(raw))
            }),
        }
    }

    /// A cursor that must be a GlobalID of `global_type`; 422 `Invalid cursor` otherwise.
    pub fn cursor(&self, global_type: GlobalType) -> Result<Option<i64>, ApiError> {
        match self.get("cursor") {
            None | Some("") => Ok(None),
            Some(raw) => GlobalId::decode_as(raw, global_type)
                .map(Some)
                .ok_or_else(|| ApiError::unprocessable(format!("Invalid cursor: {raw:?} is not a {global_type} id"))),
        }
    }

    /// A cursor that may be any GlobalID (its row id counts), as Phoenix's prompt lists take it.
    pub fn any_cursor(&self) -> Result<Option<i64>, ApiError> {
        match self.get("cursor").filter(|cursor| !cursor.is_empty()) {
            None => Ok(None),
            Some(raw) => GlobalId::decode(raw)
                .map(|id| Some(id.rowid))
                .ok_or_else(|| ApiError::unprocessable(format!("Invalid cursor format: {raw}"))),
        }
    }
}
