//! ember's storage layer.
//!
//! One [`Store`] per database, on SQLite (the embedded default: one writer connection applying
//! span batches in group-committed transactions, and a pool of readers) or PostgreSQL (pools on
//! the primary and optionally a read replica; several ember processes may share the database).
//! SQL is built once for both dialects (sea-query, or text with `$n` placeholders) and run
//! through `backend`; what differs is in `dialect`; migrations live in `migrations/<dialect>/`.
//!
//! Spans enter through the [`IngestQueue`], bounded by span count and bytes: a full queue is an
//! explicit [`QueueFull`] (the transports answer 503 / RESOURCE_EXHAUSTED), and a submission
//! resolves only once its spans are committed.

mod annotation_configs;
mod annotations;
mod attribute_index;
mod backend;
mod checkpoint;
mod codec;
mod cumulative;
mod datasets;
mod db;
mod dialect;
mod error;
mod experiments;
mod filter_plan;
mod group_commit;
mod ingest;
mod metadata_patch;
mod postgres;
mod prepared;
mod projects;
mod prompts;
mod queue;
mod records;
mod rollups;
mod root_spans;
mod schema;
mod secrets;
mod sessions;
mod span_outlines;
mod span_updates;
mod spans;
mod sql_functions;
mod sqlite;
#[cfg(feature = "testsuite")]
pub mod testing;
mod traces;
mod url;

pub use annotation_configs::AnnotationConfig;
pub use annotations::{
    AnnotationDeletion, AnnotationInput, AnnotationPatch, AnnotationQuery, AnnotationRecord, AnnotationSource, AnnotationTarget,
    AnnotatorKind, DocumentAnnotationInput, LlmAnnotation, LlmAnnotations,
};
pub use datasets::{
    DatasetLabelChanges, DatasetLabelRecord, DatasetRecord, DatasetSplitChanges, DatasetSplitRecord, DatasetVersionRecord, ExampleBatches,
    ExampleInput, ExampleRecord, UploadAction, UploadOutcome,
};
pub use db::{Store, StoreOptions};
pub use ember_query::{Filter, Grain, QueryError};
pub use error::StoreError;
pub use experiments::{
    EvaluationSummary, ExperimentChanges, ExperimentEvaluationInput, ExperimentEvaluationRecord, ExperimentKey, ExperimentRecord,
    ExperimentRunInput, ExperimentRunRecord, ExperimentSummary, ExperimentTagRecord, ExportedRun, IncompleteEvaluation, IncompleteRuns,
    NewExperiment, RunWrite,
};
pub use ingest::WriteOutcome;
pub use prepared::PreparedSpan;
pub use projects::{Project, ProjectPage, DEFAULT_PROJECT_NAME};
pub use prompts::{NewPrompt, PromptChanges, PromptRecord, PromptVersionInput, PromptVersionRecord, PromptVersionTagRecord};
pub use queue::{IngestQueue, QueueFull, QueueLimits, WriterHandle};
pub use records::{Page, SpanRecord};
pub use rollups::{ActivityBin, ActivityWindow, ProjectActivity};
pub use root_spans::{RootSpanQuery, RootSpanSort};
pub use secrets::SecretChange;
pub use sessions::{SessionRecord, SessionTrace};
pub use span_outlines::SpanOutline;
pub use span_updates::{MetadataFailure, MetadataOutcome, MetadataUpdate};
pub use spans::{AttributeFilter, SpanFilters, SpanQueryOptions};
pub use traces::{TraceFilters, TraceOrder, TraceRecord, TraceSort};
pub use url::DatabaseUrl;
