-- LLM cost tracking (see src/costs). `model_prices` holds ember's built-in table (seeded at
-- startup from ember-core's data/model_prices.json; a changed price becomes a new row effective
-- from then) and user-defined prices. A row applies to spans that started at or after
-- `effective_from` (NULL: always). Rates are USD per token; a NULL detail rate falls back to
-- the input (prompt types) or output (completion types) rate.
CREATE TABLE model_prices (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_pattern TEXT NOT NULL,
    provider TEXT NOT NULL,
    is_built_in INTEGER NOT NULL,
    effective_from INTEGER,
    input_rate REAL NOT NULL,
    output_rate REAL NOT NULL,
    cache_read_rate REAL,
    cache_write_rate REAL,
    prompt_audio_rate REAL,
    prompt_image_rate REAL,
    reasoning_rate REAL,
    completion_audio_rate REAL,
    completion_image_rate REAL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- One row per LLM span naming a model, priced or not (an unpriced row is priced when a matching
-- price is added). Token counts are kept by type so that a price change can be recomputed
-- without reading the span's attributes. No secondary index: ingest writes a row per LLM span,
-- reads reach rows through their span (by trace or time window), and re-pricing after a price
-- change walks the table by span rowid in the background.
CREATE TABLE span_costs (
    span_rowid INTEGER PRIMARY KEY REFERENCES spans (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL,
    start_time INTEGER NOT NULL,
    model_name TEXT NOT NULL,
    provider TEXT NOT NULL,
    price_id INTEGER,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    prompt_audio_tokens INTEGER NOT NULL,
    prompt_image_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    completion_audio_tokens INTEGER NOT NULL,
    completion_image_tokens INTEGER NOT NULL,
    prompt_cost REAL,
    completion_cost REAL
);

ALTER TABLE project_hourly_rollups ADD COLUMN prompt_cost REAL NOT NULL DEFAULT 0;
ALTER TABLE project_hourly_rollups ADD COLUMN completion_cost REAL NOT NULL DEFAULT 0;
