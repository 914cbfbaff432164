//! Arrow Flight on the gRPC port, as the `arize` SDK uses it:
//! - `DoPut` with a `writeSpanEvaluationRequest`, `writeSpanAnnotationRequest` or
//!   `writeSpanAttributesMetadataRequest` command: the stream's batches go through the span-update
//!   service a batch at a time, and the one `PutResult` carries the binary reply the SDK decodes
//!   (spans updated, ids not stored, per-span errors);
//! - `GetFlightInfo` + `DoGet`: span exports (`export_to_df`, `export_to_parquet`, environment
//!   `TRACING`) and ML model exports (`ml.export_to_df`, environments `PRODUCTION`, `VALIDATION`,
//!   `TRAINING`), counted and fixed when planned, streamed a page at a time so memory does not
//!   grow with the export;
//! - every other method answers UNIMPLEMENTED.
//!
//! The caller is the holder of the key in `auth-token-bin` (or `authorization`), checked as API
//! keys are; a decoder panic on a malformed batch is an INVALID_ARGUMENT, not a lost connection.

mod commands;
mod export;

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::RecordBatch;

use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest, HandshakeResponse,
    PollInfo, PutResult, SchemaResult, Ticket,
};
use arrow_schema::{Schema, SchemaRef};
use ember_core::ml::MlEnvironment;
use ember_core::time::parse_timestamp;
use ember_service::auth::Presented;
use ember_service::ax_spans::AxExportSpan;
use ember_service::{Caller, ProjectRef, Services};
use ember_store::MlRecordQuery;
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use prost::Message;
use tokio::sync::mpsc;
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status, Streaming};

use self::commands::{DoPutRequest, ExportTicket, Int64Json, MlExportTicket, Planned, RecordQueryDescriptor, SpanUpdate};
use self::export::{sampled, sampled_total, ExportColumns};
use crate::arize::ml_export::MlExportColumns;
use crate::arize::proto;
use crate::error::ApiError;
use crate::grpc::status;
use crate::untrusted::without_panic;

/// Rows of an export batch when the SDK names no chunk size, and the most it may ask for.
const DEFAULT_CHUNK: usize = 2_000;
const MAX_CHUNK: usize = 50_000;

pub use arrow_flight::flight_service_server::FlightServiceServer;

/// Reads an export's pages in order, ahead of their conversion, keeping the sampled spans
/// (empty pages are skipped); one page waits at most.
fn read_pages(services: Services, caller: Caller, ticket: Arc<ExportTicket>) -> mpsc::Receiver<ember_service::Result<Vec<AxExportSpan>>> {
    let (pages, receiver) = mpsc::channel(1);
    tokio::spawn(async move {
        let (mut cursor, mut index) = (ticket.up_to, 0u64);
        while let Some(at) = cursor {
            let window = (ticket.start, ticket.end);
            let page =
                services.ax_spans().export_page(&caller, ticket.project_id, window, ticket.filter.as_deref(), at, ticket.chunk).await;
            cursor = page.as_ref().ok().and_then(|page| page.next_cursor);
            let spans = page.map(|page| {
                let first = index;
                index += page.spans.len() as u64;
                page.spans
                    .into_iter()
                    .zip(first..)
                    .filter(|(_, index)| sampled(*index, ticket.sample_rate))
                    .map(|(span, _)| span)
                    .collect::<Vec<_>>()
            });
            if matches!(&spans, Ok(spans) if spans.is_empty()) {
                continue;
            }
            if pages.send(spans).await.is_err() {
                return;
            }
        }
    });
    receiver
}

/// A page as a record batch, built on a blocking thread.
async fn convert(columns: Arc<ExportColumns>, spans: Vec<AxExportSpan>) -> Result<RecordBatch, FlightError> {
    tokio::task::spawn_blocking(move || columns.batch(&spans))
        .await
        .map_err(|_| FlightError::ProtocolError("a conversion task failed".into()))?
        .map_err(FlightError::Arrow)
}

fn flight_error(error: &ember_service::ServiceError) -> FlightError {
    FlightError::Tonic(Box::new(status(error)))
}

pub struct ArizeFlight {
    pub services: Services,
}

