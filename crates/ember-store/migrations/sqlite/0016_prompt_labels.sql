-- Prompt labels (a unique name, a color, a description) and the labels applied to each prompt,
-- as Phoenix keeps them. A prompt lists its labels by the primary key; the index serves a
-- label's prompts (the `labelIds` filter, the usage count).

CREATE TABLE prompt_labels (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    color TEXT NOT NULL
);

CREATE TABLE prompts_prompt_labels (
    prompt_id INTEGER NOT NULL REFERENCES prompts (id) ON DELETE CASCADE,
    prompt_label_id INTEGER NOT NULL REFERENCES prompt_labels (id) ON DELETE CASCADE,
    PRIMARY KEY (prompt_id, prompt_label_id)
) WITHOUT ROWID;
CREATE INDEX ix_prompts_prompt_labels_label ON prompts_prompt_labels (prompt_label_id);
