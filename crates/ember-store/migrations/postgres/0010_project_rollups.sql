-- Project statistics kept by ingest, per project and hour of span start time, so that the web
-- UI's project summaries and charts read a few rows per hour instead of the project's spans.
-- Deleting or moving spans rebuilds the hours they touched (see src/rollups.rs).
CREATE TABLE project_hourly_rollups (
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    hour BIGINT NOT NULL,
    span_count BIGINT NOT NULL,
    error_count BIGINT NOT NULL,
    root_span_count BIGINT NOT NULL,
    prompt_tokens BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL,
    PRIMARY KEY (project_id, hour)
);

-- Root-span latencies as a histogram. A bucket is the latency in microseconds written as
-- digits * 100 + its two leading digits rounded down to 10, 12, 14, 16, 18, 20, 25, 30, 35, 40,
-- 50, 60, 70, 80 or 90 (one digit: 100 + the value), so buckets sort as latencies do.
CREATE TABLE project_hourly_latencies (
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    hour BIGINT NOT NULL,
    bucket BIGINT NOT NULL,
    root_span_count BIGINT NOT NULL,
    PRIMARY KEY (project_id, hour, bucket)
);

INSERT INTO project_hourly_rollups
SELECT project_id, hour, COUNT(*), SUM(CASE WHEN status_code = 'ERROR' THEN 1 ELSE 0 END),
       SUM(CASE WHEN parent_id IS NULL THEN 1 ELSE 0 END),
       COALESCE(SUM(llm_token_count_prompt), 0), COALESCE(SUM(llm_token_count_completion), 0)
FROM (SELECT project_id, status_code, parent_id, llm_token_count_prompt, llm_token_count_completion, start_time - ((start_time % 3600000000000) + 3600000000000) % 3600000000000 AS hour FROM spans) AS s
GROUP BY project_id, hour;

INSERT INTO project_hourly_latencies
SELECT project_id, hour,
       length(micros) * 100 + CASE
           WHEN length(micros) = 1 THEN CAST(micros AS INTEGER)
           WHEN lead < 12 THEN 10 WHEN lead < 14 THEN 12 WHEN lead < 16 THEN 14 WHEN lead < 18 THEN 16
           WHEN lead < 20 THEN 18 WHEN lead < 25 THEN 20 WHEN lead < 30 THEN 25 WHEN lead < 35 THEN 30
           WHEN lead < 40 THEN 35 WHEN lead < 50 THEN 40 WHEN lead < 60 THEN 50 WHEN lead < 70 THEN 60
           WHEN lead < 80 THEN 70 WHEN lead < 90 THEN 80 ELSE 90 END AS bucket,
       COUNT(*)
FROM (SELECT project_id, hour, micros, CAST(substr(micros, 1, 2) AS INTEGER) AS lead
      FROM (SELECT project_id, start_time - ((start_time % 3600000000000) + 3600000000000) % 3600000000000 AS hour,
                   CAST(CASE WHEN end_time > start_time THEN (end_time - start_time) / 1000 ELSE 0 END AS TEXT) AS micros
            FROM spans WHERE parent_id IS NULL) AS r) AS b
GROUP BY project_id, hour, bucket;
