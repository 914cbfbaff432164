//! The Arize ML API's single record, `POST /v1/log`: the protobuf JSON mapping of the `arize`
//! SDK's `public.Record` (what `MessageToDict(record, preserving_proto_field_name=True)` makes,
//! and what Arize's REST documentation shows). Field names are read in snake_case and in
//! protobuf's lowerCamelCase; int64 values as numbers or strings; doubles as numbers or the
//! strings `"NaN"`, `"Infinity"`, `"-Infinity"`; timestamps as RFC 3339 text. A feature or tag
//! value names exactly one type (`string`, `int`, `double`, `multi_value`, `embedding`,
//! `dictionary`); any other is refused as an "invalid feature type".

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

/// The answer to a logged record: an empty object (the SDK does not read it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MlLogged {}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MlRecordJson {
    #[serde(default, alias = "modelId", skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    #[serde(default, alias = "predictionId", skip_serializing_if = "Option::is_none")]
    pub prediction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction: Option<PredictionJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<ActualJson>,
    #[serde(default, alias = "featureImportances", skip_serializing_if = "Option::is_none")]
    pub feature_importances: Option<FeatureImportancesJson>,
    #[serde(default, alias = "predictionAndActual", skip_serializing_if = "Option::is_none")]
    pub prediction_and_actual: Option<PredictionAndActualJson>,
    #[serde(default, alias = "environmentParams", skip_serializing_if = "Option::is_none")]
    pub environment_params: Option<EnvironmentParamsJson>,
    /// Deprecated: the space goes in a header. Read and ignored.
    #[serde(default, alias = "spaceKey", skip_serializing_if = "Option::is_none")]
    pub space_key: Option<String>,
    #[serde(default, alias = "organizationKey", skip_serializing_if = "Option::is_none")]
    pub organization_key: Option<String>,
    #[serde(default, alias = "isGenerativeLlmRecord", skip_serializing_if = "Option::is_none")]
    pub is_generative_llm_record: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PredictionJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(default, alias = "modelVersion", skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    /// The older label field (`Label`); `prediction_label` is the newer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<LabelJson>,
    #[serde(default, alias = "predictionLabel", skip_serializing_if = "Option::is_none")]
    pub prediction_label: Option<LabelJson>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub features: BTreeMap<String, ValueJson>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, ValueJson>,
    /// LLM fields of generative records: read and not kept.
    #[serde(default, alias = "llmFields", skip_serializing_if = "Option::is_none")]
    pub llm_fields: Option<serde_json::Value>,
    #[serde(default, alias = "retrievedDocumentIds", skip_serializing_if = "Vec::is_empty")]
    pub retrieved_document_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActualJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<LabelJson>,
    #[serde(default, alias = "actualLabel", skip_serializing_if = "Option::is_none")]
    pub actual_label: Option<LabelJson>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, ValueJson>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeatureImportancesJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(default, alias = "modelVersion", skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    #[serde(default, alias = "featureImportances", skip_serializing_if = "BTreeMap::is_empty")]
    pub feature_importances: BTreeMap<String, Double>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PredictionAndActualJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction: Option<PredictionJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<ActualJson>,
}

/// One of `training`, `validation` (with its batch) or `production`, each an object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentParamsJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<ValidationJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ValidationJson {
    #[serde(default, alias = "batchId", skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
}

/// A label: `Label`, `PredictionLabel` and `ActualLabel` share their first four kinds; the
/// others belong to one side (ranking and multi-class differ between them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LabelJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categorical: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric: Option<Double>,
    #[serde(default, alias = "scoreCategorical", skip_serializing_if = "Option::is_none")]
    pub score_categorical: Option<ScoreCategoricalJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranking: Option<RankingJson>,
    #[serde(default, alias = "objectDetection", skip_serializing_if = "Option::is_none")]
    pub object_detection: Option<serde_json::Value>,
    #[serde(default, alias = "multiClass", skip_serializing_if = "Option::is_none")]
    pub multi_class: Option<serde_json::Value>,
    #[serde(default, alias = "cvLabel", skip_serializing_if = "Option::is_none")]
    pub cv_label: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreCategoricalJson {
    /// Deprecated form: the class and score as two fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categorical: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<Double>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<CategoryJson>,
    #[serde(default, alias = "scoreCategory", skip_serializing_if = "Option::is_none")]
    pub score_category: Option<CategoryJson>,
    #[serde(default, alias = "scoreValue", skip_serializing_if = "Option::is_none")]
    pub score_value: Option<ScoreValueJson>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CategoryJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<Double>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreValueJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Double>,
}

