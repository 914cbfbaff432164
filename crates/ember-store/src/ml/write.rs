//! Writing a batch of one model's records: the model and its record table made on first sight,
//! new features, tags and SHAP values added as columns, each value's type checked against its
//! column's, then every record upserted by (environment, prediction id) — all in one
//! transaction, so a refused batch leaves nothing behind.

use std::collections::{BTreeMap, HashMap};

use ember_core::ml::{MlRecord, MlValue, MlValueType, ModelType, MAX_COLUMNS_PER_MODEL};
use sea_query::Value;

use super::summary;
use super::table::{self, ACTUAL_COLUMNS, FIXED_COLUMNS, PREDICTION_COLUMNS};
use super::{MlColumnRecord, MlColumnRole, StoredLabel};
use crate::engine::backend::{Statement, Transaction};
use crate::engine::db::Store;
use crate::error::{Result, StoreError};

/// The most records one upsert statement writes (fewer when records have many columns).
const MAX_ROWS_PER_STATEMENT: usize = 500;

/// What a batch wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MlWriteOutcome {
    pub model_id: i64,
    /// Records written (those repeating a key within the batch count once).
    pub records: usize,
    /// Whether the batch created the model.
    pub created_model: bool,
}

impl Store {
    /// Writes `records` of the model `name`, creating it as a `model_type` model when it is new
    /// (see the module documentation). Records without a time take `received_at` (Unix ns).
    /// `Invalid` when a record's label does not fit the model's type, a value's type does not fit
    /// its column, or the model would pass [`MAX_COLUMNS_PER_MODEL`].
    pub async fn write_ml_records(
        &self,
        name: &str,
        model_type: ModelType,
        records: Vec<MlRecord>,
        received_at: i64,
    ) -> Result<MlWriteOutcome> {
        let records = merge_repeated_keys(records);
        let mut tx = self.writer.begin().await?;
        let (model_id, stored_type, created_model) = self.model_for_write(&mut tx, name, model_type, received_at).await?;
        for record in &records {
            if let Some(kind) = record.label_kind().filter(|kind| !stored_type.accepts(*kind)) {
                return Err(StoreError::Invalid(format!(
                    "invalid label type: model {name:?} is a {} model; the record {:?} has a {} label",
                    stored_type.name(),
                    record.prediction_id,
                    kind.name()
                )));
            }
        }
        let columns = self.columns_for_write(&mut tx, model_id, created_model, name, &records).await?;
        if created_model {
            let value_columns: Vec<(i64, MlValueType)> =
                columns.all.iter().filter(|column| column.role.has_table_column()).map(|column| (column.id, column.value_type)).collect();
            for statement in table::create_statements(self.dialect, model_id, &value_columns)
                .into_iter()
                .chain(table::stale_trigger_statements(self.dialect, model_id))
            {
                tx.exec().execute(Statement::new(statement, [])).await?;
            }
        }
        let model_features: Vec<i64> =
            columns.all.iter().filter(|column| column.role == MlColumnRole::Feature).map(|column| column.id).collect();
        let batch_columns: Vec<&MlColumnRecord> = columns.used.iter().filter(|column| column.role.has_table_column()).collect();
        let width = FIXED_COLUMNS.len() + batch_columns.len();
        let rows_per_statement = (self.dialect.max_bound_values() / width).clamp(1, MAX_ROWS_PER_STATEMENT);
        let mut column_index = ColumnIndex::default();
        for (index, column) in batch_columns.iter().enumerate() {
            column_index.of_role(column.role).insert(column.name.as_str(), index);
        }
        let upsert_clause = upsert_clause(model_id, &batch_columns, &model_features);
        // A missing value is a NULL of its column's type: PostgreSQL refuses a VALUES column
        // whose rows bind different types.
        let empty_cells: Vec<Value> = batch_columns
            .iter()
            .map(|column| if column.value_type.is_numeric() { Value::Double(None) } else { Value::String(None) })
            .collect();
        let names: Vec<String> = FIXED_COLUMNS
            .iter()
            .map(|name| name.to_string())
            .chain(batch_columns.iter().map(|column| table::value_column(column.id)))
            .collect();
        let insert = format!("INSERT INTO {} ({}) VALUES", table::table_name(model_id), names.join(", "));
        for chunk in records.chunks(rows_per_statement) {
            let mut values = Vec::with_capacity(chunk.len() * width);
            for record in chunk {
                push_row(&mut values, record, received_at, &column_index, &empty_cells)?;
            }
            let sql = format!("{insert} {} {upsert_clause}", self.dialect.values_list(chunk.len(), width));
            tx.exec().execute(Statement::new(sql, values)).await?;
        }
        let mut hours: Vec<(i16, i64)> =
            records.iter().map(|record| (record.environment.number(), summary::hour_of(record_time(record, received_at)))).collect();
        hours.sort_unstable();
        hours.dedup();
        self.mark_stale_hours(&mut tx, model_id, &hours).await?;
        self.note_versions(&mut tx, model_id, &records, received_at).await?;
        tx.exec()
            .execute(Statement::new("UPDATE ml_models SET updated_at = $1 WHERE id = $2", [received_at.into(), model_id.into()]))
            .await?;
        tx.commit().await?;
        Ok(MlWriteOutcome { model_id, records: records.len(), created_model })
    }

