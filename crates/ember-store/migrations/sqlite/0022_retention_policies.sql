-- Trace retention policies, as Phoenix has them: a rule (traces older than `max_days`, traces
-- beyond a project's newest `max_count`, or either) applied on an hourly cron schedule to the
-- projects that name the policy. Policy 0, "Default", applies to every project that names none;
-- it is created at startup (with PHOENIX_DEFAULT_RETENTION_POLICY_DAYS), not here.
CREATE TABLE retention_policies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    cron_expression TEXT NOT NULL,
    rule_type TEXT NOT NULL CHECK (rule_type IN ('max_days', 'max_count', 'max_days_or_count')),
    -- 0 is no limit of that kind.
    max_days REAL NOT NULL DEFAULT 0,
    max_count INTEGER NOT NULL DEFAULT 0,
    -- When the sweeper last applied the policy (Unix nanoseconds); its next run is the schedule's
    -- first time after this, or after created_at.
    last_applied_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

ALTER TABLE projects ADD COLUMN retention_policy_id INTEGER REFERENCES retention_policies (id) ON DELETE SET NULL;
CREATE INDEX ix_projects_retention_policy ON projects (retention_policy_id);

-- The byte budget deletes the oldest traces of every project first.
CREATE INDEX ix_traces_start ON traces (start_time, id);