/// A ranking prediction (`prediction_group_id`, `rank`, `prediction_score`, `label`) or actual
/// (`category` relevance labels, `relevance_score`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RankingJson {
    #[serde(default, alias = "predictionGroupId", skip_serializing_if = "Option::is_none")]
    pub prediction_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<Int64>,
    #[serde(default, alias = "predictionScore", skip_serializing_if = "Option::is_none")]
    pub prediction_score: Option<Double>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<MultiValueJson>,
    #[serde(default, alias = "relevanceScore", skip_serializing_if = "Option::is_none")]
    pub relevance_score: Option<Double>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MultiValueJson {
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingJson {
    #[serde(default)]
    pub vector: Vec<Double>,
    #[serde(default, alias = "linkToData", skip_serializing_if = "Option::is_none")]
    pub link_to_data: Option<String>,
    #[serde(default, alias = "rawData", skip_serializing_if = "Option::is_none")]
    pub raw_data: Option<RawDataJson>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RawDataJson {
    #[serde(default, rename = "tokenArray", alias = "token_array", skip_serializing_if = "Option::is_none")]
    pub token_array: Option<TokenArrayJson>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenArrayJson {
    #[serde(default)]
    pub tokens: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DictionaryJson {
    #[serde(default)]
    pub values: BTreeMap<String, Double>,
}

/// A feature's or tag's value: exactly one typed field.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueJson {
    String(String),
    Int(Int64),
    Double(Double),
    MultiValue(MultiValueJson),
    Embedding(EmbeddingJson),
    Dictionary(DictionaryJson),
}

impl<'de> Deserialize<'de> for ValueJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let serde_json::Value::Object(object) = serde_json::Value::deserialize(deserializer)? else {
            return Err(D::Error::custom("invalid feature type: a value is an object naming its type, e.g. {\"double\": 1.5}"));
        };
        let mut fields = object.into_iter();
        let (Some((kind, value)), None) = (fields.next(), fields.next()) else {
            return Err(D::Error::custom(
                "invalid feature type: a value names exactly one of string, int, double, multi_value, embedding, dictionary",
            ));
        };
        let read = |what: &str| D::Error::custom(format!("invalid feature type: the {what} value is malformed"));
        Ok(match kind.as_str() {
            "string" => ValueJson::String(serde_json::from_value(value).map_err(|_| read("string"))?),
            "int" => ValueJson::Int(serde_json::from_value(value).map_err(|_| read("int"))?),
            "double" => ValueJson::Double(serde_json::from_value(value).map_err(|_| read("double"))?),
            "multi_value" | "multiValue" => ValueJson::MultiValue(serde_json::from_value(value).map_err(|_| read("multi_value"))?),
            "embedding" => ValueJson::Embedding(serde_json::from_value(value).map_err(|_| read("embedding"))?),
            "dictionary" => ValueJson::Dictionary(serde_json::from_value(value).map_err(|_| read("dictionary"))?),
            other => {
                return Err(D::Error::custom(format!(
                    "invalid feature type: {other:?} is not one of string, int, double, multi_value, embedding, dictionary"
                )))
            }
        })
    }
}

/// A protobuf int64 in JSON: a number or a decimal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct Int64(pub i64);

impl From<Int64> for String {
    fn from(value: Int64) -> String {
        value.0.to_string()
    }
}

impl<'de> Deserialize<'de> for Int64 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Number(number) => match (number.as_i64(), number.as_f64()) {
                (Some(int), _) => Ok(Int64(int)),
                (None, Some(float)) if float.fract() == 0.0 && float.abs() < 9.2e18 => Ok(Int64(float as i64)),
                _ => Err(D::Error::custom(format!("{number} is not a 64-bit integer"))),
            },
            serde_json::Value::String(text) => {
                text.trim().parse().map(Int64).map_err(|_| D::Error::custom(format!("{text:?} is not a 64-bit integer")))
            }
            other => Err(D::Error::custom(format!("{other} is not a 64-bit integer"))),
        }
    }
}

/// A protobuf double in JSON: a number, or a string holding one (`"NaN"`, `"Infinity"`,
/// `"-Infinity"` included).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Double(pub f64);

impl<'de> Deserialize<'de> for Double {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Number(number) => number.as_f64().map(Double).ok_or_else(|| D::Error::custom("not a number")),
            serde_json::Value::String(text) => match text.trim() {
                "NaN" => Ok(Double(f64::NAN)),
                "Infinity" => Ok(Double(f64::INFINITY)),
                "-Infinity" => Ok(Double(f64::NEG_INFINITY)),
                other => other.parse().map(Double).map_err(|_| D::Error::custom(format!("{text:?} is not a number"))),
            },
            other => Err(D::Error::custom(format!("{other} is not a number"))),
        }
    }
}

/// A model, as ember's read API lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlModel {
    pub name: String,
    /// `binary_classification`, `score_categorical`, `categorical`, `regression`, `ranking`,
    /// `multi_class` or `object_detection`.
    pub model_type: String,
    /// ISO 8601.
    pub created_at: String,
    pub updated_at: String,
}

