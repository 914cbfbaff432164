//! An `ml.log` upload's table as ember's [`MlRecord`]s: the `arize-schema` constants (model,
//! version, batch, environment, type) and its `arrow_schema` (which column holds the prediction
//! id, the time, labels and scores, features, tags, SHAP values, embeddings, ranking groups and
//! ranks), read column by column from each record batch.
//!
//! Cells are read as pandas writes them through pyarrow: integers, floats (NaN is missing),
//! strings, booleans (the classes `True`/`False`, as the SDK's single records send them), lists of
//! strings, and times as Unix seconds (integers or floats) or Arrow timestamps and dates.

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, TimeUnit};
use ember_core::ml::{MlActual, MlEmbedding, MlEnvironment, MlLabel, MlPrediction, MlRecord, MlValue, ModelType};

use ember_service::ml_models::RecordRules;

use crate::arize::proto;
use crate::error::{ApiError, ApiResult};

/// How to read an upload's rows.
#[derive(Debug, Clone)]
pub struct MlTable {
    pub model: String,
    pub model_type: ModelType,
    environment: MlEnvironment,
    version: Option<String>,
    batch_id: Option<String>,
    columns: proto::ArrowSchema,
}

/// An embedding's name and its vector, data and link columns.
type EmbeddingArrays<'a> = (&'a String, Option<&'a ArrayRef>, Option<&'a ArrayRef>, Option<&'a ArrayRef>);

/// One column's cell.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    List(Vec<Cell>),
    /// Unix nanoseconds.
    Time(i64),
}

impl MlTable {
    /// The table an upload's schema describes; a message naming what is unsupported otherwise.
    pub fn new(constants: proto::Constants, columns: proto::ArrowSchema, schema: &Schema) -> Result<MlTable, String> {
        let environment = match constants.environment {
            1 => MlEnvironment::Training,
            2 => MlEnvironment::Validation,
            3 => MlEnvironment::Production,
            4 => return Err("corpus uploads (Environments.CORPUS) are not supported".into()),
            other => return Err(format!("the upload names no environment ember knows ({other}); use PRODUCTION, TRAINING or VALIDATION")),
        };
        let model_type = match ModelType::from_number(constants.model_type.into()) {
            Some(
                model_type @ (ModelType::Binary
                | ModelType::Categorical
                | ModelType::ScoreCategorical
                | ModelType::Numeric
                | ModelType::Ranking),
            ) => model_type,
            Some(other) => return Err(format!("uploads of {} models are not supported; log their records one at a time", other.name())),
            None => return Err(format!("the upload names no model type ember knows ({})", constants.model_type)),
        };
        if columns.prediction_id_column_name.is_empty() {
            return Err("the upload's schema names no prediction id column".into());
        }
        let table = MlTable {
            model: constants.model_id,
            model_type,
            environment,
            version: Some(constants.model_version).filter(|version| !version.is_empty()),
            batch_id: Some(constants.batch_id).filter(|batch| !batch.is_empty()),
            columns,
        };
        for name in table.column_names() {
            let field =
                schema.field_with_name(name).map_err(|_| format!("the schema names the column {name:?}, which the table does not have"))?;
            if !supported(field.data_type()) {
                return Err(format!("the column {name:?} has the type {}, which ML uploads do not take", field.data_type()));
            }
        }
        Ok(table)
    }

    /// Every column the schema names.
    fn column_names(&self) -> impl Iterator<Item = &str> {
        let columns = &self.columns;
        let singles = [
            &columns.prediction_id_column_name,
            &columns.timestamp_column_name,
            &columns.prediction_label_column_name,
            &columns.prediction_score_column_name,
            &columns.actual_label_column_name,
            &columns.actual_score_column_name,
            &columns.model_version_column_name,
            &columns.batch_id_column_name,
            &columns.prediction_group_id_column_name,
            &columns.rank_column_name,
        ];
        let embeddings = columns
            .embedding_feature_column_names_map
            .values()
            .flat_map(|embedding| [&embedding.vector_column_name, &embedding.data_column_name, &embedding.link_to_data_column_name]);
        singles
            .into_iter()
            .chain(&columns.feature_column_names)
            .chain(&columns.tag_column_names)
            .chain(columns.shap_values_column_names.values())
            .chain(embeddings)
            .map(String::as_str)
            .filter(|name| !name.is_empty())
    }

