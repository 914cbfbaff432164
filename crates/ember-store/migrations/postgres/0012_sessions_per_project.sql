-- A session belongs to one project: `session.id` is unique per project, not globally, so a
-- trace of another project with the same session id gets a session of its own. The new key
-- starts with session_id, so lookups by session id alone still use it.
ALTER TABLE project_sessions DROP CONSTRAINT project_sessions_session_id_key;
ALTER TABLE project_sessions ADD CONSTRAINT project_sessions_session_id_project_id_key UNIQUE (session_id, project_id);
