//! `GET /v1/ml/models/{model_name}/export?format=jsonl|csv|arrow|parquet`: the records `/records`
//! would page through (same selection and filters), streamed a page at a time — JSON lines of
//! `/records`' objects, or the table `ml.export_to_df` gives (`arize::ml_export`, actuals
//! included) as CSV (lists as their text), an Arrow IPC stream or a Parquet file. The server holds
//! one page at a time (a Parquet row group: until 64k rows are buffered).

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, TimestampNanosecondArray};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_ipc::writer::StreamWriter;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use ember_service::ml_models::MlModelDetail;
use ember_store::MlStoredRecord;
use tokio::sync::mpsc;

use super::ml_models::{record_json, selection};
use crate::arize::ml_export::MlExportColumns;
use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::AppState;

const PAGE: usize = 1000;
const PARQUET_ROW_GROUP: usize = 65_536;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    JsonLines,
    Csv,
    Arrow,
    Parquet,
}

impl Format {
    fn parse(raw: &str) -> Option<Format> {
        match raw.to_ascii_lowercase().as_str() {
            "" | "jsonl" => Some(Format::JsonLines),
            "csv" => Some(Format::Csv),
            "arrow" => Some(Format::Arrow),
            "parquet" => Some(Format::Parquet),
            _ => None,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::JsonLines => "application/jsonl",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Arrow => "application/vnd.apache.arrow.stream",
            Format::Parquet => "application/vnd.apache.parquet",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::JsonLines => "jsonl",
            Format::Csv => "csv",
            Format::Arrow => "arrow",
            Format::Parquet => "parquet",
        }
    }
}

/// Turns pages of records into the bytes of one format.
enum Encoder {
    JsonLines,
    Csv { columns: MlExportColumns, header_written: bool },
    Arrow { columns: MlExportColumns, writer: StreamWriter<Vec<u8>> },
    Parquet { columns: MlExportColumns, writer: parquet::arrow::ArrowWriter<Vec<u8>> },
}

type EncodeError = Box<dyn std::error::Error + Send + Sync>;

impl Encoder {
    fn new(format: Format, detail: &MlModelDetail) -> Result<Encoder, EncodeError> {
        let columns = || MlExportColumns::new(detail, true, &[]);
        Ok(match format {
            Format::JsonLines => Encoder::JsonLines,
            Format::Csv => Encoder::Csv { columns: columns(), header_written: false },
            Format::Arrow => {
                let columns = columns();
                let writer = StreamWriter::try_new(Vec::new(), &columns.schema())?;
                Encoder::Arrow { columns, writer }
            }
            Format::Parquet => {
                let columns = columns();
                let properties =
                    parquet::file::properties::WriterProperties::builder().set_max_row_group_row_count(Some(PARQUET_ROW_GROUP)).build();
                let writer = parquet::arrow::ArrowWriter::try_new(Vec::new(), columns.schema(), Some(properties))?;
                Encoder::Parquet { columns, writer }
            }
        })
    }

    /// The bytes of one page (possibly none yet, for Parquet).
    fn page(&mut self, records: &[MlStoredRecord]) -> Result<Vec<u8>, EncodeError> {
        match self {
            Encoder::JsonLines => {
                let mut out = Vec::new();
                for record in records {
                    serde_json::to_writer(&mut out, &record_json(record))?;
                    out.push(b'\n');
                }
                Ok(out)
            }
            Encoder::Csv { columns, header_written } => {
                let batch = columns.batch(records)?;
                let mut writer = csv::Writer::from_writer(Vec::new());
                if !*header_written {
                    writer.write_record(batch.schema().fields().iter().map(|field| field.name().as_str()))?;
                    *header_written = true;
                }
                write_csv_rows(&mut writer, &batch)?;
                Ok(writer.into_inner().map_err(|error| error.into_error())?)
            }
            Encoder::Arrow { columns, writer } => {
                writer.write(&columns.batch(records)?)?;
                Ok(std::mem::take(writer.get_mut()))
            }
            Encoder::Parquet { columns, writer } => {
                writer.write(&columns.batch(records)?)?;
                Ok(std::mem::take(writer.inner_mut()))
            }
        }
    }

