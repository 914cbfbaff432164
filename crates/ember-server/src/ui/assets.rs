//! The stylesheet and script, embedded; their URLs carry a fingerprint of their content so
//! browsers may cache them for good.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

const APP_CSS: &str = include_str!("assets/app.css");
const APP_JS: &str = include_str!("assets/app.js");

/// FNV-1a of the assets, computed at compile time.
const FINGERPRINT: u64 = {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let (css, js) = (APP_CSS.as_bytes(), APP_JS.as_bytes());
    let mut i = 0;
    while i < css.len() + js.len() {
        let byte = if i < css.len() { css[i] } else { js[i - css.len()] };
        hash = (hash ^ byte as u64).wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
};

pub fn stylesheet_url() -> String {
    format!("/ui/assets/app.css?v={FINGERPRINT:016x}")
}

pub fn script_url() -> String {
    format!("/ui/assets/app.js?v={FINGERPRINT:016x}")
}

pub async fn serve(Path(name): Path<String>) -> Response {
    let (body, content_type) = match name.as_str() {
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "Not Found").into_response(),
    };
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=31536000, immutable")], body).into_response()
}