type FlightStream<T> = BoxStream<'static, Result<T, Status>>;

fn unimplemented(method: &str) -> Status {
    Status::unimplemented(format!(
        "{method} is not served: ember's Arrow Flight service takes the arize SDK's span updates (DoPut) and span exports (GetFlightInfo, DoGet)"
    ))
}

fn invalid(message: impl Into<String>) -> Status {
    Status::invalid_argument(message.into())
}

impl ArizeFlight {
    /// The caller presenting the SDK's key.
    async fn caller(&self, metadata: &MetadataMap) -> Result<Caller, Status> {
        let binary = metadata.get_bin("auth-token-bin").and_then(|value| value.to_bytes().ok());
        let key = binary.as_deref().and_then(|bytes| std::str::from_utf8(bytes).ok()).map(str::to_string);
        let authorization = metadata.get("authorization").and_then(|value| value.to_str().ok()).map(str::to_string);
        let presented = match (&key, &authorization) {
            (Some(key), _) => Presented::bare_or_bearer(key),
            (None, Some(value)) => Presented::bare_or_bearer(value),
            (None, None) => Presented::Nothing,
        };
        self.services.auth().authenticate(presented).await.map_err(|error| status(&error))
    }

    /// Plans an ML model's export: the ticket (JSON) and how many records it sends.
    async fn plan_ml_export(
        &self,
        caller: &Caller,
        query: RecordQueryDescriptor,
        environment: MlEnvironment,
        window: (i64, i64),
    ) -> Result<(Vec<u8>, i64), Status> {
        if query.filter_expression.as_deref().is_some_and(|filter| !filter.trim().is_empty()) {
            return Err(invalid("where filters are not supported for ML model exports; export the window and filter the DataFrame"));
        }
        tracing::debug!(space = query.space_id, model = query.model_id, environment = environment.name(), "arize ML export");
        let chunk = query.stream_chunk_size.and_then(Int64Json::value).unwrap_or(DEFAULT_CHUNK as i64);
        if chunk < 1 {
            return Err(invalid("streamChunkSize is positive"));
        }
        let mut ticket = MlExportTicket {
            model: query.model_id,
            environment: environment.name().to_string(),
            start: window.0,
            end: window.1,
            model_version: query.model_version.filter(|version| !version.is_empty()),
            batch_id: query.batch_id.filter(|batch| !batch.is_empty()),
            include_actuals: query.include_actuals,
            total: 0,
            chunk: (chunk as usize).min(MAX_CHUNK),
            columns: query.projected_columns,
        };
        let (_, _, total) = self
            .services
            .ml_models()
            .plan_export(caller, &ticket.model, ml_query(&ticket, None), &[])
            .await
            .map_err(|error| status(&error))?;
        ticket.total = total;
        let bytes = serde_json::to_vec(&Planned::Ml(ticket)).map_err(|_| Status::internal("cannot write the ticket"))?;
        Ok((bytes, total))
    }

    /// Streams an ML model's planned export a page at a time (each page converted on a blocking
    /// thread while the next is read).
    async fn ml_export(&self, caller: Caller, ticket: MlExportTicket) -> Result<FlightStream<FlightData>, Status> {
        let (detail, _, _) = self
            .services
            .ml_models()
            .plan_export(&caller, &ticket.model, ml_query(&ticket, None), &[])
            .await
            .map_err(|error| status(&error))?;
        let columns = Arc::new(MlExportColumns::new(&detail, ticket.include_actuals, &ticket.columns));
        let (pages, receiver) = mpsc::channel(1);
        let services = self.services.clone();
        tokio::spawn(async move {
            let mut after = None;
            loop {
                let page = services.ml_models().records(&caller, &ticket.model, ml_query(&ticket, after), &[]).await;
                let (records, more) = match page {
                    Ok(page) => page,
                    Err(error) => {
                        let _ = pages.send(Err(error)).await;
                        return;
                    }
                };
                after = records.last().map(|last| (last.time, last.id));
                if !records.is_empty() && pages.send(Ok(records)).await.is_err() || !more {
                    return;
                }
            }
        });
        let batches = stream::unfold(receiver, |mut pages| async move { pages.recv().await.map(|page| (page, pages)) }).then(move |page| {
            let columns = columns.clone();
            async move {
                let records = page.map_err(|error| flight_error(&error))?;
                tokio::task::spawn_blocking(move || columns.batch(&records))
                    .await
                    .map_err(|_| FlightError::ProtocolError("a conversion task failed".into()))?
                    .map_err(FlightError::Arrow)
            }
        });
        let encoded = FlightDataEncoderBuilder::new().build(batches).map_err(|error| match error {
            FlightError::Tonic(status) => *status,
            other => {
                tracing::error!(error = %other, "an ML export failed");
                Status::internal(ember_core::INTERNAL_ERROR_MESSAGE)
            }
        });
        Ok(encoded.boxed())
    }

