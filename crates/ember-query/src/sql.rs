//! Typed AST → SQL text with bound values, for SQLite and PostgreSQL.
//!
//! The SQL refers to ember's schema: `spans` (joined with `traces` for span filters), `traces`,
//! `project_sessions`, `span_annotations`, `trace_annotations`, and on SQLite
//! `span_metadata_patches` and the functions of [`crate::schema::functions`], which `ember-store`
//! registers. Dialect text, attribute expressions and JSON paths come from [`crate::schema`].
//!
//! Every literal and every attribute path is a bound value; the only text written here comes
//! from this file, so no filter can change the shape of the statement.

use std::fmt::Write;

use sea_query::SimpleExpr;

use crate::ast::*;
use crate::attribute_index;
use crate::schema::{functions, may_be_patched, postgres_text_array, sqlite_json_path, SQLITE_SPAN_METADATA_PATCH};
use crate::{Dialect, Grain};

/// A candidate subquery of a span filter, for the store to count (see [`crate::Filter::probes`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// `SELECT <rowid> FROM ...`, with `?` placeholders for `values`.
    pub sql: String,
    pub values: Vec<sea_query::Value>,
}

/// How the writer treats candidate subqueries ("sites": annotation semi-joins and attribute-index
/// lookups), numbered in the order it meets them.
pub(crate) enum Sites {
    /// Every site drives the query (`id IN (candidates)`).
    Drive,
    /// As `Drive`, recording each site's subquery (`None` where it reads the outer row).
    Collect(Vec<Option<Probe>>),
    /// `large[i]`: site `i` has too many rows to drive the query, so it is tested row by row
    /// while the query walks its own index.
    Decide(Vec<bool>),
}

pub(crate) struct SqlWriter {
    dialect: Dialect,
    sites: Sites,
    next_site: usize,
    sql: String,
    values: Vec<sea_query::Value>,
    next_alias: usize,
    /// Annotation references in scope and the table alias that reads each.
    bindings: Vec<(AnnotationRef, String)>,
    /// How many `NOT`s enclose the condition being written. Where there are none, FALSE and NULL
    /// select the same rows, which lets a comparison add index-friendly conjuncts that are FALSE
    /// where the comparison itself is NULL.
    negations: usize,
    /// Set while the next condition is a conjunct of the whole span filter.
    top_level: bool,
    /// Whether a conjunct of the whole span filter is `spans.id IN (candidates)` driving the
    /// query (see [`crate::PlannedFilter::drives_by_span_rowid`]).
    drives: bool,
}

impl SqlWriter {
    pub(crate) fn new(dialect: Dialect) -> Self {
        SqlWriter {
            dialect,
            sites: Sites::Drive,
            next_site: 0,
            sql: String::new(),
            values: Vec::new(),
            next_alias: 0,
            bindings: Vec::new(),
            negations: 0,
            top_level: false,
            drives: false,
        }
    }

    pub(crate) fn with_sites(mut self, sites: Sites) -> Self {
        self.sites = sites;
        self
    }

    /// The expression, and whether a conjunct of the whole span filter drives it by span rowid.
    pub(crate) fn finish_planned(self) -> (SimpleExpr, bool) {
        (SimpleExpr::CustomWithExpr(self.sql, self.values.into_iter().map(SimpleExpr::Value).collect()), self.drives)
    }

    pub(crate) fn into_probes(self) -> Vec<Option<Probe>> {
        match self.sites {
            Sites::Collect(probes) => probes,
            _ => Vec::new(),
        }
    }

    /// Numbers the next site (sites nest, so a site's number is taken before its subquery is
    /// written); `large` when it must not drive the query.
    fn next_site(&mut self) -> (usize, bool) {
        let site = self.next_site;
        self.next_site += 1;
        if let Sites::Collect(probes) = &mut self.sites {
            probes.push(None);
        }
        (site, matches!(&self.sites, Sites::Decide(large) if large.get(site).copied().unwrap_or(false)))
    }

    /// Writes the subquery of `site` with `write`, recording it as its probe when collecting.
    fn subquery(&mut self, site: usize, write: impl FnOnce(&mut Self)) {
        let (sql_start, values_start) = (self.sql.len(), self.values.len());
        write(self);
        if let Sites::Collect(probes) = &mut self.sites {
            let sql = &self.sql[sql_start..];
            // Every reference to the outer row is written qualified by its table.
            let correlated = ["spans.", "traces.", "project_sessions."].iter().any(|outer| sql.contains(outer));
            if !correlated {
                probes[site] = Some(Probe { sql: sql.to_string(), values: self.values[values_start..].to_vec() });
            }
        }
    }

