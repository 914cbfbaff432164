-- Span and trace annotations (read by filters now, written by the annotation APIs), and the
-- indexes behind the common span filters.

CREATE TABLE span_annotations (
    id INTEGER PRIMARY KEY,
    span_rowid INTEGER NOT NULL REFERENCES spans (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    label TEXT,
    score REAL,
    explanation TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    annotator_kind TEXT NOT NULL CHECK (annotator_kind IN ('LLM', 'CODE', 'HUMAN')),
    user_id INTEGER,
    identifier TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL CHECK (source IN ('API', 'APP')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (name, span_rowid, identifier)
);
CREATE INDEX ix_span_annotations_span ON span_annotations (span_rowid);
-- `evals['x'].label == 'y'` and `.score > n` find their spans here without touching the table.
CREATE INDEX ix_span_annotations_label ON span_annotations (name, label, span_rowid);
CREATE INDEX ix_span_annotations_score ON span_annotations (name, score, span_rowid);

CREATE TABLE trace_annotations (
    id INTEGER PRIMARY KEY,
    trace_rowid INTEGER NOT NULL REFERENCES traces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    label TEXT,
    score REAL,
    explanation TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    annotator_kind TEXT NOT NULL CHECK (annotator_kind IN ('LLM', 'CODE', 'HUMAN')),
    user_id INTEGER,
    identifier TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL CHECK (source IN ('API', 'APP')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (name, trace_rowid, identifier)
);
CREATE INDEX ix_trace_annotations_trace ON trace_annotations (trace_rowid);
CREATE INDEX ix_trace_annotations_label ON trace_annotations (name, label, trace_rowid);
CREATE INDEX ix_trace_annotations_score ON trace_annotations (name, score, trace_rowid);

-- A project's newest spans of one kind or status are one index range.
CREATE INDEX ix_spans_project_kind ON spans (project_id, span_kind, id);
CREATE INDEX ix_spans_project_status ON spans (project_id, status_code, id);