    /// The records of one batch; a message naming the row and column of a cell that cannot be
    /// read. `first_row` numbers the batch's first row in the upload.
    pub fn records(&self, batch: &RecordBatch, first_row: usize) -> Result<Vec<MlRecord>, String> {
        let column = |name: &str| (!name.is_empty()).then(|| batch.column_by_name(name)).flatten();
        let named = |names: &[String]| -> Vec<(String, ArrayRef)> {
            names.iter().filter_map(|name| column(name).map(|array| (name.clone(), array.clone()))).collect()
        };
        let columns = &self.columns;
        let prediction_ids = column(&columns.prediction_id_column_name).ok_or("the prediction id column is missing")?;
        let times = column(&columns.timestamp_column_name);
        let prediction_labels = column(&columns.prediction_label_column_name);
        let prediction_scores = column(&columns.prediction_score_column_name);
        let actual_labels = column(&columns.actual_label_column_name);
        let actual_scores = column(&columns.actual_score_column_name);
        let versions = column(&columns.model_version_column_name);
        let batches = column(&columns.batch_id_column_name);
        let group_ids = column(&columns.prediction_group_id_column_name);
        let ranks = column(&columns.rank_column_name);
        let features = named(&columns.feature_column_names);
        let tags = named(&columns.tag_column_names);
        let shap: Vec<(String, ArrayRef)> = columns
            .shap_values_column_names
            .iter()
            .filter_map(|(feature, name)| column(name).map(|array| (feature.clone(), array.clone())))
            .collect();
        let embeddings: Vec<EmbeddingArrays> = columns
            .embedding_feature_column_names_map
            .iter()
            .map(|(name, parts)| {
                (name, column(&parts.vector_column_name), column(&parts.data_column_name), column(&parts.link_to_data_column_name))
            })
            .collect();
        let mut records = Vec::with_capacity(batch.num_rows());
        for row in 0..batch.num_rows() {
            let at = |name: &str, array: &ArrayRef| {
                cell(array, row).map_err(|problem| format!("row {}, column {name:?}: {problem}", first_row + row))
            };
            let optional = |name: &str, array: Option<&ArrayRef>| array.map(|array| at(name, array)).transpose().map(Option::flatten);
            let prediction_id = match optional(&columns.prediction_id_column_name, Some(prediction_ids))? {
                Some(Cell::Text(text)) => text,
                Some(Cell::Int(int)) => int.to_string(),
                Some(other) => return Err(format!("row {}: the prediction id {other:?} is not text", first_row + row)),
                None => return Err(format!("row {}: the prediction id is missing", first_row + row)),
            };
            let time = time_of(optional(&columns.timestamp_column_name, times)?)
                .map_err(|problem| format!("row {}: {problem}", first_row + row))?;
            let text = |cell: Option<Cell>| cell.map(category_text);
            let number = |cell: Option<Cell>| cell.and_then(number_of);
            let prediction_label = optional(&columns.prediction_label_column_name, prediction_labels)?;
            let prediction_score = number(optional(&columns.prediction_score_column_name, prediction_scores)?);
            let actual_label = optional(&columns.actual_label_column_name, actual_labels)?;
            let actual_score = number(optional(&columns.actual_score_column_name, actual_scores)?);
            let (predicted, observed) = match self.model_type {
                ModelType::Numeric => {
                    (number(prediction_label.clone()).map(MlLabel::Numeric), number(actual_label.clone()).map(MlLabel::Numeric))
                }
                ModelType::Ranking => {
                    let group_id = text(optional(&columns.prediction_group_id_column_name, group_ids)?);
                    let rank = number(optional(&columns.rank_column_name, ranks)?).map(|rank| rank as i64);
                    let predicted = (group_id.is_some() || rank.is_some() || prediction_score.is_some() || prediction_label.is_some())
                        .then(|| MlLabel::Ranking {
                            group_id,
                            rank,
                            score: prediction_score,
                            label: text(prediction_label.clone()),
                            categories: Vec::new(),
                            relevance: None,
                        });
                    let categories = match actual_label.clone() {
                        Some(Cell::List(items)) => items.into_iter().map(category_text).collect(),
                        Some(other) => vec![category_text(other)],
                        None => Vec::new(),
                    };
                    let observed = (!categories.is_empty() || actual_score.is_some()).then_some(MlLabel::Ranking {
                        group_id: None,
                        rank: None,
                        score: None,
                        label: None,
                        categories,
                        relevance: actual_score,
                    });
                    (predicted, observed)
                }
                _ => {
                    let classify = |label: Option<Cell>, score: Option<f64>| {
                        let category = text(label);
                        (category.is_some() || score.is_some()).then_some(MlLabel::Categorical { category, score })
                    };
                    (classify(prediction_label.clone(), prediction_score), classify(actual_label.clone(), actual_score))
                }
            };
            let mut row_features = BTreeMap::new();
            for (name, array) in &features {
                if let Some(value) = at(name, array)?.and_then(value_of) {
                    row_features.insert(name.clone(), value);
                }
            }
            let mut row_tags = BTreeMap::new();
            for (name, array) in &tags {
                if let Some(value) = at(name, array)?.and_then(value_of) {
                    row_tags.insert(name.clone(), value);
                }
            }
            let mut row_shap = BTreeMap::new();
            for (feature, array) in &shap {
                if let Some(value) = number(at(feature, array)?) {
                    row_shap.insert(feature.clone(), value);
                }
            }
            let mut row_embeddings = BTreeMap::new();
            for (name, vector, data, link) in &embeddings {
                let Some(Cell::List(items)) = optional(name, *vector)? else { continue };
                let vector = items.into_iter().map(|item| number(Some(item)).unwrap_or(f64::NAN)).collect();
                let data = match optional(name, *data)? {
                    Some(Cell::List(tokens)) => Some(tokens.into_iter().map(category_text).collect()),
                    Some(other) => Some(vec![category_text(other)]),
                    None => None,
                };
                let link = text(optional(name, *link)?);
                row_embeddings.insert((*name).clone(), MlEmbedding { vector, data, link });
            }
            let version = text(optional(&columns.model_version_column_name, versions)?).or_else(|| self.version.clone());
            let batch_id = text(optional(&columns.batch_id_column_name, batches)?).or_else(|| self.batch_id.clone());
            let has_prediction = predicted.is_some() || !row_features.is_empty() || !row_embeddings.is_empty();
            let prediction = has_prediction.then(|| MlPrediction {
                time,
                model_version: version,
                label: predicted,
                features: row_features,
                embeddings: row_embeddings,
                tags: std::mem::take(&mut row_tags),
            });
            // Tags without a prediction are an actual's (the SDK's delayed tags).
            let actual = (observed.is_some() || !row_tags.is_empty()).then(|| MlActual {
                time: prediction.is_none().then_some(time).flatten(),
                label: observed,
                tags: row_tags,
            });
            records.push(MlRecord { prediction_id, environment: self.environment, batch_id, prediction, actual, shap: row_shap });
        }
        Ok(records)
    }
}