    /// Applies one batch of a span update; returns what it did to fold into the reply.
    async fn apply(
        &self,
        caller: &Caller,
        update: SpanUpdate,
        project: &str,
        rows: &crate::rows::Rows,
        applied: &mut Applied,
    ) -> Result<(), Status> {
        let project = ProjectRef::Identifier(project);
        let updates = self.services.span_updates();
        match update {
            SpanUpdate::Evaluations | SpanUpdate::Annotations => {
                let done = match update {
                    SpanUpdate::Evaluations => updates.evaluations_of_stored(caller, project, rows).await,
                    _ => updates.annotations_of_stored(caller, project, rows).await,
                }
                .map_err(|error| status(&error))?;
                applied.updated += done.spans_updated as i64;
                applied.unmatched.extend(done.unmatched_ids);
            }
            SpanUpdate::Metadata => {
                let report = updates.metadata(caller, project, rows, "patch_document").await.map_err(|error| status(&error))?;
                applied.processed += report.spans_processed as i64;
                applied.updated += report.spans_updated as i64;
                applied.errors.extend(report.errors);
            }
        }
        Ok(())
    }
}

/// What a span update did, over its batches.
#[derive(Default)]
struct Applied {
    processed: i64,
    updated: i64,
    unmatched: Vec<String>,
    errors: Vec<(String, String)>,
}

impl Applied {
    fn reply(self, update: SpanUpdate) -> Vec<u8> {
        match update {
            SpanUpdate::Evaluations | SpanUpdate::Annotations => {
                proto::WriteSpanUpdateResponse { records_updated: self.updated, unmatched_ids: self.unmatched }.encode_to_vec()
            }
            SpanUpdate::Metadata => proto::WriteSpanAttributesMetadataResponse {
                spans_processed: self.processed,
                spans_updated: self.updated,
                spans_failed: self.errors.len() as i64,
                errors: self.errors.into_iter().map(|(span_id, error_message)| proto::SpanError { span_id, error_message }).collect(),
            }
            .encode_to_vec(),
        }
    }
}

/// The records an ML export's ticket selects, the page after `after`.
fn ml_query(ticket: &MlExportTicket, after: Option<(i64, i64)>) -> MlRecordQuery {
    MlRecordQuery {
        environment: MlEnvironment::parse(&ticket.environment).unwrap_or(MlEnvironment::Production),
        start: Some(ticket.start),
        end: Some(ticket.end),
        has_actual: None,
        model_version: ticket.model_version.clone(),
        batch_id: ticket.batch_id.clone(),
        predicates: Vec::new(),
        after,
        limit: ticket.chunk,
    }
}

/// The rows of one `FlightData` batch message, decoded off the runtime and without panics.
async fn batch_rows(data: FlightData, schema: SchemaRef) -> Result<crate::rows::Rows, Status> {
    let decode = move || {
        without_panic("Arrow Flight", || {
            let batch = arrow_flight::utils::flight_data_to_arrow_batch(&data, schema, &HashMap::new())
                .map_err(|error| ApiError::unprocessable(format!("a Flight batch is not Arrow IPC: {error}")))?;
            crate::rows::batch_rows(&batch)
        })
        .unwrap_or_else(|| Err(crate::untrusted::malformed("a Flight batch")))
    };
    tokio::task::spawn_blocking(decode).await.map_err(|_| Status::internal("a decoding task failed"))?.map_err(ApiError::grpc_status)
}

