//! The ML model-monitoring record (the Arize ML API): one prediction and/or its actual for a
//! prediction id of a model, with typed features and tags, embeddings, SHAP values, in an
//! environment (production, validation, training). Both ways in — `POST /v1/log` JSON records
//! and `ml.log` Arrow uploads — decode to these types; the service validates them and the store
//! keeps them. No I/O here.

use std::collections::BTreeMap;

/// Where a record comes from. The numbers are the `arize` SDK's `public.Schema.Environment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MlEnvironment {
    Training = 1,
    Validation = 2,
    Production = 3,
}

impl MlEnvironment {
    pub const ALL: [MlEnvironment; 3] = [MlEnvironment::Training, MlEnvironment::Validation, MlEnvironment::Production];

    /// The SDK's enum number (stored as such).
    pub fn number(self) -> i16 {
        self as i16
    }

    pub fn from_number(number: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|environment| i64::from(environment.number()) == number)
    }

    /// The name the SDK and ember's API use: `PRODUCTION`, `VALIDATION`, `TRAINING`.
    pub fn name(self) -> &'static str {
        match self {
            MlEnvironment::Training => "TRAINING",
            MlEnvironment::Validation => "VALIDATION",
            MlEnvironment::Production => "PRODUCTION",
        }
    }

    /// Reads a name in any case (`production`, `PRODUCTION`).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|environment| environment.name().eq_ignore_ascii_case(name.trim()))
    }
}

/// What a model predicts. The numbers are the SDK's `public.Schema.ModelType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelType {
    Binary = 1,
    Numeric = 2,
    Categorical = 3,
    ScoreCategorical = 4,
    Ranking = 5,
    ObjectDetection = 6,
    MultiClass = 8,
}

impl ModelType {
    pub const ALL: [ModelType; 7] = [
        ModelType::Binary,
        ModelType::Numeric,
        ModelType::Categorical,
        ModelType::ScoreCategorical,
        ModelType::Ranking,
        ModelType::ObjectDetection,
        ModelType::MultiClass,
    ];

    pub fn number(self) -> i32 {
        self as i32
    }

    pub fn from_number(number: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|model_type| i64::from(model_type.number()) == number)
    }

    /// The stored and shown name.
    pub fn name(self) -> &'static str {
        match self {
            ModelType::Binary => "binary_classification",
            ModelType::Numeric => "regression",
            ModelType::Categorical => "categorical",
            ModelType::ScoreCategorical => "score_categorical",
            ModelType::Ranking => "ranking",
            ModelType::ObjectDetection => "object_detection",
            ModelType::MultiClass => "multi_class",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|model_type| model_type.name() == name)
    }

    /// Whether a label of `kind` belongs to a model of this type. Classification types share
    /// categorical labels (with or without a score).
    pub fn accepts(self, kind: LabelKind) -> bool {
        match self {
            ModelType::Binary | ModelType::Categorical | ModelType::ScoreCategorical => kind == LabelKind::Categorical,
            ModelType::Numeric => kind == LabelKind::Numeric,
            ModelType::Ranking => kind == LabelKind::Ranking,
            ModelType::ObjectDetection => kind == LabelKind::ObjectDetection,
            ModelType::MultiClass => kind == LabelKind::MultiClass,
        }
    }

    /// The type a model gets from its first label when nothing else names it.
    pub fn of_label(kind: LabelKind) -> Self {
        match kind {
            LabelKind::Categorical => ModelType::ScoreCategorical,
            LabelKind::Numeric => ModelType::Numeric,
            LabelKind::Ranking => ModelType::Ranking,
            LabelKind::ObjectDetection => ModelType::ObjectDetection,
            LabelKind::MultiClass => ModelType::MultiClass,
        }
    }
}

/// A feature's or tag's value.
#[derive(Debug, Clone, PartialEq)]
pub enum MlValue {
    Double(f64),
    Int(i64),
    String(String),
    /// `multi_value`: a list of strings.
    List(Vec<String>),
    /// A `dictionary` of numbers.
    Dictionary(BTreeMap<String, f64>),
}

/// The stored type of a feature or tag; every value of one keeps its type (an int feature
/// becomes a double one when a fraction arrives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MlValueType {
    Double,
    Int,
    String,
    List,
    Dictionary,
    Embedding,
}

impl MlValueType {
    pub fn name(self) -> &'static str {
        match self {
            MlValueType::Double => "double",
            MlValueType::Int => "int",
            MlValueType::String => "string",
            MlValueType::List => "list",
            MlValueType::Dictionary => "dictionary",
            MlValueType::Embedding => "embedding",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Double, Self::Int, Self::String, Self::List, Self::Dictionary, Self::Embedding].into_iter().find(|kind| kind.name() == name)
    }

    /// Numbers (ints and doubles) share one numeric column.
    pub fn is_numeric(self) -> bool {
        matches!(self, MlValueType::Double | MlValueType::Int)
    }
}

impl MlValue {
    pub fn value_type(&self) -> MlValueType {
        match self {
            MlValue::Double(_) => MlValueType::Double,
            MlValue::Int(_) => MlValueType::Int,
            MlValue::String(_) => MlValueType::String,
            MlValue::List(_) => MlValueType::List,
            MlValue::Dictionary(_) => MlValueType::Dictionary,
        }
    }