    fn push(&mut self, text: &str) {
        self.sql.push_str(text);
    }

    fn param(&mut self, value: impl Into<sea_query::Value>) {
        self.values.push(value.into());
        match self.dialect {
            Dialect::Sqlite => self.sql.push('?'),
            Dialect::Postgres => {
                let _ = write!(self.sql, "${}", self.values.len());
            }
        }
    }

    fn alias(&mut self, prefix: &str) -> String {
        self.next_alias += 1;
        format!("{prefix}{}", self.next_alias)
    }

    /// A condition at the top of a grain.
    pub(crate) fn filter(&mut self, grain: Grain, condition: &Condition) {
        match grain {
            Grain::Span => self.span_condition(condition, true),
            _ => self.condition(grain, condition),
        }
    }

    /// A span condition, binding the annotations it reads. Top-level conjuncts that read no
    /// annotation stay outside; the rest are grouped by the annotations they share. A group on one
    /// annotation that no absent annotation can satisfy becomes `id IN (annotation rows)`, which
    /// the planner can drive from the annotation index; any other group keeps Phoenix's meaning,
    /// "some combination of the annotations' rows (or NULLs where there is none) satisfies it".
    /// `outermost`: the condition is the whole filter (not a comprehension's inside one).
    fn span_condition(&mut self, condition: &Condition, outermost: bool) {
        let mut conjuncts = Vec::new();
        flatten_and(condition, &mut conjuncts);
        let mut parts: Vec<Vec<&Condition>> = Vec::new();
        let mut groups: Vec<(Vec<AnnotationRef>, Vec<&Condition>)> = Vec::new();
        for conjunct in conjuncts {
            let mut refs = Vec::new();
            conjunct.annotation_refs(&mut refs);
            if refs.is_empty() {
                parts.push(vec![conjunct]);
                continue;
            }
            // Merge every group sharing an annotation with this conjunct.
            let mut merged_refs = refs;
            let mut merged = vec![conjunct];
            let mut index = 0;
            while index < groups.len() {
                if groups[index].0.iter().any(|r| merged_refs.contains(r)) {
                    let (group_refs, group_conditions) = groups.remove(index);
                    for reference in group_refs {
                        if !merged_refs.contains(&reference) {
                            merged_refs.push(reference);
                        }
                    }
                    merged.extend(group_conditions);
                } else {
                    index += 1;
                }
            }
            groups.push((merged_refs, merged));
        }
        let total = parts.len() + groups.len();
        if total > 1 {
            self.push("(");
        }
        let mut first = true;
        for part in &parts {
            if !first {
                self.push(" AND ");
            }
            first = false;
            self.top_level = outermost;
            self.condition(Grain::Span, part[0]);
        }
        for (refs, conditions) in &groups {
            if !first {
                self.push(" AND ");
            }
            first = false;
            if refs.len() == 1 && conditions.iter().any(|c| rejects_null(c)) {
                let drives = self.annotation_semi_join(&refs[0], conditions);
                self.drives |= outermost && drives && refs[0].target == AnnotationTarget::Span;
            } else {
                self.annotation_exists(refs, conditions);
            }
        }
        if total > 1 {
            self.push(")");
        }
    }

    /// `id IN (annotation rows)`, or, when those rows are too many to drive the query, the same
    /// test as a correlated `EXISTS` probing the annotation index for each span; whether it is
    /// the former.
    fn annotation_semi_join(&mut self, reference: &AnnotationRef, conditions: &[&Condition]) -> bool {
        let alias = self.alias("a");
        let (outer, table, key) = annotation_table(reference.target);
        let (site, large) = self.next_site();
        let write = |writer: &mut Self| {
            let _ = write!(writer.sql, "SELECT {alias}.{key} FROM {table} AS {alias} WHERE ");
            if large {
                let _ = write!(writer.sql, "{alias}.{key} = {outer} AND ");
            }
            let _ = write!(writer.sql, "{alias}.name = ");
            writer.param(reference.name.clone());
            writer.bindings.push((reference.clone(), alias.clone()));
            for condition in conditions {
                writer.push(" AND ");
                writer.condition(Grain::Span, condition);
            }
            writer.bindings.pop();
        };
        if large {
            self.push("EXISTS (");
            write(self);
        } else {
            let _ = write!(self.sql, "{outer} IN (");
            self.subquery(site, write);
        }
        self.push(")");
        !large
    }