fn time(text: Option<&str>, name: &str) -> Result<i64, Status> {
    let text = text.ok_or_else(|| invalid(format!("{name} is required")))?;
    parse_timestamp(text).ok_or_else(|| invalid(format!("{name} is not an RFC 3339 time: {text:?}")))
}

#[tonic::async_trait]
impl FlightService for ArizeFlight {
    type HandshakeStream = FlightStream<HandshakeResponse>;
    type ListFlightsStream = FlightStream<FlightInfo>;
    type DoGetStream = FlightStream<FlightData>;
    type DoPutStream = FlightStream<PutResult>;
    type DoActionStream = FlightStream<arrow_flight::Result>;
    type ListActionsStream = FlightStream<ActionType>;
    type DoExchangeStream = FlightStream<FlightData>;

    async fn handshake(&self, _: Request<Streaming<HandshakeRequest>>) -> Result<Response<Self::HandshakeStream>, Status> {
        Err(unimplemented("Handshake"))
    }

    async fn list_flights(&self, _: Request<Criteria>) -> Result<Response<Self::ListFlightsStream>, Status> {
        Err(unimplemented("ListFlights"))
    }

    async fn poll_flight_info(&self, _: Request<FlightDescriptor>) -> Result<Response<PollInfo>, Status> {
        Err(unimplemented("PollFlightInfo"))
    }

    async fn get_schema(&self, _: Request<FlightDescriptor>) -> Result<Response<SchemaResult>, Status> {
        Err(unimplemented("GetSchema"))
    }

    async fn do_action(&self, _: Request<Action>) -> Result<Response<Self::DoActionStream>, Status> {
        Err(unimplemented("DoAction"))
    }

    async fn list_actions(&self, _: Request<Empty>) -> Result<Response<Self::ListActionsStream>, Status> {
        Err(unimplemented("ListActions"))
    }

    async fn do_exchange(&self, _: Request<Streaming<FlightData>>) -> Result<Response<Self::DoExchangeStream>, Status> {
        Err(unimplemented("DoExchange"))
    }

    async fn do_put(&self, request: Request<Streaming<FlightData>>) -> Result<Response<Self::DoPutStream>, Status> {
        let caller = self.caller(request.metadata()).await?;
        let mut stream = request.into_inner();
        let first = stream.message().await?.ok_or_else(|| invalid("DoPut sent nothing"))?;
        let command = first.flight_descriptor.as_ref().map(|descriptor| descriptor.cmd.clone()).unwrap_or_default();
        let put: DoPutRequest =
            serde_json::from_slice(&command).map_err(|error| invalid(format!("the DoPut command is not a JSON DoPutRequest: {error}")))?;
        let (update, target) = put.update().ok_or_else(|| {
            unimplemented("This DoPut command (ember takes writeSpanEvaluationRequest, writeSpanAnnotationRequest and writeSpanAttributesMetadataRequest)")
        })?;
        tracing::debug!(space = target.space_id, project = target.external_model_id, ?update, "arize span update");
        if target.external_model_id.is_empty() {
            return Err(invalid("the DoPut command names no project (externalModelId)"));
        }
        let schema = without_panic("Arrow Flight", || Schema::try_from(&first))
            .ok_or_else(|| invalid("the Flight schema is malformed"))?
            .map_err(|error| invalid(format!("the first Flight message carries no Arrow schema: {error}")))?;
        let schema = SchemaRef::new(schema);
        let mut applied = Applied::default();
        while let Some(data) = stream.message().await? {
            if data.data_header.is_empty() {
                continue;
            }
            let rows = batch_rows(data, schema.clone()).await?;
            self.apply(&caller, update, &target.external_model_id, &rows, &mut applied).await?;
        }
        let reply = PutResult { app_metadata: applied.reply(update).into() };
        Ok(Response::new(stream::once(async { Ok(reply) }).boxed()))
    }

