//! Serving under a path prefix (`PHOENIX_HOST_ROOT_PATH`, e.g. `/phoenix` behind a reverse
//! proxy). As Phoenix (Starlette's root path) does, a request is served whether it arrives with
//! the prefix or without it (a proxy may strip it); the web UI's links, form actions, asset
//! references and redirects carry the prefix, so its pages work through the proxy.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;

/// The prefix, when there is one.
#[derive(Debug, Clone, Default)]
pub struct RootPath(Option<Arc<str>>);

/// The page attributes that hold a path of this server.
const PATH_ATTRIBUTES: [&str; 3] = ["href=\"/", "src=\"/", "action=\"/"];

impl RootPath {
    /// The prefix of the setting (none when empty), checked with Phoenix's rules and messages.
    pub fn new(setting: Option<&str>) -> Result<RootPath, String> {
        let Some(path) = setting.filter(|path| !path.is_empty()) else {
            return Ok(RootPath(None));
        };
        if !path.starts_with('/') {
            return Err(format!("Invalid value for environment variable PHOENIX_HOST_ROOT_PATH: {path}. Value must start with '/'"));
        }
        if path.ends_with('/') {
            return Err(format!("Invalid value for environment variable PHOENIX_HOST_ROOT_PATH: {path}. Value cannot end with '/'"));
        }
        Ok(RootPath(Some(path.into())))
    }

    /// The prefix (`""` when none).
    pub fn prefix(&self) -> &str {
        self.0.as_deref().unwrap_or_default()
    }

    /// `uri` without the prefix, when it starts with it.
    fn strip(&self, uri: &Uri) -> Option<Uri> {
        let prefix = self.0.as_deref()?;
        let rest = uri.path().strip_prefix(prefix)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        let path = if rest.is_empty() { "/" } else { rest };
        let path_and_query = match uri.query() {
            Some(query) => format!("{path}?{query}"),
            None => path.to_string(),
        };
        let mut parts = uri.clone().into_parts();
        parts.path_and_query = path_and_query.parse().ok();
        Uri::from_parts(parts).ok()
    }
}

/// `router` served with and without the prefix, its pages' paths and redirects prefixed.
pub fn serve_under(router: Router, root: RootPath) -> Router {
    if root.0.is_none() {
        return router;
    }
    let router = router.layer(axum::middleware::from_fn_with_state(root.clone(), prefix_paths));
    let stripping = tower::ServiceBuilder::new()
        .map_request(move |mut request: Request| {
            if let Some(uri) = root.strip(request.uri()) {
                *request.uri_mut() = uri;
            }
            request
        })
        .service(router);
    Router::new().fallback_service(stripping)
}

/// Prefixes a redirect's `Location` and the paths in an HTML page.
async fn prefix_paths(State(root): State<RootPath>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let Some(prefix) = root.0.as_deref() else { return response };
    let (mut parts, body) = response.into_parts();
    if let Some(location) = parts.headers.get(header::LOCATION).and_then(|value| value.to_str().ok()) {
        if location.starts_with('/') && !location.starts_with("//") {
            if let Ok(prefixed) = HeaderValue::from_str(&format!("{prefix}{location}")) {
                parts.headers.insert(header::LOCATION, prefixed);
            }
        }
    }
    let html =
        parts.headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).is_some_and(|kind| kind.starts_with("text/html"));
    if !html {
        return Response::from_parts(parts, body);
    }
    // Pages are built whole in memory; reading one back costs no more.
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let mut page = String::from_utf8_lossy(&bytes).into_owned();
    for attribute in PATH_ATTRIBUTES {
        let prefixed = format!("{}{prefix}/", &attribute[..attribute.len() - 1]);
        page = page.replace(attribute, &prefixed);
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_checked_and_stripped_only_at_a_segment_boundary() {
        assert!(RootPath::new(Some("phoenix")).unwrap_err().contains("must start with '/'"));
        assert!(RootPath::new(Some("/phoenix/")).unwrap_err().contains("cannot end with '/'"));
        let root = RootPath::new(Some("/phoenix")).unwrap();
        let strip = |uri: &str| root.strip(&uri.parse().unwrap()).map(|uri| uri.to_string());
        assert_eq!(strip("/phoenix/v1/projects?limit=2").as_deref(), Some("/v1/projects?limit=2"));
        assert_eq!(strip("/phoenix").as_deref(), Some("/"));
        assert_eq!(strip("/phoenixes/x"), None);
        assert_eq!(strip("/v1/projects"), None);
    }
}
