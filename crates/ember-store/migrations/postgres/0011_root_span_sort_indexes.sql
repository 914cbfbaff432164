-- A project's root spans (its traces as the web UI lists them) sorted by latency or by tokens,
-- read in index order a page at a time. Partial: only root spans are indexed.
CREATE INDEX ix_spans_root_latency ON spans (project_id, (end_time - start_time), id) WHERE parent_id IS NULL;
CREATE INDEX ix_spans_root_tokens ON spans (project_id, (cumulative_llm_token_count_prompt + cumulative_llm_token_count_completion), id)
    WHERE parent_id IS NULL;
CREATE INDEX ix_spans_root_start ON spans (project_id, start_time, id) WHERE parent_id IS NULL;
