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
