//! The Arize ML paths as the `arize` SDK sends them: `ml.log` (one Arrow IPC upload to
//! `/v1/pandas_arrow` of records with 20 features — 10 doubles, 5 ints, 5 strings — a label, a
//! score, an actual and a time, in batches of 10,000 rows) with the server's memory sampled, then
//! `ml.export_to_df` of every record (Flight `GetFlightInfo` + `DoGet`), the monitoring charts
//! over every record (performance, drift, data quality; one request per chart, the median of
//! three), and `/v1/log` single records from several senders at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{Field, Schema};
use base64::Engine;
use ember_server::arize::proto;
use prost::Message;

use crate::server::EmberProcess;

const MODEL: &str = "bench-ml";
const BATCH_ROWS: usize = 10_000;
const DOUBLES: usize = 10;
const INTS: usize = 5;
const STRINGS: usize = 5;

fn arize_schema() -> String {
    let constants =
        proto::Constants { model_id: MODEL.into(), model_version: "v1".into(), batch_id: String::new(), environment: 3, model_type: 4 };
    let features =
        (0..DOUBLES).map(|n| format!("d{n}")).chain((0..INTS).map(|n| format!("i{n}"))).chain((0..STRINGS).map(|n| format!("s{n}")));
    let columns = proto::ArrowSchema {
        prediction_id_column_name: "prediction_id".into(),
        timestamp_column_name: "prediction_ts".into(),
        prediction_label_column_name: "prediction_label".into(),
        prediction_score_column_name: "prediction_score".into(),
        actual_label_column_name: "actual_label".into(),
        feature_column_names: features.collect(),
        ..Default::default()
    };
    let schema = proto::Schema { constants: Some(constants), arrow_schema: Some(columns), arize_spans: None };
    base64::engine::general_purpose::STANDARD.encode(schema.encode_to_vec())
}

/// Records `first..first + count`, spread over the last 20 days.
fn batch(first: usize, count: usize, now_seconds: i64, schema: &str) -> RecordBatch {
    let rows = first..first + count;
    // A cheap deterministic spread of values.
    let mix = |n: usize, salt: usize| ((n.wrapping_mul(2_654_435_761) ^ salt.wrapping_mul(40_503)) % 10_000) as f64 / 10_000.0;
    let mut columns: Vec<(String, ArrayRef)> = vec![
        ("prediction_id".into(), Arc::new(StringArray::from_iter_values(rows.clone().map(|n| format!("bench-{n:010}"))))),
        (
            "prediction_ts".into(),
            Arc::new(Int64Array::from_iter_values(rows.clone().map(|n| now_seconds - 3600 - (n as i64 % (20 * 86_400))))),
        ),
        (
            "prediction_label".into(),
            Arc::new(StringArray::from_iter_values(rows.clone().map(|n| if mix(n, 1) < 0.3 { "fraud" } else { "legit" }))),
        ),
        ("prediction_score".into(), Arc::new(Float64Array::from_iter_values(rows.clone().map(|n| mix(n, 2))))),
        (
            "actual_label".into(),
            Arc::new(StringArray::from_iter_values(rows.clone().map(|n| if mix(n, 3) < 0.25 { "fraud" } else { "legit" }))),
        ),
    ];
    for feature in 0..DOUBLES {
        columns.push((format!("d{feature}"), Arc::new(Float64Array::from_iter_values(rows.clone().map(|n| mix(n, 10 + feature) * 100.0)))));
    }
    for feature in 0..INTS {
        columns.push((
            format!("i{feature}"),
            Arc::new(Int64Array::from_iter_values(rows.clone().map(|n| (mix(n, 20 + feature) * 1000.0) as i64))),
        ));
    }
    for feature in 0..STRINGS {
        let values = rows.clone().map(|n| ["red", "green", "blue", "amber", "violet", "grey"][(mix(n, 30 + feature) * 6.0) as usize]);
        columns.push((format!("s{feature}"), Arc::new(StringArray::from_iter_values(values))));
    }
    let fields: Vec<Field> = columns.iter().map(|(name, array)| Field::new(name, array.data_type().clone(), true)).collect();
    let metadata: HashMap<String, String> = [("arize-schema".to_string(), schema.to_string())].into();
    RecordBatch::try_new(Arc::new(Schema::new(fields).with_metadata(metadata)), columns.into_iter().map(|(_, array)| array).collect())
        .expect("a valid batch")
}

