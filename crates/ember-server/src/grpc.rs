//! OTLP/gRPC `TraceService/Export`, through the same ingest service as OTLP/HTTP; errors answer
//! with the gRPC code of their [`ErrorCode`](ember_core::ErrorCode). The caller is the holder of
//! the `authorization: Bearer <key>` metadata (UNAUTHENTICATED without a valid one, once
//! authentication is on; PERMISSION_DENIED for a VIEWER, who may not write).

use ember_core::ClassifiedError;
use ember_otlp::collector::trace_service_server::TraceService;
use ember_otlp::collector::{ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse};
use ember_service::auth::Presented;
use ember_service::{ServiceError, Services};
use tonic::{Request, Response, Status};

/// The gRPC code for a request tonic could not read: a message that does not decode (tonic says
/// INTERNAL) or one larger than the limit (tonic says OUT_OF_RANGE, which the OTLP specification
/// lists as retryable) is INVALID_ARGUMENT, so exporters do not resend what can never be read.
/// Other codes pass unchanged.
pub fn unreadable_request_code(code: &str, message: &str) -> Option<&'static str> {
    let internal_decode = code == "13" && message.to_ascii_lowercase().contains("decode");
    let too_large = code == "11" && message.to_ascii_lowercase().contains("message length too large");
    (internal_decode || too_large).then_some("3")
}

/// Rewrites the status of a trailers-only answer (how tonic answers a request it could not
/// read) with [`unreadable_request_code`].
pub fn remap_unreadable<B>(mut response: axum::http::Response<B>) -> axum::http::Response<B> {
    let header = |name: &str| response.headers().get(name).and_then(|value| value.to_str().ok()).unwrap_or_default().to_string();
    let message = percent_encoding::percent_decode_str(&header("grpc-message")).decode_utf8_lossy().into_owned();
    if let Some(code) = unreadable_request_code(&header("grpc-status"), &message) {
        response.headers_mut().insert("grpc-status", axum::http::HeaderValue::from_static(code));
    }
    response
}

/// One router for one port: gRPC requests (`application/grpc*`) go to `grpc`, the others to `http`.
pub fn beside(grpc: axum::Router, http: axum::Router) -> axum::Router {
    use tower::ServiceExt;
    axum::Router::new().fallback_service(tower::service_fn(move |request: axum::extract::Request| {
        let is_grpc =
            request.headers().get(axum::http::header::CONTENT_TYPE).is_some_and(|value| value.as_bytes().starts_with(b"application/grpc"));
        let target = if is_grpc { grpc.clone() } else { http.clone() };
        target.oneshot(request)
    }))
}

pub struct OtlpTraceService {
    pub services: Services,
}

/// A classified error as a gRPC status (internal causes logged, never sent).
pub fn status(error: &impl ClassifiedError) -> Status {
    let code = error.error_code();
    if code == ember_core::ErrorCode::Internal {
        tracing::error!(%error, "grpc request failed");
    }
    Status::new(tonic::Code::from_i32(code.grpc_code()), error.client_message())
}

#[tonic::async_trait]
impl TraceService for OtlpTraceService {
    async fn export(&self, request: Request<ExportTraceServiceRequest>) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let authorization = request.metadata().get("authorization").map(|value| value.to_str().unwrap_or_default());
        let presented = authorization.map_or(Presented::Nothing, Presented::authorization);
        let caller = self.services.auth().authenticate(presented).await.map_err(|error| status(&error))?;
        let request = request.into_inner();
        let decode = move || Ok::<_, ServiceError>(ember_otlp::decode_export(request, None));
        let report = self.services.ingest().export(&caller, decode).await.map_err(|error| status(&error))?;
        let partial_success = (report.rejected_spans > 0)
            .then_some(ExportTracePartialSuccess { rejected_spans: report.rejected_spans, error_message: report.error_message });
        Ok(Response::new(ExportTraceServiceResponse { partial_success }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_requests_are_invalid_argument() {
        assert_eq!(unreadable_request_code("13", "failed to decode Protobuf message: invalid wire type"), Some("3"));
        assert_eq!(
            unreadable_request_code("11", "Error, decoded message length too large: found 70 bytes, the limit is: 10 bytes"),
            Some("3")
        );
        assert_eq!(unreadable_request_code("8", "queue full"), None);
        assert_eq!(unreadable_request_code("13", "Internal Server Error"), None);
    }
    use ember_otlp::fixtures::{request, span};
    use ember_service::{Playground, ProviderSettings};
    use ember_store::{DatabaseUrl, IngestQueue, QueueLimits, Store, StoreOptions};
    use sqlx::Connection;

    #[tokio::test]
    async fn a_full_queue_is_resource_exhausted_and_bad_requests_are_invalid_argument() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ember.db");
        let store = Store::open(&StoreOptions::new(DatabaseUrl::SqliteFile(path.clone()))).await.unwrap();
        let (queue, _writer) =
            IngestQueue::start(store.clone(), QueueLimits { max_spans: 2, max_bytes: 1 << 20, max_batch_spans: 10, ..Default::default() });
        let services = Services::new(store, queue.clone(), Playground::new(ProviderSettings::default(), None).unwrap());
        let service = OtlpTraceService { services: services.clone() };

        let too_many = service.export(Request::new(request(None, (1..=3).map(|id| span(1, id, None, "CHAIN")).collect()))).await;
        assert_eq!(too_many.unwrap_err().code(), tonic::Code::InvalidArgument, "a batch the queue can never hold is not retryable");

        // Hold the write lock so two queued spans fill the queue.
        let mut blocker = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut blocker).await.unwrap();
        let waiting = {
            let service = OtlpTraceService { services: services.clone() };
            tokio::spawn(async move {
                service.export(Request::new(request(None, vec![span(2, 1, None, "CHAIN"), span(2, 2, Some(1), "LLM")]))).await
            })
        };
        while queue.queued_spans() < 2 {
            tokio::task::yield_now().await;
        }
        let full = service.export(Request::new(request(None, vec![span(3, 3, None, "CHAIN")]))).await.unwrap_err();
        assert_eq!(full.code(), tonic::Code::ResourceExhausted);
        assert!(full.message().contains("capacity"), "{}", full.message());
        sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
        assert!(waiting.await.unwrap().is_ok(), "the queued export completes once the database is free");
    }
}
