//! Reading models, their columns and versions, and pages of their records (keyset on
//! (time, id) within an environment, through the record table's time index).

use std::collections::BTreeMap;

use ember_core::ml::{MlEnvironment, MlValue, MlValueType, ModelType};

use super::table::{self, FIXED_COLUMNS};
use super::{MlColumnRecord, MlColumnRole, MlModelRecord, MlStoredRecord, MlVersionRecord, StoredLabel};
use crate::engine::backend::{Row, Statement};
use crate::engine::db::Store;
use crate::error::{Result, StoreError};

/// Which records of a model to read.
#[derive(Debug, Clone)]
pub struct MlRecordQuery {
    pub environment: MlEnvironment,
    /// Records at or after this time (Unix ns).
    pub start: Option<i64>,
    /// Records before this time.
    pub end: Option<i64>,
    /// Only records with (or without) an actual.
    pub has_actual: Option<bool>,
    pub model_version: Option<String>,
    pub batch_id: Option<String>,
    /// Conditions on features and tags, all of which a record meets.
    pub predicates: Vec<MlPredicate>,
    /// The page after this record's (time, id).
    pub after: Option<(i64, i64)>,
    pub limit: usize,
}

impl MlRecordQuery {
    /// Every record of `environment`.
    pub fn environment(environment: MlEnvironment) -> MlRecordQuery {
        MlRecordQuery {
            environment,
            start: None,
            end: None,
            has_actual: None,
            model_version: None,
            batch_id: None,
            predicates: Vec::new(),
            after: None,
            limit: usize::MAX,
        }
    }
}

/// A condition on a feature's or tag's value: a record without the value does not meet it
/// (`!=` included).
#[derive(Debug, Clone, PartialEq)]
pub struct MlPredicate {
    /// The `ml_columns` id of the feature or tag.
    pub column_id: i64,
    pub comparison: MlComparison,
    /// A number for a numeric column, text otherwise (text compares by code point).
    pub value: MlPredicateValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MlComparison {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl MlComparison {
    pub fn operator(self) -> &'static str {
        match self {
            MlComparison::Equal => "=",
            MlComparison::NotEqual => "<>",
            MlComparison::Less => "<",
            MlComparison::LessOrEqual => "<=",
            MlComparison::Greater => ">",
            MlComparison::GreaterOrEqual => ">=",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum MlPredicateValue {
    Number(f64),
    Text(String),
}

/// Records per time bin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MlVolumeBin {
    /// The bin's start (Unix ns).
    pub start: i64,
    pub records: i64,
    pub with_actual: i64,
}

const MODEL_COLUMNS: &str = "id, name, model_type, created_at, updated_at";

fn model_of_row(row: &Row) -> Result<MlModelRecord> {
    let model_type: String = row.get(2)?;
    Ok(MlModelRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        model_type: ModelType::parse(&model_type).ok_or_else(|| StoreError::Corrupt(format!("unknown model type {model_type:?}")))?,
        created_at: row.get(3)?,
        updated_at: row.get(4)?,
    })
}

pub(super) fn column_of_row(row: &Row) -> Result<MlColumnRecord> {
    let role: String = row.get(1)?;
    let value_type: String = row.get(3)?;
    Ok(MlColumnRecord {
        id: row.get(0)?,
        role: MlColumnRole::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("unknown column role {role:?}")))?,
        name: row.get(2)?,
        value_type: MlValueType::parse(&value_type).ok_or_else(|| StoreError::Corrupt(format!("unknown value type {value_type:?}")))?,
    })
}

impl Store {
    /// Every model, by name.
    pub async fn ml_models(&self) -> Result<Vec<MlModelRecord>> {
        let rows = self.reader.exec().fetch_all(Statement::new(format!("SELECT {MODEL_COLUMNS} FROM ml_models ORDER BY name"), [])).await?;
        rows.iter().map(model_of_row).collect()
    }

    pub async fn ml_model(&self, name: &str) -> Result<Option<MlModelRecord>> {
        let statement = Statement::new(format!("SELECT {MODEL_COLUMNS} FROM ml_models WHERE name = $1"), [name.into()]);
        self.reader.exec().fetch_optional(statement).await?.as_ref().map(model_of_row).transpose()
    }

    /// A model's features, tags, SHAP values and embeddings, in the order they appeared.
    pub async fn ml_columns(&self, model_id: i64) -> Result<Vec<MlColumnRecord>> {
        let statement =
            Statement::new("SELECT id, role, name, value_type FROM ml_columns WHERE model_id = $1 ORDER BY id", [model_id.into()]);
        self.reader.exec().fetch_all(statement).await?.iter().map(column_of_row).collect()
    }

