//! OTLP/gRPC `TraceService/Export`, sharing the ingest path with OTLP/HTTP.

use ember_core::{ErrorCode, ServiceError};
use ember_otlp::collector::trace_service_server::TraceService;
use ember_otlp::collector::{ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse};
use ember_store::IngestQueue;
use tonic::{Request, Response, Status};

use crate::ingest::{ingest_request, IngestError};

pub struct OtlpTraceService {
    pub queue: IngestQueue,
}

fn status(error: IngestError) -> Status {
    let code = error.error_code();
    if code == ErrorCode::Internal {
        tracing::error!(%error, "grpc export failed");
    }
    let message = error.client_message();
    match code {
        ErrorCode::Unavailable => Status::resource_exhausted(message),
        ErrorCode::Internal => Status::internal(message),
        ErrorCode::NotFound => Status::not_found(message),
        ErrorCode::Forbidden => Status::permission_denied(message),
        // Not retryable: the same request would fail again.
        _ => Status::invalid_argument(message),
    }
}

#[tonic::async_trait]
impl TraceService for OtlpTraceService {
    async fn export(&self, request: Request<ExportTraceServiceRequest>) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let report = ingest_request(&self.queue, request.into_inner()).await.map_err(status)?;
        let partial_success = (report.rejected_spans > 0)
            .then_some(ExportTracePartialSuccess { rejected_spans: report.rejected_spans, error_message: report.error_message });
        Ok(Response::new(ExportTraceServiceResponse { partial_success }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ember_otlp::fixtures::{request, span};
    use ember_store::{DatabaseUrl, QueueLimits, Store, StoreOptions};
    use sqlx::Connection;

    #[tokio::test]
    async fn a_full_queue_is_resource_exhausted_and_bad_requests_are_invalid_argument() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ember.db");
        let store = Store::open(&StoreOptions::new(DatabaseUrl::SqliteFile(path.clone()))).await.unwrap();
        let (queue, _writer) =
            IngestQueue::start(store, QueueLimits { max_spans: 2, max_bytes: 1 << 20, max_batch_spans: 10, ..Default::default() });
        let service = OtlpTraceService { queue: queue.clone() };

        let too_many = service.export(Request::new(request(None, (1..=3).map(|id| span(1, id, None, "CHAIN")).collect()))).await;
        assert_eq!(too_many.unwrap_err().code(), tonic::Code::InvalidArgument, "a batch the queue can never hold is not retryable");

        // Hold the write lock so two queued spans fill the queue.
        let mut blocker = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut blocker).await.unwrap();
        let waiting = {
            let service = OtlpTraceService { queue: queue.clone() };
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
