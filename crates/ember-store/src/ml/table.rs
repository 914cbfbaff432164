//! The shape of a model's record table, `ml_records_<model id>`: fixed columns for the record's
//! keys, times and labels, then one column per feature, tag and SHAP value, named
//! `c<ml_columns.id>` (never a client's text), `DOUBLE PRECISION` for numbers and `TEXT` for
//! strings, lists and dictionaries (as JSON). Records are unique by (environment, prediction id);
//! reads go through (environment, time, id).

use ember_core::ml::MlValueType;

use super::summary::HOUR;
use crate::engine::dialect::Dialect;

/// The record table of model `model_id`.
pub(crate) fn table_name(model_id: i64) -> String {
    format!("ml_records_{model_id}")
}

/// The table column of the feature, tag or SHAP value whose `ml_columns` row is `column_id`.
pub(crate) fn value_column(column_id: i64) -> String {
    format!("c{column_id}")
}

/// The SQL type of a column holding values of `value_type`.
pub(crate) fn sql_type(value_type: MlValueType) -> &'static str {
    if value_type.is_numeric() {
        "DOUBLE PRECISION"
    } else {
        "TEXT"
    }
}

/// The fixed columns, in the order writes bind them.
pub(crate) const FIXED_COLUMNS: [&str; 19] = [
    "environment",
    "prediction_id",
    "time",
    "actual_time",
    "model_version",
    "batch_id",
    "has_prediction",
    "has_actual",
    "prediction_label",
    "prediction_score",
    "prediction_value",
    "prediction_group_id",
    "prediction_rank",
    "prediction_detail",
    "actual_label",
    "actual_score",
    "actual_value",
    "actual_detail",
    "embeddings",
];

/// Fixed columns that belong to the prediction: replaced when a prediction arrives, kept when
/// only an actual does.
pub(crate) const PREDICTION_COLUMNS: [&str; 9] = [
    "model_version",
    "prediction_label",
    "prediction_score",
    "prediction_value",
    "prediction_group_id",
    "prediction_rank",
    "prediction_detail",
    "embeddings",
    "batch_id",
];

/// Fixed columns that belong to the actual.
pub(crate) const ACTUAL_COLUMNS: [&str; 5] = ["actual_time", "actual_label", "actual_score", "actual_value", "actual_detail"];

/// The statements that create model `model_id`'s record table, with the value columns
/// `columns` (id and type), and its indexes.
pub(crate) fn create_statements(dialect: Dialect, model_id: i64, columns: &[(i64, MlValueType)]) -> Vec<String> {
    let table = table_name(model_id);
    let values: String =
        columns.iter().map(|(id, value_type)| format!(",\n                {} {}", value_column(*id), sql_type(*value_type))).collect();
    vec![
        format!(
            "CREATE TABLE {table} (
                id {id},
                environment SMALLINT NOT NULL,
                prediction_id TEXT NOT NULL,
                time BIGINT NOT NULL,
                actual_time BIGINT,
                model_version TEXT,
                batch_id TEXT,
                has_prediction SMALLINT NOT NULL,
                has_actual SMALLINT NOT NULL,
                prediction_label TEXT,
                prediction_score DOUBLE PRECISION,
                prediction_value DOUBLE PRECISION,
                prediction_group_id TEXT,
                prediction_rank BIGINT,
                prediction_detail TEXT,
                actual_label TEXT,
                actual_score DOUBLE PRECISION,
                actual_value DOUBLE PRECISION,
                actual_detail TEXT,
                embeddings TEXT{values}
            )",
            id = dialect.identity_primary_key()
        ),
        format!("CREATE UNIQUE INDEX ux_{table}_prediction ON {table} (environment, prediction_id)"),
        format!("CREATE INDEX ix_{table}_time ON {table} (environment, time, id)"),
    ]
}

/// The statements that make an update of model `model_id`'s records mark the hour the record
/// was in stale (see `rollup`); PostgreSQL's trigger runs the function its migration made.
pub(crate) fn stale_trigger_statements(dialect: Dialect, model_id: i64) -> Vec<String> {
    let table = table_name(model_id);
    match dialect {
        Dialect::Sqlite => vec![format!(
            "CREATE TRIGGER IF NOT EXISTS ml_stale_{table} AFTER UPDATE ON {table} BEGIN
                INSERT INTO ml_stale_hours (model_id, environment, hour, generation)
                VALUES ({model_id}, OLD.environment, OLD.time - OLD.time % {HOUR}, 1)
                ON CONFLICT (model_id, environment, hour) DO UPDATE SET generation = generation + 1;
             END"
        )],
        Dialect::Postgres => vec![
            format!("DROP TRIGGER IF EXISTS ml_stale_{table} ON {table}"),
            format!(
                "CREATE TRIGGER ml_stale_{table} AFTER UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION ember_ml_stale_hour('{model_id}')"
            ),
        ],
    }
}

/// The statement that drops model `model_id`'s stale-hour trigger.
#[cfg(feature = "testsuite")]
pub(crate) fn drop_stale_trigger_statement(dialect: Dialect, model_id: i64) -> String {
    let table = table_name(model_id);
    match dialect {
        Dialect::Sqlite => format!("DROP TRIGGER ml_stale_{table}"),
        Dialect::Postgres => format!("DROP TRIGGER ml_stale_{table} ON {table}"),
    }
}

/// The statement that adds a value column to model `model_id`'s table.
pub(crate) fn add_column_statement(model_id: i64, column_id: i64, value_type: MlValueType) -> String {
    format!("ALTER TABLE {} ADD COLUMN {} {}", table_name(model_id), value_column(column_id), sql_type(value_type))
}
