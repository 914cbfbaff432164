-- Datasets as Phoenix versions them: versions are immutable; an example's state at version V is
-- its latest revision at or before V, and a deletion is a revision too. Times are Unix
-- nanoseconds; JSON columns hold JSON text.

CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- Examples alive at the latest version, kept by every write so lists never count.
    example_count INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE dataset_versions (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    description TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
);
CREATE INDEX ix_dataset_versions_dataset ON dataset_versions (dataset_id, id);

CREATE TABLE dataset_examples (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    -- The span the example was made from, if any.
    span_rowid INTEGER REFERENCES spans (id) ON DELETE SET NULL,
    -- The caller's stable id for the example (`example_ids` of an upload), if any.
    external_id TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (dataset_id, external_id)
);
CREATE INDEX ix_dataset_examples_dataset ON dataset_examples (dataset_id, id);
CREATE INDEX ix_dataset_examples_span ON dataset_examples (span_rowid);

CREATE TABLE dataset_example_revisions (
    id INTEGER PRIMARY KEY,
    dataset_example_id INTEGER NOT NULL REFERENCES dataset_examples (id) ON DELETE CASCADE,
    dataset_version_id INTEGER NOT NULL REFERENCES dataset_versions (id) ON DELETE CASCADE,
    input TEXT NOT NULL,
    output TEXT NOT NULL,
    metadata TEXT NOT NULL,
    revision_kind TEXT NOT NULL CHECK (revision_kind IN ('CREATE', 'PATCH', 'DELETE')),
    created_at INTEGER NOT NULL,
    -- Also the lookup of an example's latest revision at or before a version.
    UNIQUE (dataset_example_id, dataset_version_id)
);
CREATE INDEX ix_dataset_example_revisions_version ON dataset_example_revisions (dataset_version_id);

-- Splits are global, as in Phoenix; an example belongs to any number of them.
CREATE TABLE dataset_splits (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    color TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE dataset_splits_dataset_examples (
    dataset_split_id INTEGER NOT NULL REFERENCES dataset_splits (id) ON DELETE CASCADE,
    dataset_example_id INTEGER NOT NULL REFERENCES dataset_examples (id) ON DELETE CASCADE,
    PRIMARY KEY (dataset_split_id, dataset_example_id)
) WITHOUT ROWID;
CREATE INDEX ix_dataset_splits_dataset_examples_example ON dataset_splits_dataset_examples (dataset_example_id);

CREATE TABLE dataset_labels (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    color TEXT NOT NULL
);

CREATE TABLE datasets_dataset_labels (
    dataset_id INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    dataset_label_id INTEGER NOT NULL REFERENCES dataset_labels (id) ON DELETE CASCADE,
    PRIMARY KEY (dataset_id, dataset_label_id)
) WITHOUT ROWID;
CREATE INDEX ix_datasets_dataset_labels_label ON datasets_dataset_labels (dataset_label_id);