    fn annotation_exists(&mut self, refs: &[AnnotationRef], conditions: &[&Condition]) {
        let seed = self.alias("seed");
        let _ = write!(self.sql, "EXISTS (SELECT 1 FROM (SELECT 1 AS one) AS {seed}");
        let bound = self.bindings.len();
        for reference in refs {
            let alias = self.alias("a");
            let (outer, table, key) = annotation_table(reference.target);
            let _ = write!(self.sql, " LEFT JOIN {table} AS {alias} ON {alias}.{key} = {outer} AND {alias}.name = ");
            self.param(reference.name.clone());
            self.bindings.push((reference.clone(), alias));
        }
        self.push(" WHERE ");
        for (index, condition) in conditions.iter().enumerate() {
            if index > 0 {
                self.push(" AND ");
            }
            self.condition(Grain::Span, condition);
        }
        self.bindings.truncate(bound);
        self.push(")");
    }

    /// `spans.id IN (rows of the attribute index)`: the spans whose indexed attribute `key` is
    /// one of `values` (see `attribute_index`), exactly those the comparison selects.
    fn indexed_candidates(&mut self, site: usize, key: String, values: &[String]) {
        let alias = self.alias("v");
        self.push("spans.id IN (");
        self.subquery(site, |writer| {
            let _ = write!(writer.sql, "SELECT {alias}.span_rowid FROM span_attribute_values AS {alias} WHERE {alias}.path = ");
            writer.param(key);
            let _ = write!(writer.sql, " AND {alias}.value IN (");
            for (index, value) in values.iter().enumerate() {
                if index > 0 {
                    writer.push(", ");
                }
                writer.param(value.clone());
            }
            writer.push(")");
        });
        self.push(")");
    }

    fn binding(&self, reference: &AnnotationRef) -> String {
        self.bindings
            .iter()
            .rev()
            .find(|(bound, _)| bound == reference)
            .map(|(_, alias)| alias.clone())
            .expect("every annotation reference is bound by span_condition")
    }

