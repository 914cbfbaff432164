//! Experiments: a task's runs and two evaluations of each recorded through the REST API one
//! request at a time, as `arize-phoenix-client`'s experiment loop sends them (several in flight).

use std::time::Instant;

use anyhow::{bail, Context};
use futures::{stream, StreamExt, TryStreamExt};
use serde_json::{json, Value};

use crate::server::EmberProcess;

async fn post(client: &reqwest::Client, url: &str, body: &Value) -> anyhow::Result<Value> {
    let response = client.post(url).json(body).send().await?;
    if !response.status().is_success() {
        bail!("POST {url}: {} {}", response.status(), response.text().await?);
    }
    Ok(response.json().await?)
}

/// Records `count` runs (one per example of a fresh dataset) and two evaluations of each, with
/// `concurrency` requests in flight.
/// Returns the dataset's and the experiment's GlobalIDs.
pub async fn run(client: &reqwest::Client, ember: &EmberProcess, count: usize, concurrency: usize) -> anyhow::Result<(String, String)> {
    let root = ember.http.as_str();
    let inputs: Vec<Value> = (0..count).map(|n| json!({"question": format!("What is {n} plus {n}?")})).collect();
    let outputs: Vec<Value> = (0..count).map(|n| json!({"answer": 2 * n})).collect();
    let upload = json!({"action": "create", "name": "bench-experiment-dataset", "inputs": inputs, "outputs": outputs});
    let dataset_id = post(client, &format!("{root}/v1/datasets/upload?sync=true"), &upload).await?["data"]["dataset_id"]
        .as_str()
        .context("dataset id")?
        .to_string();
    let examples: Value = client.get(format!("{root}/v1/datasets/{dataset_id}/examples")).send().await?.json().await?;
    let example_ids: Vec<String> = examples["data"]["examples"]
        .as_array()
        .context("examples")?
        .iter()
        .filter_map(|example| example["node_id"].as_str().map(String::from))
        .collect();
    let experiment = post(client, &format!("{root}/v1/datasets/{dataset_id}/experiments"), &json!({"name": "bench"})).await?;
    let experiment_id = experiment["data"]["id"].as_str().context("experiment id")?.to_string();
    let runs_url = format!("{root}/v1/experiments/{experiment_id}/runs");
    let evaluations_url = format!("{root}/v1/experiment_evaluations");

    let started = Instant::now();
    let run_ids: Vec<String> = stream::iter(example_ids.iter().enumerate())
        .map(|(n, example_id)| {
            let body = json!({
                "dataset_example_id": example_id, "output": {"answer": 2 * n}, "repetition_number": 1,
                "start_time": "2026-11-22T10:00:00+00:00", "end_time": "2026-11-22T10:00:01+00:00",
                "trace_id": format!("{n:032x}"), "error": null,
            });
            let (client, runs_url) = (client, &runs_url);
            async move { post(client, runs_url, &body).await.map(|created| created["data"]["id"].as_str().unwrap_or_default().to_string()) }
        })
        .buffer_unordered(concurrency)
        .try_collect()
        .await?;
    let runs_elapsed = started.elapsed();
    stream::iter(run_ids.iter().flat_map(|run_id| [(run_id, "exact"), (run_id, "graded")]))
        .map(|(run_id, name)| {
            let body = json!({
                "experiment_run_id": run_id, "name": name, "annotator_kind": "CODE",
                "start_time": "2026-11-22T10:00:02+00:00", "end_time": "2026-11-22T10:00:03+00:00",
                "result": {"score": 1.0, "label": "right", "explanation": "matches"}, "error": null, "metadata": {},
            });
            let (client, evaluations_url) = (client, &evaluations_url);
            async move { post(client, evaluations_url, &body).await.map(|_| ()) }
        })
        .buffer_unordered(concurrency)
        .try_collect::<()>()
        .await?;
    let elapsed = started.elapsed();
    let stored: Value = client.get(format!("{root}/v1/experiments/{experiment_id}")).send().await?.json().await?;
    if stored["data"]["successful_run_count"].as_u64() != Some(count as u64) {
        bail!("{} of {count} runs stored", stored["data"]["successful_run_count"]);
    }
    println!(
        "experiment: {count} runs ({:.2} s) + {} evaluations through the REST API, {concurrency} in flight: {:.2} s",
        runs_elapsed.as_secs_f64(),
        2 * count,
        elapsed.as_secs_f64()
    );
    Ok((dataset_id, experiment_id))
}
