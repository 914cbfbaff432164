//! An ML model's records as the record batches of `ml.export_to_df` / `export_to_parquet`: a
//! table shaped like the one `ml.log` takes, so an export can be logged again —
//! `prediction_id`, `time` (a UTC timestamp, which the SDK sorts by), `model_version`,
//! `batch_id`, `prediction_label` and `prediction_score` (the label is a number for regression
//! models; ranking models add `prediction_group_id` and `rank`), with `include_actuals`
//! `actual_label` and `actual_score` (a ranking actual's relevance labels are a list), then one
//! column per feature and tag under its own name (a tag whose name a feature or fixed column has
//! is `tag.<name>`), `<feature>_shap` per SHAP value, and `<name>_vector`, `<name>_data`,
//! `<name>_link` per embedding. The columns come from the model's schema, so every page of an
//! export has the same ones; `projected_columns` keeps the ones named (with the id and time).

use std::collections::HashSet;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, ListBuilder, StringBuilder, TimestampNanosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use ember_core::ml::{MlValue, MlValueType, ModelType};
use ember_service::ml_models::MlModelDetail;
use ember_store::{MlColumnRole, MlStoredRecord, StoredLabel};

/// Where a column's cells come from.
#[derive(Debug, Clone)]
enum Source {
    PredictionId,
    Time,
    Version,
    Batch,
    Label { actual: bool },
    LabelNumber { actual: bool },
    Score { actual: bool },
    GroupId,
    Rank,
    RelevanceLabels,
    Feature(String),
    Tag(String),
    Shap(String),
    Vector(String),
    Data(String),
    Link(String),
}

/// The columns of one export.
pub struct MlExportColumns {
    schema: SchemaRef,
    sources: Vec<(Source, DataType)>,
}

impl MlExportColumns {
    pub fn new(detail: &MlModelDetail, include_actuals: bool, projected: &[String]) -> MlExportColumns {
        let model_type = detail.model.model_type;
        let text = DataType::Utf8;
        let number = DataType::Float64;
        let mut columns: Vec<(String, DataType, Source)> = vec![
            ("prediction_id".into(), text.clone(), Source::PredictionId),
            ("time".into(), DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())), Source::Time),
            ("model_version".into(), text.clone(), Source::Version),
            ("batch_id".into(), text.clone(), Source::Batch),
        ];
        let label = |actual: bool| match model_type {
            ModelType::Numeric => (number.clone(), Source::LabelNumber { actual }),
            _ => (text.clone(), Source::Label { actual }),
        };
        let (label_type, label_source) = label(false);
        columns.push(("prediction_label".into(), label_type, label_source));
        columns.push(("prediction_score".into(), number.clone(), Source::Score { actual: false }));
        if model_type == ModelType::Ranking {
            columns.push(("prediction_group_id".into(), text.clone(), Source::GroupId));
            columns.push(("rank".into(), DataType::Int64, Source::Rank));
        }
        if include_actuals {
            let (label_type, label_source) = match model_type {
                ModelType::Ranking => (list_of(text.clone()), Source::RelevanceLabels),
                _ => label(true),
            };
            columns.push(("actual_label".into(), label_type, label_source));
            columns.push(("actual_score".into(), number.clone(), Source::Score { actual: true }));
        }
        let value_type = |value_type: MlValueType| match value_type {
            MlValueType::Double => DataType::Float64,
            MlValueType::Int => DataType::Int64,
            MlValueType::List => list_of(DataType::Utf8),
            _ => DataType::Utf8,
        };
        for column in detail.columns.iter().filter(|column| column.role == MlColumnRole::Feature) {
            columns.push((column.name.clone(), value_type(column.value_type), Source::Feature(column.name.clone())));
        }
        let mut taken: HashSet<String> = columns.iter().map(|(name, _, _)| name.clone()).collect();
        for column in &detail.columns {
            let name = &column.name;
            match column.role {
                MlColumnRole::Tag => {
                    let shown = if taken.contains(name) { format!("tag.{name}") } else { name.clone() };
                    taken.insert(shown.clone());
                    columns.push((shown, value_type(column.value_type), Source::Tag(name.clone())));
                }
                MlColumnRole::Shap => columns.push((format!("{name}_shap"), number.clone(), Source::Shap(name.clone()))),
                MlColumnRole::Embedding => {
                    columns.push((format!("{name}_vector"), list_of(number.clone()), Source::Vector(name.clone())));
                    columns.push((format!("{name}_data"), list_of(text.clone()), Source::Data(name.clone())));
                    columns.push((format!("{name}_link"), text.clone(), Source::Link(name.clone())));
                }
                MlColumnRole::Feature => {}
            }
        }
        if !projected.is_empty() {
            columns.retain(|(name, _, source)| matches!(source, Source::PredictionId | Source::Time) || projected.contains(name));
        }
        let fields: Vec<Field> = columns.iter().map(|(name, data_type, _)| Field::new(name, data_type.clone(), true)).collect();
        MlExportColumns {
            schema: Arc::new(Schema::new(fields)),
            sources: columns.into_iter().map(|(_, data_type, source)| (source, data_type)).collect(),
        }
    }

    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// One page of records as a batch.
    pub fn batch(&self, records: &[MlStoredRecord]) -> Result<RecordBatch, ArrowError> {
        let arrays: Vec<ArrayRef> = self.sources.iter().map(|(source, data_type)| column(source, data_type, records)).collect();
        RecordBatch::try_new(self.schema.clone(), arrays)
    }
}

fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("item", item, true)))
}

fn side(record: &MlStoredRecord, actual: bool) -> Option<&StoredLabel> {
    if actual {
        record.actual.as_ref()
    } else {
        record.prediction.as_ref()
    }
}

fn value<'a>(record: &'a MlStoredRecord, source: &Source) -> Option<&'a MlValue> {
    match source {
        Source::Feature(name) => record.features.get(name),
        Source::Tag(name) => record.tags.get(name),
        _ => None,
    }
}

fn column(source: &Source, data_type: &DataType, records: &[MlStoredRecord]) -> ArrayRef {
    let texts = |cell: &dyn Fn(&MlStoredRecord) -> Option<String>| -> ArrayRef {
        let mut builder = StringBuilder::new();
        records.iter().for_each(|record| builder.append_option(cell(record)));
        Arc::new(builder.finish())
    };
    let numbers = |cell: &dyn Fn(&MlStoredRecord) -> Option<f64>| -> ArrayRef {
        let mut builder = Float64Builder::new();
        records.iter().for_each(|record| builder.append_option(cell(record)));
        Arc::new(builder.finish())
    };
    let text_lists = |cell: &dyn Fn(&MlStoredRecord) -> Option<Vec<String>>| -> ArrayRef {
        let mut builder = ListBuilder::new(StringBuilder::new());
        for record in records {
            match cell(record) {
                Some(items) => {
                    items.iter().for_each(|item| builder.values().append_value(item));
                    builder.append(true);
                }
                None => builder.append(false),
            }
        }
        Arc::new(builder.finish())
    };
    match source {
        Source::PredictionId => texts(&|record| Some(record.prediction_id.clone())),
        Source::Time => {
            let mut builder = TimestampNanosecondBuilder::new().with_timezone("UTC");
            records.iter().for_each(|record| builder.append_value(record.time));
            Arc::new(builder.finish())
        }
        Source::Version => texts(&|record| record.model_version.clone()),
        Source::Batch => texts(&|record| record.batch_id.clone()),
        Source::Label { actual } => texts(&|record| side(record, *actual).and_then(|label| label.label.clone())),
        Source::LabelNumber { actual } => numbers(&|record| side(record, *actual).and_then(|label| label.value)),
        Source::Score { actual } => numbers(&|record| side(record, *actual).and_then(|label| label.score)),
        Source::GroupId => texts(&|record| record.prediction.as_ref().and_then(|label| label.group_id.clone())),
        Source::Rank => {
            let mut builder = Int64Builder::new();
            records.iter().for_each(|record| builder.append_option(record.prediction.as_ref().and_then(|label| label.rank)));
            Arc::new(builder.finish())
        }
        Source::RelevanceLabels => text_lists(&|record| {
            record.actual.as_ref().and_then(|label| label.detail.as_ref()).and_then(|detail| serde_json::from_value(detail.clone()).ok())
        }),
        Source::Feature(_) | Source::Tag(_) => match data_type {
            DataType::Float64 => numbers(&|record| value(record, source).and_then(MlValue::as_number)),
            DataType::Int64 => {
                let mut builder = Int64Builder::new();
                records.iter().for_each(|record| builder.append_option(value(record, source).and_then(as_int)));
                Arc::new(builder.finish())
            }
            DataType::List(_) => text_lists(&|record| match value(record, source) {
                Some(MlValue::List(items)) => Some(items.clone()),
                _ => None,
            }),
            _ => texts(&|record| value(record, source).and_then(MlValue::as_text)),
        },
        Source::Shap(name) => numbers(&|record| record.shap.get(name).copied()),
        Source::Vector(name) => {
            let mut builder = ListBuilder::new(Float64Builder::new());
            for record in records {
                match record.embeddings.get(name) {
                    Some(embedding) => {
                        builder.values().append_slice(&embedding.vector);
                        builder.append(true);
                    }
                    None => builder.append(false),
                }
            }
            Arc::new(builder.finish())
        }
        Source::Data(name) => text_lists(&|record| record.embeddings.get(name).and_then(|embedding| embedding.data.clone())),
        Source::Link(name) => texts(&|record| record.embeddings.get(name).and_then(|embedding| embedding.link.clone())),
    }
}

/// An int feature's value (stored as a double, integral by its type).
fn as_int(value: &MlValue) -> Option<i64> {
    match value {
        MlValue::Int(int) => Some(*int),
        MlValue::Double(double) if double.fract() == 0.0 => Some(*double as i64),
        _ => None,
    }
}