    /// The model's id and type, and whether the model is new (its record table is then made,
    /// with its first columns, by the caller).
    async fn model_for_write(&self, tx: &mut Transaction, name: &str, model_type: ModelType, now: i64) -> Result<(i64, ModelType, bool)> {
        // A new model's summaries are kept from its first write (its trigger made with its table).
        let insert = "INSERT INTO ml_models (name, model_type, created_at, updated_at, summarized) VALUES ($1, $2, $3, $3, 1)
                      ON CONFLICT (name) DO NOTHING RETURNING id";
        let values = [name.into(), model_type.name().into(), now.into()];
        if let Some(row) = tx.exec().fetch_optional(Statement::new(insert, values)).await? {
            return Ok((row.get(0)?, model_type, true));
        }
        let row = tx.exec().fetch_one(Statement::new("SELECT id, model_type FROM ml_models WHERE name = $1", [name.into()])).await?;
        let stored: String = row.get(1)?;
        let stored =
            ModelType::parse(&stored).ok_or_else(|| StoreError::Corrupt(format!("model {name:?} has the unknown type {stored:?}")))?;
        Ok((row.get(0)?, stored, false))
    }

    /// The model's columns after adding those the batch names for the first time (to the record
    /// table too, unless the model is `new`); the batch's values checked against their column's
    /// type.
    async fn columns_for_write(
        &self,
        tx: &mut Transaction,
        model_id: i64,
        new: bool,
        model: &str,
        records: &[MlRecord],
    ) -> Result<Columns> {
        let mut all = read_columns(tx, model_id).await?;
        let wanted = batch_value_types(model, records)?;
        let missing = wanted.keys().filter(|(role, name)| !all.iter().any(|column| column.role == *role && &column.name == name)).count();
        if all.len() + missing > MAX_COLUMNS_PER_MODEL {
            return Err(StoreError::Invalid(format!(
                "model {model:?} would have {} features, tags, SHAP values and embeddings; {MAX_COLUMNS_PER_MODEL} are the most a model may have",
                all.len() + missing
            )));
        }
        let mut used = Vec::with_capacity(wanted.len());
        for ((role, name), (value_type, example)) in wanted {
            let existing = all.iter().position(|column| column.role == role && column.name == name);
            let index = match existing {
                Some(index) => index,
                None => {
                    all.push(self.add_column(tx, model_id, new, role, &name, value_type).await?);
                    all.len() - 1
                }
            };
            let column = &mut all[index];
            if column.value_type != value_type {
                if column.value_type.is_numeric() && value_type.is_numeric() {
                    if value_type == MlValueType::Double {
                        tx.exec()
                            .execute(Statement::new("UPDATE ml_columns SET value_type = 'double' WHERE id = $1", [column.id.into()]))
                            .await?;
                        column.value_type = MlValueType::Double;
                    }
                } else {
                    return Err(StoreError::Invalid(format!(
                        "invalid feature type: the {} {name:?} of model {model:?} holds {} values; the record {example:?} gives it a {} value",
                        role.name(),
                        column.value_type.name(),
                        value_type.name()
                    )));
                }
            }
            used.push(column.clone());
        }
        Ok(Columns { all, used })
    }

