//! The prompt hub: `count` prompts of `versions` versions each pushed through the REST API (one
//! request at a time per prompt, several prompts at once), then the latency of the reads a client
//! makes before every LLM call (`prompts.get` by tag, and the latest version) at that size.

use std::time::Instant;

use anyhow::bail;
use futures::{stream, StreamExt, TryStreamExt};
use serde_json::{json, Value};

use crate::latency;
use crate::server::EmberProcess;

fn version(prompt: usize, version: usize) -> Value {
    json!({
        "model_provider": "OPENAI", "model_name": "gpt-4o-mini",
        "template": {"type": "chat", "messages": [
            {"role": "system", "content": format!("You are assistant {prompt}, revision {version}.")},
            {"role": "user", "content": [{"type": "text", "text": "{{ question }}"}]},
        ]},
        "template_type": "CHAT", "template_format": "MUSTACHE",
        "invocation_parameters": {"type": "openai", "openai": {"temperature": 0.2, "max_tokens": 256}},
    })
}

pub async fn run(client: &reqwest::Client, ember: &EmberProcess, count: usize, versions: usize, samples: usize) -> anyhow::Result<()> {
    let root = ember.http.as_str();
    let started = Instant::now();
    stream::iter(0..count)
        .map(|prompt| async move {
            let mut last_id = String::new();
            for revision in 0..versions {
                let body = json!({"prompt": {"name": format!("bench-prompt-{prompt}")}, "version": version(prompt, revision)});
                let response = client.post(format!("{root}/v1/prompts")).json(&body).send().await?;
                if !response.status().is_success() {
                    bail!("POST /v1/prompts: {} {}", response.status(), response.text().await?);
                }
                let created: Value = response.json().await?;
                last_id = created["data"]["id"].as_str().unwrap_or_default().to_string();
            }
            let tagged =
                client.post(format!("{root}/v1/prompt_versions/{last_id}/tags")).json(&json!({"name": "production"})).send().await?;
            if tagged.status() != 204 {
                bail!("tagging: {}", tagged.status());
            }
            Ok(())
        })
        .buffer_unordered(8)
        .try_collect::<()>()
        .await?;
    let elapsed = started.elapsed();
    let middle = count / 2;
    let by_tag = latency(client, &format!("{root}/v1/prompts/bench-prompt-{middle}/tags/production"), samples).await?;
    let latest = latency(client, &format!("{root}/v1/prompts/bench-prompt-{middle}/latest"), samples).await?;
    let versions_page = latency(client, &format!("{root}/v1/prompts/bench-prompt-{middle}/versions?limit=100"), samples).await?;
    println!(
        "prompts: {count} prompts x {versions} versions pushed in {:.2} s ({:.0} versions/s, 8 in flight)",
        elapsed.as_secs_f64(),
        (count * versions) as f64 / elapsed.as_secs_f64()
    );
    println!("GET prompt by tag: p50 {:.2} ms, p99 {:.2} ms", by_tag.0, by_tag.1);
    println!("GET latest prompt version: p50 {:.2} ms, p99 {:.2} ms", latest.0, latest.1);
    println!("GET prompt versions?limit=100: p50 {:.2} ms, p99 {:.2} ms", versions_page.0, versions_page.1);
    Ok(())
}
