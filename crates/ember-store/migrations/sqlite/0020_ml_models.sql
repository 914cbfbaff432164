-- ML models (the Arize ML API, `/v1/log` and `ml.log`). Each model keeps its records in a table
-- of its own, `ml_records_<id>`, created with the model, with one typed column per feature, tag
-- and SHAP value (`c<ml_columns.id>`), so that one feature's aggregates read one column. The
-- store's `ml` module owns that table's shape.
CREATE TABLE ml_models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    model_type TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- The features, tags, SHAP values and embeddings of a model, with their value type.
CREATE TABLE ml_columns (
    id INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES ml_models (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('feature', 'tag', 'shap', 'embedding')),
    name TEXT NOT NULL,
    value_type TEXT NOT NULL,
    UNIQUE (model_id, role, name)
);

-- The model versions and validation batches a model's records have named, per environment
-- ('' for none).
CREATE TABLE ml_model_versions (
    model_id INTEGER NOT NULL REFERENCES ml_models (id) ON DELETE CASCADE,
    environment INTEGER NOT NULL,
    version TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (model_id, environment, version, batch_id)
);