    /// Registers a new column (and adds it to the record table). When another writer registered
    /// it first (PostgreSQL), its row is read instead.
    async fn add_column(
        &self,
        tx: &mut Transaction,
        model_id: i64,
        new_model: bool,
        role: MlColumnRole,
        name: &str,
        value_type: MlValueType,
    ) -> Result<MlColumnRecord> {
        let insert = "INSERT INTO ml_columns (model_id, role, name, value_type) VALUES ($1, $2, $3, $4) \
                      ON CONFLICT (model_id, role, name) DO NOTHING RETURNING id";
        let values = [model_id.into(), role.name().into(), name.into(), value_type.name().into()];
        if let Some(row) = tx.exec().fetch_optional(Statement::new(insert, values)).await? {
            let id: i64 = row.get(0)?;
            if role.has_table_column() && !new_model {
                tx.exec().execute(Statement::new(table::add_column_statement(model_id, id, value_type), [])).await?;
            }
            return Ok(MlColumnRecord { id, role, name: name.to_string(), value_type });
        }
        read_columns(tx, model_id)
            .await?
            .into_iter()
            .find(|column| column.role == role && column.name == name)
            .ok_or_else(|| StoreError::Corrupt(format!("the {} {name:?} of model {model_id} vanished", role.name())))
    }

    /// Records the versions and validation batches the predictions name.
    async fn note_versions(&self, tx: &mut Transaction, model_id: i64, records: &[MlRecord], now: i64) -> Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        for record in records {
            // An actual alone names no version: its prediction's does.
            let Some(prediction) = &record.prediction else { continue };
            let version = prediction.model_version.clone().unwrap_or_default();
            seen.insert((record.environment.number(), version, record.batch_id.clone().unwrap_or_default()));
        }
        let seen: Vec<_> = seen.into_iter().collect();
        for chunk in seen.chunks(1000) {
            let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 5);
            for (environment, version, batch_id) in chunk {
                values.extend([
                    model_id.into(),
                    i64::from(*environment).into(),
                    version.as_str().into(),
                    batch_id.as_str().into(),
                    now.into(),
                ]);
            }
            let sql = format!(
                "INSERT INTO ml_model_versions (model_id, environment, version, batch_id, first_seen) VALUES {} ON CONFLICT DO NOTHING",
                self.dialect.values_list(chunk.len(), 5)
            );
            tx.exec().execute(Statement::new(sql, values)).await?;
        }
        Ok(())
    }
}

/// A model's columns: all of them, and those the batch uses.
struct Columns {
    all: Vec<MlColumnRecord>,
    used: Vec<MlColumnRecord>,
}

pub(super) async fn read_columns(tx: &mut Transaction, model_id: i64) -> Result<Vec<MlColumnRecord>> {
    let rows = tx
        .exec()
        .fetch_all(Statement::new("SELECT id, role, name, value_type FROM ml_columns WHERE model_id = $1 ORDER BY id", [model_id.into()]))
        .await?;
    rows.iter().map(super::read::column_of_row).collect()
}

/// The value type of every feature, tag, SHAP value and embedding the batch names (ints and
/// doubles of one name together are doubles), with a record naming it for messages.
fn batch_value_types(model: &str, records: &[MlRecord]) -> Result<BTreeMap<(MlColumnRole, String), (MlValueType, String)>> {
    // Per role, by name: looked up without allocating, once per value of every record.
    let mut types: [foldhash::HashMap<&str, (MlValueType, &str)>; 4] = Default::default();
    let slot = |role: MlColumnRole| role as usize;
    for record in records {
        let named = record
            .prediction
            .iter()
            .flat_map(|prediction| {
                let features = prediction.features.iter().map(|(name, value)| (MlColumnRole::Feature, name, value.value_type()));
                let embeddings = prediction.embeddings.keys().map(|name| (MlColumnRole::Embedding, name, MlValueType::Embedding));
                let tags = prediction.tags.iter().map(|(name, value)| (MlColumnRole::Tag, name, value.value_type()));
                features.chain(embeddings).chain(tags)
            })
            .chain(
                record
                    .actual
                    .iter()
                    .flat_map(|actual| actual.tags.iter().map(|(name, value)| (MlColumnRole::Tag, name, value.value_type()))),
            )
            .chain(record.shap.keys().map(|name| (MlColumnRole::Shap, name, MlValueType::Double)));
        for (role, name, value_type) in named {
            match types[slot(role)].get_mut(name.as_str()) {
                None => {
                    types[slot(role)].insert(name.as_str(), (value_type, record.prediction_id.as_str()));
                }
                Some((known, _)) if *known == value_type => {}
                Some((known, _)) if known.is_numeric() && value_type.is_numeric() => *known = MlValueType::Double,
                Some((known, _)) => {
                    return Err(StoreError::Invalid(format!(
                    "invalid feature type: the {} {name:?} of model {model:?} has {} and {} values; the record {:?} gives it a {} value",
                    role.name(),
                    known.name(),
                    value_type.name(),
                    record.prediction_id,
                    value_type.name()
                )))
                }
            }
        }
    }
    let mut all = BTreeMap::new();
    for role in [MlColumnRole::Feature, MlColumnRole::Tag, MlColumnRole::Shap, MlColumnRole::Embedding] {
        for (name, (value_type, example)) in &types[slot(role)] {
            all.insert((role, name.to_string()), (*value_type, example.to_string()));
        }
    }
    Ok(all)
}

