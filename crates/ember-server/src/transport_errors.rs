//! Every error classification answered the same way by every transport: REST, the web UI,
//! GraphQL and gRPC take the status, the retry hint and the client message from the
//! [`ErrorCode`], and no transport shows an internal cause.

use axum::response::IntoResponse;
use ember_core::{ErrorCode, INTERNAL_ERROR_MESSAGE};
use ember_service::ServiceError;
use http_body_util::BodyExt;

const CODES: [ErrorCode; 12] = ErrorCode::ALL;

async fn body_text(response: axum::response::Response) -> String {
    String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes()).into_owned()
}

#[tokio::test]
async fn every_code_has_one_status_one_retry_hint_and_no_internal_text_anywhere() {
    for code in CODES {
        let error = || ServiceError::new(code, "secret cause: /var/lib/ember/ember.db is locked");
        let shown = if code == ErrorCode::Internal { INTERNAL_ERROR_MESSAGE } else { "secret cause: /var/lib/ember/ember.db is locked" };

        let rest = crate::error::ApiError::from(error()).into_response();
        assert_eq!(rest.status().as_u16(), code.http_status(), "{code:?} over REST");
        assert_eq!(rest.headers().contains_key("retry-after"), code.is_retryable(), "{code:?} over REST");
        assert_eq!(body_text(rest).await, shown, "{code:?} over REST");

        let page = crate::ui::error::UiError::from(error()).into_response();
        assert_eq!(page.status().as_u16(), code.http_status(), "{code:?} in the UI");
        let html = body_text(page).await;
        assert!(html.contains(shown) && (code != ErrorCode::Internal || !html.contains("secret cause")), "{code:?} in the UI: {html}");

        let graphql = crate::graphql::graphql_error(error());
        assert_eq!(graphql.message, shown, "{code:?} over GraphQL");
        let extensions = graphql.extensions.as_ref().and_then(|extensions| extensions.get("code")).cloned();
        assert_eq!(extensions, Some(async_graphql::Value::from(code.name())), "{code:?} over GraphQL");

        let grpc = crate::grpc::status(&error());
        assert_eq!(grpc.code() as i32, code.grpc_code(), "{code:?} over gRPC");
        assert_eq!(grpc.message(), shown, "{code:?} over gRPC");
    }
}

#[tokio::test]
async fn a_field_error_is_fastapi_json_over_rest_and_a_message_elsewhere() {
    let error = || ServiceError::field(&["name".into()], "string_too_short", "Project name must not be empty", serde_json::json!(" "));
    let rest = crate::error::ApiError::from(error()).into_response();
    assert_eq!(rest.status().as_u16(), 422);
    let body: serde_json::Value = serde_json::from_str(&body_text(rest).await).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"detail": [{"type": "string_too_short", "loc": ["body", "name"], "msg": "Project name must not be empty", "input": " "}]})
    );
    let page = crate::ui::error::UiError::from(error()).into_response();
    assert_eq!(page.status().as_u16(), 422);
    assert!(body_text(page).await.contains("Project name must not be empty"));
}
