//! Prometheus metrics (`PHOENIX_ENABLE_PROMETHEUS`): HTTP requests per route with their
//! latency, spans committed and refused, the ingest queue, and sign-ins by outcome. Recording
//! is a no-op when metrics are off. The transport serves [`Metrics::encode`] on its own port.

use std::sync::Arc;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

struct Instruments {
    registry: Registry,
    requests: Family<Labels, Counter>,
    request_seconds: Family<Labels, Histogram>,
    spans_committed: Counter,
    ingest_refusals: Counter,
    queued_spans: Gauge,
    sign_ins: Family<Labels, Counter>,
}

/// The metrics, or nothing when they are off. Cheap to clone.
#[derive(Clone, Default)]
pub struct Metrics(Option<Arc<Instruments>>);

impl Metrics {
    /// Metrics that record (`PHOENIX_ENABLE_PROMETHEUS=true`).
    pub fn enabled() -> Metrics {
        let mut registry = Registry::with_prefix("ember");
        let requests = Family::<Labels, Counter>::default();
        registry.register("http_requests", "HTTP requests by method, route and status", requests.clone());
        let request_seconds =
            Family::<Labels, Histogram>::new_with_constructor(|| Histogram::new(exponential_buckets(0.0005, 2.0, 16)) as Histogram);
        registry.register("http_request_duration_seconds", "HTTP request latency by method and route", request_seconds.clone());
        let spans_committed = Counter::default();
        registry.register("spans_committed", "Spans committed by ingestion (OTLP and the API)", spans_committed.clone());
        let ingest_refusals = Counter::default();
        registry.register(
            "ingest_refusals",
            "Ingest requests refused because the queue was full (503, RESOURCE_EXHAUSTED)",
            ingest_refusals.clone(),
        );
        let queued_spans = Gauge::default();
        registry.register("ingest_queue_spans", "Spans waiting in the ingest queue", queued_spans.clone());
        let sign_ins = Family::<Labels, Counter>::default();
        registry.register("sign_ins", "Password sign-ins by outcome", sign_ins.clone());
        Metrics(Some(Arc::new(Instruments {
            registry,
            requests,
            request_seconds,
            spans_committed,
            ingest_refusals,
            queued_spans,
            sign_ins,
        })))
    }

    pub fn is_enabled(&self) -> bool {
        self.0.is_some()
    }

    /// One HTTP request: its method, route pattern (never the raw path, which would grow the
    /// label set without bound), status and duration.
    pub fn record_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let Some(instruments) = &self.0 else { return };
        let route_labels = vec![("method", method.to_string()), ("route", route.to_string())];
        instruments.request_seconds.get_or_create(&route_labels).observe(seconds);
        let mut labels = route_labels;
        labels.push(("status", status.to_string()));
        instruments.requests.get_or_create(&labels).inc();
    }

    pub fn record_spans_committed(&self, spans: usize) {
        if let Some(instruments) = &self.0 {
            instruments.spans_committed.inc_by(spans as u64);
        }
    }

    pub fn record_ingest_refusal(&self) {
        if let Some(instruments) = &self.0 {
            instruments.ingest_refusals.inc();
        }
    }

    /// A password sign-in: `signed_in`, `failed` or `locked_out`.
    pub fn record_sign_in(&self, outcome: &'static str) {
        if let Some(instruments) = &self.0 {
            instruments.sign_ins.get_or_create(&vec![("outcome", outcome.to_string())]).inc();
        }
    }

    /// The metrics in Prometheus' text format, the queue's depth read now; `None` when off.
    pub fn encode(&self, queued_spans: usize) -> Option<String> {
        let instruments = self.0.as_ref()?;
        instruments.queued_spans.set(i64::try_from(queued_spans).unwrap_or(i64::MAX));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &instruments.registry).ok()?;
        Some(text)
    }
}