    fn condition(&mut self, grain: Grain, condition: &Condition) {
        let top_level = std::mem::take(&mut self.top_level);
        match condition {
            Condition::And(items) | Condition::Or(items) if items.is_empty() => {
                self.push(if matches!(condition, Condition::And(_)) { "(1 = 1)" } else { "(1 = 0)" });
            }
            Condition::And(items) | Condition::Or(items) => {
                let joiner = if matches!(condition, Condition::And(_)) { " AND " } else { " OR " };
                self.push("(");
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        self.push(joiner);
                    }
                    self.condition(grain, item);
                }
                self.push(")");
            }
            Condition::Not(inner) => {
                self.push("(NOT ");
                self.negations += 1;
                self.condition(grain, inner);
                self.negations -= 1;
                self.push(")");
            }
            Condition::Compare(Value::Text(Text::Attribute(path)), CompareOp::Eq, Value::Text(Text::Literal(literal)))
            | Condition::Compare(Value::Text(Text::Literal(literal)), CompareOp::Eq, Value::Text(Text::Attribute(path)))
                if self.dialect == Dialect::Postgres
                    && self.negations == 0
                    && path.iter().all(|segment| matches!(segment, Segment::Key(_))) =>
            {
                // `attributes @> {...}` finds the candidates through the GIN index; the exact
                // text comparison then keeps the right ones.
                self.push("((");
                for (index, candidate) in containment_candidates(path, literal).iter().enumerate() {
                    if index > 0 {
                        self.push(" OR ");
                    }
                    self.push("spans.attributes @> CAST(");
                    self.param(candidate.clone());
                    self.push(" AS JSONB)");
                }
                self.push(") AND ");
                self.json_text(path);
                self.push(" = ");
                self.param(literal.clone());
                self.push(")");
            }
            Condition::Compare(Value::Text(Text::Attribute(path)), CompareOp::Eq, Value::Text(Text::Literal(literal)))
            | Condition::Compare(Value::Text(Text::Literal(literal)), CompareOp::Eq, Value::Text(Text::Attribute(path)))
                if self.dialect == Dialect::Sqlite && self.negations == 0 && attribute_index::lookup(path, literal).is_some() =>
            {
                let key = attribute_index::lookup(path, literal).expect("checked by the guard");
                let (site, large) = self.next_site();
                // The index holds exactly the spans the comparison selects (see
                // `attribute_index`), so a small candidate list answers it without reading a
                // span's attributes; a large one leaves the comparison to the span walk.
                if large {
                    self.push("(");
                    self.json_text(path);
                    self.push(" = ");
                    self.param(literal.clone());
                    self.push(")");
                } else {
                    self.indexed_candidates(site, key, std::slice::from_ref(literal));
                    self.drives |= top_level;
                }
            }
            Condition::InList(Value::Text(Text::Attribute(path)), literals)
                if self.dialect == Dialect::Sqlite && self.negations == 0 && indexed_list(path, literals).is_some() =>
            {
                let (key, texts) = indexed_list(path, literals).expect("checked by the guard");
                let (site, large) = self.next_site();
                if large {
                    self.push("(");
                    self.json_text(path);
                    self.push(" IN (");
                    for (index, text) in texts.iter().enumerate() {
                        if index > 0 {
                            self.push(", ");
                        }
                        self.param(text.clone());
                    }
                    self.push("))");
                } else {
                    self.indexed_candidates(site, key, &texts);
                    self.drives |= top_level;
                }
            }
            Condition::Compare(left, op, right) => {
                self.push("(");
                self.value(grain, left);
                if self.dialect == Dialect::Postgres && matches!(left, Value::Text(_)) && !matches!(op, CompareOp::Eq | CompareOp::NotEq) {
                    // Byte order, as on SQLite, whatever the database's collation.
                    self.push(" COLLATE \"C\"");
                }
                self.push(match op {
                    CompareOp::Eq => " = ",
                    CompareOp::NotEq => " <> ",
                    CompareOp::Lt => " < ",
                    CompareOp::LtE => " <= ",
                    CompareOp::Gt => " > ",
                    CompareOp::GtE => " >= ",
                });
                self.value(grain, right);
                self.push(")");
            }
            Condition::IsNull(value) => {
                self.push("(");
                self.value(grain, value);
                self.push(" IS NULL)");
            }
            Condition::Contains { haystack: Text::Attribute(path), needle: Text::Literal(needle) }
                if self.dialect == Dialect::Sqlite && self.negations == 0 && found_in_raw_json(needle) =>
            {
                // Most spans do not mention the needle anywhere: one pass over their JSON text
                // rules them out before the attribute is extracted.
                self.push("(");
                self.push(functions::JSON_ICONTAINS);
                self.push("(spans.attributes, ");
                self.param(needle.clone());
                if may_be_patched(path) {
                    self.push(", ");
                    self.push(SQLITE_SPAN_METADATA_PATCH);
                }
                self.push(") = 1 AND ");
                self.push(functions::ICONTAINS);
                self.push("(");
                self.json_text(path);
                self.push(", ");
                self.param(needle.clone());
                self.push(") = 1)");
            }
            Condition::Contains { haystack, needle } => match self.dialect {
                Dialect::Sqlite => {
                    self.push("(");
                    self.push(functions::ICONTAINS);
                    self.push("(");
                    self.text(grain, haystack);
                    self.push(", ");
                    self.text(grain, needle);
                    self.push(") = 1)");
                }
                Dialect::Postgres => {
                    self.push("(strpos(lower(");
                    self.text(grain, haystack);
                    self.push("), lower(");
                    self.text(grain, needle);
                    self.push(")) > 0)");
                }
            },
            Condition::Like(text, parts) => {
                self.push("(");
                self.text(grain, text);
                match self.dialect {
                    Dialect::Sqlite => {
                        self.push(" GLOB ");
                        self.param(glob_pattern(parts));
                    }
                    Dialect::Postgres => {
                        self.push(" LIKE ");
                        self.param(like_pattern(parts));
                        self.push(" ESCAPE '!'");
                    }
                }
                self.push(")");
            }
            Condition::InList(_, literals) if literals.is_empty() => self.push("(1 = 0)"),
            Condition::InList(value, literals) => {
                self.push("(");
                self.value(grain, value);
                self.push(" IN (");
                for (index, literal) in literals.iter().enumerate() {
                    if index > 0 {
                        self.push(", ");
                    }
                    match literal {
                        Literal::Text(text) => self.param(text.clone()),
                        Literal::Number(number) => self.param(*number),
                        Literal::Boolean(flag) => self.param(i64::from(*flag)),
                    }
                }
                self.push("))");
            }
            Condition::AnnotationExists(reference) => {
                let alias = self.binding(reference);
                let _ = write!(self.sql, "({alias}.id IS NOT NULL)");
            }
            Condition::ParentSpanExists => {
                let alias = self.alias("parent");
                let _ = write!(self.sql, "EXISTS (SELECT 1 FROM spans AS {alias} WHERE {alias}.span_id = spans.parent_id)");
            }
            Condition::AnySpan(inner) => {
                self.push("EXISTS (");
                self.spans_of(grain);
                self.push(" AND ");
                self.span_condition(inner, false);
                self.push(")");
            }
            Condition::AllSpans { filter, condition } => {
                // COALESCE(x, FALSE) reads NULL as FALSE, so inside it no NOT counts.
                let negations = std::mem::replace(&mut self.negations, 0);
                self.push("NOT EXISTS (");
                self.spans_of(grain);
                if let Some(filter) = filter {
                    self.push(" AND COALESCE(");
                    self.span_condition(filter, false);
                    self.push(", ");
                    self.push(self.false_literal());
                    self.push(")");
                }
                self.push(" AND NOT COALESCE(");
                self.span_condition(condition, false);
                self.push(", ");
                self.push(self.false_literal());
                self.push("))");
                self.negations = negations;
            }
        }
    }

    fn false_literal(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "0",
            Dialect::Postgres => "FALSE",
        }
    }

    /// `SELECT 1 FROM spans ... WHERE <the spans of the current trace or session>`.
    fn spans_of(&mut self, grain: Grain) {
        match grain {
            Grain::Trace => self.push("SELECT 1 FROM spans WHERE spans.trace_rowid = traces.id"),
            _ => self
                .push("SELECT 1 FROM spans JOIN traces ON traces.id = spans.trace_rowid WHERE traces.session_rowid = project_sessions.id"),
        }
    }

    fn value(&mut self, grain: Grain, value: &Value) {
        match value {
            Value::Text(text) => self.text(grain, text),
            Value::Number(number) => self.number(grain, number),
            Value::Boolean(Boolean::Literal(flag)) => self.param(i64::from(*flag)),
            Value::Boolean(Boolean::Attribute(path)) => self.json_boolean(path),
            Value::Time(Time::Literal(nanos)) => self.param(*nanos),
            Value::Time(Time::Column(column)) => {
                let table = grain_table(grain);
                let name = match column {
                    TimeColumn::StartTime => "start_time",
                    TimeColumn::EndTime => "end_time",
                };
                let _ = write!(self.sql, "{table}.{name}");
            }
        }
    }

    fn text(&mut self, grain: Grain, text: &Text) {
        match text {
            Text::Literal(value) => self.param(value.clone()),
            Text::Column(column) => self.push(match (grain, column) {
                (_, TextColumn::TraceId) => "traces.trace_id",
                (Grain::Session, _) | (_, TextColumn::SessionId) => "project_sessions.session_id",
                (_, TextColumn::SpanId) => "spans.span_id",
                (_, TextColumn::ParentId) => "spans.parent_id",
                (_, TextColumn::Name) => "spans.name",
                (_, TextColumn::SpanKind) => "spans.span_kind",
                (_, TextColumn::StatusCode) => "spans.status_code",
                (_, TextColumn::StatusMessage) => "spans.status_message",
            }),
            Text::Attribute(path) => self.json_text(path),
            Text::Annotation(reference, field) => {
                let alias = self.binding(reference);
                let column = match field {
                    AnnotationField::Label => "label",
                    AnnotationField::Explanation => "explanation",
                };
                let _ = write!(self.sql, "{alias}.{column}");
            }
            Text::Concat(left, right) => {
                self.push("(");
                self.text(grain, left);
                self.push(" || ");
                self.text(grain, right);
                self.push(")");
            }
            Text::FromNumber(number) => {
                self.push("CAST(");
                self.number(grain, number);
                self.push(" AS TEXT)");
            }
        }
    }

    fn real_type(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "REAL",
            Dialect::Postgres => "DOUBLE PRECISION",
        }
    }

    fn floor_function(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => functions::FLOOR,
            Dialect::Postgres => "FLOOR",
        }
    }

    /// `CAST(a AS REAL) / NULLIF(b, 0)`: true division, NULL on zero.
    fn quotient(&mut self, grain: Grain, left: &Number, right: &Number) {
        let real = self.real_type();
        let _ = write!(self.sql, "(CAST(");
        self.number(grain, left);
        let _ = write!(self.sql, " AS {real}) / NULLIF(");
        self.number(grain, right);
        self.push(", 0))");
    }

    fn number(&mut self, grain: Grain, number: &Number) {
        match number {
            Number::Literal(value) => self.param(*value),
            Number::Column(column) => self.number_column(grain, *column),
            Number::Attribute(path) => self.json_number(path),
            Number::AnnotationScore(reference) => {
                let alias = self.binding(reference);
                let _ = write!(self.sql, "{alias}.score");
            }
            Number::Arith(op, left, right) => match op {
                ArithOp::Add | ArithOp::Sub | ArithOp::Mul => {
                    self.push("(");
                    self.number(grain, left);
                    self.push(match op {
                        ArithOp::Add => " + ",
                        ArithOp::Sub => " - ",
                        _ => " * ",
                    });
                    self.number(grain, right);
                    self.push(")");
                }
                ArithOp::Div => self.quotient(grain, left, right),
                ArithOp::FloorDiv => {
                    let floor = self.floor_function();
                    let _ = write!(self.sql, "{floor}(");
                    self.quotient(grain, left, right);
                    self.push(")");
                }
                ArithOp::Mod => {
                    // Python's modulo: a - b * floor(a / b), the sign of the divisor.
                    let floor = self.floor_function();
                    self.push("(");
                    self.number(grain, left);
                    self.push(" - ");
                    self.number(grain, right);
                    let _ = write!(self.sql, " * {floor}(");
                    self.quotient(grain, left, right);
                    self.push("))");
                }
            },
            Number::Negate(inner) => {
                self.push("(- ");
                self.number(grain, inner);
                self.push(")");
            }
            Number::Truncate(inner) => match self.dialect {
                Dialect::Sqlite => {
                    self.push("CAST(");
                    self.number(grain, inner);
                    self.push(" AS INTEGER)");
                }
                Dialect::Postgres => {
                    // `+ 0` turns -0 into 0, whose text form is the same as SQLite's.
                    self.push("(TRUNC(CAST(");
                    self.number(grain, inner);
                    self.push(" AS DOUBLE PRECISION)) + 0)");
                }
            },
        }
    }

    fn number_column(&mut self, grain: Grain, column: NumberColumn) {
        use NumberColumn as N;
        let table = grain_table(grain);
        let sql = match (grain, column) {
            (_, N::LatencyMs) => format!("(CAST({table}.end_time - {table}.start_time AS {}) / 1000000.0)", self.real_type()),
            (_, N::CumulativeTokensPrompt) => "spans.cumulative_llm_token_count_prompt".into(),
            (_, N::CumulativeTokensCompletion) => "spans.cumulative_llm_token_count_completion".into(),
            (_, N::CumulativeTokensTotal) => {
                "(spans.cumulative_llm_token_count_prompt + spans.cumulative_llm_token_count_completion)".into()
            }
            (Grain::Session, N::NumTraces) => "(SELECT COUNT(*) FROM traces AS t WHERE t.session_rowid = project_sessions.id)".into(),
            (_, N::NumTraces) => "1".into(),
            (grain, aggregate) => {
                let expression = match aggregate {
                    N::NumSpans => "COUNT(*)",
                    N::ErrorCount => "COUNT(CASE WHEN s.status_code = 'ERROR' THEN 1 END)",
                    N::LlmSpanCount => "COUNT(CASE WHEN s.span_kind = 'LLM' THEN 1 END)",
                    N::ToolSpanCount => "COUNT(CASE WHEN s.span_kind = 'TOOL' THEN 1 END)",
                    N::TokensPrompt => "COALESCE(SUM(s.llm_token_count_prompt), 0)",
                    N::TokensCompletion => "COALESCE(SUM(s.llm_token_count_completion), 0)",
                    _ => "COALESCE(SUM(s.llm_token_count_prompt), 0) + COALESCE(SUM(s.llm_token_count_completion), 0)",
                };
                match grain {
                    Grain::Trace => format!("(SELECT {expression} FROM spans AS s WHERE s.trace_rowid = traces.id)"),
                    _ => format!(
                        "(SELECT {expression} FROM spans AS s JOIN traces AS t ON t.id = s.trace_rowid \
                         WHERE t.session_rowid = project_sessions.id)"
                    ),
                }
            }
        };
        self.push(&sql);
    }

    /// The span's attributes for reading `path` (see [`Dialect::span_attributes_json`]).
    fn attributes(&self, path: &Path) -> &'static str {
        self.dialect.span_attributes_json(path)
    }

    fn path_param(&mut self, path: &Path) {
        match self.dialect {
            Dialect::Sqlite => self.param(sqlite_json_path(path)),
            Dialect::Postgres => {
                self.push("CAST(");
                self.param(postgres_text_array(path));
                self.push(" AS TEXT[])");
            }
        }
    }

    /// The text form of an attribute: strings as they are, other scalars and containers as JSON
    /// text, JSON null and absent paths as NULL (PostgreSQL's `#>>`).
    fn json_text(&mut self, path: &Path) {
        let json = self.attributes(path);
        match self.dialect {
            Dialect::Sqlite => {
                let _ = write!(self.sql, "CASE json_type({json}, ");
                self.path_param(path);
                let _ = write!(self.sql, ") WHEN 'text' THEN json_extract({json}, ");
                self.path_param(path);
                let _ = write!(self.sql, ") WHEN 'null' THEN NULL ELSE ({json} -> ");
                self.path_param(path);
                self.push(") END");
            }
            Dialect::Postgres => {
                let _ = write!(self.sql, "({json} #>> ");
                self.path_param(path);
                self.push(")");
            }
        }
    }

    /// The attribute as a number when it is a JSON number, else NULL.
    fn json_number(&mut self, path: &Path) {
        let json = self.attributes(path);
        match self.dialect {
            Dialect::Sqlite => {
                let _ = write!(self.sql, "CASE WHEN json_type({json}, ");
                self.path_param(path);
                let _ = write!(self.sql, ") IN ('integer', 'real') THEN json_extract({json}, ");
                self.path_param(path);
                self.push(") END");
            }
            Dialect::Postgres => {
                let _ = write!(self.sql, "CASE WHEN jsonb_typeof({json} #> ");
                self.path_param(path);
                let _ = write!(self.sql, ") = 'number' THEN CAST({json} #>> ");
                self.path_param(path);
                self.push(" AS DOUBLE PRECISION) END");
            }
        }
    }

    /// 1 for true, 0 for false (JSON booleans, "true"/"false", 1/0), else NULL.
    fn json_boolean(&mut self, path: &Path) {
        let json = self.attributes(path);
        match self.dialect {
            Dialect::Sqlite => {
                let _ = write!(self.sql, "CASE json_type({json}, ");
                self.path_param(path);
                let _ = write!(self.sql, ") WHEN 'true' THEN 1 WHEN 'false' THEN 0 WHEN 'integer' THEN CASE json_extract({json}, ");
                self.path_param(path);
                let _ = write!(self.sql, ") WHEN 1 THEN 1 WHEN 0 THEN 0 END WHEN 'text' THEN CASE json_extract({json}, ");
                self.path_param(path);
                self.push(") WHEN 'true' THEN 1 WHEN 'false' THEN 0 END END");
            }
            Dialect::Postgres => {
                let _ = write!(self.sql, "CASE jsonb_typeof({json} #> ");
                self.path_param(path);
                let _ = write!(self.sql, ") WHEN 'boolean' THEN CASE WHEN ({json} #>> ");
                self.path_param(path);
                let _ = write!(self.sql, ") = 'true' THEN 1 ELSE 0 END WHEN 'number' THEN CASE ({json} #>> ");
                self.path_param(path);
                let _ = write!(self.sql, ") WHEN '1' THEN 1 WHEN '0' THEN 0 END WHEN 'string' THEN CASE ({json} #>> ");
                self.path_param(path);
                self.push(") WHEN 'true' THEN 1 WHEN 'false' THEN 0 END END");
            }
        }
    }
}

