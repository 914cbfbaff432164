-- Who wrote each prompt version (the signed-in user; NULL without authentication or once the
-- user is deleted), as Phoenix records it.

ALTER TABLE prompt_versions ADD COLUMN user_id BIGINT REFERENCES users (id) ON DELETE SET NULL;