/// The batch's columns by role and name.
#[derive(Default)]
struct ColumnIndex<'a> {
    by_role: [foldhash::HashMap<&'a str, usize>; 4],
}

impl<'a> ColumnIndex<'a> {
    fn of_role(&mut self, role: MlColumnRole) -> &mut foldhash::HashMap<&'a str, usize> {
        &mut self.by_role[role as usize]
    }

    fn get(&self, role: MlColumnRole, name: &str) -> Option<usize> {
        self.by_role[role as usize].get(name).copied()
    }
}

/// Records of the batch with one key, joined in order (as the upsert joins them with a stored
/// record): PostgreSQL refuses a statement that writes one row twice.
fn merge_repeated_keys(records: Vec<MlRecord>) -> Vec<MlRecord> {
    let mut seen: foldhash::HashSet<(i16, &str)> = foldhash::HashSet::with_capacity_and_hasher(records.len(), Default::default());
    if records.iter().all(|record| seen.insert((record.environment.number(), record.prediction_id.as_str()))) {
        return records;
    }
    let mut position: HashMap<(i16, String), usize> = HashMap::with_capacity(records.len());
    let mut merged: Vec<MlRecord> = Vec::with_capacity(records.len());
    for record in records {
        match position.get(&(record.environment.number(), record.prediction_id.clone())) {
            Some(&index) => join(&mut merged[index], record),
            None => {
                position.insert((record.environment.number(), record.prediction_id.clone()), merged.len());
                merged.push(record);
            }
        }
    }
    merged
}

/// `later` joined into `earlier`: its prediction and actual replace, tags and SHAP values merge.
fn join(earlier: &mut MlRecord, mut later: MlRecord) {
    let mut tags = take_tags(earlier);
    tags.extend(take_tags(&mut later));
    if later.prediction.is_some() {
        earlier.prediction = later.prediction;
        earlier.batch_id = later.batch_id;
    }
    if later.actual.is_some() {
        earlier.actual = later.actual;
    }
    earlier.shap.extend(later.shap);
    // Both sides' tags are written to one set of columns: the merged ones ride on either.
    match (&mut earlier.prediction, &mut earlier.actual) {
        (Some(prediction), _) => prediction.tags = tags,
        (None, Some(actual)) => actual.tags = tags,
        (None, None) => {}
    }
}

/// A record's tags, the actual's over the prediction's, taken out of it.
fn take_tags(record: &mut MlRecord) -> BTreeMap<String, MlValue> {
    let mut tags = record.prediction.as_mut().map(|prediction| std::mem::take(&mut prediction.tags)).unwrap_or_default();
    if let Some(actual) = record.actual.as_mut() {
        tags.append(&mut actual.tags);
    }
    tags
}

