-- Hourly summaries of each model's records, so that monitoring a million records reads a few
-- hundred small rows instead of the records (the store's `ml::summary` owns their encoding).
-- `summarized` says whether a model's summaries are kept: a model from before this migration
-- is taken up by the summarizer, which marks all its hours stale.
ALTER TABLE ml_models ADD COLUMN summarized SMALLINT NOT NULL DEFAULT 0;

-- An hour (start, Unix ns) of an environment whose records changed since its summaries were
-- made. A write bumps `generation`, so a summarizer that read an older generation leaves the
-- mark for the next round.
CREATE TABLE ml_stale_hours (
    model_id BIGINT NOT NULL REFERENCES ml_models (id) ON DELETE CASCADE,
    environment SMALLINT NOT NULL,
    hour BIGINT NOT NULL,
    generation BIGINT NOT NULL,
    PRIMARY KEY (model_id, environment, hour)
);

-- One source's summary (the labels, or a feature's, tag's or the prediction's values) of one
-- hour's records of one model version ('' for none).
CREATE TABLE ml_summaries (
    model_id BIGINT NOT NULL REFERENCES ml_models (id) ON DELETE CASCADE,
    environment SMALLINT NOT NULL,
    source TEXT NOT NULL,
    hour BIGINT NOT NULL,
    model_version TEXT NOT NULL,
    body BYTEA NOT NULL,
    PRIMARY KEY (model_id, environment, source, hour, model_version)
);

-- Marks the hour a record was in before an update moved or changed it; the record table of
-- model N runs it with N as its argument.
CREATE FUNCTION ember_ml_stale_hour() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ml_stale_hours (model_id, environment, hour, generation)
    VALUES (CAST(TG_ARGV[0] AS BIGINT), OLD.environment, OLD.time - OLD.time % 3600000000000, 1)
    ON CONFLICT (model_id, environment, hour) DO UPDATE SET generation = ml_stale_hours.generation + 1;
    RETURN NULL;
END
$$;
