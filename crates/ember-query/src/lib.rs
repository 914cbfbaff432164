//! ember's filter languages, compiled to SQL for each store dialect.
//!
//! Two languages reach the same typed AST ([`Condition`]):
//! - Phoenix filters (`span_kind == 'LLM' and evals['correctness'].label == 'incorrect'`), a
//!   restricted Python expression, for spans, traces and sessions ([`Filter::phoenix`]);
//! - Arize AX span filters (`status_code = 'ERROR' AND eval.Correctness.label = 'correct'`)
//!   ([`Filter::arize`]).
//!
//! Pipeline: text → tokens → syntax tree (`syntax`, parsed by `python::parser` and `ax`) → typed AST (`lower`, where
//! names are resolved and Phoenix's type rules applied) → SQL (`sql`), written against the
//! physical schema that [`schema`] owns for the filter compiler and the store alike.
//!
//! # Security boundary
//! Filter text comes straight from HTTP clients and ends up inside SQL statements. This crate is
//! the only place where that happens, and it holds two rules:
//! - every literal the user wrote (strings, numbers, datetimes, attribute keys, annotation names,
//!   LIKE patterns) is a bound parameter, never SQL text;
//! - every piece of SQL text comes from this crate's own string constants, chosen by the grammar
//!   (column names, operators, function names), never from the input.
//!
//! So a filter can select different rows but never change the shape of the statement; the
//! injection tests check that quotes, comments, `;` and look-alike characters stay in parameters.
//! Parser recursion and the depth of the syntax tree are bounded by [`MAX_DEPTH`], so no input
//! can exhaust the stack; the tree's size by [`MAX_FILTER_TERMS`], [`MAX_CHAINED_CONDITIONS`]
//! and [`MAX_LIKE_PATTERN_BYTES`], so no filter reaches the database engine's own limits (a 422
//! naming the cap instead of a 500).

pub mod agent_sql;
mod ast;
pub mod attribute_index;
mod ax;
mod error;
mod lower;
mod python;
#[cfg(feature = "reference")]
pub mod reference;
pub mod schema;
mod sql;
mod syntax;

pub use ast::*;
pub use error::QueryError;
pub use schema::Dialect;
use sea_query::SimpleExpr;
pub use sql::Probe;

/// Candidate subqueries with at least this many rows do not drive a query (see [`Filter::probes`]),
/// in a project of up to about 300,000 spans; larger projects raise it ([`probe_limit`]).
pub const PROBE_LIMIT: usize = 1000;

/// The row count from which a candidate subquery stops driving the query, in a project holding
/// `project_spans` spans (`floor`: [`PROBE_LIMIT`], or a store's own; 0 never lets one drive).
///
/// Driving reads each of `m` candidates (a row and its attributes to decompress and test); walking
/// the project's spans newest first tests spans until a page of 100 matches, about
/// `100 × project_spans / m` of them, each far cheaper (an index entry looked up in the
/// candidates' list: about 1/30 of a candidate's cost, measured at 10M spans). The two cost the
/// same at `m = √(100 × project_spans / 30)`: 1,826 candidates at 1M spans, 5,774 at 10M. A fixed
/// limit made a value matching 1,400 of 10M spans walk 700,000 spans for one page (8.6 s).
pub fn probe_limit(floor: usize, project_spans: u64) -> usize {
    if floor == 0 {
        return 0;
    }
    let balanced = (100.0 * project_spans as f64 / 30.0).sqrt() as usize;
    floor.max(balanced)
}

/// Filters nested deeper than this (brackets, `not`, operator chains, paths) are refused.
pub const MAX_DEPTH: usize = 64;

/// Filters with more terms (names, values, operators) than this are refused: every value is a
/// bound parameter, and SQLite binds at most 32,766.
pub const MAX_FILTER_TERMS: usize = 25_000;

/// Filters that chain more conditions than this along one path (`a or b or …`, `a < b < …`) are
/// refused: SQL nests a chain one level per condition, and SQLite stops at 1,000.
pub const MAX_CHAINED_CONDITIONS: usize = 500;

/// The longest AX `LIKE` pattern (SQLite refuses patterns over 50,000 bytes).
pub const MAX_LIKE_PATTERN_BYTES: usize = 10_000;

/// What a filter selects: spans, traces or sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    Span,
    Trace,
    Session,
}

/// A parsed, type-checked filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    grain: Grain,
    condition: Condition,
}

impl Filter {
    /// A Phoenix filter expression for the given grain.
    pub fn phoenix(text: &str, grain: Grain) -> Result<Filter, QueryError> {
        let node = python::parser::parse(text.trim_start()).map_err(|error| shift(error, text.len() - text.trim_start().len()))?;
        let condition = lower::Lowerer::new(grain).condition(&node).map_err(|error| shift(error, text.len() - text.trim_start().len()))?;
        Ok(Filter { grain, condition })
    }

