//! The REST API's response bodies as typed structs: the
//! server serialises exactly these, and `ember-client` deserialises them, so the contract is
//! written once. Field order is the order Phoenix writes.
//!
//! Bodies that lists return by the thousand (spans, annotations, examples) borrow what they can
//! (`Cow`), so the server writes them straight from its records; clients read them owned (the
//! types deserialise from any input, never borrowing it).

mod annotations;
mod arize;
mod chat;
mod costs;
mod datasets;
mod experiments;
pub mod ml;
mod projects;
mod prompts;
mod retention;
mod spans;
mod users;

use serde::{Deserialize, Serialize};

pub use annotations::{Annotation, AnnotationConfig, AnnotationResult, AnnotationTargetId, AnnotationsWritten, EvaluationsWritten, IdList};
pub use arize::*;
pub use chat::{
    ChatChoice, ChatCompletion, ChatCompletionChunk, ChatDelta, ChatError, ChatErrorBody, ChatFunctionCall, ChatMessage, ChatToolCall,
    ChatToolCallDelta, ChatUsage, ChunkChoice,
};
pub use costs::{CostBreakdown, CostSummary, ModelPrice, NewModelPrice, TokenPrices};
pub use datasets::{Dataset, DatasetExamples, DatasetLabel, DatasetSplit, DatasetVersion, Example, ExampleSource, UploadResult};
pub use experiments::{DownloadedEvaluation, DownloadedRun, Experiment, ExperimentRun, ExperimentTag, IncompleteEvaluation, IncompleteRun};
pub use projects::{Project, SecretsApplied, TransferResult};
pub use prompts::{ModelProviderFamily, Prompt, PromptVersion, PromptVersionTag};
pub use retention::{
    ByteBudgetUpdate, NewRetentionPolicy, ProjectByteBudget, ProjectRetentionPolicy, RetentionPolicy, RetentionPolicyPatch, RetentionRule,
};
pub use spans::{
    DuplicateSpan, InvalidSpan, MetadataError, MetadataUpdateReport, Session, SessionTrace, Span, SpanContext, SpanEvent, SpanRejection,
    SpansQueued, Trace, TraceSpan,
};
pub use users::{
    AnonymousUser, ApiKey, ApiKeyData, ApiKeyUser, AuditLogEntry, CreatedApiKey, LdapLoginRequest, LoginRequest, PasswordResetEmailRequest,
    PasswordResetRequest, ProjectAccess, ProjectGrant, User, UserApiKey,
};

/// `{"data": ...}`, Phoenix's envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Data<T> {
    pub data: T,
}

impl<T> Data<T> {
    pub fn new(data: T) -> Self {
        Data { data }
    }
}

/// `{"data": [...], "next_cursor": ...}`: one page of a keyset-paginated list; the cursor is a
/// GlobalID, `null` on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

/// `{"id": ...}`: what a write answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Id {
    pub id: String,
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use serde_json::json;

    use super::*;

    #[test]
    fn an_annotation_names_its_target_in_one_field_and_reads_back() {
        let annotation = Annotation {
            id: "U3BhbkFubm90YXRpb246MQ==".into(),
            created_at: "t0".into(),
            updated_at: "t1".into(),
            source: Cow::Borrowed("API"),
            user_id: None,
            name: Cow::Borrowed("correctness"),
            annotator_kind: Cow::Borrowed("LLM"),
            result: AnnotationResult { label: Some(Cow::Borrowed("good")), score: Some(0.5), explanation: None },
            metadata: Cow::Owned(json!({})),
            identifier: Cow::Borrowed(""),
            target: AnnotationTargetId::Trace(Cow::Borrowed("abc")),
        };
        let written = serde_json::to_value(&annotation).unwrap();
        assert_eq!(written["trace_id"], "abc");
        assert!(written.get("target").is_none() && written.get("span_id").is_none(), "{written}");
        let read: Annotation<'static> = serde_json::from_value(written).unwrap();
        assert_eq!(read, annotation);
    }

    #[test]
    fn pages_and_envelopes_are_phoenix_shaped() {
        let page = Page { data: vec![Id { id: "a".into() }], next_cursor: None };
        assert_eq!(serde_json::to_value(&page).unwrap(), json!({"data": [{"id": "a"}], "next_cursor": null}));
        let example: Data<DatasetExamples<'static>> = serde_json::from_value(json!({"data": {
            "dataset_id": "d", "version_id": "v", "filtered_splits": [],
            "examples": [{"id": "x", "node_id": "n", "input": {"q": 1}, "output": {}, "metadata": {}, "updated_at": "t"}],
        }}))
        .unwrap();
        assert_eq!(example.data.examples[0].input.as_ref(), &json!({"q": 1}));
        assert!(example.data.examples[0].source.is_none());
    }
}
