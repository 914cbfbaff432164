-- The prompt hub: prompts, their immutable versions, and tags naming one version per prompt.
-- Times are Unix nanoseconds; JSON columns hold JSON text.

CREATE TABLE prompts (
    id INTEGER PRIMARY KEY,
    source_prompt_id INTEGER REFERENCES prompts (id) ON DELETE SET NULL,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX ix_prompts_source ON prompts (source_prompt_id);

-- Versions are never updated: a change is a new version.
CREATE TABLE prompt_versions (
    id INTEGER PRIMARY KEY,
    prompt_id INTEGER NOT NULL REFERENCES prompts (id) ON DELETE CASCADE,
    description TEXT,
    template_type TEXT NOT NULL CHECK (template_type IN ('CHAT', 'STR')),
    template_format TEXT NOT NULL CHECK (template_format IN ('MUSTACHE', 'F_STRING', 'NONE')),
    template TEXT NOT NULL,
    invocation_parameters TEXT NOT NULL,
    tools TEXT,
    response_format TEXT,
    model_provider TEXT NOT NULL,
    model_name TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
);
CREATE INDEX ix_prompt_versions_prompt ON prompt_versions (prompt_id, id);

CREATE TABLE prompt_version_tags (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    prompt_id INTEGER NOT NULL REFERENCES prompts (id) ON DELETE CASCADE,
    prompt_version_id INTEGER NOT NULL REFERENCES prompt_versions (id) ON DELETE CASCADE,
    UNIQUE (name, prompt_id)
);
CREATE INDEX ix_prompt_version_tags_version ON prompt_version_tags (prompt_version_id, id);
CREATE INDEX ix_prompt_version_tags_prompt ON prompt_version_tags (prompt_id);
