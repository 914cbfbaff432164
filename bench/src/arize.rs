//! The `arize` SDK's bulk paths, as the SDK sends them: `spans.log` (an Arrow IPC upload to
//! `/v1/pandas_arrow`, batches of 10,000 rows), `update_metadata` (Flight `DoPut`) and
//! `export_to_df` (Flight `GetFlightInfo` + `DoGet`), with the server's memory sampled during the
//! export.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::{FlightClient, FlightDescriptor};
use arrow_schema::{Field, Schema};
use futures::TryStreamExt;

use crate::server::EmberProcess;

const PROJECT: &str = "bench-arize";
/// Rows per record batch, as the SDK cuts its tables.
const BATCH_ROWS: usize = 10_000;
/// 2024-01-01 in nanoseconds.
const T0: i64 = 1_704_067_200_000_000_000;

/// base64 of `public.Schema{constants{model_id: PROJECT, environment: TRACING, model_type:
/// GENERATIVE_LLM}, arize_spans{}}`, as the SDK writes it.
fn arize_schema() -> String {
    use base64::Engine;
    let mut constants = vec![0x0a, PROJECT.len() as u8];
    constants.extend(PROJECT.as_bytes());
    constants.extend([0x20, 0x05, 0x28, 0x07]);
    let mut schema = vec![0x0a, constants.len() as u8];
    schema.extend(constants);
    schema.extend([0x42, 0x00]);
    base64::engine::general_purpose::STANDARD.encode(schema)
}

fn span_id(n: usize) -> String {
    format!("bench-span-{n:012}")
}

