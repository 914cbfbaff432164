//! Web UI pages at the benchmark's size: the server time of each page (request to last byte
//! over loopback), p50 and p99, for the pages a user opens first on a large project, and the
//! experiment pages once the experiment benchmark has recorded its runs.

use anyhow::Context;
use serde_json::Value;

use crate::latency;
use crate::server::EmberProcess;

pub async fn run(client: &reqwest::Client, ember: &EmberProcess, project: &str, samples: usize) -> anyhow::Result<()> {
    let root = ember.http.as_str();
    let described: Value = client.get(format!("{root}/v1/projects/{project}")).send().await?.json().await?;
    let project_id = described["data"]["id"]
        .as_str()
        .and_then(|id| ember_core::GlobalId::decode_as(id, ember_core::GlobalType::Project))
        .context("project id")?;
    let traces: Value = client.get(format!("{root}/v1/projects/{project}/traces?limit=1&sort=latency_ms")).send().await?.json().await?;
    let trace_id = traces["data"][0]["trace_id"].as_str().context("a trace")?.to_string();
    let spans: Value = client.get(format!("{root}/v1/projects/{project}/spans?limit=1")).send().await?.json().await?;
    let span_id = spans["data"][0]["context"]["span_id"].as_str().context("a span")?.to_string();
    let p = format!("/projects/{project_id}");
    let pages = [
        ("projects".to_string(), "/projects".to_string()),
        ("project: traces, newest first".into(), p.clone()),
        ("project: traces by latency".into(), format!("{p}?sort=latency&order=desc")),
        ("project: traces by tokens".into(), format!("{p}?sort=tokens&order=desc")),
        ("project: traces, 30 days".into(), format!("{p}?range=30d")),
        ("project: root spans".into(), format!("{p}?tab=spans")),
        ("project: all spans, filter span_kind == 'LLM'".into(), format!("{p}?tab=spans&spans=all&filter=span_kind%20%3D%3D%20%27LLM%27")),
        ("project: sessions".into(), format!("{p}?tab=sessions")),
        ("project: traces, trace filter num_spans >= 5".into(), format!("{p}?filter=num_spans%20%3E%3D%205")),
        (
            "project: traces, trace filter any(s.span_kind == 'TOOL' for s in spans)".into(),
            format!("{p}?filter=any(s.span_kind%20%3D%3D%20%27TOOL%27%20for%20s%20in%20spans)"),
        ),
        ("project: metrics, 7 days".into(), format!("{p}/metrics")),
        ("project: metrics, 30 days".into(), format!("{p}/metrics?range=30d")),
        ("trace (slowest)".into(), format!("{p}/traces/{trace_id}")),
        ("search: a trace id".into(), format!("/search?q={trace_id}")),
        ("search: a name".into(), "/search?q=bench".into()),
        ("session".into(), format!("{p}/sessions/1")),
        ("datasets".into(), "/datasets".into()),
        ("prompts".into(), "/prompts".into()),
        ("settings".into(), "/settings".into()),
        ("playground".into(), "/playground".into()),
        ("playground: opened from a span".into(), format!("/playground?span={span_id}")),
    ];
    let wide_trace = send_wide_trace(client, root, 5_000).await?;
    let bulk: Value = client.get(format!("{root}/v1/projects/ui-bench")).send().await?.json().await?;
    let bulk_id = bulk["data"]["id"]
        .as_str()
        .and_then(|id| ember_core::GlobalId::decode_as(id, ember_core::GlobalType::Project))
        .context("project id")?;
    let mut pages = pages.to_vec();
    pages.push(("trace of 5,000 spans".into(), format!("/projects/{bulk_id}/traces/{wide_trace}")));
    for (label, path) in pages {
        let (p50, p99) = latency(client, &format!("{root}{path}"), samples).await?;
        println!("UI page {label}: p50 {p50:.2} ms, p99 {p99:.2} ms");
    }
    Ok(())
}

/// One trace of `count` spans (a root, then alternately its children and their children) sent
/// as OTLP/JSON to project `ui-bench`; returns its trace id.
async fn send_wide_trace(client: &reqwest::Client, root: &str, count: usize) -> anyhow::Result<String> {
    let trace_id = "5af7651916cd43dd8448eb211c80319c";
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos() as i64;
    let attribute = |key: &str, value: String| serde_json::json!({"key": key, "value": {"stringValue": value}});
    let span = |id: String, parent: Option<String>, start: i64, kind: &str, input: String| {
        let mut span = serde_json::json!({
            "traceId": trace_id, "spanId": id, "name": "step", "kind": 1,
            "startTimeUnixNano": start.to_string(), "endTimeUnixNano": (start + 20_000_000).to_string(),
            "attributes": [attribute("openinference.span.kind", kind.into()), attribute("input.value", input)], "status": {"code": 1},
        });
        if let Some(parent) = parent {
            span["parentSpanId"] = Value::String(parent);
        }
        span
    };
    let start = now - 10_000_000_000;
    let root_id = "5aff000000000000".to_string();
    let mut spans = vec![span(root_id.clone(), None, start, "CHAIN", "batch".into())];
    for i in 1..count {
        let parent = if i % 2 == 0 { root_id.clone() } else { format!("5a{:014x}", i - 1) };
        let kind = if i % 3 == 0 { "LLM" } else { "TOOL" };
        spans.push(span(format!("5a{i:014x}"), Some(parent), start + i as i64 * 1_000_000, kind, format!("item {i} ").repeat(20)));
    }
    let body = serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [attribute("openinference.project.name", "ui-bench".into())]},
        "scopeSpans": [{"spans": spans}],
    }]});
    let response =
        client.post(format!("{root}/v1/traces")).header("content-type", "application/json").body(body.to_string()).send().await?;
    anyhow::ensure!(response.status().is_success(), "export: {}", response.status());
    Ok(trace_id.to_string())
}

/// The experiment page (its first 100 runs of all) and the compare page of the experiment with
/// itself, after the experiment benchmark.
pub async fn experiment_pages(
    client: &reqwest::Client,
    ember: &EmberProcess,
    dataset: &str,
    experiment: &str,
    samples: usize,
) -> anyhow::Result<()> {
    let root = ember.http.as_str();
    let pages = [
        ("experiment", format!("/datasets/{dataset}/experiments/{experiment}")),
        (
            "experiment, filtered by an evaluation result",
            format!("/datasets/{dataset}/experiments/{experiment}?evaluation=exact&result=right"),
        ),
        ("experiments compared", format!("/datasets/{dataset}/compare?experimentId={experiment}")),
    ];
    for (label, path) in pages {
        let (p50, p99) = latency(client, &format!("{root}{path}"), samples).await?;
        println!("UI page {label}: p50 {p50:.2} ms, p99 {p99:.2} ms");
    }
    Ok(())
}