impl MlTable {
    /// Checks one batch's rows by the ML service's record rules, column by column, without
    /// decoding records (the first reading of a large upload): ids, times, that each row holds a
    /// value, embeddings; the table's names and width with its first batch (`first_row` 0).
    pub fn check(&self, batch: &RecordBatch, first_row: usize, rules: &RecordRules) -> ApiResult<()> {
        let columns = &self.columns;
        let column = |name: &str| (!name.is_empty()).then(|| batch.column_by_name(name)).flatten();
        let unreadable = |row: usize, name: &str, problem: String| {
            ApiError::unprocessable(format!("row {}, column {name:?}: {problem}", first_row + row))
        };
        let ids =
            column(&columns.prediction_id_column_name).ok_or_else(|| ApiError::unprocessable("the prediction id column is missing"))?;
        let id_of = |row: usize| -> ApiResult<String> {
            match cell(ids, row).map_err(|problem| unreadable(row, &columns.prediction_id_column_name, problem))? {
                Some(Cell::Text(text)) => Ok(text),
                Some(Cell::Int(int)) => Ok(int.to_string()),
                Some(other) => Err(ApiError::unprocessable(format!("row {}: the prediction id {other:?} is not text", first_row + row))),
                None => Err(ApiError::unprocessable(format!("row {}: the prediction id is missing", first_row + row))),
            }
        };
        rules.model(&self.model)?;
        if first_row == 0 && batch.num_rows() > 0 {
            let id = id_of(0)?;
            let names = columns
                .feature_column_names
                .iter()
                .chain(&columns.tag_column_names)
                .chain(columns.shap_values_column_names.keys())
                .chain(columns.embedding_feature_column_names_map.keys());
            let mut count = 0;
            for name in names {
                rules.name(&id, name)?;
                count += 1;
            }
            rules.value_count(&id, count)?;
            rules.embedding_count(&id, columns.embedding_feature_column_names_map.len())?;
        }
        let times = column(&columns.timestamp_column_name);
        // Every column whose value makes a prediction, an actual or SHAP values.
        let values: Vec<&ArrayRef> = [
            &columns.prediction_label_column_name,
            &columns.prediction_score_column_name,
            &columns.actual_label_column_name,
            &columns.actual_score_column_name,
            &columns.prediction_group_id_column_name,
            &columns.rank_column_name,
        ]
        .into_iter()
        .chain(&columns.feature_column_names)
        .chain(&columns.tag_column_names)
        .chain(columns.shap_values_column_names.values())
        .chain(columns.embedding_feature_column_names_map.values().map(|parts| &parts.vector_column_name))
        .filter_map(|name| column(name))
        .collect();
        let vectors: Vec<(&String, &ArrayRef)> = columns
            .embedding_feature_column_names_map
            .iter()
            .filter_map(|(name, parts)| column(&parts.vector_column_name).map(|array| (name, array)))
            .collect();
        let mut vector = Vec::new();
        for row in 0..batch.num_rows() {
            let id = id_of(row)?;
            rules.prediction_id(&id)?;
            rules.content(values.iter().any(|array| present(array, row)))?;
            if let Some(times) = times {
                let time = time_of(cell(times, row).map_err(|problem| unreadable(row, &columns.timestamp_column_name, problem))?)
                    .map_err(|problem| ApiError::unprocessable(format!("row {}: {problem}", first_row + row)))?;
                if let Some(time) = time {
                    rules.time(&id, time)?;
                }
            }
            for (name, array) in &vectors {
                if let Some(Cell::List(items)) = cell(array, row).map_err(|problem| unreadable(row, name, problem))? {
                    vector.clear();
                    vector.extend(items.into_iter().map(|item| number_of(item).unwrap_or(f64::NAN)));
                    rules.embedding(&id, name, &vector)?;
                }
            }
        }
        Ok(())
    }
}