    /// The versions and validation batches a model's records named.
    pub async fn ml_versions(&self, model_id: i64) -> Result<Vec<MlVersionRecord>> {
        let statement = Statement::new(
            "SELECT environment, version, batch_id, first_seen FROM ml_model_versions WHERE model_id = $1 ORDER BY environment, first_seen, version, batch_id",
            [model_id.into()],
        );
        let rows = self.reader.exec().fetch_all(statement).await?;
        rows.iter()
            .map(|row| {
                let environment: i64 = row.get(0)?;
                let text =
                    |index: usize| -> Result<Option<String>> { Ok(Some(row.get::<String, _>(index)?).filter(|text| !text.is_empty())) };
                Ok(MlVersionRecord {
                    environment: MlEnvironment::from_number(environment)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown environment {environment}")))?,
                    version: text(1)?,
                    batch_id: text(2)?,
                    first_seen: row.get(3)?,
                })
            })
            .collect()
    }

    /// A page of a model's records in (time, id) order; `columns` are the model's (from
    /// [`Store::ml_columns`]).
    pub async fn ml_records(&self, model_id: i64, columns: &[MlColumnRecord], query: &MlRecordQuery) -> Result<Vec<MlStoredRecord>> {
        let value_columns: Vec<&MlColumnRecord> = columns.iter().filter(|column| column.role.has_table_column()).collect();
        let mut select: Vec<String> = vec!["id".into()];
        select.extend(FIXED_COLUMNS.iter().map(|name| name.to_string()));
        select.extend(value_columns.iter().map(|column| table::value_column(column.id)));
        let (conditions, values) = conditions(query);
        let sql = format!(
            "SELECT {} FROM {} WHERE {} ORDER BY time, id LIMIT {}",
            select.join(", "),
            table::table_name(model_id),
            conditions.join(" AND "),
            query.limit
        );
        let rows = self.fetch_within_budget(Statement::new(sql, values)).await?;
        rows.iter().map(|row| record_of_row(row, &value_columns)).collect()
    }

    /// How many records `query` selects (its cursor and limit aside).
    pub async fn ml_count(&self, model_id: i64, query: &MlRecordQuery) -> Result<i64> {
        let query = MlRecordQuery { after: None, ..query.clone() };
        let (conditions, values) = conditions(&query);
        let sql = format!("SELECT COUNT(*) FROM {} WHERE {}", table::table_name(model_id), conditions.join(" AND "));
        let rows = self.fetch_within_budget(Statement::new(sql, values)).await?;
        rows.first().map(|row| row.get(0)).transpose().map(Option::unwrap_or_default)
    }

    /// A model's stored record by environment and prediction id.
    pub async fn ml_record(
        &self,
        model_id: i64,
        columns: &[MlColumnRecord],
        environment: MlEnvironment,
        prediction_id: &str,
    ) -> Result<Option<MlStoredRecord>> {
        let value_columns: Vec<&MlColumnRecord> = columns.iter().filter(|column| column.role.has_table_column()).collect();
        let mut select: Vec<String> = vec!["id".into()];
        select.extend(FIXED_COLUMNS.iter().map(|name| name.to_string()));
        select.extend(value_columns.iter().map(|column| table::value_column(column.id)));
        let sql =
            format!("SELECT {} FROM {} WHERE environment = $1 AND prediction_id = $2", select.join(", "), table::table_name(model_id));
        let row = self.reader.exec().fetch_optional(Statement::new(sql, [environment.number().into(), prediction_id.into()])).await?;
        row.map(|row| record_of_row(&row, &value_columns)).transpose()
    }

    /// Records per `bin` nanoseconds of time (bins aligned on the epoch) in an environment.
    pub async fn ml_volume(&self, model_id: i64, environment: MlEnvironment, start: i64, end: i64, bin: i64) -> Result<Vec<MlVolumeBin>> {
        let bin = bin.max(1);
        let window = MlRecordQuery { start: Some(start), end: Some(end), ..MlRecordQuery::environment(environment) };
        if let Some(summaries) = self.ml_hour_summaries(model_id, &window, &[], Some(bin), true).await? {
            return Ok(super::from_summaries::volume(&summaries, bin));
        }
        let sql = format!(
            "SELECT (time - time % {bin}) AS bin, COUNT(*), SUM(has_actual) FROM {} WHERE environment = $1 AND time >= $2 AND time < $3 GROUP BY 1 ORDER BY 1",
            self.ml_scanned(model_id, &window).await?
        );
        let rows = self.fetch_within_budget(Statement::new(sql, [environment.number().into(), start.into(), end.into()])).await?;
        rows.iter().map(|row| Ok(MlVolumeBin { start: row.get(0)?, records: row.get(1)?, with_actual: row.get(2)? })).collect()
    }
}

fn conditions(query: &MlRecordQuery) -> (Vec<String>, Vec<sea_query::Value>) {
    let mut values = Vec::new();
    let conditions = conditions_after(query, &mut values);
    (conditions, values)
}

