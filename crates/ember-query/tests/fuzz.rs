//! Fuzz targets (see `ember-fuzz`): both filter languages' parsers, and the SQL of what they
//! accept on both dialects, never panic; a filter past the size limits is refused, not lowered.
//! The checker of agents' SQL never panics either, on either dialect.

use ember_fuzz::{fuzz, mutated};
use ember_query::{Dialect, Filter, Grain};

/// Phoenix filters over every grain's vocabulary: comparisons, boolean logic, `in`, evals and
/// annotations, attribute paths, metadata, comprehensions, aggregates, functions, literals.
const PHOENIX: [&str; 14] = [
    "span_kind == 'LLM' and latency_ms > 1000 and evals['correctness'].label == 'incorrect'",
    "evals['a'].label == 'x' or evals['b'].score > 1 or evals['a'].label is None",
    "attributes['llm.model_name'] == 'gpt-4o' and llm.token_count.total > 600",
    "metadata['tier'] in ('gold', 'silver') and not (status_code == 'ERROR')",
    "'refund' in input.value or str(output.value) == 'Sorry' or float(metadata['n']) > 2",
    "cumulative_token_count.total >= 10 and -1.5e3 < latency_ms <= 2e9",
    "name != \"a\\\"b\" and parent_id is not None and span_id == '0102030405060708'",
    "annotations['q'].score >= 0.5 and annotations['q'].label != 'bad'",
    "start_time >= '2024-01-01T00:00:00Z' and end_time < '2024-12-31T00:00:00+02:00'",
    "num_spans > 3 and any(s.span_kind == 'LLM' for s in spans)",
    "all(s.latency_ms < 10 for s in spans if s.span_kind == 'LLM')",
    "session_id == 's' and num_traces >= 2 and token_count_total > 0",
    "any(s.evals['q'].label == 'bad' for s in spans)",
    "int(metadata['n']) > 10 and llm.input_messages[0].message.role == 'user'",
];

/// AX filters: the grammar of `ember_query::ax`.
const ARIZE: [&str; 8] = [
    "name LIKE 'gpt-4%\\_x' AND latency_ms > 100",
    "status_code = 'ERROR' OR (span_kind IN ('LLM', 'TOOL') AND NOT parent_id IS NULL)",
    "eval.correctness.label = 'correct' AND eval.correctness.score >= 0.5",
    "annotation.quality.text CONTAINS 'slow' OR annotation.quality.label <> 'good'",
    "attributes.llm.model_name = 'gpt-4o' AND attributes.llm.token_count.total > 600",
    "metadata.tier NOT IN ('gold') AND metadata.\"odd key\".`x` = TRUE",
    "context.span_id = '0102030405060708' AND start_time >= '2024-01-01T00:00:00Z'",
    "attributes.input.value NOT LIKE '%x%' AND end_time < '2024-12-31T00:00:00Z'",
];

/// Parsing, then (when accepted) every SQL a filter is lowered to.
fn check(filter: Result<Filter, ember_query::QueryError>) -> Result<(), String> {
    let Ok(filter) = filter else { return Ok(()) };
    for dialect in [Dialect::Sqlite, Dialect::Postgres] {
        let _ = filter.to_sql(dialect);
        let large: Vec<bool> = filter.probes(dialect).iter().map(Option::is_some).collect();
        let _ = filter.to_sql_planned(dialect, &large);
    }
    Ok(())
}

#[test]
fn phoenix_filter_parsing() {
    let seeds = PHOENIX.iter().map(|text| text.as_bytes().to_vec()).collect();
    for text in PHOENIX {
        let parses = [Grain::Span, Grain::Trace, Grain::Session].into_iter().any(|grain| Filter::phoenix(text, grain).is_ok());
        assert!(parses, "{text}: {:?}", Filter::phoenix(text, Grain::Span));
    }
    fuzz("phoenix_filter", mutated(seeds), |bytes| {
        let text = String::from_utf8_lossy(&bytes);
        for grain in [Grain::Span, Grain::Trace, Grain::Session] {
            check(Filter::phoenix(&text, grain))?;
        }
        Ok(())
    });
}

#[test]
fn arize_filter_parsing() {
    let seeds = ARIZE.iter().map(|text| text.as_bytes().to_vec()).collect();
    for text in ARIZE {
        Filter::arize(text).unwrap_or_else(|error| panic!("{text}: {error}"));
    }
    fuzz("arize_filter", mutated(seeds), |bytes| check(Filter::arize(&String::from_utf8_lossy(&bytes))));
}

/// Agents' SQL (MCP `run_sql`): the views, joins, aggregates, windows, subqueries, own `WITH`
/// parts, JSON extraction on both dialects, and things that must be refused.
const AGENT_SQL: [&str; 8] = [
    "SELECT name, count(*) AS n, avg(latency_ms) FROM spans WHERE status_code = 'ERROR' GROUP BY name ORDER BY n DESC LIMIT 5",
    "WITH slow AS (SELECT trace_id FROM spans WHERE latency_ms > 1000) SELECT t.* FROM traces t JOIN slow ON slow.trace_id = t.trace_id",
    "SELECT s.span_id, a.label FROM spans s LEFT JOIN span_annotations a ON a.span_id = s.span_id WHERE a.score < 0.5 OR a.score IS NULL",
    "SELECT json_extract(attributes, '$.llm.model_name') AS m, row_number() OVER (PARTITION BY span_kind ORDER BY start_time) FROM spans",
    "SELECT attributes #>> '{llm,model_name}' FROM spans WHERE start_time >= '2026-01-01' UNION ALL SELECT name FROM projects",
    "SELECT * FROM sessions WHERE EXISTS (SELECT 1 FROM traces WHERE traces.session_id = sessions.id) AND id IN (1, 2, 3)",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM users, json_each('[1]') WHERE 'a' || 'b' = ?",
    "DELETE FROM spans; SELECT load_extension('x'); SELECT * FROM main.spans FOR UPDATE",
];

#[test]
fn agent_sql_checking() {
    use ember_query::agent_sql::{checked_query, statement};
    let seeds = AGENT_SQL.iter().map(|text| text.as_bytes().to_vec()).collect();
    assert!(checked_query(AGENT_SQL[0], Dialect::Sqlite).is_ok());
    assert!(checked_query(AGENT_SQL[7], Dialect::Postgres).is_err());
    fuzz("agent_sql", mutated(seeds), |bytes| {
        let text = String::from_utf8_lossy(&bytes);
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            if let Ok(checked) = checked_query(&text, dialect) {
                // What is accepted is placed under the views.
                let placed = statement(dialect, &checked, None, 10);
                if !placed.contains(&checked) {
                    return Err(format!("{text:?} was not placed under the views"));
                }
            }
        }
        Ok(())
    });
}
