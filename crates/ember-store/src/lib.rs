//! ember's storage layer.
//!
//! One [`Store`] per database, on SQLite (the embedded default: one writer connection applying
//! span batches in group-committed transactions, and a pool of readers) or PostgreSQL (pools on
//! the primary and optionally a read replica; several ember processes may share the database).
//!
//! The crate's folders follow its architecture:
//! - `engine`: the store handle, the connection pools and statements of both backends, the
//!   database url, the sea-query names of the tables; SQL text that differs between the dialects
//!   comes from `ember_query::schema` (its one owner), re-exported as `engine::dialect`;
//! - `sqlite` and `postgres`: what only one backend has (SQLite's attribute codec, its SQL
//!   functions, group commit, checkpoints, attribute index and metadata patches);
//! - `write`: the span write path (ingest queue, batch transactions, prepared spans,
//!   cumulative counts, hourly rollups);
//! - the resources: `spans` (lists, roots, outlines, filters, metadata updates), `traces`,
//!   `sessions`, `projects`, `annotations`, `annotation_configs`, `datasets`, `experiments`,
//!   `prompts`, `secrets`, `ml` (ML models and their records), `retention` (retention policies and
//!   the sweeps that apply them), `costs` (model prices and what each LLM span cost).
//!
//! SQL is written once for both dialects (sea-query for statements shaped by the request, text
//! with `$n` placeholders for fixed ones); migrations live in `migrations/<dialect>/`.
//!
//! Spans enter through the [`IngestQueue`], bounded by span count and bytes: a full queue is an
//! explicit [`QueueFull`] (the transports answer 503 / RESOURCE_EXHAUSTED), and a submission
//! resolves only once its spans are committed.

mod agent_sql;
mod annotation_configs;
mod annotations;
mod auth_tokens;
mod costs;
mod datasets;
pub mod defaults;
mod engine;
mod error;
mod experiments;
mod ml;
mod postgres;
mod project_access;
mod project_metrics;
mod projects;
mod prompts;
mod retention;
mod secrets;
mod sessions;
mod spans;
mod sqlite;
#[cfg(feature = "testsuite")]
pub mod testing;
mod traces;
mod users;
mod write;

pub use agent_sql::SqlAnswer;
pub use annotation_configs::AnnotationConfig;
pub use annotations::{
    AnnotationDeletion, AnnotationInput, AnnotationPatch, AnnotationQuery, AnnotationRecord, AnnotationSource, AnnotationTarget,
    AnnotatorKind, DocumentAnnotationInput, LlmAnnotation, LlmAnnotations,
};
pub use auth_tokens::{ApiKeyRecord, KeyScope, NewToken, TokenHolder, TokenKind};
pub use costs::{CostTotals, NewModelPrice, PriceRecord, Recomputed, SpanCostRecord};
pub use datasets::{
    DatasetLabelChanges, DatasetLabelRecord, DatasetRecord, DatasetSplitChanges, DatasetSplitRecord, DatasetVersionRecord, ExampleBatches,
    ExampleInput, ExampleRecord, UploadAction, UploadOutcome,
};
pub use ember_query::{Filter, Grain, QueryError};
pub use engine::db::{Store, StoreOptions};
pub use engine::url::DatabaseUrl;
pub use error::StoreError;
pub use experiments::{
    EvaluationSummary, ExperimentChanges, ExperimentEvaluationInput, ExperimentEvaluationRecord, ExperimentKey, ExperimentRecord,
    ExperimentRunInput, ExperimentRunRecord, ExperimentSummary, ExperimentTagRecord, ExportedRun, IncompleteEvaluation, IncompleteRuns,
    NewExperiment, RunWrite,
};
pub use ml::{
    MlCentroid, MlClassification, MlColumnRecord, MlColumnRole, MlComparison, MlConfusion, MlErrorSums, MlModelRecord, MlNdcgSum,
    MlPredicate, MlPredicateValue, MlPresence, MlRankPairs, MlRecordQuery, MlSource, MlStoredRecord, MlVersionRecord, MlVolumeBin,
    MlWriteOutcome, StoredLabel,
};
pub use project_access::{AuditEntry, GrantSubject, GrantableRole, ProjectAccessRecord, ProjectGrant, ProjectVisibility};
pub use project_metrics::{BinnedSeries, MAX_TREND_ANNOTATIONS};
pub use projects::{Project, ProjectPage, DEFAULT_PROJECT_NAME};
pub use prompts::{
    NewPrompt, PromptChanges, PromptFilter, PromptLabelChanges, PromptLabelRecord, PromptRecord, PromptVersionInput, PromptVersionRecord,
    PromptVersionTagRecord,
};
pub use retention::{RetentionPolicyChanges, RetentionPolicyRecord, RetentionRule, SweepStep, TraceKey, DEFAULT_RETENTION_POLICY_ID};
pub use secrets::{SecretChange, StoredSecret};
pub use sessions::{SessionRecord, SessionTrace};
pub use spans::metadata::{MetadataFailure, MetadataOutcome, MetadataUpdate};
pub use spans::outlines::SpanOutline;
pub use spans::records::{Page, SpanRecord, SpanText};
pub use spans::roots::{RootSpanQuery, RootSpanSort};
pub use spans::{AttributeFilter, SpanFilters, SpanQueryOptions};
pub use traces::{TraceFilters, TraceOrder, TraceRecord, TraceSort};
pub use users::{NewUser, SsoIdentity, UserRecord, UserUpdate, DEFAULT_ADMIN_ID, SYSTEM_USER_ID};
pub use write::batch::WriteOutcome;
pub use write::prepared::PreparedSpan;
pub use write::queue::{IngestQueue, QueueFull, QueueLimits, WriterHandle};
pub use write::rollups::{ActivityBin, ActivityWindow, BinLayout, ModelUsage, ProjectActivity};