/// `ON CONFLICT` of the upsert: see the module documentation of `ml` for what joins how.
fn upsert_clause(model_id: i64, batch_columns: &[&MlColumnRecord], model_features: &[i64]) -> String {
    let table = table::table_name(model_id);
    let mut sets = vec![
        format!("time = CASE WHEN excluded.has_prediction = 1 OR {table}.has_prediction = 0 THEN excluded.time ELSE {table}.time END"),
        format!("has_prediction = CASE WHEN excluded.has_prediction = 1 THEN 1 ELSE {table}.has_prediction END"),
        format!("has_actual = CASE WHEN excluded.has_actual = 1 THEN 1 ELSE {table}.has_actual END"),
    ];
    let replace =
        |column: &str, side: &str| format!("{column} = CASE WHEN excluded.{side} = 1 THEN excluded.{column} ELSE {table}.{column} END");
    sets.extend(PREDICTION_COLUMNS.iter().map(|column| replace(column, "has_prediction")));
    sets.extend(model_features.iter().map(|id| replace(&table::value_column(*id), "has_prediction")));
    sets.extend(ACTUAL_COLUMNS.iter().map(|column| replace(column, "has_actual")));
    for column in batch_columns.iter().filter(|column| matches!(column.role, MlColumnRole::Tag | MlColumnRole::Shap)) {
        let name = table::value_column(column.id);
        sets.push(format!("{name} = COALESCE(excluded.{name}, {table}.{name})"));
    }
    format!("ON CONFLICT (environment, prediction_id) DO UPDATE SET {}", sets.join(", "))
}

/// The time a record is stored under: its prediction's, else its actual's, else when it came.
fn record_time(record: &MlRecord, received_at: i64) -> i64 {
    let prediction_time = record.prediction.as_ref().map(|p| p.time.unwrap_or(received_at));
    let actual_time = record.actual.as_ref().map(|a| a.time.unwrap_or(received_at));
    prediction_time.or(actual_time).unwrap_or(received_at)
}

/// Binds one record's row: the fixed columns, then the batch's value columns.
fn push_row(values: &mut Vec<Value>, record: &MlRecord, received_at: i64, column_index: &ColumnIndex, empty_cells: &[Value]) -> Result<()> {
    let prediction = record.prediction.as_ref();
    let actual = record.actual.as_ref();
    let actual_time = actual.map(|a| a.time.unwrap_or(received_at));
    let predicted = prediction.and_then(|p| p.label.as_ref()).map(StoredLabel::of).unwrap_or_default();
    let observed = actual.and_then(|a| a.label.as_ref()).map(StoredLabel::of).unwrap_or_default();
    let detail = |label: &StoredLabel| label.detail.as_ref().map(|detail| detail.to_string());
    let embeddings = match prediction.filter(|p| !p.embeddings.is_empty()) {
        Some(prediction) => Some(serde_json::to_string(&prediction.embeddings)?),
        None => None,
    };
    let number = |value: Option<f64>| Value::Double(value.filter(|value| !value.is_nan()));
    values.extend([
        Value::from(record.environment.number()),
        record.prediction_id.as_str().into(),
        record_time(record, received_at).into(),
        Value::BigInt(actual_time),
        Value::from(prediction.and_then(|p| p.model_version.clone())),
        Value::from(record.batch_id.clone()),
        Value::from(i16::from(prediction.is_some())),
        Value::from(i16::from(actual.is_some())),
        Value::from(predicted.label.clone()),
        number(predicted.score),
        number(predicted.value),
        Value::from(predicted.group_id.clone()),
        Value::BigInt(predicted.rank),
        Value::from(detail(&predicted)),
        Value::from(observed.label.clone()),
        number(observed.score),
        number(observed.value),
        Value::from(detail(&observed)),
        Value::from(embeddings),
    ]);
    let start = values.len();
    values.extend_from_slice(empty_cells);
    let mut set = |role: MlColumnRole, name: &str, value: Value| {
        if let Some(index) = column_index.get(role, name) {
            values[start + index] = value;
        }
    };
    let cell = |value: &MlValue| match value.value_type().is_numeric() {
        true => Value::Double(value.as_number()),
        false => Value::String(value.as_text().map(Box::new)),
    };
    if let Some(prediction) = prediction {
        for (name, value) in &prediction.features {
            set(MlColumnRole::Feature, name, cell(value));
        }
        for (name, value) in &prediction.tags {
            set(MlColumnRole::Tag, name, cell(value));
        }
    }
    for (name, value) in actual.iter().flat_map(|actual| &actual.tags) {
        set(MlColumnRole::Tag, name, cell(value));
    }
    for (name, value) in &record.shap {
        set(MlColumnRole::Shap, name, number(Some(*value)));
    }
    Ok(())
}
