//! A dataset upload far larger than memory should allow: a CSV of `megabytes` MB streamed as the
//! file part of an upload form, with the server's resident memory sampled throughout.

use std::time::Instant;

use anyhow::bail;
use bytes::Bytes;
use futures::stream;

use crate::server::EmberProcess;

const BOUNDARY: &str = "ember-bench-large-boundary";
/// CSV rows per streamed chunk.
const ROWS_PER_CHUNK: usize = 2_000;

fn row(n: usize, padding: &str) -> String {
    format!("\"What is {n} plus {n}, and why does it matter?\",{},topic-{},\"{padding}\"\n", 2 * n, n % 20)
}

/// Uploads about `megabytes` MB of CSV and reports the time and the server's peak RSS.
pub async fn run(client: &reqwest::Client, ember: &EmberProcess, megabytes: usize) -> anyhow::Result<()> {
    let root = ember.http.as_str();
    let padding = "context ".repeat(50);
    let row_bytes = row(0, &padding).len();
    let rows = megabytes * 1_000_000 / row_bytes;
    let mut head = String::new();
    for (field, value) in [
        ("action", "create"),
        ("name", "bench-large-upload"),
        ("input_keys[]", "question"),
        ("input_keys[]", "context"),
        ("output_keys[]", "answer"),
        ("metadata_keys[]", "topic"),
    ] {
        head.push_str(&format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n"));
    }
    head.push_str(&format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"large.csv\"\r\nContent-Type: text/csv\r\n\r\nquestion,answer,topic,context\n"
    ));
    let tail = format!("\r\n--{BOUNDARY}--\r\n");
    // The body is generated as it is sent, so the benchmark holds one chunk at a time.
    let chunks = (0..rows.div_ceil(ROWS_PER_CHUNK)).map(move |chunk| {
        let first = chunk * ROWS_PER_CHUNK;
        let last = (first + ROWS_PER_CHUNK).min(rows);
        let text: String = (first..last).map(|n| row(n, &padding)).collect();
        Ok::<Bytes, std::io::Error>(Bytes::from(text))
    });
    let body = stream::iter(std::iter::once(Ok(Bytes::from(head))).chain(chunks).chain(std::iter::once(Ok(Bytes::from(tail)))));

    let idle = ember.rss_mb()?;
    let sampler = ember.sample_peak_rss()?;
    let started = Instant::now();
    let response = client
        .post(format!("{root}/v1/datasets/upload?sync=true"))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await?;
    let elapsed = started.elapsed();
    let peak = sampler.stop().await?;
    if !status.is_success() {
        bail!("POST /v1/datasets/upload (large): {status} {text}");
    }
    let answer: serde_json::Value = serde_json::from_str(&text)?;
    let created = answer["data"]["num_created_examples"].as_u64().unwrap_or_default() as usize;
    if created != rows {
        bail!("{created} of {rows} examples created");
    }
    println!(
        "POST /v1/datasets/upload, {:.0} MB of CSV ({rows} examples) streamed: {:.1} s; RSS idle {idle:.1} MB, peak {peak:.1} MB (+{:.1} MB)",
        (rows * row_bytes) as f64 / 1e6,
        elapsed.as_secs_f64(),
        peak - idle
    );
    Ok(())
}