    /// The filter of a list of traces shown by their root spans (the web UI's Traces tab): a trace
    /// filter when the text is one (`num_spans >= 5`, `any(s.status_code == 'ERROR' for s in
    /// spans)`), otherwise a span filter on the root spans, as Phoenix reads its traces table's
    /// filter. A text that is neither reports the mistake found furthest into it. A trace
    /// filter's SQL reads `traces`, which the root-span query joins.
    pub fn phoenix_traces(text: &str) -> Result<Filter, QueryError> {
        Filter::phoenix(text, Grain::Trace).or_else(|as_trace| {
            Filter::phoenix(text, Grain::Span).map_err(|as_span| if as_trace.column > as_span.column { as_trace } else { as_span })
        })
    }

    /// The fields a Phoenix filter of `grain` names directly (attributes and `evals[...]` aside),
    /// for editors to offer as completions.
    pub fn field_names(grain: Grain) -> Vec<&'static str> {
        lower::field_names(grain)
    }

    /// An Arize AX span filter.
    pub fn arize(text: &str) -> Result<Filter, QueryError> {
        let node = ax::parse(text)?;
        let condition = lower::Lowerer::new(Grain::Span).condition(&node)?;
        Ok(Filter { grain: Grain::Span, condition })
    }

    /// An Arize AX span filter as a trace filter: the trace has a span that matches.
    pub fn arize_any_span(text: &str) -> Result<Filter, QueryError> {
        let span = Filter::arize(text)?;
        Ok(Filter { grain: Grain::Trace, condition: Condition::AnySpan(Box::new(span.condition)) })
    }

    /// The span filter `attribute at path == text` (its text form) when SQLite's attribute index
    /// can answer it (`attribute_index::lookup`), so that an exact equality built elsewhere (the
    /// REST `attribute=key:value` filter) shares the filter language's index plan; `None` when
    /// the index holds nothing for it.
    pub fn indexed_text_equality(path: &[Segment], text: &str) -> Option<Filter> {
        attribute_index::lookup(&path.to_vec(), text)?;
        let condition =
            Condition::Compare(Value::Text(Text::Attribute(path.to_vec())), CompareOp::Eq, Value::Text(Text::Literal(text.to_string())));
        Some(Filter { grain: Grain::Span, condition })
    }

    pub fn grain(&self) -> Grain {
        self.grain
    }

    pub fn condition(&self) -> &Condition {
        &self.condition
    }

    /// The filter as a boolean SQL expression over the grain's table (`spans` joined with
    /// `traces`, `traces`, or `project_sessions`), with every literal bound. Every candidate
    /// subquery (annotation rows, indexed attribute values) drives the query.
    pub fn to_sql(&self, dialect: Dialect) -> SimpleExpr {
        self.to_sql_planned(dialect, &[])
    }

    /// The candidate subqueries of the filter, in order, for SQLite (`None` where one reads the
    /// outer row). `spans.id IN (candidates)` is the best plan when the candidates are few and a
    /// poor one when they are many, where walking the spans in order and testing each is better;
    /// SQLite's planner cannot tell the two apart, so the store counts each probe's rows up to
    /// [`PROBE_LIMIT`] and passes the verdicts to [`Filter::to_sql_planned`].
    pub fn probes(&self, dialect: Dialect) -> Vec<Option<Probe>> {
        if dialect != Dialect::Sqlite {
            return Vec::new();
        }
        let mut writer = sql::SqlWriter::new(dialect).with_sites(sql::Sites::Collect(Vec::new()));
        writer.filter(self.grain, &self.condition);
        writer.into_probes()
    }

    /// As [`Filter::to_sql`], where `large[i]` says that probe `i` reached its limit
    /// ([`probe_limit`]) of rows: that subquery is then tested span by span instead of driving the query. Either
    /// way the expression selects the same rows.
    pub fn to_sql_planned(&self, dialect: Dialect, large: &[bool]) -> SimpleExpr {
        self.plan(dialect, large).expr
    }

    /// As [`Filter::to_sql_planned`], saying also how the expression is best driven.
    pub fn plan(&self, dialect: Dialect, large: &[bool]) -> PlannedFilter {
        let mut writer = sql::SqlWriter::new(dialect).with_sites(sql::Sites::Decide(large.to_vec()));
        writer.filter(self.grain, &self.condition);
        let (expr, drives_by_span_rowid) = writer.finish_planned();
        PlannedFilter { expr, drives_by_span_rowid }
    }
}

/// A filter's SQL as planned from its probes.
#[derive(Debug, Clone)]
pub struct PlannedFilter {
    pub expr: SimpleExpr,
    /// A conjunct of the whole span filter is `spans.id IN (candidates)` with few candidates:
    /// a query listing spans by id is best driven from them (through the rowid, in its order,
    /// stopping at its page) rather than from a project index and a sort of every candidate.
    pub drives_by_span_rowid: bool,
}

/// Columns are counted in characters of the text as given.
fn shift(mut error: QueryError, leading: usize) -> QueryError {
    error.column += leading;
    error
}

#[cfg(test)]
mod tests;
