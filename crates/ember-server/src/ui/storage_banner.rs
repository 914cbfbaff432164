//! The storage banner: while the database or its disk is past a warning threshold (or ingest is
//! refused past a hard one), every page says so above its content, naming the setting (see
//! `ember_service::storage`). Pages are rendered without knowing; this layer adds the banner to
//! HTML answers while there is something to say, and costs nothing otherwise.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use ember_service::storage::StorageLevel;
use maud::html;

use crate::AppState;

/// The largest page the banner is added to (pages are far smaller; a larger answer is left as
/// it is rather than buffered).
const MAX_PAGE_BYTES: usize = 16 << 20;

pub async fn add_banner(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let (class, message) = match state.services.storage().status().level {
        StorageLevel::Fine => return response,
        StorageLevel::Warning(message) => ("warning", message),
        StorageLevel::Blocked(message) => ("blocked", message),
    };
    let is_html =
        response.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
    if !is_html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAGE_BYTES).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let banner = html! { div.storage-banner.(class) #storage-banner role="alert" { (message) } }.into_string();
    let page = String::from_utf8_lossy(&bytes);
    let page = match page.find("<main>") {
        Some(at) => format!("{}{banner}{}", &page[..at], &page[at..]),
        None => page.into_owned(),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(page))
}
