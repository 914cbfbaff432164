//! The spans an experiment emits, built as the OpenTelemetry SDK in the Phoenix clients builds
//! them, and exported in batches over OTLP/HTTP protobuf.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use ember_core::semconv;
use ember_otlp::collector::ExportTraceServiceRequest;
use ember_otlp::common::{any_value, AnyValue, InstrumentationScope, KeyValue};
use ember_otlp::resource::Resource;
use ember_otlp::trace::{span, status, ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use rand::RngCore;
use reqwest::header::CONTENT_TYPE;
use reqwest::Method;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::Client;

/// Spans per export request.
const BATCH_SPANS: usize = 256;
/// The longest a span waits for its batch to fill.
const BATCH_LINGER: Duration = Duration::from_millis(200);

/// A root span being recorded: one task run or one evaluation.
pub struct RootSpan {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    name: String,
    start: SystemTime,
    attributes: Vec<KeyValue>,
    events: Vec<span::Event>,
    error: Option<String>,
}

/// A finished span and its wall-clock bounds.
pub struct FinishedSpan {
    pub span: Span,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    /// Hex, as the runs and evaluations reference it.
    pub trace_id: String,
}

impl RootSpan {
    pub fn start(name: String) -> RootSpan {
        let mut random = rand::rng();
        let mut trace_id = [0u8; 16];
        let mut span_id = [0u8; 8];
        random.fill_bytes(&mut trace_id);
        random.fill_bytes(&mut span_id);
        RootSpan { trace_id, span_id, name, start: SystemTime::now(), attributes: Vec::new(), events: Vec::new(), error: None }
    }

    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.attributes.push(string_attribute(key, value.into()));
    }

    /// Records a failure as the SDK's `record_exception` does, and sets the ERROR status.
    pub fn record_error(&mut self, kind: &str, message: &str) {
        self.events.push(span::Event {
            time_unix_nano: unix_nanos(SystemTime::now()),
            name: "exception".into(),
            attributes: vec![
                string_attribute("exception.type", kind.to_string()),
                string_attribute("exception.message", message.to_string()),
                string_attribute("exception.escaped", "False".to_string()),
            ],
            dropped_attributes_count: 0,
        });
        self.error = Some(format!("{kind}: {message}"));
    }

    pub fn finish(self) -> FinishedSpan {
        let end = SystemTime::now().max(self.start);
        let status = match self.error {
            Some(message) => Status { code: status::StatusCode::Error as i32, message },
            None => Status { code: status::StatusCode::Ok as i32, message: String::new() },
        };
        let span = Span {
            trace_id: self.trace_id.to_vec(),
            span_id: self.span_id.to_vec(),
            name: self.name,
            kind: span::SpanKind::Internal as i32,
            start_time_unix_nano: unix_nanos(self.start),
            end_time_unix_nano: unix_nanos(end),
            attributes: self.attributes,
            events: self.events,
            status: Some(status),
            ..Default::default()
        };
        FinishedSpan { span, start_time: self.start.into(), end_time: end.into(), trace_id: hex::encode(self.trace_id) }
    }
}

fn unix_nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_nanos() as u64).unwrap_or_default()
}

fn string_attribute(key: &str, value: String) -> KeyValue {
    KeyValue { key: key.to_string(), value: Some(AnyValue { value: Some(any_value::Value::StringValue(value)) }), ..Default::default() }
}

/// What the exporter managed to send.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExportStats {
    pub exported: usize,
    pub failed: usize,
}

/// Batches spans per project in the background and posts them to `/v1/traces`.
pub struct SpanExporter {
    sender: mpsc::Sender<(String, Span)>,
    worker: JoinHandle<ExportStats>,
}

impl SpanExporter {
    pub fn start(client: Client) -> SpanExporter {
        let (sender, receiver) = mpsc::channel(BATCH_SPANS * 4);
        let worker = tokio::spawn(export_batches(client, receiver));
        SpanExporter { sender, worker }
    }