/// A model with its schema: features, tags, SHAP values and embeddings with their types, and the
/// versions (and validation batches) its records named per environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlModelSchema {
    #[serde(flatten)]
    pub model: MlModel,
    pub features: Vec<MlColumn>,
    pub tags: Vec<MlColumn>,
    pub shap_values: Vec<String>,
    pub embeddings: Vec<String>,
    pub versions: Vec<MlVersion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlColumn {
    pub name: String,
    /// `double`, `int`, `string`, `list` or `dictionary`.
    pub value_type: String,
    /// How many distinct values the environment's records hold (asked for with
    /// `cardinality=true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cardinality: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlVersion {
    /// `PRODUCTION`, `VALIDATION` or `TRAINING`.
    pub environment: String,
    pub version: Option<String>,
    pub batch_id: Option<String>,
    pub first_seen: String,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlStoredRecordJson {
    pub prediction_id: String,
    pub environment: String,
    /// The prediction's time (the actual's when there is none), ISO 8601.
    pub time: String,
    pub actual_time: Option<String>,
    pub model_version: Option<String>,
    pub batch_id: Option<String>,
    pub prediction: Option<MlLabelOut>,
    pub actual: Option<MlLabelOut>,
    pub features: BTreeMap<String, serde_json::Value>,
    pub tags: BTreeMap<String, serde_json::Value>,
    pub shap_values: BTreeMap<String, f64>,
    pub embeddings: BTreeMap<String, MlEmbeddingOut>,
}

/// A label as stored: a class and score, a number, a ranking's group and rank, or the JSON of a
/// structured label; absent parts are omitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MlLabelOut {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MlEmbeddingOut {
    pub vector: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// Records per time bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlVolumeBin {
    /// The bin's start, ISO 8601.
    pub start: String,
    pub records: i64,
    pub with_actual: i64,
}

/// A model's metrics over some records; absent where the model's type or the records do not
/// define them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MlMetrics {
    /// Records (ranking: groups) the metrics count.
    pub count: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f1: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auc: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_loss: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mae: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rmse: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mape: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r2: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ndcg: Option<f64>,
}

/// Metrics of one time bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlMetricsBin {
    /// The bin's start, ISO 8601.
    pub start: String,
    #[serde(flatten)]
    pub metrics: MlMetrics,
}

/// `GET /v1/ml/models/{model_name}/performance`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlPerformance {
    pub model_type: String,
    /// The class a classifier's precision, recall, F1, AUC and log loss are of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive_class: Option<String>,
    /// NDCG's cut-off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<i64>,
    pub overall: MlMetrics,
    pub bins: Vec<MlMetricsBin>,
}

/// A bin of a distribution: its share of the baseline's and of the current values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlDistributionBin {
    pub label: String,
    pub baseline: f64,
    pub current: f64,
}

/// A feature's or the prediction's drift (`GET /v1/ml/models/{model_name}/drift`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlDrift {
    pub name: String,
    /// `feature` or `prediction`.
    pub role: String,
    /// Numbers binned on the baseline's deciles, or text by value.
    pub numeric: bool,
    pub psi: Option<f64>,
    pub js_distance: Option<f64>,
    pub baseline_count: i64,
    pub current_count: i64,
    pub bins: Vec<MlDistributionBin>,
}

/// A feature's or tag's data quality (`GET /v1/ml/models/{model_name}/data_quality`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlQuality {
    pub name: String,
    /// `feature` or `tag`.
    pub role: String,
    pub value_type: String,
    pub records: i64,
    pub missing: i64,
    pub missing_share: Option<f64>,
    pub cardinality: i64,
    /// Distinct values no baseline record holds (text columns, given a baseline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_values: Option<i64>,
}

/// An embedding's drift (`GET /v1/ml/models/{model_name}/embedding_drift`): the euclidean
/// distance between the baseline's and the current records' mean vectors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlEmbeddingDrift {
    pub name: String,
    pub distance: Option<f64>,
    pub baseline_records: i64,
    pub current_records: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_name_one_type_and_int64_reads_strings_and_numbers() {
        let features: BTreeMap<String, ValueJson> =
            serde_json::from_str(r#"{"a":{"int":"77"},"b":{"int":5},"c":{"double":"NaN"},"d":{"string":"x"}}"#).unwrap();
        assert_eq!(features["a"], ValueJson::Int(Int64(77)));
        assert_eq!(features["b"], ValueJson::Int(Int64(5)));
        assert!(matches!(features["c"], ValueJson::Double(Double(value)) if value.is_nan()));
        let error = serde_json::from_str::<BTreeMap<String, ValueJson>>(r#"{"a":{"bool":true}}"#).unwrap_err().to_string();
        assert!(error.starts_with("invalid feature type: \"bool\""), "{error}");
        let error = serde_json::from_str::<BTreeMap<String, ValueJson>>(r#"{"a":{"int":"x7"}}"#).unwrap_err().to_string();
        assert!(error.starts_with("invalid feature type: the int value"), "{error}");
    }
}
