-- Per-project byte budgets. `span_bytes` is what a project-hour's spans hold (attributes as
-- stored, events, names, ids, plus a fixed allowance per row; indexes not counted), kept by
-- ingest beside the other rollups; a project's bytes are those of the hours from its oldest
-- stored trace on. `max_bytes` NULL: no budget.
ALTER TABLE projects ADD COLUMN max_bytes INTEGER;
ALTER TABLE project_hourly_rollups ADD COLUMN span_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE project_hourly_rollups SET span_bytes = COALESCE((
    SELECT SUM(length(s.attributes) + length(s.events) + length(s.name) + length(s.status_message) + length(s.span_id) + 64)
    FROM spans AS s
    WHERE s.project_id = project_hourly_rollups.project_id
      AND s.start_time >= project_hourly_rollups.hour AND s.start_time < project_hourly_rollups.hour + 3600000000000), 0);
