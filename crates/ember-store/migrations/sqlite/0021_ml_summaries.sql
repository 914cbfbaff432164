-- Hourly summaries of each model's records, so that monitoring a million records reads a few
-- hundred small rows instead of the records (the store's `ml::summary` owns their encoding).
-- `summarized` says whether a model's summaries are kept: a model from before this migration
-- is taken up by the summarizer, which marks all its hours stale.
ALTER TABLE ml_models ADD COLUMN summarized INTEGER NOT NULL DEFAULT 0;

-- An hour (start, Unix ns) of an environment whose records changed since its summaries were
-- made. A write bumps `generation`, so a summarizer that read an older generation leaves the
-- mark for the next round.
CREATE TABLE ml_stale_hours (
    model_id INTEGER NOT NULL REFERENCES ml_models (id) ON DELETE CASCADE,
    environment INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    PRIMARY KEY (model_id, environment, hour)
);

-- One source's summary (the labels, or a feature's, tag's or the prediction's values) of one
-- hour's records of one model version ('' for none).
CREATE TABLE ml_summaries (
    model_id INTEGER NOT NULL REFERENCES ml_models (id) ON DELETE CASCADE,
    environment INTEGER NOT NULL,
    source TEXT NOT NULL,
    hour INTEGER NOT NULL,
    model_version TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (model_id, environment, source, hour, model_version)
);
