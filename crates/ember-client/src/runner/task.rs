//! The task an experiment runs on each example: a command or an HTTP endpoint.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::datasets::Example;
use crate::ClientError;

/// The most of a failing task's stderr or body quoted in its error.
const QUOTE_LIMIT: usize = 2000;

/// What runs on each example. Either way the task receives the example as JSON
/// (`{"id", "input", "output", "metadata", "updated_at"}`) and answers with its output: JSON, or
/// else plain text, which becomes a string output.
pub enum Task {
    /// A shell command (`sh -c`), the example on its stdin and the output on its stdout; a
    /// non-zero exit is a failed run. It also finds `EMBER_EXAMPLE_ID` and
    /// `EMBER_REPETITION_NUMBER` in its environment.
    Command { command: String, timeout: Option<Duration> },
    /// An HTTP endpoint that takes the example as a JSON `POST` body; a non-2xx status is a
    /// failed run.
    Http { url: String, http: reqwest::Client },
}

/// Why a task failed on one example: `kind` is a short class name, `message` the details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFailure {
    pub kind: &'static str,
    pub message: String,
}

impl std::fmt::Display for TaskFailure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}: {}", self.kind, self.message)
    }
}

impl Task {
    pub fn command(command: String, timeout: Option<Duration>) -> Task {
        Task::Command { command, timeout }
    }

    pub fn http(url: String, timeout: Option<Duration>) -> Result<Task, ClientError> {
        if !url.starts_with("http://") {
            return Err(ClientError::Invalid(format!("the task URL `{url}` is not an http:// URL")));
        }
        let mut builder = reqwest::Client::builder();
        if let Some(timeout) = timeout {
            builder = builder.timeout(timeout);
        }
        let http = builder.build().map_err(|error| ClientError::Invalid(format!("cannot build the HTTP client: {error}")))?;
        Ok(Task::Http { url, http })
    }

    /// A name for the task's spans (`Task: <name>`), as the Python client uses the function's name.
    pub fn default_name(&self) -> String {
        match self {
            Task::Command { command, .. } => {
                command.split_whitespace().next().unwrap_or("command").rsplit('/').next().unwrap_or("command").to_string()
            }
            Task::Http { url, .. } => url.clone(),
        }
    }

    pub async fn run(&self, example: &Example, repetition: u32) -> Result<Value, TaskFailure> {
        let body = serde_json::to_vec(example).map_err(|error| TaskFailure { kind: "EncodeError", message: error.to_string() })?;
        match self {
            Task::Command { command, timeout } => run_command(command, *timeout, &body, &example.id, repetition).await,
            Task::Http { url, http } => run_http(http, url, body).await,
        }
    }
}

async fn run_command(
    command: &str,
    timeout: Option<Duration>,
    stdin: &[u8],
    example_id: &str,
    repetition: u32,
) -> Result<Value, TaskFailure> {
    let failure = |kind, message: String| TaskFailure { kind, message };
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("EMBER_EXAMPLE_ID", example_id)
        .env("EMBER_REPETITION_NUMBER", repetition.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| failure("CommandError", format!("cannot start `{command}`: {error}")))?;
    let mut input = child.stdin.take().ok_or_else(|| failure("CommandError", "the command has no stdin".into()))?;
    let stdin = stdin.to_vec();
    // Written concurrently with reading the output, so a command that answers before it has
    // read all its input cannot deadlock against a full pipe. A command that ignores its
    // input closes the pipe early; that is not an error.
    let writer = tokio::spawn(async move {
        let _ = input.write_all(&stdin).await;
    });
    let finished = child.wait_with_output();
    let output = match timeout {
        Some(limit) => {
            tokio::time::timeout(limit, finished).await.map_err(|_| failure("Timeout", format!("the command ran longer than {limit:?}")))?
        }
        None => finished.await,
    }
    .map_err(|error| failure("CommandError", format!("cannot run `{command}`: {error}")))?;
    let _ = writer.await;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(failure("CommandFailed", format!("{}: {}", output.status, quote(stderr.trim()))));
    }
    parse_output(&output.stdout).map_err(|message| failure("OutputError", message))
}

async fn run_http(http: &reqwest::Client, url: &str, body: Vec<u8>) -> Result<Value, TaskFailure> {
    let response = http.post(url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body).send().await.map_err(|error| {
        let kind = if error.is_timeout() { "Timeout" } else { "HttpError" };
        TaskFailure { kind, message: format!("POST {url}: {error}") }
    })?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|error| TaskFailure { kind: "HttpError", message: format!("POST {url}: {error}") })?;
    if !status.is_success() {
        let body = String::from_utf8_lossy(&bytes);
        return Err(TaskFailure { kind: "HttpError", message: format!("POST {url} answered {status}: {}", quote(body.trim())) });
    }
    parse_output(&bytes).map_err(|message| TaskFailure { kind: "OutputError", message })
}

/// JSON when the text parses as JSON; otherwise the text itself; nothing is `null`.
fn parse_output(bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the output is not UTF-8 text".to_string())?;
    let text = text.trim_end_matches(['\n', '\r']);
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    Ok(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())))
}

fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn example() -> Example {
        Example {
            id: "RGF0YXNldEV4YW1wbGU6MQ==".into(),
            node_id: "RGF0YXNldEV4YW1wbGU6MQ==".into(),
            input: std::borrow::Cow::Owned(json!({"q": "2+2"})),
            output: std::borrow::Cow::Owned(json!({"a": "4"})),
            metadata: std::borrow::Cow::Owned(json!({})),
            updated_at: "t".into(),
            source: None,
        }
    }

    #[test]
    fn outputs_are_json_when_they_parse_and_text_otherwise() {
        assert_eq!(parse_output(b"{\"a\": 1}\n").unwrap(), json!({"a": 1}));
        assert_eq!(parse_output(b"42\n").unwrap(), json!(42));
        assert_eq!(parse_output(b"Paris\n").unwrap(), json!("Paris"));
        assert_eq!(parse_output(b"  indented text  \r\n").unwrap(), json!("  indented text  "));
        assert_eq!(parse_output(b"\n").unwrap(), Value::Null);
        assert!(parse_output(&[0xff, 0xfe]).is_err());
    }

    #[tokio::test]
    async fn a_command_reads_the_example_and_its_environment() {
        let task = Task::command(
            r#"read line; printf '{"seen": %s, "id": "%s", "rep": %s}' "$line" "$EMBER_EXAMPLE_ID" "$EMBER_REPETITION_NUMBER""#.into(),
            None,
        );
        let output = task.run(&example(), 2).await.unwrap();
        assert_eq!(output["seen"]["input"], json!({"q": "2+2"}));
        assert_eq!(output["id"], json!("RGF0YXNldEV4YW1wbGU6MQ=="));
        assert_eq!(output["rep"], json!(2));
    }

    #[tokio::test]
    async fn a_failing_or_slow_command_is_a_failed_run() {
        let failed = Task::command("echo oops >&2; exit 3".into(), None).run(&example(), 1).await.unwrap_err();
        assert_eq!(failed, TaskFailure { kind: "CommandFailed", message: "exit status: 3: oops".into() });
        let slow = Task::command("sleep 5".into(), Some(Duration::from_millis(100))).run(&example(), 1).await.unwrap_err();
        assert_eq!(slow.kind, "Timeout");
        let ignores_input = Task::command("echo done".into(), None).run(&example(), 1).await.unwrap();
        assert_eq!(ignores_input, json!("done"));
    }
}