/// Spans `first..first + count` as the SDK's table: about 3.7 KB each.
fn spans_batch(first: usize, count: usize) -> RecordBatch {
    let ids: Vec<String> = (first..first + count).map(span_id).collect();
    let traces: Vec<String> = (first..first + count).map(|n| format!("bench-trace-{:012}", n / 5)).collect();
    let parents: Vec<Option<String>> = (first..first + count).map(|n| (n % 5 != 0).then(|| span_id(n - n % 5))).collect();
    let question = "How do I configure the retry policy for the ingestion pipeline? ".repeat(24);
    let answer = "Set the retry budget in the collector and keep batches small. ".repeat(24);
    let mut messages = ListBuilder::new(StringBuilder::new());
    for _ in 0..count {
        messages.values().append_value(format!(r#"{{"message.role": "user", "message.content": "{}"}}"#, &question[..400]));
        messages.append(true);
    }
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("context.span_id", Arc::new(StringArray::from(ids))),
        ("context.trace_id", Arc::new(StringArray::from(traces))),
        ("parent_id", Arc::new(StringArray::from(parents))),
        ("name", Arc::new(StringArray::from_iter_values((0..count).map(|_| "ChatCompletion")))),
        ("start_time", Arc::new(Int64Array::from_iter_values((first..first + count).map(|n| T0 + n as i64 * 1_000_000)))),
        ("end_time", Arc::new(Int64Array::from_iter_values((first..first + count).map(|n| T0 + n as i64 * 1_000_000 + 800_000)))),
        ("status_code", Arc::new(StringArray::from_iter_values((0..count).map(|_| "OK")))),
        ("attributes.openinference.span.kind", Arc::new(StringArray::from_iter_values((0..count).map(|_| "LLM")))),
        ("attributes.llm.model_name", Arc::new(StringArray::from_iter_values((0..count).map(|_| "gpt-4o")))),
        ("attributes.llm.token_count.total", Arc::new(Float64Array::from_iter_values((0..count).map(|n| (n % 900) as f64))) as ArrayRef),
        ("attributes.input.value", Arc::new(StringArray::from_iter_values((0..count).map(|_| question.as_str())))),
        ("attributes.output.value", Arc::new(StringArray::from_iter_values((0..count).map(|_| answer.as_str())))),
        (
            "attributes.metadata",
            Arc::new(StringArray::from_iter_values((first..first + count).map(|n| format!(r#"{{"tier": "gold", "n": {n}}}"#)))),
        ),
        ("attributes.llm.input_messages", Arc::new(messages.finish())),
    ];
    let fields: Vec<Field> = columns.iter().map(|(name, array)| Field::new(*name, array.data_type().clone(), true)).collect();
    let metadata: std::collections::HashMap<String, String> = [("arize-schema".to_string(), arize_schema())].into();
    let schema = Schema::new(fields).with_metadata(metadata);
    RecordBatch::try_new(Arc::new(schema), columns.into_iter().map(|(_, array)| array).collect()).expect("a valid batch")
}

/// One `/v1/pandas_arrow` upload of spans `first..first + count`; the time to its answer.
async fn log_spans(client: &reqwest::Client, ember: &EmberProcess, first: usize, count: usize) -> anyhow::Result<Duration> {
    let mut body = Vec::new();
    {
        let schema = spans_batch(first, 1).schema();
        let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut body, &schema)?;
        for start in (first..first + count).step_by(BATCH_ROWS) {
            writer.write(&spans_batch(start, BATCH_ROWS.min(first + count - start)))?;
        }
        writer.finish()?;
    }
    let started = Instant::now();
    let response = client
        .post(format!("{}/v1/pandas_arrow", ember.http))
        .header("authorization", "bench-key")
        .header("arize-space-id", "U3BhY2U6MTpiZW5jaA==")
        .body(body)
        .send()
        .await?;
    let status = response.status();
    if !status.is_success() {
        bail!("/v1/pandas_arrow answered {status}: {}", response.text().await?);
    }
    Ok(started.elapsed())
}

/// One export (`GetFlightInfo` with `command`, then `DoGet`): the rows received and the count the
/// plan announced.
pub async fn export(flight: &mut FlightClient, command: String) -> anyhow::Result<(usize, i64)> {
    let info = flight.get_flight_info(FlightDescriptor::new_cmd(command)).await?;
    let ticket = info.endpoint.first().and_then(|endpoint| endpoint.ticket.clone()).context("no ticket")?;
    let mut batches = flight.do_get(ticket).await?;
    let mut rows = 0;
    while let Some(batch) = batches.try_next().await? {
        rows += batch.num_rows();
    }
    Ok((rows, info.total_records))
}

pub async fn flight(ember: &EmberProcess) -> anyhow::Result<FlightClient> {
    let channel = tonic::transport::Channel::from_shared(ember.grpc.clone())?.connect().await?;
    Ok(FlightClient::new(channel))
}

pub async fn run(client: &reqwest::Client, ember: &EmberProcess, spans: usize, export_spans: usize) -> anyhow::Result<()> {
    println!("arize SDK paths: {spans} spans logged, then updated; {export_spans} exported");
    let elapsed = log_spans(client, ember, 0, spans).await?;
    println!(
        "spans.log (POST /v1/pandas_arrow, one upload): {spans} spans in {:.2} s = {:.0} spans/s committed",
        elapsed.as_secs_f64(),
        spans as f64 / elapsed.as_secs_f64()
    );

    // update_metadata: a patch document per span, batches of 10,000 rows, one DoPut.
    let mut flight_client = flight(ember).await?;
    let batches: Vec<_> = (0..spans)
        .step_by(BATCH_ROWS)
        .map(|first| {
            let count = BATCH_ROWS.min(spans - first);
            let ids = StringArray::from_iter_values((first..first + count).map(span_id));
            let patches =
                StringArray::from_iter_values((first..first + count).map(|n| format!(r#"{{"reviewed": "yes", "batch": {}}}"#, n / 1000)));
            RecordBatch::try_from_iter([("context.span_id", Arc::new(ids) as ArrayRef), ("patch_document", Arc::new(patches) as ArrayRef)])
                .map_err(anyhow::Error::from)
        })
        .collect::<anyhow::Result<_>>()?;
    let command = format!(r#"{{"writeSpanAttributesMetadataRequest": {{"externalModelId": "{PROJECT}", "spaceId": "bench"}}}}"#);
    let started = Instant::now();
    let stream = FlightDataEncoderBuilder::new()
        .with_flight_descriptor(Some(FlightDescriptor::new_cmd(command)))
        .build(futures::stream::iter(batches.into_iter().map(Ok)));
    let results: Vec<_> = flight_client.do_put(stream).await?.try_collect().await?;
    let elapsed = started.elapsed();
    if results.len() != 1 {
        bail!("update_metadata answered {} PutResults", results.len());
    }
    println!("update_metadata (Flight DoPut): {spans} spans in {:.2} s", elapsed.as_secs_f64());

    // export_to_df: enough spans first, then one export with the server's memory sampled.
    let mut logged = spans;
    while logged < export_spans {
        let count = 100_000.min(export_spans - logged);
        log_spans(client, ember, logged, count).await?;
        logged += count;
    }
    let idle = ember.rss_mb()?;
    let sampler = ember.sample_peak_rss()?;
    let command = format!(
        r#"{{"spaceId": "bench", "modelId": "{PROJECT}", "environment": "TRACING", "startTime": "2024-01-01T00:00:00Z", "endTime": "2024-02-01T00:00:00Z"}}"#
    );
    let started = Instant::now();
    let (rows, counted) = export(&mut flight_client, command).await?;
    let elapsed = started.elapsed();
    let peak = sampler.stop().await?;
    if rows != logged || counted != logged as i64 {
        bail!("the export sent {rows} rows of {counted} counted; {logged} were logged");
    }
    println!(
        "export_to_df (Flight GetFlightInfo + DoGet): {rows} rows in {:.2} s = {:.0} rows/s; server RSS {idle:.0} MB before, peak {peak:.0} MB (+{:.0} MB)",
        elapsed.as_secs_f64(),
        rows as f64 / elapsed.as_secs_f64(),
        peak - idle
    );
    Ok(())
}