/// Whether a row has a value in a column (NaN is pandas' missing value).
fn present(array: &ArrayRef, row: usize) -> bool {
    if array.is_null(row) {
        return false;
    }
    match array.data_type() {
        DataType::Float64 => !array.as_primitive::<Float64Type>().value(row).is_nan(),
        DataType::Float32 => !array.as_primitive::<Float32Type>().value(row).is_nan(),
        _ => true,
    }
}

/// A time cell as Unix nanoseconds: a time, or Unix seconds as an integer or a float.
fn time_of(cell: Option<Cell>) -> Result<Option<i64>, String> {
    Ok(match cell {
        None => None,
        Some(Cell::Time(nanos)) => Some(nanos),
        Some(Cell::Int(seconds)) => Some(seconds.saturating_mul(1_000_000_000)),
        Some(Cell::Float(seconds)) => Some((seconds * 1e9) as i64),
        Some(other) => return Err(format!("the timestamp {other:?} is not a time or Unix seconds")),
    })
}

fn number_of(cell: Cell) -> Option<f64> {
    match cell {
        Cell::Int(int) => Some(int as f64),
        Cell::Float(float) => Some(float),
        _ => None,
    }
}

/// A label or text cell as a class name: booleans as `True`/`False`, numbers as Python prints
/// them.
fn category_text(cell: Cell) -> String {
    match cell {
        Cell::Text(text) => text,
        Cell::Bool(flag) => if flag { "True" } else { "False" }.to_string(),
        Cell::Int(int) => int.to_string(),
        Cell::Float(float) if float.fract() == 0.0 && float.abs() < 1e16 => format!("{float:.1}"),
        Cell::Float(float) => float.to_string(),
        Cell::Time(nanos) => ember_core::time::format_nanos(nanos),
        Cell::List(items) => items.into_iter().map(category_text).collect::<Vec<_>>().join(","),
    }
}

/// A feature's or tag's value.
fn value_of(cell: Cell) -> Option<MlValue> {
    Some(match cell {
        Cell::Int(int) => MlValue::Int(int),
        Cell::Float(float) => MlValue::Double(float),
        Cell::Text(text) => MlValue::String(text),
        Cell::Bool(flag) => MlValue::String(if flag { "True" } else { "False" }.to_string()),
        Cell::Time(nanos) => MlValue::String(ember_core::time::format_nanos(nanos)),
        Cell::List(items) => MlValue::List(items.into_iter().map(category_text).collect()),
    })
}