pub async fn run(client: &reqwest::Client, ember: &EmberProcess, records: usize) -> anyhow::Result<()> {
    println!("arize ML paths: {records} records x {} features", DOUBLES + INTS + STRINGS);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
    let schema = arize_schema();
    let mut body = Vec::new();
    {
        let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut body, &batch(0, 1, now, &schema).schema())?;
        for first in (0..records).step_by(BATCH_ROWS) {
            writer.write(&batch(first, BATCH_ROWS.min(records - first), now, &schema))?;
        }
        writer.finish()?;
    }
    let upload_mb = body.len() as f64 / 1e6;
    let idle = ember.rss_mb()?;
    let sampler = ember.sample_peak_rss()?;
    let started = Instant::now();
    let response = client
        .post(format!("{}/v1/pandas_arrow", ember.http))
        .header("authorization", "bench-key")
        .header("arize-interface", "batch")
        .header("number-of-rows", records.to_string())
        .body(body)
        .send()
        .await?;
    let status = response.status();
    if !status.is_success() {
        bail!("ml.log answered {status}: {}", response.text().await?);
    }
    let elapsed = started.elapsed();
    let peak = sampler.stop().await?;
    println!(
        "ml.log (POST /v1/pandas_arrow, one {upload_mb:.0} MB upload): {records} records in {:.2} s = {:.0} records/s committed; server RSS {idle:.0} MB before, peak {peak:.0} MB (+{:.0} MB)",
        elapsed.as_secs_f64(),
        records as f64 / elapsed.as_secs_f64(),
        peak - idle
    );

    let idle = wait_for_idle(ember).await?;
    println!("hourly summaries of the upload made: the server went idle {idle:.1} s after it");
    let mut flight = crate::arize::flight(ember).await?;
    let command = format!(
        r#"{{"spaceId": "bench", "modelId": "{MODEL}", "environment": "PRODUCTION", "includeActuals": true, "startTime": "{}", "endTime": "{}"}}"#,
        ember_core::time::format_nanos((now - 30 * 86_400) * 1_000_000_000),
        ember_core::time::format_nanos((now + 60) * 1_000_000_000)
    );
    let idle = ember.rss_mb()?;
    let sampler = ember.sample_peak_rss()?;
    let started = Instant::now();
    let (rows, counted) = crate::arize::export(&mut flight, command).await?;
    let elapsed = started.elapsed();
    let peak = sampler.stop().await?;
    if rows != records || counted != records as i64 {
        bail!("ml.export_to_df sent {rows} rows of {counted} counted; {records} were logged");
    }
    println!(
        "ml.export_to_df (Flight): {rows} rows in {:.2} s = {:.0} rows/s; server RSS peak +{:.0} MB",
        elapsed.as_secs_f64(),
        rows as f64 / elapsed.as_secs_f64(),
        peak - idle
    );
    log_stream(client, ember, now).await?;
    monitoring(client, ember, now).await
}

