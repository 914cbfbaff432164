-- Per-project access (beyond Phoenix). A restricted project is reached only by admins and by the
-- users and roles granted it, each at a level (VIEWER reads, MEMBER reads and writes) that never
-- exceeds the user's own role. An API key may be scoped to one project, and made ingest-only.

ALTER TABLE projects ADD COLUMN restricted INTEGER NOT NULL DEFAULT 0;

CREATE TABLE project_grants (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    role TEXT CHECK (role IN ('MEMBER', 'VIEWER')),
    level TEXT NOT NULL CHECK (level IN ('MEMBER', 'VIEWER')),
    CHECK ((user_id IS NULL) <> (role IS NULL))
);
CREATE UNIQUE INDEX ux_project_grants_user ON project_grants (project_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX ux_project_grants_role ON project_grants (project_id, role) WHERE role IS NOT NULL;
CREATE INDEX ix_project_grants_user ON project_grants (user_id);

ALTER TABLE auth_tokens ADD COLUMN project_id INTEGER REFERENCES projects (id) ON DELETE CASCADE;
ALTER TABLE auth_tokens ADD COLUMN ingest_only INTEGER NOT NULL DEFAULT 0;

-- Who did what to credentials and access: sign-ins, keys, users, grants. Read by admins.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor_user_id INTEGER,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
