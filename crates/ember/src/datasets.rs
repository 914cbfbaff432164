//! `ember datasets list|upload|download`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Subcommand, ValueEnum};
use comfy_table::{presets, Table};
use ember_client::datasets::{DownloadFormat, FileKind, FileUpload, RecordUpload, UploadAction};
use serde_json::{Map, Value};

use crate::connect::ConnectArgs;

#[derive(Subcommand)]
pub enum DatasetsCommand {
    /// List the server's datasets.
    List {
        #[command(flatten)]
        connect: ConnectArgs,
        /// Print the datasets as a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Upload a CSV or JSON-lines file as a dataset (or add it to one).
    ///
    /// With `--input-keys`, the file is sent as the Phoenix clients send it and the named
    /// columns (or top-level keys) become each example's input, output and metadata. Without
    /// it, a JSON-lines file must hold records shaped like examples: `{"input": {...},
    /// "output": {...}, "metadata": {...}}`, which is what `ember datasets download --format
    /// jsonl` writes.
    Upload {
        #[command(flatten)]
        connect: ConnectArgs,
        /// The file: `.csv`, `.jsonl` or `.ndjson`.
        file: PathBuf,
        /// The dataset's name.
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// `create` a new dataset, `append` to an existing one, or `update` one to mirror the file.
        #[arg(long, value_enum, default_value_t = Action::Create)]
        action: Action,
        /// Columns that make up each example's input (comma-separated).
        #[arg(long, value_delimiter = ',')]
        input_keys: Vec<String>,
        /// Columns that make up each example's expected output.
        #[arg(long, value_delimiter = ',')]
        output_keys: Vec<String>,
        /// Columns that make up each example's metadata.
        #[arg(long, value_delimiter = ',')]
        metadata_keys: Vec<String>,
        /// Columns naming each example's splits.
        #[arg(long, value_delimiter = ',')]
        split_keys: Vec<String>,
    },
    /// Download a dataset's examples at a version (the latest by default).
    Download {
        #[command(flatten)]
        connect: ConnectArgs,
        /// The dataset's name or id.
        dataset: String,
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
        /// A version id; the latest version when absent.
        #[arg(long)]
        version_id: Option<String>,
        /// Where to write; stdout when absent.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Action {
    Create,
    Append,
    Update,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
    /// OpenAI fine-tuning JSON lines (`messages`).
    OpenaiFt,
    /// OpenAI evals JSON lines (`messages`, `ideal`).
    OpenaiEvals,
}

pub async fn run(command: DatasetsCommand) -> anyhow::Result<ExitCode> {
    match command {
        DatasetsCommand::List { connect, json } => list(&connect, json).await,
        DatasetsCommand::Upload { connect, file, name, description, action, input_keys, output_keys, metadata_keys, split_keys } => {
            let action = match action {
                Action::Create => UploadAction::Create,
                Action::Append => UploadAction::Append,
                Action::Update => UploadAction::Update,
            };
            let client = connect.client()?;
            let kind = FileKind::of_path(&file).with_context(|| format!("{}: the file must be .csv, .jsonl or .ndjson", file.display()))?;
            let uploaded = if input_keys.is_empty() {
                if kind == FileKind::Csv {
                    bail!("a CSV upload needs --input-keys naming the input columns");
                }
                let mut records = RecordUpload::new(&name, description.as_deref(), action);
                read_example_records(&file, &mut records).await?;
                client.upload_records(&records).await?
            } else {
                let upload = FileUpload {
                    name: &name,
                    description: description.as_deref(),
                    action,
                    path: &file,
                    kind,
                    input_keys: &input_keys,
                    output_keys: &output_keys,
                    metadata_keys: &metadata_keys,
                    split_keys: &split_keys,
                };
                client.upload_file(&upload).await?
            };
            println!(
                "dataset {} version {}: {} examples created, {} updated, {} deleted",
                uploaded.dataset_id,
                uploaded.version_id,
                uploaded.num_created_examples,
                uploaded.num_updated_examples,
                uploaded.num_deleted_examples
            );
            Ok(ExitCode::SUCCESS)
        }
        DatasetsCommand::Download { connect, dataset, format, version_id, output } => {
            let client = connect.client()?;
            let dataset = client.find_dataset(&dataset).await?;
            let format = match format {
                Format::Csv => DownloadFormat::Csv,
                Format::Jsonl => DownloadFormat::JsonLines,
                Format::OpenaiFt => DownloadFormat::OpenAiFineTuning,
                Format::OpenaiEvals => DownloadFormat::OpenAiEvals,
            };
            match output {
                Some(path) => {
                    let mut file = tokio::fs::File::create(&path).await.with_context(|| format!("cannot create {}", path.display()))?;
                    let written = client.download_dataset(&dataset.id, format, version_id.as_deref(), &mut file).await?;
                    eprintln!("wrote {written} bytes to {}", path.display());
                }
                None => {
                    client.download_dataset(&dataset.id, format, version_id.as_deref(), &mut tokio::io::stdout()).await?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn list(connect: &ConnectArgs, json: bool) -> anyhow::Result<ExitCode> {
    let datasets = connect.client()?.list_datasets().await?;
    if json {
        let rows: Vec<Value> = datasets
            .iter()
            .map(|dataset| {
                serde_json::json!({
                    "id": dataset.id, "name": dataset.name, "description": dataset.description, "metadata": dataset.metadata,
                    "example_count": dataset.example_count, "created_at": dataset.created_at, "updated_at": dataset.updated_at,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED).set_header(vec!["id", "name", "examples", "updated"]);
    for dataset in &datasets {
        table.add_row(vec![dataset.id.clone(), dataset.name.clone(), dataset.example_count.to_string(), dataset.updated_at.clone()]);
    }
    println!("{table}");
    Ok(ExitCode::SUCCESS)
}

/// JSON lines of `{"input": {...}, "output": {...}, "metadata": {...}}`.
async fn read_example_records(path: &Path, records: &mut RecordUpload) -> anyhow::Result<()> {
    let text = tokio::fs::read_to_string(path).await.with_context(|| format!("cannot read {}", path.display()))?;
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let number = index + 1;
        let record: Map<String, Value> = serde_json::from_str(line).with_context(|| format!("line {number} is not a JSON object"))?;
        let object = |key: &str| -> anyhow::Result<Option<Map<String, Value>>> {
            match record.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Object(object)) => Ok(Some(object.clone())),
                Some(_) => bail!("line {number}: `{key}` must be an object"),
            }
        };
        let input =
            object("input")?.with_context(|| format!("line {number} has no `input` object; name the input columns with --input-keys"))?;
        records.push(input, object("output")?, object("metadata")?);
    }
    if records.inputs.is_empty() {
        bail!("{} holds no examples", path.display());
    }
    Ok(())
}
