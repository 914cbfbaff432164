-- Secrets set through PUT /v1/secrets (provider API keys and base URLs), read by the playground
-- before the environment. Values are never returned by the API.

CREATE TABLE secrets (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
