-- A session belongs to one project: `session.id` is unique per project, not globally, so a
-- trace of another project with the same session id gets a session of its own. SQLite cannot
-- change a table's UNIQUE constraint, so the table is rebuilt (SQLite's documented procedure:
-- migrations run with foreign keys off, see `sqlite::open::migrate`, so dropping the old table
-- does not cascade to traces and session annotations, whose references then name the rebuilt
-- table). The new key starts with session_id, so lookups by session id alone still use it.
CREATE TABLE project_sessions_rebuilt (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    start_time INTEGER NOT NULL,
    end_time INTEGER NOT NULL,
    UNIQUE (session_id, project_id)
);
INSERT INTO project_sessions_rebuilt (id, session_id, project_id, start_time, end_time)
SELECT id, session_id, project_id, start_time, end_time FROM project_sessions;
DROP TABLE project_sessions;
ALTER TABLE project_sessions_rebuilt RENAME TO project_sessions;
CREATE INDEX ix_project_sessions_project ON project_sessions (project_id, id);
