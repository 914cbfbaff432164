-- Short string values of the attributes that filters compare most (every key under metadata,
-- session and user ids, model and tool names; see ember_query::attribute_index), so that an
-- equality such as metadata['customer_id'] == 'c-42' finds its spans here instead of
-- decompressing every span of the project.
-- Clustered by span, so new spans append to the table and deletes cascade along its key; the
-- filters read the (path, value) index.
CREATE TABLE span_attribute_values (
    span_rowid INTEGER NOT NULL REFERENCES spans (id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (span_rowid, path, value)
) WITHOUT ROWID;
CREATE INDEX ix_span_attribute_values_lookup ON span_attribute_values (path, value, span_rowid);

-- Work the store finishes when it opens: here, indexing the spans stored before the table existed.
CREATE TABLE pending_backfills (
    name TEXT PRIMARY KEY,
    next_rowid INTEGER NOT NULL
);
INSERT INTO pending_backfills (name, next_rowid) SELECT 'span_attribute_values', 0 WHERE EXISTS (SELECT 1 FROM spans);
