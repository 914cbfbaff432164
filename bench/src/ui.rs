//! Web UI pages at the benchmark's size: the server time of each page (request to last byte
//! over loopback), p50 and p99, for the pages a user opens first on a large project.

use anyhow::Context;
use serde_json::Value;

use crate::latency;
use crate::server::EmberProcess;

pub async fn run(client: &reqwest::Client, ember: &EmberProcess, project: &str, samples: usize) -> anyhow::Result<()> {
    let root = ember.http.as_str();
    let described: Value = client.get(format!("{root}/v1/projects/{project}")).send().await?.json().await?;
    let project_id =
        described["data"]["id"].as_str().and_then(|id| ember_core::GlobalId::decode_as(id, "Project")).context("project id")?;
    let traces: Value = client.get(format!("{root}/v1/projects/{project}/traces?limit=1&sort=latency_ms")).send().await?.json().await?;
    let trace_id = traces["data"][0]["trace_id"].as_str().context("a trace")?.to_string();
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
        ("trace (slowest)".into(), format!("{p}/traces/{trace_id}")),
        ("session".into(), format!("{p}/sessions/1")),
        ("datasets".into(), "/datasets".into()),
        ("prompts".into(), "/prompts".into()),
        ("settings".into(), "/settings".into()),
    ];
    for (label, path) in pages {
        let (p50, p99) = latency(client, &format!("{root}{path}"), samples).await?;
        println!("UI page {label}: p50 {p50:.2} ms, p99 {p99:.2} ms");
    }
    Ok(())
}