    /// The closing bytes.
    fn finish(self) -> Result<Vec<u8>, EncodeError> {
        match self {
            Encoder::JsonLines | Encoder::Csv { .. } => Ok(Vec::new()),
            Encoder::Arrow { mut writer, .. } => {
                writer.finish()?;
                Ok(std::mem::take(writer.get_mut()))
            }
            Encoder::Parquet { writer, .. } => Ok(writer.into_inner()?),
        }
    }
}

fn write_csv_rows(writer: &mut csv::Writer<Vec<u8>>, batch: &RecordBatch) -> Result<(), EncodeError> {
    let options = FormatOptions::default().with_null("");
    // Times as UTC offsets: named zones need a time zone database this build leaves out.
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|column| match column.as_any().downcast_ref::<TimestampNanosecondArray>() {
            Some(times) => Arc::new(times.clone().with_timezone("+00:00")) as ArrayRef,
            None => column.clone(),
        })
        .collect();
    let formatters: Vec<ArrayFormatter> =
        columns.iter().map(|column| ArrayFormatter::try_new(column.as_ref(), &options)).collect::<Result<_, _>>()?;
    let mut cell = String::new();
    for row in 0..batch.num_rows() {
        for formatter in &formatters {
            cell.clear();
            std::fmt::Write::write_fmt(&mut cell, format_args!("{}", formatter.value(row)))?;
            writer.write_field(&cell)?;
        }
        writer.write_record(None::<&[u8]>)?;
    }
    Ok(())
}

pub async fn export(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(name): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let format = params.get("format").unwrap_or_default();
    let format = Format::parse(format)
        .ok_or_else(|| ApiError::unprocessable(format!("format {format:?} is not one of jsonl, csv, arrow, parquet")))?;
    let (query, filters) = selection(&params)?;
    let (detail, _, _) = state.services.ml_models().plan_export(&caller, &name, query.clone(), &filters).await?;
    let mut encoder = Encoder::new(format, &detail).map_err(ApiError::internal)?;
    let (chunks, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    let services = state.services.clone();
    let model = name.clone();
    tokio::spawn(async move {
        let mut after = None;
        loop {
            let page_query = ember_store::MlRecordQuery { after, limit: PAGE, ..query.clone() };
            let (records, more) = match services.ml_models().records(&caller, &model, page_query, &filters).await {
                Ok(page) => page,
                Err(error) => {
                    tracing::error!(%error, model = %model, "an ML export stopped");
                    let _ = chunks.send(Err(std::io::Error::other("the export stopped"))).await;
                    return;
                }
            };
            after = records.last().map(|last| (last.time, last.id));
            match encoder.page(&records) {
                Ok(bytes) if bytes.is_empty() => {}
                Ok(bytes) => {
                    if chunks.send(Ok(Bytes::from(bytes))).await.is_err() {
                        return;
                    }
                }
                Err(error) => {
                    tracing::error!(%error, model = %model, "cannot encode an ML export");
                    let _ = chunks.send(Err(std::io::Error::other("the export stopped"))).await;
                    return;
                }
            }
            if !more {
                break;
            }
        }
        let closing = match encoder.finish() {
            Ok(bytes) => Ok(Bytes::from(bytes)),
            Err(error) => {
                tracing::error!(%error, model = %model, "cannot finish an ML export");
                Err(std::io::Error::other("the export stopped"))
            }
        };
        let _ = chunks.send(closing).await;
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(receiver));
    let filename = format!("{}.{}", sanitized(&name), format.extension());
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        body,
    )
        .into_response())
}

/// The model's name as a file name: letters, digits, `-`, `_` and `.`, the rest as `_`.
fn sanitized(name: &str) -> String {
    name.chars().map(|character| if character.is_ascii_alphanumeric() || "-_.".contains(character) { character } else { '_' }).collect()
}
