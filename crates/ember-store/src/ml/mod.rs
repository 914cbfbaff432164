//! ML models and their records (the Arize ML API).
//!
//! A model (`ml_models`) is created by its first records, with its type; its features, tags,
//! SHAP values and embeddings are `ml_columns` rows, each feature, tag and SHAP value also a typed
//! column of the model's own record table (see [`table`]). A record is keyed by (environment,
//! prediction id): a later record with the same key joins the stored one — a prediction replaces
//! the stored prediction (label, version, features, embeddings), an actual replaces the stored
//! actual, tags and SHAP values merge, so a delayed actual joins its prediction in either order.
//! A batch is written in one transaction: a value whose type does not match its column's refuses
//! the whole batch.

mod from_summaries;
mod monitor;
mod read;
mod rollup;
mod summary;
mod table;
mod write;

use std::collections::BTreeMap;

use ember_core::ml::{MlEmbedding, MlEnvironment, MlLabel, MlValue, MlValueType, ModelType};

pub use monitor::{MlCentroid, MlClassification, MlConfusion, MlErrorSums, MlNdcgSum, MlPresence, MlRankPairs, MlSource};
pub use read::{MlComparison, MlPredicate, MlPredicateValue, MlRecordQuery, MlVolumeBin};
pub use write::MlWriteOutcome;

/// A model.
#[derive(Debug, Clone, PartialEq)]
pub struct MlModelRecord {
    pub id: i64,
    pub name: String,
    pub model_type: ModelType,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a model's column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MlColumnRole {
    Feature,
    Tag,
    Shap,
    Embedding,
}

impl MlColumnRole {
    pub fn name(self) -> &'static str {
        match self {
            MlColumnRole::Feature => "feature",
            MlColumnRole::Tag => "tag",
            MlColumnRole::Shap => "shap",
            MlColumnRole::Embedding => "embedding",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        [Self::Feature, Self::Tag, Self::Shap, Self::Embedding].into_iter().find(|role| role.name() == name)
    }

    /// Whether the role's values have a column in the record table (embeddings are kept together
    /// as JSON).
    fn has_table_column(self) -> bool {
        self != MlColumnRole::Embedding
    }
}

/// A feature, tag, SHAP value or embedding of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct MlColumnRecord {
    pub id: i64,
    pub role: MlColumnRole,
    pub name: String,
    pub value_type: MlValueType,
}

/// A version (and validation batch) a model's records named in an environment.
#[derive(Debug, Clone, PartialEq)]
pub struct MlVersionRecord {
    pub environment: MlEnvironment,
    /// `None`: records without a version.
    pub version: Option<String>,
    pub batch_id: Option<String>,
    pub first_seen: i64,
}

/// A label as the record table stores it: a class and its score, a number, a ranking's group
/// and rank, or the JSON of labels with more structure (object detection, multi-class, ranking
/// relevance categories).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredLabel {
    pub label: Option<String>,
    pub score: Option<f64>,
    pub value: Option<f64>,
    pub group_id: Option<String>,
    pub rank: Option<i64>,
    pub detail: Option<serde_json::Value>,
}

impl StoredLabel {
    pub fn of(label: &MlLabel) -> StoredLabel {
        let number = |value: f64| (!value.is_nan()).then_some(value);
        match label {
            MlLabel::Categorical { category, score } => {
                StoredLabel { label: category.clone(), score: score.and_then(number), ..Default::default() }
            }
            MlLabel::Numeric(value) => StoredLabel { value: number(*value), ..Default::default() },
            MlLabel::Ranking { group_id, rank, score, label, categories, relevance } => StoredLabel {
                label: label.clone(),
                score: score.or(*relevance).and_then(number),
                group_id: group_id.clone(),
                rank: *rank,
                detail: (!categories.is_empty()).then(|| serde_json::json!(categories)),
                ..Default::default()
            },
            MlLabel::ObjectDetection(detail) | MlLabel::MultiClass(detail) => {
                StoredLabel { detail: Some(detail.clone()), ..Default::default() }
            }
        }
    }
}

/// A stored record.
#[derive(Debug, Clone, PartialEq)]
pub struct MlStoredRecord {
    pub id: i64,
    pub environment: MlEnvironment,
    pub prediction_id: String,
    /// The prediction's time (the actual's when there is no prediction), Unix nanoseconds.
    pub time: i64,
    pub actual_time: Option<i64>,
    pub model_version: Option<String>,
    pub batch_id: Option<String>,
    pub prediction: Option<StoredLabel>,
    pub actual: Option<StoredLabel>,
    pub features: BTreeMap<String, MlValue>,
    pub tags: BTreeMap<String, MlValue>,
    pub shap: BTreeMap<String, f64>,
    pub embeddings: BTreeMap<String, MlEmbedding>,
}
