-- Tokens and cost per model and project-hour, kept by ingest beside the other rollups (from the
-- span's `span_costs` row, so only while cost tracking is on) for the metrics charts: a window
-- of any length reads its hours, never its spans. Rebuilt with the other rollups; re-pricing
-- adds its differences here too.
CREATE TABLE project_hourly_model_usage (
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    hour INTEGER NOT NULL,
    model_name TEXT NOT NULL,
    span_count INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    prompt_cost REAL NOT NULL,
    completion_cost REAL NOT NULL,
    PRIMARY KEY (project_id, hour, model_name)
) WITHOUT ROWID;

INSERT INTO project_hourly_model_usage
SELECT project_id, hour, model_name, COUNT(*), SUM(prompt_tokens), SUM(completion_tokens),
       COALESCE(SUM(prompt_cost), 0.0), COALESCE(SUM(completion_cost), 0.0)
FROM (SELECT project_id, model_name, prompt_tokens, completion_tokens, prompt_cost, completion_cost,
             start_time - ((start_time % 3600000000000) + 3600000000000) % 3600000000000 AS hour FROM span_costs) AS c
GROUP BY project_id, hour, model_name;

-- Spans and errored spans per span kind and project-hour, kept by ingest beside the other
-- rollups, for the errors-by-kind chart.
CREATE TABLE project_hourly_kinds (
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    hour INTEGER NOT NULL,
    span_kind TEXT NOT NULL,
    span_count INTEGER NOT NULL,
    error_count INTEGER NOT NULL,
    PRIMARY KEY (project_id, hour, span_kind)
) WITHOUT ROWID;

INSERT INTO project_hourly_kinds
SELECT project_id, hour, span_kind, COUNT(*), SUM(CASE WHEN status_code = 'ERROR' THEN 1 ELSE 0 END)
FROM (SELECT project_id, span_kind, status_code,
             start_time - ((start_time % 3600000000000) + 3600000000000) % 3600000000000 AS hour FROM spans) AS s
GROUP BY project_id, hour, span_kind;