    async fn get_flight_info(&self, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let caller = self.caller(request.metadata()).await?;
        let descriptor = request.into_inner();
        let query: RecordQueryDescriptor = serde_json::from_slice(&descriptor.cmd)
            .map_err(|error| invalid(format!("the command is not a JSON RecordQueryDescriptor: {error}")))?;
        let window = (time(query.start_time.as_deref(), "startTime")?, time(query.end_time.as_deref(), "endTime")?);
        match query.environment.as_deref().unwrap_or("TRACING") {
            "TRACING" => {}
            environment => {
                let environment = MlEnvironment::parse(environment).ok_or_else(|| {
                    invalid(format!("the environment {environment:?} is not one of TRACING, PRODUCTION, VALIDATION, TRAINING"))
                })?;
                let (ticket, total) = self.plan_ml_export(&caller, query, environment, window).await?;
                let info = FlightInfo::new()
                    .with_descriptor(descriptor)
                    .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)))
                    .with_total_records(total);
                return Ok(Response::new(info));
            }
        }
        tracing::debug!(space = query.space_id, project = query.model_id, "arize span export");
        let sample_rate = query.sample_rate.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&sample_rate) || sample_rate.is_nan() {
            return Err(invalid("sampleRate is between 0 and 1"));
        }
        let chunk = query.stream_chunk_size.and_then(Int64Json::value).unwrap_or(DEFAULT_CHUNK as i64);
        if chunk < 1 {
            return Err(invalid("streamChunkSize is positive"));
        }
        let filter = query.filter_expression.filter(|text| !text.trim().is_empty());
        let plan = self
            .services
            .ax_spans()
            .plan_export(&caller, ProjectRef::Identifier(&query.model_id), window, filter.as_deref())
            .await
            .map_err(|error| status(&error))?;
        let total = sampled_total(plan.total, sample_rate);
        let ticket = Planned::Spans(ExportTicket {
            project_id: plan.project.id,
            start: window.0,
            end: window.1,
            filter,
            up_to: plan.up_to,
            total,
            annotations: plan.annotation_names.into_iter().map(|(name, kind)| (name, kind.as_str().to_string())).collect(),
            sample_rate,
            chunk: (chunk as usize).min(MAX_CHUNK),
            columns: query.projected_columns,
        });
        let ticket = serde_json::to_vec(&ticket).map_err(|_| Status::internal("cannot write the ticket"))?;
        let info = FlightInfo::new()
            .with_descriptor(descriptor)
            .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)))
            .with_total_records(total);
        Ok(Response::new(info))
    }

    async fn do_get(&self, request: Request<Ticket>) -> Result<Response<Self::DoGetStream>, Status> {
        let caller = self.caller(request.metadata()).await?;
        let ticket = match serde_json::from_slice(&request.into_inner().ticket) {
            Ok(Planned::Spans(ticket)) => ticket,
            Ok(Planned::Ml(ticket)) => return Ok(Response::new(self.ml_export(caller, ticket).await?)),
            Err(_) => return Err(invalid("the ticket is not one GetFlightInfo gave")),
        };
        let ticket = Arc::new(ticket);
        let mut pages = read_pages(self.services.clone(), caller, ticket.clone());
        // The first page fixes the columns; failing to read it is the call's status.
        let first = match pages.recv().await {
            Some(page) => Some(page.map_err(|error| status(&error))?),
            None => None,
        };
        let columns = ExportColumns::of(first.as_deref().unwrap_or_default(), &ticket.annotations, &ticket.columns).map_err(|error| {
            tracing::error!(%error, "a span export's first page cannot be read");
            Status::internal(ember_core::INTERNAL_ERROR_MESSAGE)
        })?;
        let columns = Arc::new(columns);
        let rest = stream::unfold(pages, |mut pages| async move { pages.recv().await.map(|page| (page, pages)) });
        // A page is converted on a blocking thread while the next is read.
        let batches = stream::iter(first.map(Ok)).chain(rest).then(move |page| {
            let columns = columns.clone();
            async move { convert(columns, page.map_err(|error| flight_error(&error))?).await }
        });
        let encoded = FlightDataEncoderBuilder::new().build(batches).map_err(|error| match error {
            FlightError::Tonic(status) => *status,
            other => {
                tracing::error!(error = %other, "a span export failed");
                Status::internal(ember_core::INTERNAL_ERROR_MESSAGE)
            }
        });
        Ok(Response::new(encoded.boxed()))
    }
}
