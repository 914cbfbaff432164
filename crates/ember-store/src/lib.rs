//! ember's storage layer.
//!
//! One [`Store`] per database. SQLite (the embedded default) runs one writer connection that
//! applies span batches in group-committed transactions and a pool of readers; SQL is built once
//! through sea-query for every dialect, and migrations live in `migrations/<dialect>/`.
//!
//! Spans enter through the [`IngestQueue`], bounded by span count and bytes: a full queue is an
//! explicit [`QueueFull`] (the transports answer 503 / RESOURCE_EXHAUSTED), and a submission
//! resolves only once its spans are committed.

mod checkpoint;
mod codec;
mod cumulative;
mod db;
mod error;
mod ingest;
mod prepared;
mod projects;
mod queue;
mod records;
mod schema;
mod sessions;
mod spans;
mod traces;
mod url;

pub use db::{Store, StoreOptions};
pub use error::StoreError;
pub use ingest::WriteOutcome;
pub use prepared::PreparedSpan;
pub use projects::{Project, ProjectPage, DEFAULT_PROJECT_NAME};
pub use queue::{IngestQueue, QueueFull, QueueLimits, WriterHandle};
pub use records::{Page, SpanRecord};
pub use sessions::{SessionRecord, SessionTrace};
pub use spans::{AttributeFilter, SpanFilters, SpanQueryOptions};
pub use traces::{TraceFilters, TraceOrder, TraceRecord, TraceSort};
pub use url::DatabaseUrl;
