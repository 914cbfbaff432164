//! Relay global ids as Phoenix issues them: base64 of `"<Type>:<rowid>"`, with the types ember
//! issues named once in [`GlobalType`].

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// Every kind of object ember gives a GlobalID, by Phoenix's type name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GlobalType {
    Project,
    Trace,
    Span,
    ProjectSession,
    SpanAnnotation,
    TraceAnnotation,
    ProjectSessionAnnotation,
    DocumentAnnotation,
    AnnotationConfig,
    Dataset,
    DatasetVersion,
    DatasetExample,
    DatasetSplit,
    DatasetLabel,
    Experiment,
    ExperimentRun,
    ExperimentEvaluation,
    ExperimentTag,
    Prompt,
    PromptVersion,
    PromptVersionTag,
    PromptLabel,
    User,
    UserApiKey,
    SystemApiKey,
    UserRole,
    ProjectTraceRetentionPolicy,
    GenerativeModel,
}

impl GlobalType {
    pub const ALL: [GlobalType; 28] = [
        GlobalType::Project,
        GlobalType::Trace,
        GlobalType::Span,
        GlobalType::ProjectSession,
        GlobalType::SpanAnnotation,
        GlobalType::TraceAnnotation,
        GlobalType::ProjectSessionAnnotation,
        GlobalType::DocumentAnnotation,
        GlobalType::AnnotationConfig,
        GlobalType::Dataset,
        GlobalType::DatasetVersion,
        GlobalType::DatasetExample,
        GlobalType::DatasetSplit,
        GlobalType::DatasetLabel,
        GlobalType::Experiment,
        GlobalType::ExperimentRun,
        GlobalType::ExperimentEvaluation,
        GlobalType::ExperimentTag,
        GlobalType::Prompt,
        GlobalType::PromptVersion,
        GlobalType::PromptVersionTag,
        GlobalType::PromptLabel,
        GlobalType::User,
        GlobalType::UserApiKey,
        GlobalType::SystemApiKey,
        GlobalType::UserRole,
        GlobalType::ProjectTraceRetentionPolicy,
        GlobalType::GenerativeModel,
    ];

    /// The type name inside the id, as Phoenix spells it.
    pub fn name(self) -> &'static str {
        match self {
            GlobalType::Project => "Project",
            GlobalType::Trace => "Trace",
            GlobalType::Span => "Span",
            GlobalType::ProjectSession => "ProjectSession",
            GlobalType::SpanAnnotation => "SpanAnnotation",
            GlobalType::TraceAnnotation => "TraceAnnotation",
            GlobalType::ProjectSessionAnnotation => "ProjectSessionAnnotation",
            GlobalType::DocumentAnnotation => "DocumentAnnotation",
            GlobalType::AnnotationConfig => "AnnotationConfig",
            GlobalType::Dataset => "Dataset",
            GlobalType::DatasetVersion => "DatasetVersion",
            GlobalType::DatasetExample => "DatasetExample",
            GlobalType::DatasetSplit => "DatasetSplit",
            GlobalType::DatasetLabel => "DatasetLabel",
            GlobalType::Experiment => "Experiment",
            GlobalType::ExperimentRun => "ExperimentRun",
            GlobalType::ExperimentEvaluation => "ExperimentEvaluation",
            GlobalType::ExperimentTag => "ExperimentTag",
            GlobalType::Prompt => "Prompt",
            GlobalType::PromptVersion => "PromptVersion",
            GlobalType::PromptVersionTag => "PromptVersionTag",
            GlobalType::PromptLabel => "PromptLabel",
            GlobalType::User => "User",
            GlobalType::UserApiKey => "UserApiKey",
            GlobalType::SystemApiKey => "SystemApiKey",
            GlobalType::UserRole => "UserRole",
            GlobalType::ProjectTraceRetentionPolicy => "ProjectTraceRetentionPolicy",
            GlobalType::GenerativeModel => "GenerativeModel",
        }
    }

    /// The type a name inside an id stands for; `None` for types ember does not issue.
    pub fn from_name(name: &str) -> Option<GlobalType> {
        GlobalType::ALL.into_iter().find(|global_type| global_type.name() == name)
    }
}

impl std::fmt::Display for GlobalType {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalId {
    pub type_name: String,
    pub rowid: i64,
}

impl GlobalId {
    pub fn new(global_type: GlobalType, rowid: i64) -> Self {
        Self { type_name: global_type.name().to_string(), rowid }
    }

    /// Encodes `Type:rowid` as standard base64, the form Phoenix clients expect.
    pub fn encode(global_type: GlobalType, rowid: i64) -> String {
        STANDARD.encode(format!("{}:{rowid}", global_type.name()))
    }

    /// The type of a decoded id, when it is one ember issues.
    pub fn global_type(&self) -> Option<GlobalType> {
        GlobalType::from_name(&self.type_name)
    }

    /// Decodes any global id; `None` when the text is not base64 of `Type:integer`.
    pub fn decode(text: &str) -> Option<Self> {
        let bytes = STANDARD.decode(text.trim()).ok()?;
        let decoded = String::from_utf8(bytes).ok()?;
        let (type_name, rowid) = decoded.split_once(':')?;
        if type_name.is_empty() || !type_name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        Some(Self { type_name: type_name.to_string(), rowid: rowid.parse().ok()? })
    }

    /// Decodes a global id of the expected type and returns its rowid.
    pub fn decode_as(text: &str, global_type: GlobalType) -> Option<i64> {
        Self::decode(text).filter(|id| id.type_name == global_type.name()).map(|id| id.rowid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_phoenix_ids() {
        assert_eq!(GlobalId::encode(GlobalType::Project, 2), "UHJvamVjdDoy");
        assert_eq!(GlobalId::decode("UHJvamVjdDoy"), Some(GlobalId::new(GlobalType::Project, 2)));
        assert_eq!(GlobalId::decode_as("UHJvamVjdDoy", GlobalType::Project), Some(2));
        assert_eq!(GlobalId::decode_as("UHJvamVjdDoy", GlobalType::Span), None);
        assert_eq!(GlobalId::decode("UHJvamVjdDoy").and_then(|id| id.global_type()), Some(GlobalType::Project));
        for global_type in GlobalType::ALL {
            assert_eq!(GlobalType::from_name(global_type.name()), Some(global_type));
        }
    }

    #[test]
    fn rejects_text_that_is_not_an_id() {
        assert_eq!(GlobalId::decode("default"), None);
        assert_eq!(GlobalId::decode("not base64!"), None);
        // base64 of "Project:x"
        assert_eq!(GlobalId::decode("UHJvamVjdDp4"), None);
    }
}
