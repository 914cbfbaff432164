-- Tracing core: projects, sessions, traces, spans.
-- Times are Unix nanoseconds; attributes and events are JSON text.

CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

INSERT INTO projects (id, name, description, created_at, updated_at)
VALUES (1, 'default', 'Default project', CAST((julianday('now') - 2440587.5) * 86400000000000 AS INTEGER),
        CAST((julianday('now') - 2440587.5) * 86400000000000 AS INTEGER));

CREATE TABLE project_sessions (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL UNIQUE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    start_time INTEGER NOT NULL,
    end_time INTEGER NOT NULL
);
CREATE INDEX ix_project_sessions_project ON project_sessions (project_id, id);

CREATE TABLE traces (
    id INTEGER PRIMARY KEY,
    trace_id TEXT NOT NULL UNIQUE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    session_rowid INTEGER REFERENCES project_sessions (id) ON DELETE CASCADE,
    start_time INTEGER NOT NULL,
    end_time INTEGER NOT NULL
);
CREATE INDEX ix_traces_project_start ON traces (project_id, start_time, id);
CREATE INDEX ix_traces_project_latency ON traces (project_id, (end_time - start_time), id);
CREATE INDEX ix_traces_session ON traces (session_rowid);

-- project_id is denormalised from the trace so a project's span list is one index range.
CREATE TABLE spans (
    id INTEGER PRIMARY KEY,
    trace_rowid INTEGER NOT NULL REFERENCES traces (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    span_id TEXT NOT NULL UNIQUE,
    parent_id TEXT,
    name TEXT NOT NULL,
    span_kind TEXT NOT NULL,
    start_time INTEGER NOT NULL,
    end_time INTEGER NOT NULL,
    status_code TEXT NOT NULL CHECK (status_code IN ('OK', 'ERROR', 'UNSET')),
    status_message TEXT NOT NULL,
    -- A format byte then JSON text or a zstd frame of it; read in SQL with ember_json().
    attributes BLOB NOT NULL,
    events TEXT NOT NULL,
    cumulative_error_count INTEGER NOT NULL,
    cumulative_llm_token_count_prompt INTEGER NOT NULL,
    cumulative_llm_token_count_completion INTEGER NOT NULL,
    llm_token_count_prompt INTEGER,
    llm_token_count_completion INTEGER
);
CREATE INDEX ix_spans_project ON spans (project_id, id);
CREATE INDEX ix_spans_project_start ON spans (project_id, start_time);
CREATE INDEX ix_spans_trace ON spans (trace_rowid);
CREATE INDEX ix_spans_parent ON spans (parent_id);