fn grain_table(grain: Grain) -> &'static str {
    match grain {
        Grain::Span => "spans",
        Grain::Trace => "traces",
        Grain::Session => "project_sessions",
    }
}

/// (outer key, annotation table, the table's key column) for an annotation target.
fn annotation_table(target: AnnotationTarget) -> (&'static str, &'static str, &'static str) {
    match target {
        AnnotationTarget::Span => ("spans.id", "span_annotations", "span_rowid"),
        AnnotationTarget::Trace => ("spans.trace_rowid", "trace_annotations", "trace_rowid"),
    }
}

fn flatten_and<'a>(condition: &'a Condition, out: &mut Vec<&'a Condition>) {
    match condition {
        Condition::And(items) => items.iter().for_each(|item| flatten_and(item, out)),
        other => out.push(other),
    }
}

fn mentions_annotation(condition_part: &Value) -> bool {
    let mut refs = Vec::new();
    Condition::IsNull(condition_part.clone()).annotation_refs(&mut refs);
    !refs.is_empty()
}

/// Whether the condition is never TRUE when every annotation it reads is absent (all NULL).
fn rejects_null(condition: &Condition) -> bool {
    match condition {
        Condition::AnnotationExists(_) => true,
        Condition::Not(inner) => match inner.as_ref() {
            Condition::IsNull(value) => mentions_annotation(value),
            other => yields_null(other),
        },
        Condition::And(items) => items.iter().any(rejects_null),
        Condition::Or(items) => !items.is_empty() && items.iter().all(rejects_null),
        other => yields_null(other),
    }
}

