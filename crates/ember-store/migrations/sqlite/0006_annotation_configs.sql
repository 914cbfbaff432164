-- Annotation configs (what a human annotation form offers: categorical labels, a continuous
-- score range, free text) and the projects they are offered on.

CREATE TABLE annotation_configs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- {"type": "CATEGORICAL" | "CONTINUOUS" | "FREEFORM", "description", "optimization_direction", ...}
    config TEXT NOT NULL
);

CREATE TABLE project_annotation_configs (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    annotation_config_id INTEGER NOT NULL REFERENCES annotation_configs (id) ON DELETE CASCADE,
    UNIQUE (project_id, annotation_config_id)
);
CREATE INDEX ix_project_annotation_configs_config ON project_annotation_configs (annotation_config_id);

-- Phoenix offers this one everywhere from the start.
INSERT INTO annotation_configs (name, config) VALUES (
    'user_feedback',
    '{"type": "CATEGORICAL", "description": null, "optimization_direction": "MAXIMIZE", "values": [{"label": "positive", "score": 1.0}, {"label": "negative", "score": 0.0}]}'
);