/// Whether [`cell`] reads a column of this type.
fn supported(data_type: &DataType) -> bool {
    match data_type {
        DataType::Dictionary(_, values) => supported(values),
        DataType::List(item) | DataType::LargeList(item) | DataType::FixedSizeList(item, _) => supported(item.data_type()),
        other => matches!(
            other,
            DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Utf8View
                | DataType::Boolean
                | DataType::Int8
                | DataType::Int16
                | DataType::Int32
                | DataType::Int64
                | DataType::UInt8
                | DataType::UInt16
                | DataType::UInt32
                | DataType::UInt64
                | DataType::Float16
                | DataType::Float32
                | DataType::Float64
                | DataType::Timestamp(_, _)
                | DataType::Date32
                | DataType::Date64
                | DataType::Null
        ),
    }
}

/// A cell; `None` when it is missing (null, or a NaN float).
fn cell(array: &ArrayRef, row: usize) -> Result<Option<Cell>, String> {
    if array.is_null(row) {
        return Ok(None);
    }
    let float = |value: f64| (!value.is_nan()).then_some(Cell::Float(value));
    Ok(match array.data_type() {
        DataType::Utf8 => Some(Cell::Text(array.as_string::<i32>().value(row).to_string())),
        DataType::LargeUtf8 => Some(Cell::Text(array.as_string::<i64>().value(row).to_string())),
        DataType::Utf8View => Some(Cell::Text(array.as_string_view().value(row).to_string())),
        DataType::Boolean => Some(Cell::Bool(array.as_boolean().value(row))),
        DataType::Int8 => Some(Cell::Int(array.as_primitive::<Int8Type>().value(row).into())),
        DataType::Int16 => Some(Cell::Int(array.as_primitive::<Int16Type>().value(row).into())),
        DataType::Int32 => Some(Cell::Int(array.as_primitive::<Int32Type>().value(row).into())),
        DataType::Int64 => Some(Cell::Int(array.as_primitive::<Int64Type>().value(row))),
        DataType::UInt8 => Some(Cell::Int(array.as_primitive::<UInt8Type>().value(row).into())),
        DataType::UInt16 => Some(Cell::Int(array.as_primitive::<UInt16Type>().value(row).into())),
        DataType::UInt32 => Some(Cell::Int(array.as_primitive::<UInt32Type>().value(row).into())),
        DataType::UInt64 => {
            Some(Cell::Int(i64::try_from(array.as_primitive::<UInt64Type>().value(row)).map_err(|_| "an integer too large")?))
        }
        DataType::Float16 => float(f64::from(array.as_primitive::<Float16Type>().value(row))),
        DataType::Float32 => float(f64::from(array.as_primitive::<Float32Type>().value(row))),
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Timestamp(unit, _) => {
            let (value, nanos_per_unit) = match unit {
                TimeUnit::Second => (array.as_primitive::<TimestampSecondType>().value(row), 1_000_000_000),
                TimeUnit::Millisecond => (array.as_primitive::<TimestampMillisecondType>().value(row), 1_000_000),
                TimeUnit::Microsecond => (array.as_primitive::<TimestampMicrosecondType>().value(row), 1_000),
                TimeUnit::Nanosecond => (array.as_primitive::<TimestampNanosecondType>().value(row), 1),
            };
            Some(Cell::Time(value.saturating_mul(nanos_per_unit)))
        }
        DataType::Date32 => Some(Cell::Time(i64::from(array.as_primitive::<Date32Type>().value(row)) * 86_400_000_000_000)),
        DataType::Date64 => Some(Cell::Time(array.as_primitive::<Date64Type>().value(row).saturating_mul(1_000_000))),
        DataType::Dictionary(_, _) => {
            let dictionary = array.as_any_dictionary();
            let key = dictionary.normalized_keys()[row];
            return cell(dictionary.values(), key);
        }
        DataType::List(_) => Some(list(array.as_list::<i32>().value(row))?),
        DataType::LargeList(_) => Some(list(array.as_list::<i64>().value(row))?),
        DataType::FixedSizeList(_, _) => Some(list(array.as_fixed_size_list().value(row))?),
        DataType::Null => None,
        other => return Err(format!("the column type {other} is not supported")),
    })
}

fn list(items: ArrayRef) -> Result<Cell, String> {
    let mut cells = Vec::with_capacity(items.len());
    for index in 0..items.len() {
        // A missing item of a vector stays in place (as NaN) so positions keep their meaning.
        cells.push(cell(&items, index)?.unwrap_or(Cell::Float(f64::NAN)));
    }
    Ok(Cell::List(cells))
}