/// Whether the condition is NULL when every annotation it reads is absent. Every value
/// expression is strict (NULL in, NULL out), so a predicate over one is NULL too.
fn yields_null(condition: &Condition) -> bool {
    match condition {
        Condition::Compare(left, _, right) => mentions_annotation(left) || mentions_annotation(right),
        Condition::Contains { haystack, needle } => {
            mentions_annotation(&Value::Text(haystack.clone())) || mentions_annotation(&Value::Text(needle.clone()))
        }
        Condition::Like(text, _) => mentions_annotation(&Value::Text(text.clone())),
        Condition::InList(value, literals) => !literals.is_empty() && mentions_annotation(value),
        Condition::Not(inner) => yields_null(inner),
        _ => false,
    }
}

/// The index key and the texts of `value IN (literals)` when every literal may use the attribute index.
fn indexed_list(path: &Path, literals: &[Literal]) -> Option<(String, Vec<String>)> {
    let texts: Option<Vec<String>> = literals
        .iter()
        .map(|literal| match literal {
            Literal::Text(text) => Some(text.clone()),
            _ => None,
        })
        .collect();
    let texts = texts.filter(|texts| !texts.is_empty())?;
    let mut keys = texts.iter().map(|text| attribute_index::lookup(path, text));
    let key = keys.next()??;
    keys.all(|other| other.is_some()).then_some((key, texts))
}

