//! `ember prompts list|get|push|tag|render`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use comfy_table::{presets, Table};
use ember_client::prompts::VersionSelector;
use ember_core::prompt::sdk::{format_request, Sdk};
use ember_core::prompt::PromptVersionData;
use serde_json::Value;

use crate::connect::ConnectArgs;

#[derive(Subcommand)]
pub enum PromptsCommand {
    /// List the server's prompts.
    List {
        #[command(flatten)]
        connect: ConnectArgs,
        /// Print the prompts as a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print a prompt version as JSON: the latest, or the one a tag or id names.
    Get {
        #[command(flatten)]
        connect: ConnectArgs,
        /// The prompt's name or id.
        prompt: String,
        #[command(flatten)]
        which: WhichVersion,
    },
    /// Add a version to a prompt (creating the prompt when there is none) from a JSON file in
    /// the REST API's `PromptVersionData` shape, as `ember prompts get` prints it.
    Push {
        #[command(flatten)]
        connect: ConnectArgs,
        /// The prompt's name: lowercase letters, digits, `_` and `-`.
        name: String,
        /// The version, as JSON.
        #[arg(long)]
        file: PathBuf,
        /// The prompt's description, when the push creates it.
        #[arg(long)]
        description: Option<String>,
        /// Tags to point at the new version (repeatable).
        #[arg(long)]
        tag: Vec<String>,
    },
    /// Point a tag at a version of a prompt (the latest by default), moving it from the version
    /// it named before; or remove it with `--delete`.
    Tag {
        #[command(flatten)]
        connect: ConnectArgs,
        /// The prompt's name or id.
        prompt: String,
        /// The tag: lowercase letters, digits, `_` and `-`.
        tag: String,
        /// The version to tag; the latest when absent.
        #[arg(long)]
        version_id: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Remove the tag from the prompt instead.
        #[arg(long, conflicts_with_all = ["version_id", "description"])]
        delete: bool,
    },
    /// Render a prompt version with variables into a provider's request body, as the Phoenix
    /// clients' `format()` does, and print it as JSON.
    Render {
        #[command(flatten)]
        connect: ConnectArgs,
        /// The prompt's name or id on the server.
        #[arg(required_unless_present = "file")]
        prompt: Option<String>,
        /// Render a version from a JSON file instead of the server.
        #[arg(long, conflicts_with = "prompt")]
        file: Option<PathBuf>,
        #[command(flatten)]
        which: WhichVersion,
        /// The SDK whose request to build; by default the one the version's model provider uses.
        #[arg(long, value_enum)]
        sdk: Option<SdkChoice>,
        /// A variable, `name=value` (repeatable).
        #[arg(long = "var", value_parser = parse_variable)]
        variables: Vec<(String, String)>,
        /// A JSON object of variables (string values), merged under the `--var`s.
        #[arg(long)]
        variables_file: Option<PathBuf>,
    },
}

#[derive(Args)]
pub struct WhichVersion {
    /// The version a tag points at.
    #[arg(long, conflicts_with = "version_id")]
    tag: Option<String>,
    /// A version by id.
    #[arg(long)]
    version_id: Option<String>,
}

impl WhichVersion {
    fn selector(&self) -> VersionSelector<'_> {
        match (&self.tag, &self.version_id) {
            (Some(tag), _) => VersionSelector::Tag(tag),
            (None, Some(id)) => VersionSelector::Id(id),
            (None, None) => VersionSelector::Latest,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SdkChoice {
    /// OpenAI chat completions (and every OpenAI-compatible provider).
    Openai,
    /// Anthropic messages.
    Anthropic,
    /// Google Gemini generateContent.
    Google,
}

fn parse_variable(text: &str) -> Result<(String, String), String> {
    text.split_once('=').map(|(name, value)| (name.to_string(), value.to_string())).ok_or_else(|| format!("`{text}` is not name=value"))
}

pub async fn run(command: PromptsCommand) -> anyhow::Result<ExitCode> {
    match command {
        PromptsCommand::List { connect, json } => list(&connect, json).await,
        PromptsCommand::Get { connect, prompt, which } => {
            let version = connect.client()?.prompt_version(&prompt, which.selector()).await?;
            println!("{}", serde_json::to_string_pretty(&version.raw)?);
            Ok(ExitCode::SUCCESS)
        }
        PromptsCommand::Push { connect, name, file, description, tag } => {
            let version = read_version(&file)?;
            let client = connect.client()?;
            let created = client.push_prompt_version(&name, description.as_deref(), &version).await?;
            for tag in &tag {
                client.tag_prompt_version(&created.id, tag, None).await?;
            }
            println!("{}", created.id);
            Ok(ExitCode::SUCCESS)
        }
        PromptsCommand::Tag { connect, prompt, tag, version_id, description, delete } => {
            let client = connect.client()?;
            let selector = version_id.as_deref().map_or(VersionSelector::Latest, VersionSelector::Id);
            let version = client.prompt_version(&prompt, selector).await?;
            if delete {
                client.untag_prompt_version(&version.id, &tag).await?;
                eprintln!("removed tag {tag} from prompt {prompt}");
            } else {
                client.tag_prompt_version(&version.id, &tag, description.as_deref()).await?;
                eprintln!("tagged version {} of prompt {prompt} as {tag}", version.id);
            }
            Ok(ExitCode::SUCCESS)
        }
        PromptsCommand::Render { connect, prompt, file, which, sdk, variables, variables_file } => {
            let version = match (&file, &prompt) {
                (Some(file), _) => read_version(file)?,
                (None, Some(prompt)) => connect.client()?.prompt_version(prompt, which.selector()).await?.version,
                (None, None) => bail!("name a prompt or give --file"),
            };
            let mut values = match variables_file {
                Some(path) => read_variables(&path)?,
                None => BTreeMap::new(),
            };
            values.extend(variables);
            let sdk = match sdk {
                Some(SdkChoice::Openai) => Sdk::OpenAi,
                Some(SdkChoice::Anthropic) => Sdk::Anthropic,
                Some(SdkChoice::Google) => Sdk::Google,
                None => Sdk::for_provider(version.model_provider),
            };
            let body = format_request(&version, sdk, &values)?;
            println!("{}", serde_json::to_string_pretty(&body)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn list(connect: &ConnectArgs, json: bool) -> anyhow::Result<ExitCode> {
    let prompts = connect.client()?.list_prompts().await?;
    if json {
        let rows: Vec<Value> = prompts
            .iter()
            .map(|prompt| serde_json::json!({"id": prompt.id, "name": prompt.name, "description": prompt.description, "metadata": prompt.metadata}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED).set_header(vec!["id", "name", "description"]);
    for prompt in &prompts {
        table.add_row(vec![prompt.id.clone(), prompt.name.clone(), prompt.description.clone().unwrap_or_default()]);
    }
    println!("{table}");
    Ok(ExitCode::SUCCESS)
}

/// A version from a JSON file, checked as the server checks it so mistakes are named here.
fn read_version(path: &Path) -> anyhow::Result<PromptVersionData> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut deserializer = serde_json::Deserializer::from_str(&text);
    let version: PromptVersionData = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| anyhow::anyhow!("{}: {} (at `{}`)", path.display(), error.inner(), error.path()))?;
    version.check().map_err(|problem| anyhow::anyhow!("{}: {problem}", path.display()))?;
    Ok(version)
}

fn read_variables(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let object: serde_json::Map<String, Value> =
        serde_json::from_str(&text).with_context(|| format!("{}: expected a JSON object of variables", path.display()))?;
    Ok(object
        .into_iter()
        .map(|(name, value)| {
            let text = match value {
                Value::String(text) => text,
                other => other.to_string(),
            };
            (name, text)
        })
        .collect())
}