/// The monitoring charts over the uploaded records (about 11.6 days of them): the first days, to
/// ten days ago, are the baseline of the drift and data-quality views, the rest the current
/// records.
async fn monitoring(client: &reqwest::Client, ember: &EmberProcess, now: i64) -> anyhow::Result<()> {
    // As a query value: the offset's `+` escaped.
    let iso = |seconds: i64| ember_core::time::format_nanos(seconds * 1_000_000_000).replace('+', "%2B");
    let (start, middle) = (iso(now - 3600 - 20 * 86_400), iso(now - 3600 - 10 * 86_400));
    let windows = format!("baseline_start_time={start}&baseline_end_time={middle}&start_time={middle}");
    let idle = wait_for_idle(ember).await?;
    println!("hourly summaries of the /v1/log records made: the server went idle {idle:.1} s after them");
    let charts = [
        ("performance, overall and per day", "performance?positive_class=fraud&bin_seconds=86400".to_string()),
        ("performance at a score threshold", "performance?positive_class=fraud&threshold=0.5".to_string()),
        ("performance of a slice (s0 == red)", "performance?positive_class=fraud&filter=s0%20%3D%3D%20red".to_string()),
        ("drift of a numeric feature (d0)", format!("drift?feature=d0&{windows}")),
        ("drift of a string feature (s0)", format!("drift?feature=s0&{windows}")),
        ("drift table (20 features, prediction)", format!("drift?{windows}")),
        ("data quality (20 features)", format!("data_quality?{windows}")),
        ("volume, hourly over 20 days", format!("volume?bin_seconds=3600&start_time={start}")),
    ];
    println!("ML monitoring over {MODEL}'s records (median of 3 requests):");
    for (name, path) in charts {
        let url = format!("{}/v1/ml/models/{MODEL}/{path}", ember.http);
        let mut timings = Vec::new();
        for _ in 0..3 {
            let started = Instant::now();
            let response = client.get(&url).header("authorization", "Bearer bench-key").send().await?;
            let status = response.status();
            let body = response.bytes().await?;
            if !status.is_success() {
                bail!("{path} answered {status}: {}", String::from_utf8_lossy(&body));
            }
            timings.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        timings.sort_by(f64::total_cmp);
        println!("  {name}: {:.0} ms", timings[1]);
    }
    Ok(())
}

/// Waits until the server has been idle (under 2% of a core) for two seconds, as it is once the
/// hourly summaries are made in the background; answers when it went idle, in seconds from now.
async fn wait_for_idle(ember: &EmberProcess) -> anyhow::Result<f64> {
    let started = Instant::now();
    loop {
        let before = ember.cpu_seconds()?;
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        if ember.cpu_seconds()? - before < 0.04 {
            return Ok((started.elapsed().as_secs_f64() - 2.0).max(0.0));
        }
        if started.elapsed() > std::time::Duration::from_secs(600) {
            bail!("the server was still busy 10 minutes on");
        }
    }
}

/// `ml.log_stream`: single records on `/v1/log`, 8 senders at once.
async fn log_stream(client: &reqwest::Client, ember: &EmberProcess, now: i64) -> anyhow::Result<()> {
    const SENDERS: usize = 8;
    const EACH: usize = 500;
    let started = Instant::now();
    let senders = (0..SENDERS).map(|sender| {
        let (client, url) = (client.clone(), format!("{}/v1/log", ember.http));
        tokio::spawn(async move {
            for n in 0..EACH {
                let body = format!(
                    r#"{{"model_id": "bench-stream", "prediction_id": "s-{sender}-{n}", "prediction": {{"timestamp": "{}",
                        "prediction_label": {{"score_categorical": {{"score_category": {{"category": "fraud", "score": 0.7}}}}}},
                        "features": {{"amount": {{"double": {n}.5}}, "merchant": {{"string": "m{}"}}, "age": {{"int": "{}"}}}}}},
                        "environment_params": {{"production": {{}}}}}}"#,
                    ember_core::time::format_nanos(now * 1_000_000_000),
                    n % 7,
                    n % 90
                );
                let response = client
                    .post(&url)
                    .header("authorization", "bench-key")
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                if !response.status().is_success() {
                    bail!("/v1/log answered {}: {}", response.status(), response.text().await?);
                }
            }
            anyhow::Ok(())
        })
    });
    for sender in futures::future::join_all(senders).await {
        sender??;
    }
    let elapsed = started.elapsed();
    let total = SENDERS * EACH;
    println!(
        "ml.log_stream (POST /v1/log, {SENDERS} senders): {total} records in {:.2} s = {:.0} records/s",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}
