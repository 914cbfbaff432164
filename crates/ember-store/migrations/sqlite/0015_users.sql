-- Users, as Phoenix keeps them: the SYSTEM user (id 1) and the default admin (id 2) always exist
-- and cannot be deleted. Emails are unique without regard to case (`email_key` is the lowercased
-- email), usernames exactly. Authentication (login, sessions, API keys) builds on this table.

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('SYSTEM', 'ADMIN', 'MEMBER', 'VIEWER')),
    auth_method TEXT NOT NULL CHECK (auth_method IN ('LOCAL', 'OAUTH2', 'LDAP')),
    password_hash TEXT,
    password_needs_reset INTEGER NOT NULL DEFAULT 0,
    oauth2_client_id TEXT,
    oauth2_user_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

INSERT INTO users (id, email, email_key, username, role, auth_method, password_needs_reset, created_at, updated_at) VALUES
    (1, 'system@localhost', 'system@localhost', 'system', 'SYSTEM', 'LOCAL', 0,
     CAST(strftime('%s', 'now') AS INTEGER) * 1000000000, CAST(strftime('%s', 'now') AS INTEGER) * 1000000000),
    (2, 'admin@localhost', 'admin@localhost', 'admin', 'ADMIN', 'LOCAL', 1,
     CAST(strftime('%s', 'now') AS INTEGER) * 1000000000, CAST(strftime('%s', 'now') AS INTEGER) * 1000000000);
