//! A typed client of the Phoenix REST API and OTLP endpoint as ember serves them, and the
//! experiment runner behind `ember experiments run`.
//!
//! [`Client`] speaks the same wire contract the Phoenix clients speak: `{"data": …}`
//! envelopes, cursors, GlobalIds, text error bodies. [`runner`] runs a task (a command or an
//! HTTP endpoint) over a dataset's examples and records runs, traces and evaluations the way
//! `arize-phoenix-client`'s `run_experiment` records them, so the UI and the other clients
//! cannot tell the difference.

mod client;
pub mod datasets;
mod error;
pub mod experiments;
pub mod mcp;
pub mod prompts;
pub mod runner;
pub mod spans;

pub use client::{Client, ClientConfig};
pub use error::ClientError;
