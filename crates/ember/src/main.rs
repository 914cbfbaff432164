//! The `ember` command line: `ember serve` runs the server; `ember datasets …` and
//! `ember experiments run` are clients of a running server (ember or Phoenix).

mod connect;
mod datasets;
mod experiments;
mod prompts;
mod serve;

use clap::{Parser, Subcommand};

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
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => serve::serve(*args),
        Command::Datasets(command) => connect::run_client(|| datasets::run(command)),
        Command::Experiments(command) => connect::run_client(|| experiments::run(command)),
        Command::Prompts(command) => connect::run_client(|| prompts::run(command)),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