/// The query's conditions, their values appended to `values` (placeholders numbered after the
/// values already there).
pub(super) fn conditions_after(query: &MlRecordQuery, values: &mut Vec<sea_query::Value>) -> Vec<String> {
    let mut conditions = Vec::new();
    let mut add = |condition: &str, bound: Vec<sea_query::Value>| {
        let mut text = condition.to_string();
        for value in bound {
            values.push(value);
            text = text.replacen('?', &format!("${}", values.len()), 1);
        }
        conditions.push(text);
    };
    add("environment = ?", vec![query.environment.number().into()]);
    // One lower bound on time, the later of the window's start and the cursor's: SQLite bounds
    // the index range by one of them only.
    let lower = match (query.start, query.after) {
        (Some(start), Some((time, _))) => Some(start.max(time)),
        (start, after) => start.or(after.map(|(time, _)| time)),
    };
    if let Some(lower) = lower {
        add("time >= ?", vec![lower.into()]);
    }
    if let Some(end) = query.end {
        add("time < ?", vec![end.into()]);
    }
    if let Some(has_actual) = query.has_actual {
        add("has_actual = ?", vec![i16::from(has_actual).into()]);
    }
    if let Some(version) = &query.model_version {
        add("model_version = ?", vec![version.as_str().into()]);
    }
    if let Some(batch_id) = &query.batch_id {
        add("batch_id = ?", vec![batch_id.as_str().into()]);
    }
    for predicate in &query.predicates {
        let value = match &predicate.value {
            MlPredicateValue::Number(number) => sea_query::Value::from(*number),
            MlPredicateValue::Text(text) => sea_query::Value::from(text.as_str()),
        };
        add(&format!("{} {} ?", table::value_column(predicate.column_id), predicate.comparison.operator()), vec![value]);
    }
    if let Some((time, id)) = query.after {
        add("(time > ? OR id > ?)", vec![time.into(), id.into()]);
    }
    conditions
}

fn record_of_row(row: &Row, value_columns: &[&MlColumnRecord]) -> Result<MlStoredRecord> {
    let environment: i16 = row.get("environment")?;
    let has_prediction: i16 = row.get("has_prediction")?;
    let has_actual: i16 = row.get("has_actual")?;
    let detail = |name: &str| -> Result<Option<serde_json::Value>> {
        row.get::<Option<String>, _>(name)?.map(|text| serde_json::from_str(&text)).transpose().map_err(StoreError::from)
    };
    let prediction = (has_prediction == 1)
        .then(|| -> Result<StoredLabel> {
            Ok(StoredLabel {
                label: row.get("prediction_label")?,
                score: row.get("prediction_score")?,
                value: row.get("prediction_value")?,
                group_id: row.get("prediction_group_id")?,
                rank: row.get("prediction_rank")?,
                detail: detail("prediction_detail")?,
            })
        })
        .transpose()?;
    let actual = (has_actual == 1)
        .then(|| -> Result<StoredLabel> {
            Ok(StoredLabel {
                label: row.get("actual_label")?,
                score: row.get("actual_score")?,
                value: row.get("actual_value")?,
                detail: detail("actual_detail")?,
                ..Default::default()
            })
        })
        .transpose()?;
    let mut record = MlStoredRecord {
        id: row.get("id")?,
        environment: MlEnvironment::from_number(environment.into())
            .ok_or_else(|| StoreError::Corrupt(format!("unknown environment {environment}")))?,
        prediction_id: row.get("prediction_id")?,
        time: row.get("time")?,
        actual_time: row.get("actual_time")?,
        model_version: row.get("model_version")?,
        batch_id: row.get("batch_id")?,
        prediction,
        actual,
        features: BTreeMap::new(),
        tags: BTreeMap::new(),
        shap: BTreeMap::new(),
        embeddings: match row.get::<Option<String>, _>("embeddings")? {
            Some(text) => serde_json::from_str(&text)?,
            None => BTreeMap::new(),
        },
    };
    for (index, column) in value_columns.iter().enumerate() {
        let position = 1 + FIXED_COLUMNS.len() + index;
        let value = if column.value_type.is_numeric() {
            row.get::<Option<f64>, _>(position)?.map(|number| match column.value_type {
                MlValueType::Int if number.fract() == 0.0 && number.abs() < 9.2e18 => MlValue::Int(number as i64),
                _ => MlValue::Double(number),
            })
        } else {
            match row.get::<Option<String>, _>(position)? {
                None => None,
                Some(text) => Some(match column.value_type {
                    MlValueType::List => MlValue::List(serde_json::from_str(&text)?),
                    MlValueType::Dictionary => MlValue::Dictionary(serde_json::from_str(&text)?),
                    _ => MlValue::String(text),
                }),
            }
        };
        let Some(value) = value else { continue };
        match column.role {
            MlColumnRole::Feature => {
                record.features.insert(column.name.clone(), value);
            }
            MlColumnRole::Tag => {
                record.tags.insert(column.name.clone(), value);
            }
            MlColumnRole::Shap => {
                if let Some(number) = value.as_number() {
                    record.shap.insert(column.name.clone(), number);
                }
            }
            MlColumnRole::Embedding => {}
        }
    }
    Ok(record)
}