    /// The value as a number, for numeric columns (NaN is a missing value).
    pub fn as_number(&self) -> Option<f64> {
        match self {
            MlValue::Double(number) if number.is_nan() => None,
            MlValue::Double(number) => Some(*number),
            MlValue::Int(number) => Some(*number as f64),
            _ => None,
        }
    }

    /// The value as text, for text columns: strings as they are, lists and dictionaries as JSON.
    pub fn as_text(&self) -> Option<String> {
        match self {
            MlValue::String(text) => Some(text.clone()),
            MlValue::List(items) => serde_json::to_string(items).ok(),
            MlValue::Dictionary(map) => serde_json::to_string(map).ok(),
            _ => None,
        }
    }
}

/// An embedding feature: its vector, and the raw data it embeds (tokens or text) or a link to it.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct MlEmbedding {
    pub vector: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// What kind of label a record carries, which decides the model's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKind {
    Categorical,
    Numeric,
    Ranking,
    ObjectDetection,
    MultiClass,
}

impl LabelKind {
    pub fn name(self) -> &'static str {
        match self {
            LabelKind::Categorical => "categorical",
            LabelKind::Numeric => "numeric",
            LabelKind::Ranking => "ranking",
            LabelKind::ObjectDetection => "object_detection",
            LabelKind::MultiClass => "multi_class",
        }
    }
}

/// A prediction's or an actual's label.
#[derive(Debug, Clone, PartialEq)]
pub enum MlLabel {
    /// A class, with a score (the probability of the positive class, or of this class); binary
    /// labels are the classes `True` and `False`. Either may be missing (a score alone).
    Categorical {
        category: Option<String>,
        score: Option<f64>,
    },
    Numeric(f64),
    /// A ranking prediction (a group's item at `rank`, its score and label) or actual (relevance
    /// categories and score).
    Ranking {
        group_id: Option<String>,
        rank: Option<i64>,
        score: Option<f64>,
        label: Option<String>,
        categories: Vec<String>,
        relevance: Option<f64>,
    },
    /// Object detection and multi-class labels are kept as their JSON.
    ObjectDetection(serde_json::Value),
    MultiClass(serde_json::Value),
}

impl MlLabel {
    pub fn kind(&self) -> LabelKind {
        match self {
            MlLabel::Categorical { .. } => LabelKind::Categorical,
            MlLabel::Numeric(_) => LabelKind::Numeric,
            MlLabel::Ranking { .. } => LabelKind::Ranking,
            MlLabel::ObjectDetection(_) => LabelKind::ObjectDetection,
            MlLabel::MultiClass(_) => LabelKind::MultiClass,
        }
    }
}

/// The prediction side of a record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MlPrediction {
    /// Unix nanoseconds; `None`: when the record is received.
    pub time: Option<i64>,
    pub model_version: Option<String>,
    pub label: Option<MlLabel>,
    pub features: BTreeMap<String, MlValue>,
    pub embeddings: BTreeMap<String, MlEmbedding>,
    pub tags: BTreeMap<String, MlValue>,
}

/// The actual (ground truth) side of a record, possibly sent long after the prediction.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MlActual {
    pub time: Option<i64>,
    pub label: Option<MlLabel>,
    pub tags: BTreeMap<String, MlValue>,
}

/// One record of a model: a prediction, its actual, or both, and/or SHAP values, keyed by
/// (model, environment, prediction id).
#[derive(Debug, Clone, PartialEq)]
pub struct MlRecord {
    pub prediction_id: String,
    pub environment: MlEnvironment,
    /// The validation batch (validation records only).
    pub batch_id: Option<String>,
    pub prediction: Option<MlPrediction>,
    pub actual: Option<MlActual>,
    /// SHAP values (feature importances) by feature name.
    pub shap: BTreeMap<String, f64>,
}

impl MlRecord {
    /// The kind of label the record carries (the prediction's, else the actual's).
    pub fn label_kind(&self) -> Option<LabelKind> {
        let prediction = self.prediction.as_ref().and_then(|prediction| prediction.label.as_ref());
        let actual = self.actual.as_ref().and_then(|actual| actual.label.as_ref());
        prediction.or(actual).map(MlLabel::kind)
    }

    /// How many named values (features, tags, SHAP values, embeddings) the record carries.
    pub fn value_count(&self) -> usize {
        let prediction = self.prediction.as_ref().map_or(0, |p| p.features.len() + p.tags.len() + p.embeddings.len());
        let actual = self.actual.as_ref().map_or(0, |actual| actual.tags.len());
        prediction + actual + self.shap.len()
    }
}

/// The most features, tags, SHAP values and embeddings one record may carry.
pub const MAX_VALUES_PER_RECORD: usize = 1_000;
/// The most distinct features, tags and SHAP values a model may have (each is a column).
pub const MAX_COLUMNS_PER_MODEL: usize = 1_400;
/// The most embeddings one record may carry (the SDK's own limit).
pub const MAX_EMBEDDINGS_PER_RECORD: usize = 50;
/// The longest embedding vector.
pub const MAX_EMBEDDING_DIMENSIONS: usize = 20_000;
