//! A `POST /v1/log` record (protobuf JSON, [`ember_wire::ml`]) as ember's [`MlRecord`]: labels of
//! every kind the SDK sends, typed values, embeddings with their raw data, the environment. What
//! the record means (times, limits, the model's types) is the ML service's to check.

use std::collections::BTreeMap;

use ember_core::ml::{MlActual, MlEmbedding, MlEnvironment, MlLabel, MlPrediction, MlRecord, MlValue};
use ember_wire::ml::{ActualJson, EmbeddingJson, LabelJson, MlRecordJson, PredictionJson, ValueJson};

/// The model a record names, and the record.
pub fn record_of_json(json: MlRecordJson) -> Result<(String, MlRecord), String> {
    let model = json.model_id.unwrap_or_default();
    let (mut prediction, mut actual) = (json.prediction, json.actual);
    if let Some(both) = json.prediction_and_actual {
        prediction = prediction.or(both.prediction);
        actual = actual.or(both.actual);
    }
    let (environment, batch_id) = match json.environment_params {
        Some(params) if params.training.is_some() => (MlEnvironment::Training, None),
        Some(params) if params.validation.is_some() => (MlEnvironment::Validation, params.validation.and_then(|v| v.batch_id)),
        _ => (MlEnvironment::Production, None),
    };
    let mut shap = BTreeMap::new();
    let mut importances_version = None;
    if let Some(importances) = json.feature_importances {
        importances_version = importances.model_version;
        shap = importances.feature_importances.into_iter().map(|(name, value)| (name, value.0)).collect();
    }
    let mut prediction = prediction.map(prediction_of).transpose()?;
    if let (Some(prediction), Some(version)) = (&mut prediction, importances_version) {
        prediction.model_version.get_or_insert(version);
    }
    let record = MlRecord {
        prediction_id: json.prediction_id.unwrap_or_default(),
        environment,
        batch_id: batch_id.filter(|batch| !batch.is_empty()),
        prediction,
        actual: actual.map(actual_of).transpose()?,
        shap,
    };
    Ok((model, record))
}

fn prediction_of(json: PredictionJson) -> Result<MlPrediction, String> {
    let mut features = BTreeMap::new();
    let mut embeddings = BTreeMap::new();
    for (name, value) in json.features {
        match value_of(value) {
            Ok(value) => {
                features.insert(name, value);
            }
            Err(embedding) => {
                embeddings.insert(name, embedding_of(embedding));
            }
        }
    }
    Ok(MlPrediction {
        time: json.timestamp.as_deref().map(time_of).transpose()?,
        model_version: json.model_version.filter(|version| !version.is_empty()),
        label: json.prediction_label.or(json.label).map(|label| label_of(label, Side::Prediction)).transpose()?,
        features,
        embeddings,
        tags: tags_of(json.tags)?,
    })
}

fn actual_of(json: ActualJson) -> Result<MlActual, String> {
    Ok(MlActual {
        time: json.timestamp.as_deref().map(time_of).transpose()?,
        label: json.actual_label.or(json.label).map(|label| label_of(label, Side::Actual)).transpose()?,
        tags: tags_of(json.tags)?,
    })
}

fn tags_of(tags: BTreeMap<String, ValueJson>) -> Result<BTreeMap<String, MlValue>, String> {
    tags.into_iter()
        .map(|(name, value)| match value_of(value) {
            Ok(value) => Ok((name, value)),
            Err(_) => Err(format!("invalid feature type: the tag {name:?} is an embedding; tags are strings or numbers")),
        })
        .collect()
}

fn time_of(text: &str) -> Result<i64, String> {
    ember_core::time::parse_timestamp(text).ok_or_else(|| format!("the timestamp {text:?} is not an RFC 3339 time"))
}

/// A value, or the embedding it is.
fn value_of(value: ValueJson) -> Result<MlValue, EmbeddingJson> {
    Ok(match value {
        ValueJson::String(text) => MlValue::String(text),
        ValueJson::Int(int) => MlValue::Int(int.0),
        ValueJson::Double(double) => MlValue::Double(double.0),
        ValueJson::MultiValue(list) => MlValue::List(list.values),
        ValueJson::Dictionary(map) => MlValue::Dictionary(map.values.into_iter().map(|(key, value)| (key, value.0)).collect()),
        ValueJson::Embedding(embedding) => return Err(embedding),
    })
}

fn embedding_of(json: EmbeddingJson) -> MlEmbedding {
    MlEmbedding {
        vector: json.vector.into_iter().map(|value| value.0).collect(),
        data: json.raw_data.and_then(|raw| raw.token_array).map(|tokens| tokens.tokens),
        link: json.link_to_data.filter(|link| !link.is_empty()),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Prediction,
    Actual,
}

fn label_of(json: LabelJson, side: Side) -> Result<MlLabel, String> {
    if let Some(binary) = json.binary {
        return Ok(MlLabel::Categorical { category: Some(if binary { "True" } else { "False" }.to_string()), score: None });
    }
    if let Some(category) = json.categorical {
        return Ok(MlLabel::Categorical { category: Some(category), score: None });
    }
    if let Some(number) = json.numeric {
        return Ok(MlLabel::Numeric(number.0));
    }
    if let Some(scored) = json.score_categorical {
        if let Some(category) = scored.score_category.or(scored.category) {
            return Ok(MlLabel::Categorical { category: category.category, score: category.score.map(|score| score.0) });
        }
        if let Some(value) = scored.score_value {
            return Ok(MlLabel::Categorical { category: None, score: value.value.map(|score| score.0) });
        }
        return Ok(MlLabel::Categorical { category: scored.categorical, score: scored.score.map(|score| score.0) });
    }
    if let Some(ranking) = json.ranking {
        return Ok(match side {
            Side::Prediction => MlLabel::Ranking {
                group_id: ranking.prediction_group_id,
                rank: ranking.rank.map(|rank| rank.0),
                score: ranking.prediction_score.map(|score| score.0),
                label: ranking.label,
                categories: Vec::new(),
                relevance: None,
            },
            Side::Actual => MlLabel::Ranking {
                group_id: None,
                rank: None,
                score: None,
                label: None,
                categories: ranking.category.map(|category| category.values).unwrap_or_default(),
                relevance: ranking.relevance_score.map(|score| score.0),
            },
        });
    }
    if let Some(detail) = json.object_detection.or(json.cv_label) {
        return Ok(MlLabel::ObjectDetection(detail));
    }
    if let Some(detail) = json.multi_class {
        return Ok(MlLabel::MultiClass(detail));
    }
    Err("the label names no kind: numeric, categorical, binary, score_categorical, ranking, multi_class or object_detection".into())
}
