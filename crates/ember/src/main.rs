//! The `ember` command line: `ember serve` runs the server; `ember datasets …` and
//! `ember experiments run` are clients of a running server (ember or Phoenix).

mod connect;
mod datasets;
mod experiments;
mod mcp;
mod prompts;
mod serve;

use clap::{Parser, Subcommand};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// ember: an LLM observability and evaluation server compatible with Arize Phoenix.
#[derive(Parser)]
#[command(name = "ember", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: REST API and OTLP/HTTP on PHOENIX_PORT, OTLP/gRPC on PHOENIX_GRPC_PORT.
    Serve(Box<serve::ServeArgs>),
    /// List, upload and download datasets on a running server.
    #[command(subcommand)]
    Datasets(datasets::DatasetsCommand),
    /// Run experiments on a running server's datasets.
    #[command(subcommand)]
    Experiments(experiments::ExperimentsCommand),
    /// List, fetch, push, tag and render prompts on a running server.
    #[command(subcommand)]
    Prompts(prompts::PromptsCommand),
    /// Serve MCP over stdio for a running server: JSON-RPC messages on stdin are relayed to its
    /// `/mcp` with the API key, its answers written to stdout.
    Mcp(mcp::McpArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => serve::serve(*args),
        Command::Datasets(command) => connect::run_client(|| datasets::run(command)),
        Command::Experiments(command) => connect::run_client(|| experiments::run(command)),
        Command::Prompts(command) => connect::run_client(|| prompts::run(command)),
        Command::Mcp(args) => connect::run_client(|| mcp::run(args)),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// A default as README's table writes it, in clap's terms (`None`: no default value).
    fn readme_default(text: &str) -> Option<String> {
        let text = text.trim().trim_matches('`');
        let bytes = |count: &str, unit: u64| count.trim().parse::<u64>().ok().map(|n| (n * unit).to_string());
        match text {
            "–" | "~/.ember" => None,
            "off" => Some("false".into()),
            _ if text.ends_with(" MiB") => bytes(text.trim_end_matches(" MiB"), 1 << 20),
            _ if text.ends_with(" GiB") => bytes(text.trim_end_matches(" GiB"), 1 << 30),
            _ => Some(text.to_string()),
        }
    }

    /// One row of README's settings table.
    struct Row {
        flags: Vec<String>,
        envs: Vec<String>,
        default: Option<String>,
        /// The row ends in `…`: it stands for more settings of the same kind.
        elided: bool,
    }

    /// Each row's flags, environment variables and default (`_PORT` after `PHOENIX_POSTGRES_HOST`
    /// abbreviates `PHOENIX_POSTGRES_PORT`).
    fn readme_rows() -> Vec<Row> {
        let readme = include_str!("../../../README.md");
        let section = readme.split("## Configuration").nth(1).expect("README has a Configuration section");
        let mut rows = Vec::new();
        for line in section.lines().skip_while(|line| !line.starts_with("| `--")).take_while(|line| line.starts_with('|')) {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let names = |cell: &str| -> Vec<String> {
                cell.split(", ").map(|name| name.trim_matches('`').to_string()).filter(|name| name != "…").collect()
            };
            let flags = names(cells[0]);
            let mut envs = names(cells[1]);
            let prefix = envs.first().and_then(|first| first.rsplit_once('_').map(|(prefix, _)| prefix.to_string())).unwrap_or_default();
            for env in envs.iter_mut().filter(|env| env.starts_with('_')) {
                *env = format!("{prefix}{env}");
            }
            rows.push(Row { flags, envs, default: readme_default(cells[2]), elided: cells[0].contains('…') });
        }
        rows
    }

    /// README's settings table is `ember serve --help`: every flag with its environment variable
    /// and default, and every flag of the command in the table.
    #[test]
    fn the_readme_settings_table_matches_ember_serve() {
        let command = Cli::command();
        let serve = command.find_subcommand("serve").expect("a serve command");
        let arguments: Vec<&clap::Arg> = serve.get_arguments().filter(|arg| arg.get_long().is_some_and(|long| long != "help")).collect();
        let rows = readme_rows();
        let mut covered = Vec::new();
        for Row { flags, envs, default, elided } in &rows {
            for (index, flag) in flags.iter().enumerate() {
                let long = flag.trim_start_matches("--");
                let arg = arguments
                    .iter()
                    .find(|arg| arg.get_long() == Some(long))
                    .unwrap_or_else(|| panic!("README lists {flag}, which ember serve does not take"));
                let env = arg.get_env().map(|env| env.to_string_lossy().into_owned());
                if *elided {
                    assert!(env.as_ref().is_some_and(|env| envs.contains(env) || env.ends_with("_API_KEY")), "{flag}: {env:?}");
                } else {
                    assert_eq!(env.as_deref(), envs.get(index).map(String::as_str), "the environment variable of {flag}");
                }
                let clap_default: Vec<String> = arg.get_default_values().iter().map(|value| value.to_string_lossy().into_owned()).collect();
                if flags.len() == 1 {
                    assert_eq!(clap_default.first().cloned(), default.clone(), "the default of {flag}");
                }
                covered.push(long.to_string());
            }
            if *elided {
                // `--openai-api-key, --anthropic-api-key, …`: every other provider key and address.
                for arg in &arguments {
                    let env = arg.get_env().map(|env| env.to_string_lossy().into_owned()).unwrap_or_default();
                    if env.ends_with("_API_KEY") || env.ends_with("_BASE_URL") {
                        covered.push(arg.get_long().unwrap_or_default().to_string());
                    }
                }
            }
        }
        let missing: Vec<&str> =
            arguments.iter().filter_map(|arg| arg.get_long()).filter(|long| !covered.iter().any(|covered| covered == long)).collect();
        assert!(missing.is_empty(), "ember serve flags missing from README's table: {missing:?}");
    }
}
