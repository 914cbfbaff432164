-- Experiments over a dataset version: the task's runs per example and repetition, and the
-- evaluations of each run. Times are Unix nanoseconds; JSON columns hold JSON text.

CREATE TABLE experiments (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    dataset_version_id INTEGER NOT NULL REFERENCES dataset_versions (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    repetitions INTEGER NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    -- The project the task and evaluator traces go to; hidden from project lists.
    project_name TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX ix_experiments_dataset ON experiments (dataset_id, id);
CREATE INDEX ix_experiments_project_name ON experiments (project_name);
CREATE INDEX ix_experiments_version ON experiments (dataset_version_id);

-- The examples an experiment runs over (its version, narrowed by its splits), fixed when it is
-- created, with the revision each was read at.
CREATE TABLE experiments_dataset_examples (
    experiment_id INTEGER NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    dataset_example_id INTEGER NOT NULL REFERENCES dataset_examples (id) ON DELETE CASCADE,
    dataset_example_revision_id INTEGER NOT NULL,
    PRIMARY KEY (experiment_id, dataset_example_id)
) WITHOUT ROWID;
CREATE INDEX ix_experiments_dataset_examples_example ON experiments_dataset_examples (dataset_example_id);

CREATE TABLE experiments_dataset_splits (
    experiment_id INTEGER NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    dataset_split_id INTEGER NOT NULL REFERENCES dataset_splits (id) ON DELETE CASCADE,
    PRIMARY KEY (experiment_id, dataset_split_id)
) WITHOUT ROWID;
CREATE INDEX ix_experiments_dataset_splits_split ON experiments_dataset_splits (dataset_split_id);

CREATE TABLE experiment_runs (
    id INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    dataset_example_id INTEGER NOT NULL REFERENCES dataset_examples (id) ON DELETE CASCADE,
    repetition_number INTEGER NOT NULL,
    -- A soft link: the trace may arrive later or never.
    trace_id TEXT,
    -- `{"task_output": <output>}`, as Phoenix stores it.
    output TEXT NOT NULL,
    start_time INTEGER NOT NULL,
    end_time INTEGER NOT NULL,
    prompt_token_count INTEGER,
    completion_token_count INTEGER,
    error TEXT,
    UNIQUE (experiment_id, dataset_example_id, repetition_number)
);
CREATE INDEX ix_experiment_runs_example ON experiment_runs (dataset_example_id);

CREATE TABLE experiment_run_annotations (
    id INTEGER PRIMARY KEY,
    experiment_run_id INTEGER NOT NULL REFERENCES experiment_runs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    annotator_kind TEXT NOT NULL CHECK (annotator_kind IN ('LLM', 'CODE', 'HUMAN')),
    label TEXT,
    score REAL,
    explanation TEXT,
    trace_id TEXT,
    error TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    start_time INTEGER NOT NULL,
    end_time INTEGER NOT NULL,
    UNIQUE (experiment_run_id, name)
);

-- A tag name points at one experiment of a dataset; `baseline` marks the dataset's baseline.
CREATE TABLE experiment_tags (
    id INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    dataset_id INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    UNIQUE (dataset_id, name)
);
CREATE INDEX ix_experiment_tags_experiment ON experiment_tags (experiment_id);
