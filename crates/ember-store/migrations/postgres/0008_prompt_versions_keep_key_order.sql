-- A prompt version's content is stored as JSON, not JSONB, so it reads back with its keys in the
-- order they were sent: a tool result object renders to text in that order.

ALTER TABLE prompt_versions
    ALTER COLUMN template TYPE JSON USING template::json,
    ALTER COLUMN invocation_parameters TYPE JSON USING invocation_parameters::json,
    ALTER COLUMN tools TYPE JSON USING tools::json,
    ALTER COLUMN response_format TYPE JSON USING response_format::json;