/// Whether every attribute whose text form contains `needle` (ignoring case) has a JSON text that
/// contains it too: JSON text holds each string as it is, except for the characters it escapes
/// (`"`, `\`, controls), and lowercasing maps character by character except for the Greek
/// final sigma, whose form depends on its neighbours.
fn found_in_raw_json(needle: &str) -> bool {
    !needle.chars().any(|c| c == '"' || c == '\\' || c.is_control() || matches!(c, 'Σ' | 'σ' | 'ς'))
}

/// JSON documents `{"a": {"b": v}}` containing every value whose text form is `literal`: the
/// string itself, and the number or boolean it spells.
fn containment_candidates(path: &Path, literal: &str) -> Vec<String> {
    let mut values = vec![serde_json::Value::String(literal.to_string())];
    if let Ok(value @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) = serde_json::from_str::<serde_json::Value>(literal) {
        values.push(value);
    }
    values
        .into_iter()
        .map(|value| {
            path.iter()
                .rev()
                .fold(value, |inner, segment| {
                    let Segment::Key(key) = segment else { unreachable!("only key paths use containment") };
                    serde_json::Value::Object([(key.clone(), inner)].into_iter().collect())
                })
                .to_string()
        })
        .collect()
}

/// A `LIKE` pattern as SQLite `GLOB` (case-sensitive, like PostgreSQL's `LIKE`).
fn glob_pattern(parts: &[LikePart]) -> String {
    parts
        .iter()
        .map(|part| match part {
            LikePart::AnyRun => "*".to_string(),
            LikePart::AnyChar => "?".to_string(),
            LikePart::Char(c @ ('*' | '?' | '[')) => format!("[{c}]"),
            LikePart::Char(c) => c.to_string(),
        })
        .collect()
}

/// A `LIKE` pattern with `!` as the escape character.
fn like_pattern(parts: &[LikePart]) -> String {
    parts
        .iter()
        .map(|part| match part {
            LikePart::AnyRun => "%".to_string(),
            LikePart::AnyChar => "_".to_string(),
            LikePart::Char(c @ ('%' | '_' | '!')) => format!("!{c}"),
            LikePart::Char(c) => c.to_string(),
        })
        .collect()
}
