//! SQL written by an agent (the MCP `run_sql` tool), checked and rewritten so it can only read
//! ember's documented views of the caller's projects.
//!
//! # Security boundary
//! Unlike the filter languages, this is SQL text from outside run by the database. It is
//! parsed (with the store's dialect) and refused unless all of this holds:
//! - it is one query (`SELECT`, `WITH … SELECT`, set operations, `VALUES`), without `INTO`,
//!   locking clauses, data-modifying `WITH` parts or `WITH RECURSIVE`;
//! - every table it reads is one of the [`VIEWS`] or a `WITH` part of its own (which may not
//!   take a view's name), by an unqualified name, never a table function;
//! - every function it calls is in [`ALLOWED_FUNCTIONS`] (aggregates, arithmetic, text, JSON
//!   extraction and dates; nothing that reads files, settings or other sessions, sleeps, or
//!   builds text larger than its input), and it concatenates no text (`||`).
//!
//! The checked query's own `WITH` parts are renamed (`ember_cte_<name>`), so no name it uses
//! can reach a table; it is then placed under the views, defined as `WITH` parts over the
//! tables and limited to the caller's projects, and its rows are capped. The database runs it
//! read-only and within a time budget (the store's part).

use std::collections::HashSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArguments, ObjectName, ObjectNamePart, Query, SetExpr, Statement, TableAlias, TableFactor, Value,
    VisitMut, VisitorMut,
};
use sqlparser::dialect::{PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

use crate::schema::Dialect;
pub use views::{reference, statement, View, VIEWS};

mod views;

/// The longest query accepted.
pub const MAX_SQL_CHARS: usize = 20_000;

/// The prefix of a query's own `WITH` parts once renamed.
const CTE_PREFIX: &str = "ember_cte_";

/// Functions an agent's query may call, lowercase.
pub const ALLOWED_FUNCTIONS: &[&str] = &[
    // aggregates and windows
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "total",
    "row_number",
    "rank",
    "dense_rank",
    "percent_rank",
    "cume_dist",
    "ntile",
    "lag",
    "lead",
    "first_value",
    "last_value",
    "nth_value",
    "percentile_cont",
    "percentile_disc",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "variance",
    "var_pop",
    "var_samp",
    "bool_and",
    "bool_or",
    // numbers
    "abs",
    "round",
    "floor",
    "ceil",
    "ceiling",
    "sign",
    "trunc",
    "mod",
    "power",
    "sqrt",
    "ln",
    "log",
    "exp",
    // null handling and comparisons
    "coalesce",
    "ifnull",
    "nullif",
    "greatest",
    "least",
    "iif",
    // text (none longer than its input)
    "lower",
    "upper",
    "length",
    "char_length",
    "substr",
    "substring",
    "trim",
    "ltrim",
    "rtrim",
    "btrim",
    "instr",
    "strpos",
    "starts_with",
    "typeof",
    // JSON extraction
    "json_extract",
    "json_type",
    "json_array_length",
    "json_valid",
    "jsonb_typeof",
    "jsonb_array_length",
    "json_typeof",
    "jsonb_extract_path_text",
    "jsonb_extract_path",
    "json_extract_path_text",
    // dates
    "strftime",
    "date",
    "time",
    "datetime",
    "julianday",
    "unixepoch",
    "date_trunc",
    "date_part",
    "to_timestamp",
    "to_char",
    "extract",
    "age",
];

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlRefusal(pub String);

impl std::fmt::Display for SqlRefusal {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

fn refuse<T>(message: impl Into<String>) -> Result<T, SqlRefusal> {
    Err(SqlRefusal(message.into()))
}

/// The names of the views an agent reads.
fn view_names() -> impl Iterator<Item = &'static str> {
    VIEWS.iter().map(|view| view.name)
}

/// `sql` checked and rewritten to read only the views (still to be placed under them).
pub fn checked_query(sql: &str, dialect: Dialect) -> Result<String, SqlRefusal> {
    if sql.chars().count() > MAX_SQL_CHARS {
        return refuse(format!("The query is longer than {MAX_SQL_CHARS} characters"));
    }
    let parsed = match dialect {
        Dialect::Sqlite => Parser::parse_sql(&SQLiteDialect {}, sql),
        Dialect::Postgres => Parser::parse_sql(&PostgreSqlDialect {}, sql),
    };
    let mut statements = parsed.map_err(|error| SqlRefusal(format!("Invalid SQL: {error}")))?;
    if statements.len() != 1 {
        return refuse("Give exactly one query (a SELECT)");
    }
    let mut statement = statements.remove(0);
    if !matches!(statement, Statement::Query(_)) {
        return refuse("Only queries (SELECT) may run");
    }
    let mut checker = Checker { ctes: HashSet::new() };
    if let ControlFlow::Break(refusal) = statement.visit(&mut checker) {
        return Err(refusal);
    }
    Ok(statement.to_string())
}

struct Checker {
    /// The query's own `WITH` part names seen so far, lowercase.
    ctes: HashSet<String>,
}

fn unqualified(name: &ObjectName) -> Option<&sqlparser::ast::Ident> {
    match name.0.as_slice() {
        [ObjectNamePart::Identifier(ident)] => Some(ident),
        _ => None,
    }
}

impl VisitorMut for Checker {
    type Break = SqlRefusal;

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<SqlRefusal> {
        if !query.locks.is_empty() || query.for_clause.is_some() || query.settings.is_some() || query.format_clause.is_some() {
            return ControlFlow::Break(SqlRefusal("Locking and output clauses are not allowed".into()));
        }
        if !query.pipe_operators.is_empty() {
            return ControlFlow::Break(SqlRefusal("Pipe operators are not allowed".into()));
        }
        if let Some(with) = &mut query.with {
            if with.recursive {
                return ControlFlow::Break(SqlRefusal("WITH RECURSIVE is not allowed".into()));
            }
            for cte in &mut with.cte_tables {
                let name = cte.alias.name.value.to_lowercase();
                if view_names().any(|view| view == name) {
                    return ControlFlow::Break(SqlRefusal(format!("A WITH part may not be named {name}: that is a view's name")));
                }
                self.ctes.insert(name);
                cte.alias.name.value = format!("{CTE_PREFIX}{}", cte.alias.name.value);
            }
        }
        check_set_expr(&query.body)
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<SqlRefusal> {
        match factor {
            TableFactor::Table {
                name, alias, args: None, with_hints, version: None, partitions, json_path: None, sample: None, ..
            } if with_hints.is_empty() && partitions.is_empty() => {
                // A WITH part read by its name: renamed, and aliased to the name the query
                // qualifies its columns with.
                if let [ObjectNamePart::Identifier(ident)] = name.0.as_mut_slice() {
                    if self.ctes.contains(&ident.value.to_lowercase()) {
                        if alias.is_none() {
                            *alias = Some(TableAlias { explicit: true, name: ident.clone(), columns: Vec::new(), at: None });
                        }
                        ident.value = format!("{CTE_PREFIX}{}", ident.value);
                    }
                }
                ControlFlow::Continue(())
            }
            TableFactor::Table { .. } => ControlFlow::Break(SqlRefusal("Table functions and table options are not allowed".into())),
            TableFactor::Derived { .. } | TableFactor::NestedJoin { .. } => ControlFlow::Continue(()),
            _ => {
                ControlFlow::Break(SqlRefusal(format!("Only the views and subqueries may be read ({} are: {})", "the views", views_list())))
            }
        }
    }

    fn pre_visit_relation(&mut self, relation: &mut ObjectName) -> ControlFlow<SqlRefusal> {
        let Some(ident) = unqualified(relation) else {
            return ControlFlow::Break(SqlRefusal(format!("{relation} is not a view; read the views by name: {}", views_list())));
        };
        let name = ident.value.to_lowercase();
        if view_names().any(|view| view == name) {
            return ControlFlow::Continue(());
        }
        // Renamed by `pre_visit_table_factor` when it was a WITH part's name.
        if name.strip_prefix(CTE_PREFIX).is_some_and(|original| self.ctes.contains(original)) {
            return ControlFlow::Continue(());
        }
        ControlFlow::Break(SqlRefusal(format!("{} is not a view; the views are: {}", ident.value, views_list())))
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<SqlRefusal> {
        match expr {
            Expr::Function(function) => {
                let allowed =
                    unqualified(&function.name).is_some_and(|ident| ALLOWED_FUNCTIONS.contains(&ident.value.to_lowercase().as_str()));
                if !allowed {
                    return ControlFlow::Break(SqlRefusal(format!("The function {} is not allowed", function.name)));
                }
                if !matches!(function.parameters, FunctionArguments::None) {
                    return ControlFlow::Break(SqlRefusal(format!("The function {} takes no parameters here", function.name)));
                }
                ControlFlow::Continue(())
            }
            Expr::Value(value) if matches!(value.value, Value::Placeholder(_)) => {
                ControlFlow::Break(SqlRefusal("Parameters are not allowed; write the values in the query".into()))
            }
            Expr::BinaryOp { op: BinaryOperator::StringConcat, .. } => {
                ControlFlow::Break(SqlRefusal("Text concatenation (||) is not allowed".into()))
            }
            _ => ControlFlow::Continue(()),
        }
    }
}

/// A query body: selects and set operations of selects or values, nothing that writes.
fn check_set_expr(body: &SetExpr) -> ControlFlow<SqlRefusal> {
    match body {
        SetExpr::Select(select) => {
            if select.into.is_some() {
                return ControlFlow::Break(SqlRefusal("SELECT INTO is not allowed".into()));
            }
            if !select.lateral_views.is_empty() || select.top.is_some() || !select.connect_by.is_empty() {
                return ControlFlow::Break(SqlRefusal("This SELECT syntax is not supported".into()));
            }
            ControlFlow::Continue(())
        }
        SetExpr::SetOperation { left, right, .. } => {
            check_set_expr(left)?;
            check_set_expr(right)
        }
        // A nested query is checked when it is visited.
        SetExpr::Query(_) | SetExpr::Values(_) => ControlFlow::Continue(()),
        _ => ControlFlow::Break(SqlRefusal("Only queries (SELECT) may run".into())),
    }
}

fn views_list() -> String {
    view_names().collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(sql: &str) -> Result<String, String> {
        checked_query(sql, Dialect::Sqlite).map_err(|refusal| refusal.0)
    }

    #[test]
    fn queries_over_the_views_pass_and_their_own_with_parts_are_renamed() {
        let sql = "SELECT name, count(*) AS n FROM spans WHERE status_code = 'ERROR' GROUP BY name ORDER BY n DESC";
        assert_eq!(checked(sql).unwrap(), sql);
        assert_eq!(
            checked("WITH x AS (SELECT * FROM spans) SELECT count(*) FROM x JOIN span_annotations a ON a.span_id = x.span_id").unwrap(),
            "WITH ember_cte_x AS (SELECT * FROM spans) SELECT count(*) FROM ember_cte_x AS x JOIN span_annotations a ON a.span_id = x.span_id"
        );
        assert_eq!(
            checked("SELECT * FROM spans WHERE EXISTS (WITH users AS (SELECT 1) SELECT * FROM users)").unwrap(),
            "SELECT * FROM spans WHERE EXISTS (WITH ember_cte_users AS (SELECT 1) SELECT * FROM ember_cte_users AS users)"
        );
        assert!(checked("SELECT json_extract(attributes, '$.llm.model_name'), attributes ->> '$.a' FROM spans").is_ok());
        assert!(checked_query("SELECT attributes #>> '{llm,model_name}' FROM spans", Dialect::Postgres).is_ok());
    }

    #[test]
    fn anything_but_reading_the_views_is_refused_with_the_reason() {
        let views = "projects, spans, traces, sessions, span_annotations, trace_annotations, session_annotations";
        let refused = [
            ("SELECT * FROM users", format!("users is not a view; the views are: {views}")),
            ("SELECT * FROM main.spans", format!("main.spans is not a view; read the views by name: {views}")),
            ("SELECT * FROM (SELECT * FROM sqlite_master)", format!("sqlite_master is not a view; the views are: {views}")),
            // An outer name is not a WITH part defined inside it.
            (
                "SELECT * FROM users WHERE EXISTS (WITH users AS (SELECT 1) SELECT * FROM users)",
                format!("users is not a view; the views are: {views}"),
            ),
            ("WITH spans AS (SELECT 1) SELECT * FROM spans", "A WITH part may not be named spans: that is a view's name".into()),
            ("SELECT load_extension('x')", "The function load_extension is not allowed".into()),
            ("SELECT pg_sleep(10)", "The function pg_sleep is not allowed".into()),
            ("SELECT main.count(*) FROM spans", "The function main.count is not allowed".into()),
            ("SELECT replace(name, 'a', name) FROM spans", "The function replace is not allowed".into()),
            ("SELECT group_concat(name) FROM spans", "The function group_concat is not allowed".into()),
            ("DELETE FROM spans", "Only queries (SELECT) may run".into()),
            ("UPDATE spans SET name = 'x'", "Only queries (SELECT) may run".into()),
            (
                "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
                "WITH RECURSIVE is not allowed".into(),
            ),
            ("SELECT 'a' || 'b'", "Text concatenation (||) is not allowed".into()),
            ("SELECT * FROM json_each('[1]')", "Table functions and table options are not allowed".into()),
            ("SELECT * FROM pragma_table_info('users')", "Table functions and table options are not allowed".into()),
            ("SELECT 1; SELECT 2", "Give exactly one query (a SELECT)".into()),
            ("SELECT * INTO t FROM spans", "SELECT INTO is not allowed".into()),
            ("ATTACH DATABASE 'x' AS y", "Only queries (SELECT) may run".into()),
            ("PRAGMA query_only = 0", "Only queries (SELECT) may run".into()),
            ("SELECT * FROM spans WHERE name = ?", "Parameters are not allowed; write the values in the query".into()),
        ];
        for (sql, reason) in refused {
            assert_eq!(checked(sql), Err(reason), "{sql}");
        }
        let postgres = [
            ("WITH d AS (DELETE FROM spans RETURNING *) SELECT * FROM d", "Only queries (SELECT) may run"),
            ("SELECT * FROM spans FOR UPDATE", "Locking and output clauses are not allowed"),
            ("SELECT current_setting('x')", "The function current_setting is not allowed"),
            ("SELECT * FROM generate_series(1, 10)", "Table functions and table options are not allowed"),
            ("SET statement_timeout = 0", "Only queries (SELECT) may run"),
        ];
        for (sql, reason) in postgres {
            assert_eq!(checked_query(sql, Dialect::Postgres).map_err(|refusal| refusal.0), Err(reason.to_string()), "{sql}");
        }
        assert!(checked("SELECT FROM WHERE").unwrap_err().starts_with("Invalid SQL: "));
        assert!(checked(&format!("SELECT {}", "1 + ".repeat(6000) + "1")).unwrap_err().starts_with("The query is longer than"));
    }

    #[test]
    fn the_statement_puts_the_query_under_views_of_the_visible_projects() {
        let sqlite = statement(Dialect::Sqlite, "SELECT count(*) FROM spans", Some("projects.id = 3"), 101);
        assert!(sqlite.starts_with("WITH projects AS (SELECT "));
        assert!(sqlite.contains("FROM main.projects AS projects WHERE projects.id = 3)"));
        assert!(sqlite.contains("FROM main.spans AS spans JOIN main.traces AS traces"));
        assert!(sqlite.ends_with("SELECT ember_answer.* FROM (SELECT count(*) FROM spans) AS ember_answer LIMIT 101"));
        let postgres = statement(Dialect::Postgres, "SELECT 1", None, 11);
        assert!(postgres.contains("FROM projects AS projects WHERE 1 = 1)"));
        assert!(postgres.ends_with("SELECT CAST(row_to_json(ember_answer) AS TEXT) FROM (SELECT 1) AS ember_answer LIMIT 11"));
        assert!(reference(Dialect::Postgres).contains("## span_annotations"));
    }
}
