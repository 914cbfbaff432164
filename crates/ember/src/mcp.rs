//! `ember mcp`: the MCP stdio transport for clients that start their servers as commands. Each
//! JSON-RPC message read from stdin (one per line) is posted to a running server's `/mcp` with
//! the API key, and the messages it answers with are written to stdout, one per line; the MCP
//! server itself (its tools and rules) is the running server's.

use std::process::ExitCode;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::connect::ConnectArgs;

#[derive(clap::Args, Debug)]
pub struct McpArgs {
    #[command(flatten)]
    connect: ConnectArgs,
}

/// What the relay needs of a message: its id (answered with an error when the server cannot
/// be asked) and, on an answer to `initialize`, the protocol version agreed.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    result: Option<InitializeResult>,
}

#[derive(Deserialize)]
struct InitializeResult {
    #[serde(rename = "protocolVersion")]
    protocol_version: Option<String>,
}

/// A JSON-RPC error answer, for a request the server could not be asked.
#[derive(Serialize)]
struct ErrorAnswer<'a> {
    jsonrpc: &'static str,
    id: &'a Value,
    error: ErrorBody,
}

#[derive(Serialize)]
struct ErrorBody {
    code: i64,
    message: String,
}

/// JSON-RPC's code for a server error outside the protocol's own.
const SERVER_ERROR: i64 = -32000;

pub async fn run(args: McpArgs) -> anyhow::Result<ExitCode> {
    let client = args.connect.client()?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdout = tokio::io::stdout();
    let mut protocol_version: Option<String> = None;
    while let Some(line) = lines.next_line().await.context("cannot read stdin")? {
        if line.trim().is_empty() {
            continue;
        }
        let asked: Option<Envelope> = serde_json::from_str(&line).ok();
        let answers = match client.mcp_post(line.into_bytes(), protocol_version.as_deref()).await {
            Ok(answers) => answers,
            Err(error) => {
                tracing::warn!(%error, "an MCP message could not be relayed");
                // A notification has no answer to carry the failure.
                match asked.as_ref().and_then(|envelope| envelope.id.as_ref()) {
                    Some(id) => vec![serde_json::to_string(&ErrorAnswer {
                        jsonrpc: "2.0",
                        id,
                        error: ErrorBody { code: SERVER_ERROR, message: format!("ember could not answer: {error}") },
                    })?],
                    None => Vec::new(),
                }
            }
        };
        for answer in answers {
            if let Some(version) = serde_json::from_str::<Envelope>(&answer).ok().and_then(|e| e.result).and_then(|r| r.protocol_version) {
                protocol_version = Some(version);
            }
            stdout.write_all(answer.as_bytes()).await?;
            stdout.write_all(b"\n").await?;
        }
        stdout.flush().await?;
    }
    Ok(ExitCode::SUCCESS)
}
