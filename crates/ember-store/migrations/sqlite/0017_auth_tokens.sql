-- Credentials, as Phoenix keeps them: every token a user holds (a session's access and refresh
-- tokens, an API key, a password-reset token) is a row, and the token itself is a JWT naming the
-- row and carries the row's random nonce. The token is never stored, only its row: deleting the row
-- revokes it at once, and deleting the user deletes every row. Row ids are never reused, and the
-- nonce keeps a token from an earlier database (same secret, same id) from matching a new row. An
-- access token names the refresh token it was issued with. System API keys are the API keys of the
-- SYSTEM user.

CREATE TABLE auth_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    nonce TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('ACCESS', 'REFRESH', 'API_KEY', 'PASSWORD_RESET')),
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_token_id INTEGER REFERENCES auth_tokens (id) ON DELETE CASCADE,
    name TEXT,
    description TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
);
CREATE INDEX ix_auth_tokens_user ON auth_tokens (user_id, kind);
CREATE INDEX ix_auth_tokens_refresh ON auth_tokens (refresh_token_id);
CREATE INDEX ix_auth_tokens_expires ON auth_tokens (expires_at);
