//! Datasets: a CSV of many examples uploaded the way `arize-phoenix-client` sends a DataFrame (a
//! multipart form with a gzip-compressed CSV part), then every example fetched back.

use std::io::Write;
use std::time::Instant;

use anyhow::bail;

use crate::server::EmberProcess;

const BOUNDARY: &str = "ember-bench-boundary";

/// The CSV of `count` examples: a question (input), an answer (output), a topic (metadata).
fn csv(count: usize) -> String {
    let mut csv = String::from("question,answer,topic\n");
    for n in 0..count {
        csv.push_str(&format!("\"What is {n} plus {n}, and why does it matter?\",{},topic-{}\n", 2 * n, n % 20));
    }
    csv
}

fn form(name: &str, csv: &str) -> anyhow::Result<Vec<u8>> {
    let mut body = Vec::new();
    for (field, value) in
        [("action", "create"), ("name", name), ("input_keys[]", "question"), ("output_keys[]", "answer"), ("metadata_keys[]", "topic")]
    {
        write!(body, "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n")?;
    }
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(csv.as_bytes())?;
    write!(
        body,
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"dataframe.csv\"\r\nContent-Type: text/csv\r\nContent-Encoding: gzip\r\n\r\n"
    )?;
    body.extend(gzip.finish()?);
    write!(body, "\r\n--{BOUNDARY}--\r\n")?;
    Ok(body)
}

/// Uploads a dataset of `count` examples and fetches all its examples `samples` times.
pub async fn run(client: &reqwest::Client, ember: &EmberProcess, count: usize, samples: usize) -> anyhow::Result<()> {
    let root = ember.http.as_str();
    let rss_before = ember.rss_mb()?;
    let csv = csv(count);
    let body = form("bench-dataset", &csv)?;
    let started = Instant::now();
    let response = client
        .post(format!("{root}/v1/datasets/upload?sync=true"))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body)
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("POST /v1/datasets/upload: {} {}", response.status(), response.text().await?);
    }
    let uploaded: serde_json::Value = response.json().await?;
    let elapsed = started.elapsed();
    println!(
        "POST /v1/datasets/upload, {count} examples as a gzip CSV form ({:.1} MB of CSV): {:.2} s",
        csv.len() as f64 / 1e6,
        elapsed.as_secs_f64()
    );
    println!("RSS before / after the upload: {rss_before:.1} / {:.1} MB", ember.rss_mb()?);
    let dataset_id = uploaded["data"]["dataset_id"].as_str().unwrap_or_default().to_string();
    let mut timings = Vec::with_capacity(samples);
    for _ in 0..samples.max(1) {
        let started = Instant::now();
        let response = client.get(format!("{root}/v1/datasets/{dataset_id}/examples")).send().await?;
        if !response.status().is_success() {
            bail!("GET examples: {}", response.status());
        }
        let examples: serde_json::Value = response.json().await?;
        timings.push(started.elapsed());
        let fetched = examples["data"]["examples"].as_array().map_or(0, Vec::len);
        if fetched != count {
            bail!("{fetched} of {count} examples fetched");
        }
    }
    timings.sort();
    println!("RSS after fetching the examples: {:.1} MB", ember.rss_mb()?);
    println!("GET /v1/datasets/{{id}}/examples, all {count} examples: p50 {:.2} s", timings[timings.len() / 2].as_secs_f64());
    Ok(())
}
