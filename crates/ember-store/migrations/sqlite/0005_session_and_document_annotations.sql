-- Session annotations and annotations of a retrieval span's documents, in the shape of the span
-- and trace annotations (see 0002/0003).

CREATE TABLE project_session_annotations (
    id INTEGER PRIMARY KEY,
    session_rowid INTEGER NOT NULL REFERENCES project_sessions (id) ON DELETE CASCADE,
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
    UNIQUE (name, session_rowid, identifier)
);
CREATE INDEX ix_project_session_annotations_session ON project_session_annotations (session_rowid);

CREATE TABLE document_annotations (
    id INTEGER PRIMARY KEY,
    span_rowid INTEGER NOT NULL REFERENCES spans (id) ON DELETE CASCADE,
    document_position INTEGER NOT NULL CHECK (document_position >= 0),
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
    UNIQUE (name, span_rowid, document_position, identifier)
);
CREATE INDEX ix_document_annotations_span ON document_annotations (span_rowid);
