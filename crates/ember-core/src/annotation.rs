//! The annotation model Phoenix clients see: what is annotated, by whom, from where.

/// What an annotation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnnotationTarget {
    Span,
    Trace,
    /// A project session (`session.id`).
    Session,
    /// One retrieved document of a retriever span, by position.
    Document,
}

impl AnnotationTarget {
    /// The word for the annotated thing in messages and paths (`span`, `trace`, `session`).
    pub fn noun(self) -> &'static str {
        match self {
            AnnotationTarget::Span | AnnotationTarget::Document => "span",
            AnnotationTarget::Trace => "trace",
            AnnotationTarget::Session => "session",
        }
    }

    /// The GlobalID type of its annotations.
    pub fn annotation_type(self) -> crate::GlobalType {
        match self {
            AnnotationTarget::Span => crate::GlobalType::SpanAnnotation,
            AnnotationTarget::Trace => crate::GlobalType::TraceAnnotation,
            AnnotationTarget::Session => crate::GlobalType::ProjectSessionAnnotation,
            AnnotationTarget::Document => crate::GlobalType::DocumentAnnotation,
        }
    }
}

/// Who or what produced an annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnnotatorKind {
    Llm,
    Code,
    Human,
}

impl AnnotatorKind {
    pub const ALL: [AnnotatorKind; 3] = [AnnotatorKind::Llm, AnnotatorKind::Code, AnnotatorKind::Human];

    pub fn parse(text: &str) -> Option<AnnotatorKind> {
        AnnotatorKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AnnotatorKind::Llm => "LLM",
            AnnotatorKind::Code => "CODE",
            AnnotatorKind::Human => "HUMAN",
        }
    }
}

/// Where an annotation was made: through the API, or in an app (a UI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnnotationSource {
    Api,
    App,
}

impl AnnotationSource {
    pub fn parse(text: &str) -> Option<AnnotationSource> {
        match text {
            "API" => Some(AnnotationSource::Api),
            "APP" => Some(AnnotationSource::App),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AnnotationSource::Api => "API",
            AnnotationSource::App => "APP",
        }
    }
}

impl serde::Serialize for AnnotatorKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl serde::Serialize for AnnotationSource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for AnnotatorKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        AnnotatorKind::parse(&text).ok_or_else(|| serde::de::Error::custom("Input should be 'LLM', 'CODE' or 'HUMAN'"))
    }
}

impl<'de> serde::Deserialize<'de> for AnnotationSource {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        AnnotationSource::parse(&text).ok_or_else(|| serde::de::Error::custom("Input should be 'API' or 'APP'"))
    }
}
