//! Prometheus metrics (`PHOENIX_ENABLE_PROMETHEUS`) on their own port: requests counted per
//! route pattern with their latency, spans committed, the ingest queue, sign-ins; nothing is
//! served when they are off.

use ember_otlp::fixtures::{request, span};

use crate::process::Ember;

/// The value of the sample `name` (with its labels, as printed) in a metrics text.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')).and_then(|value| value.parse().ok()))
}

#[tokio::test]
async fn metrics_count_requests_per_route_and_committed_spans() {
    let dir = tempfile::tempdir().unwrap();
    let ember = Ember::start(dir.path(), &[("PHOENIX_ENABLE_PROMETHEUS", "true"), ("EMBER_PROMETHEUS_PORT", "0")]).await;
    let metrics = ember.metrics.clone().expect("the metrics' address is printed");
    let sent = ember.export(&request(Some("measured"), vec![span(1, 1, None, "LLM"), span(1, 2, Some(1), "LLM")])).await;
    assert_eq!(sent.status(), 200);
    for project in ["measured", "measured", "no-such-project"] {
        ember.client.get(format!("{}/v1/projects/{project}/spans", ember.http)).send().await.unwrap();
    }
    let text = ember.client.get(format!("{metrics}/metrics")).send().await.unwrap().text().await.unwrap();
    assert_eq!(sample(&text, "ember_spans_committed_total"), Some(2.0), "{text}");
    let route = r#"method="GET",route="/v1/projects/{project_identifier}/spans""#;
    assert_eq!(sample(&text, &format!("ember_http_requests_total{{{route},status=\"200\"}}")), Some(2.0), "{text}");
    assert_eq!(sample(&text, &format!("ember_http_requests_total{{{route},status=\"404\"}}")), Some(1.0), "{text}");
    assert_eq!(sample(&text, &format!("ember_http_request_duration_seconds_count{{{route}}}")), Some(3.0), "{text}");
    assert_eq!(sample(&text, "ember_ingest_queue_spans"), Some(0.0), "{text}");
    assert!(!text.contains("no-such-project"), "labels are route patterns, never raw paths");
    ember.terminate().await;

    let quiet = Ember::start(dir.path(), &[]).await;
    assert!(quiet.metrics.is_none(), "no metrics port unless asked");
    quiet.terminate().await;
}