    /// Queues a span for `project`; waits when the queue is full.
    pub async fn send(&self, project: &str, span: Span) {
        // The worker only stops after `finish`, which takes `self`, so the send cannot fail.
        let _ = self.sender.send((project.to_string(), span)).await;
    }

    /// Sends what is queued and stops.
    pub async fn finish(self) -> ExportStats {
        drop(self.sender);
        self.worker.await.unwrap_or_default()
    }
}

async fn export_batches(client: Client, mut receiver: mpsc::Receiver<(String, Span)>) -> ExportStats {
    let mut stats = ExportStats::default();
    let mut batch: Vec<(String, Span)> = Vec::with_capacity(BATCH_SPANS);
    loop {
        let next = if batch.is_empty() {
            receiver.recv().await
        } else {
            match tokio::time::timeout(BATCH_LINGER, receiver.recv()).await {
                Ok(next) => next,
                Err(_linger_over) => {
                    flush(&client, &mut batch, &mut stats).await;
                    continue;
                }
            }
        };
        match next {
            Some(item) => {
                batch.push(item);
                if batch.len() >= BATCH_SPANS {
                    flush(&client, &mut batch, &mut stats).await;
                }
            }
            None => {
                flush(&client, &mut batch, &mut stats).await;
                return stats;
            }
        }
    }
}

async fn flush(client: &Client, batch: &mut Vec<(String, Span)>, stats: &mut ExportStats) {
    if batch.is_empty() {
        return;
    }
    let count = batch.len();
    let request = export_request(std::mem::take(batch));
    let body = request.encode_to_vec();
    let sent = client.request(Method::POST, "v1/traces").header(CONTENT_TYPE, "application/x-protobuf").body(body);
    match client.send("POST /v1/traces", sent).await {
        Ok(_) => stats.exported += count,
        Err(error) => {
            tracing::warn!(%error, spans = count, "cannot export experiment spans");
            stats.failed += count;
        }
    }
}

/// One resource per project, named by `openinference.project.name`.
fn export_request(spans: Vec<(String, Span)>) -> ExportTraceServiceRequest {
    let mut by_project: BTreeMap<String, Vec<Span>> = BTreeMap::new();
    for (project, span) in spans {
        by_project.entry(project).or_default().push(span);
    }
    let resource_spans = by_project
        .into_iter()
        .map(|(project, spans)| ResourceSpans {
            resource: Some(Resource { attributes: vec![string_attribute(semconv::PROJECT_NAME, project)], ..Default::default() }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "ember.experiments".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    ..Default::default()
                }),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        })
        .collect();
    ExportTraceServiceRequest { resource_spans }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_grouped_by_project() {
        let mut task = RootSpan::start("Task: t".into());
        task.record_error("CommandFailed", "exit 1");
        let task = task.finish();
        assert_eq!(task.trace_id.len(), 32);
        assert_eq!(task.span.status.as_ref().unwrap().message, "CommandFailed: exit 1");
        assert_eq!(task.span.events[0].name, "exception");
        let evaluation = RootSpan::start("Evaluation: e".into()).finish();
        assert_eq!(evaluation.span.status.as_ref().unwrap().code, status::StatusCode::Ok as i32);
        let request = export_request(vec![("b".into(), task.span.clone()), ("a".into(), evaluation.span), ("b".into(), task.span)]);
        let projects: Vec<(String, usize)> = request
            .resource_spans
            .iter()
            .map(|resource| {
                let name = match &resource.resource.as_ref().unwrap().attributes[0].value.as_ref().unwrap().value {
                    Some(any_value::Value::StringValue(name)) => name.clone(),
                    other => panic!("{other:?}"),
                };
                (name, resource.scope_spans[0].spans.len())
            })
            .collect();
        assert_eq!(projects, vec![("a".to_string(), 1), ("b".to_string(), 2)]);
    }
}
