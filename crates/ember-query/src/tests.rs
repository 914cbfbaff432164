//! Table-driven tests of both languages: what each construct compiles to, every rejection with
//! its column, and injection attempts that must never reach the SQL text.

use sea_query::SimpleExpr;

use crate::ast::*;
use crate::{probe_limit, Dialect, Filter, Grain, PROBE_LIMIT};

fn span(text: &str) -> Condition {
    Filter::phoenix(text, Grain::Span).unwrap_or_else(|e| panic!("{text}: {e}")).condition
}

fn key(k: &str) -> Segment {
    Segment::Key(k.into())
}

fn text_attr(path: &[&str]) -> Value {
    Value::Text(Text::Attribute(path.iter().map(|k| key(k)).collect()))
}

fn lit(text: &str) -> Value {
    Value::Text(Text::Literal(text.into()))
}

fn num(value: f64) -> Value {
    Value::Number(Number::Literal(value))
}

fn column(c: TextColumn) -> Value {
    Value::Text(Text::Column(c))
}

fn eval_ref(name: &str) -> AnnotationRef {
    AnnotationRef { target: AnnotationTarget::Span, name: name.into() }
}

#[test]
fn names_aliases_and_attribute_paths() {
    use CompareOp::*;
    let cases: Vec<(&str, Condition)> = vec![
        ("span_kind == 'llm'", Condition::Compare(column(TextColumn::SpanKind), Eq, lit("LLM"))),
        ("'error' == status_code", Condition::Compare(lit("ERROR"), Eq, column(TextColumn::StatusCode))),
        ("context.span_id == 'a'", Condition::Compare(column(TextColumn::SpanId), Eq, lit("a"))),
        ("trace_id != 'a'", Condition::Compare(column(TextColumn::TraceId), NotEq, lit("a"))),
        ("name == 'Chat'", Condition::Compare(column(TextColumn::Name), Eq, lit("Chat"))),
        ("input.value == 'hi'", Condition::Compare(text_attr(&["input", "value"]), Eq, lit("hi"))),
        ("attributes['input.value'] == 'hi'", Condition::Compare(text_attr(&["input.value"]), Eq, lit("hi"))),
        ("attributes[['a', 'b']] == 'x'", Condition::Compare(text_attr(&["a", "b"]), Eq, lit("x"))),
        ("metadata['customer_id'] == 'c-42'", Condition::Compare(text_attr(&["metadata", "customer_id"]), Eq, lit("c-42"))),
        (
            "llm.input_messages[0].message.content == 'x'",
            Condition::Compare(
                Value::Text(Text::Attribute(vec![key("llm"), key("input_messages"), Segment::Index(0), key("message"), key("content")])),
                Eq,
                lit("x"),
            ),
        ),
        (
            "llm.token_count.total > 100",
            Condition::Compare(Value::Number(Number::Attribute(vec![key("llm"), key("token_count"), key("total")])), Gt, num(100.0)),
        ),
        ("latency_ms > '2.5'", Condition::Compare(Value::Number(Number::Column(NumberColumn::LatencyMs)), Gt, num(2.5))),
        (
            "cumulative_token_count.total <= 10",
            Condition::Compare(Value::Number(Number::Column(NumberColumn::CumulativeTokensTotal)), LtE, num(10.0)),
        ),
        (
            "metadata['flag'] == True",
            Condition::Compare(
                Value::Boolean(Boolean::Attribute(vec![key("metadata"), key("flag")])),
                Eq,
                Value::Boolean(Boolean::Literal(true)),
            ),
        ),
        (
            "start_time >= '2024-01-01T00:00:00Z'",
            Condition::Compare(
                Value::Time(Time::Column(TimeColumn::StartTime)),
                GtE,
                Value::Time(Time::Literal(1_704_067_200_000_000_000)),
            ),
        ),
        (
            "end_time < '2024-01-01 02:00:00+02:00'",
            Condition::Compare(Value::Time(Time::Column(TimeColumn::EndTime)), Lt, Value::Time(Time::Literal(1_704_067_200_000_000_000))),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(span(text), expected, "{text}");
    }
}

#[test]
fn annotations_parents_and_membership() {
    use CompareOp::*;
    assert_eq!(
        span("evals['correctness'].label == 'incorrect'"),
        Condition::Compare(Value::Text(Text::Annotation(eval_ref("correctness"), AnnotationField::Label)), Eq, lit("incorrect"))
    );
    assert_eq!(
        span("annotations['q'].score >= 0.5"),
        Condition::Compare(Value::Number(Number::AnnotationScore(eval_ref("q"))), GtE, num(0.5))
    );
    assert_eq!(
        span("trace_annotations['q'].explanation is not None"),
        Condition::Not(Box::new(Condition::IsNull(Value::Text(Text::Annotation(
            AnnotationRef { target: AnnotationTarget::Trace, name: "q".into() },
            AnnotationField::Explanation
        )))))
    );
    assert_eq!(span("evals['q']"), Condition::AnnotationExists(eval_ref("q")));
    assert_eq!(span("not evals['q']"), Condition::Not(Box::new(Condition::AnnotationExists(eval_ref("q")))));
    assert_eq!(span("parent_span is None"), Condition::Not(Box::new(Condition::ParentSpanExists)));
    assert_eq!(span("parent_span is not None"), Condition::ParentSpanExists);
    assert_eq!(span("parent_id is None"), Condition::IsNull(column(TextColumn::ParentId)));
    assert_eq!(
        span("'refund' in input.value"),
        Condition::Contains { haystack: Text::Attribute(vec![key("input"), key("value")]), needle: Text::Literal("refund".into()) }
    );
    assert_eq!(
        span("'x' not in name"),
        Condition::Not(Box::new(Condition::Contains { haystack: Text::Column(TextColumn::Name), needle: Text::Literal("x".into()) }))
    );
    assert_eq!(
        span("span_kind in ['llm', 'TOOL']"),
        Condition::InList(column(TextColumn::SpanKind), vec![Literal::Text("LLM".into()), Literal::Text("TOOL".into())])
    );
    assert_eq!(
        span("latency_ms not in (1, '2')"),
        Condition::Not(Box::new(Condition::InList(
            Value::Number(Number::Column(NumberColumn::LatencyMs)),
            vec![Literal::Number(1.0), Literal::Number(2.0)]
        )))
    );
    assert_eq!(
        span("metadata['n'] in [1, 2.5]"),
        Condition::InList(
            Value::Number(Number::Attribute(vec![key("metadata"), key("n")])),
            vec![Literal::Number(1.0), Literal::Number(2.5)]
        )
    );
}

#[test]
fn logic_chains_arithmetic_and_casts() {
    use CompareOp::*;
    let latency = || Value::Number(Number::Column(NumberColumn::LatencyMs));
    assert_eq!(
        span("1 < latency_ms <= 10"),
        Condition::And(vec![Condition::Compare(num(1.0), Lt, latency()), Condition::Compare(latency(), LtE, num(10.0))])
    );
    assert!(matches!(span("a == 'x' or not b == 'y' and c == 'z'"), Condition::Or(ref items) if matches!(items[1], Condition::And(_))));
    let sum = span("llm.token_count.prompt + llm.token_count.completion * 2 > 10");
    let Condition::Compare(Value::Number(Number::Arith(ArithOp::Add, _, product)), Gt, _) = sum else { panic!("{sum:?}") };
    assert!(matches!(*product, Number::Arith(ArithOp::Mul, _, _)));
    for (text, op) in [("x / 2 > 1", ArithOp::Div), ("x // 2 > 1", ArithOp::FloorDiv), ("x % 2 == 1", ArithOp::Mod)] {
        assert!(matches!(span(text), Condition::Compare(Value::Number(Number::Arith(o, _, _)), _, _) if o == op), "{text}");
    }
    assert!(matches!(span("-x > 1"), Condition::Compare(Value::Number(Number::Negate(_)), _, _)));
    assert!(matches!(span("x > -1"), Condition::Compare(_, _, Value::Number(Number::Literal(v))) if v == -1.0));
    assert!(matches!(span("name + '!' == 'a!'"), Condition::Compare(Value::Text(Text::Concat(_, _)), _, _)));
    assert!(matches!(span("float(metadata['n']) > 1"), Condition::Compare(Value::Number(Number::Attribute(_)), _, _)));
    assert!(matches!(span("int(latency_ms) == 3"), Condition::Compare(Value::Number(Number::Truncate(_)), _, _)));
    assert!(matches!(span("str(int(latency_ms)) == '3'"), Condition::Compare(Value::Text(Text::FromNumber(_)), _, _)));
    assert!(matches!(span("str(metadata['n']) == '3'"), Condition::Compare(Value::Text(Text::Attribute(_)), _, _)));
    // Two attributes: equality compares text, ordering compares numbers.
    assert!(matches!(span("a == b"), Condition::Compare(Value::Text(_), Eq, Value::Text(_))));
    assert!(matches!(span("a < b"), Condition::Compare(Value::Number(_), Lt, Value::Number(_))));
    assert!(matches!(span("a == None"), Condition::IsNull(_)));
}

#[test]
fn trace_and_session_grains() {
    let trace = Filter::phoenix("num_spans > 3 and any(s.span_kind == 'LLM' for s in spans)", Grain::Trace).unwrap();
    let Condition::And(items) = trace.condition() else { panic!() };
    assert!(matches!(items[1], Condition::AnySpan(ref inner) if matches!(**inner, Condition::Compare(..))));
    let all = Filter::phoenix("all(s.status_code != 'ERROR' for x in spans if x.name == 'a')", Grain::Trace).unwrap_err();
    assert!(all.message.contains("through 'x'"), "{all}");
    let all = Filter::phoenix("all(s.latency_ms < 10 for s in spans if s.span_kind == 'LLM')", Grain::Trace).unwrap();
    assert!(matches!(all.condition(), Condition::AllSpans { filter: Some(_), .. }));
    let session = Filter::phoenix("session_id == 's' and num_traces >= 2 and token_count_total > 0", Grain::Session).unwrap();
    assert!(matches!(session.condition(), Condition::And(ref items) if items.len() == 3));
    let any_evals = Filter::phoenix("any(s.evals['q'].label == 'bad' for s in spans)", Grain::Session).unwrap();
    assert!(matches!(any_evals.condition(), Condition::AnySpan(_)));
}

#[test]
fn rejections_name_the_problem_and_column() {
    let cases: &[(&str, Grain, usize, &str)] = &[
        ("name == 1", Grain::Span, 1, "cannot compare text with a number"),
        ("latency_ms > 'fast'", Grain::Span, 1, "cannot compare a number with the text"),
        ("'a' == 'b'", Grain::Span, 1, "two literals"),
        ("1 + 2 > x", Grain::Span, 1, "two literals"),
        ("metadata['b'] > True", Grain::Span, 1, "booleans cannot be ordered"),
        ("start_time > '2024-01-01T00:00:00'", Grain::Span, 1, "timezone"),
        ("start_time > 5", Grain::Span, 1, "datetime string"),
        ("x in [1, None]", Grain::Span, 10, "None is not allowed"),
        ("x in [1, 'a']", Grain::Span, 1, "all be text, all numbers"),
        ("x in [y]", Grain::Span, 7, "literals"),
        ("latency_ms in 'abc'", Grain::Span, 1, "must be text"),
        ("x < None", Grain::Span, 1, "None can only be compared"),
        ("name", Grain::Span, 1, "not a condition"),
        ("True", Grain::Span, 1, "not a condition"),
        ("(x == 1) == True", Grain::Span, 2, "condition cannot be used as a value"),
        ("evals['q'] == 'x'", Grain::Span, 1, ".label, .score or .explanation"),
        ("evals['q'].verdict == 'x'", Grain::Span, 1, "not .verdict"),
        ("evals.q == 'x'", Grain::Span, 1, "name the annotation"),
        ("parent_span.name == 'x'", Grain::Span, 1, "parent_span"),
        ("parent_span == 'x'", Grain::Span, 1, "parent_span"),
        ("len(x) > 1", Grain::Span, 1, "unknown function 'len'"),
        ("str(x, y) == 'a'", Grain::Span, 1, "exactly one argument"),
        ("str(latency_ms) == '1'", Grain::Span, 1, "fractional"),
        ("x[-1] == 'a'", Grain::Span, 3, "negative"),
        ("x[1.5] == 'a'", Grain::Span, 3, "subscripts"),
        ("attributes == 'a'", Grain::Span, 1, "name an attribute"),
        ("any(s.name == 'a' for s in spans)", Grain::Span, 1, "only available in trace and session"),
        ("any(s.name == 'a' for s in traces)", Grain::Trace, 28, "iterate over 'spans'"),
        ("any(name == 'a' for s in spans)", Grain::Trace, 5, "through 's'"),
        ("name == 'a'", Grain::Trace, 1, "unknown trace field 'name'"),
        ("num_traces > 1", Grain::Trace, 1, "unknown trace field"),
        ("trace_id == 'a'", Grain::Session, 1, "unknown session field"),
        ("any(1)", Grain::Trace, 5, "comprehension"),
        ("x == 'a'  and", Grain::Span, 14, "unexpected end"),
        ("   bad ==", Grain::Span, 10, "unexpected end"),
    ];
    for (text, grain, column, fragment) in cases {
        let error = Filter::phoenix(text, *grain).expect_err(text);
        assert!(error.message.contains(fragment), "{text}: {error}");
        assert_eq!(error.column, *column, "{text}: {error}");
    }
}

#[test]
fn depth_is_bounded() {
    let deep = format!("{}x == 1{}", "(".repeat(200), ")".repeat(200));
    assert!(Filter::phoenix(&deep, Grain::Span).unwrap_err().message.contains("nested"));
    let chain = format!("x{} > 1", " + x".repeat(500));
    assert!(Filter::phoenix(&chain, Grain::Span).unwrap_err().message.contains("nested"));
    let nots = format!("{}x == 1", "not ".repeat(5000));
    assert!(Filter::phoenix(&nots, Grain::Span).unwrap_err().message.contains("nested"));
    let ax = format!("{}status_code = 'OK'", "NOT ".repeat(5000));
    assert!(Filter::arize(&ax).unwrap_err().message.contains("nested"));
    // Long flat lists and conjunctions are fine.
    let ids: Vec<String> = (0..2000).map(|i| format!("'{i}'")).collect();
    assert!(Filter::phoenix(&format!("span_id in [{}]", ids.join(", ")), Grain::Span).is_ok());
}

#[test]
fn arize_filters_compile_like_their_phoenix_twins() {
    let twins = [
        ("status_code = 'ERROR'", "status_code == 'ERROR'"),
        ("span_kind = 'llm'", "span_kind == 'LLM'"),
        ("latency_ms > 1000", "latency_ms > 1000"),
        ("eval.Correctness.label = 'correct'", "evals['Correctness'].label == 'correct'"),
        ("annotation.Quality.score >= 0.5", "annotations['Quality'].score >= 0.5"),
        ("annotation.Quality.text != 'x'", "annotations['Quality'].explanation != 'x'"),
        ("eval.\"Hallucination Check\".label = 'ok'", "evals['Hallucination Check'].label == 'ok'"),
        (
            "status_code = 'ERROR' AND eval.Correctness.label = 'correct'",
            "status_code == 'ERROR' and evals['Correctness'].label == 'correct'",
        ),
        ("(name = 'a' OR name = 'b') and not latency_ms < 5", "(name == 'a' or name == 'b') and not latency_ms < 5"),
        ("name IN ('a', 'b')", "name in ['a', 'b']"),
        ("name NOT IN ('a')", "name not in ['a']"),
        ("attributes.input.value CONTAINS 'refund'", "'refund' in input.value"),
        ("attributes.input.value NOT CONTAINS 'refund'", "'refund' not in input.value"),
        ("attributes.llm.model_name = 'gpt-4o'", "attributes['llm']['model_name'] == 'gpt-4o'"),
        ("attributes.llm.input_messages.0.message.role = 'user'", "llm.input_messages[0].message.role == 'user'"),
        ("metadata.customer_id = 'c-42'", "metadata['customer_id'] == 'c-42'"),
        ("metadata.tier IS NULL", "metadata['tier'] is None"),
        ("parent_id IS NOT NULL", "parent_id is not None"),
        ("context.trace_id = 't'", "trace_id == 't'"),
        ("attributes.flag = true", "attributes['flag'] == True"),
        ("latency_ms >= -1.5", "latency_ms >= -1.5"),
        ("name <> 'x'", "name != 'x'"),
        ("name = 'it''s'", "name == \"it's\""),
        ("start_time > '2024-01-01T00:00:00Z'", "start_time > '2024-01-01T00:00:00Z'"),
    ];
    for (ax, phoenix) in twins {
        let ax_filter = Filter::arize(ax).unwrap_or_else(|e| panic!("{ax}: {e}"));
        assert_eq!(ax_filter.condition(), &span(phoenix), "{ax}");
    }
    assert_eq!(
        Filter::arize("name LIKE 'gpt-4%\\_x'").unwrap().condition(),
        &Condition::Like(
            Text::Column(TextColumn::Name),
            "gpt-4".chars().map(LikePart::Char).chain([LikePart::AnyRun, LikePart::Char('_'), LikePart::Char('x')]).collect()
        )
    );
}

#[test]
fn arize_rejections_name_the_problem_and_column() {
    let cases: &[(&str, usize, &str)] = &[
        ("status = 'ERROR'", 1, "unknown field 'status'"),
        ("eval.Correctness = 'x'", 1, "eval.<Name>.label"),
        ("eval.Correctness.verdict = 'x'", 1, "label, score and explanation"),
        ("attributes = 'x'", 1, "name a key"),
        ("name = 'a", 8, "unterminated"),
        ("name = NULL", 8, "IS NULL"),
        ("name IS 'a'", 9, "expected NULL"),
        ("name LIKE name", 11, "quoted pattern"),
        ("name IN (span_kind)", 10, "literals only"),
        ("name 'a'", 6, "expected a comparison"),
        ("(name = 'a'", 12, "expected ')'"),
        ("name = 'a' AND", 15, "expected a field or a value"),
        ("name = 'a' extra", 12, "unexpected 'extra'"),
        ("latency_ms > 'slow'", 1, "cannot compare a number"),
        ("name; DROP TABLE spans", 5, "unexpected character"),
        ("", 1, "empty"),
    ];
    for (text, column, fragment) in cases {
        let error = Filter::arize(text).expect_err(text);
        assert!(error.message.contains(fragment), "{text}: {error}");
        assert_eq!(error.column, *column, "{text}: {error}");
    }
}

fn sql_parts(filter: &Filter, dialect: Dialect) -> (String, Vec<SimpleExpr>) {
    match filter.to_sql(dialect) {
        SimpleExpr::CustomWithExpr(sql, values) => (sql, values),
        other => panic!("{other:?}"),
    }
}

/// Literals and keys that try to escape into SQL must only ever appear among the bound values.
#[test]
fn hostile_literals_and_paths_never_change_the_sql() {
    let hostile = [
        "x",
        "x' OR '1'='1",
        "x\" OR \"1\"=\"1",
        "x'; DROP TABLE spans; --",
        "x /* comment */",
        "x -- comment",
        "x\\' OR 1=1 --",
        "ｘ＇ ＯＲ １＝１", // full-width look-alikes
        "x\u{2019} OR 1=1",
        "$1",
        "?",
        "x') OR EXISTS(SELECT 1) --",
        "%_[*?]!",
    ];
    type Template = (&'static str, fn(&str) -> String);
    let templates: &[Template] = &[
        ("phoenix literal", |v| format!("name == {}", python_string(v))),
        ("phoenix contains", |v| format!("{} in input.value", python_string(v))),
        ("phoenix key", |v| format!("metadata[{}] == 'a'", python_string(v))),
        ("phoenix path list", |v| format!("attributes[[{}, 'b']] > 1", python_string(v))),
        ("phoenix annotation", |v| format!("evals[{}].label == 'a'", python_string(v))),
        ("phoenix datetime", |_| "start_time > '2024-01-01T00:00:00Z'".to_string()),
        ("ax literal", |v| format!("name = '{}'", v.replace('\'', "''"))),
        ("ax like", |v| format!("name LIKE '{}'", v.replace('\'', "''"))),
        ("ax quoted eval", |v| format!("eval.\"{}\".label = 'a'", v.replace('"', ""))),
        ("ax metadata", |v| format!("metadata.`{}` = 'a'", v.replace('`', ""))),
    ];
    for (name, template) in templates {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let parse = |text: &str| if name.starts_with("ax") { Filter::arize(text) } else { Filter::phoenix(text, Grain::Span) };
            // The grammar may pick among its own forms by what a literal holds (a quote rules
            // out the raw-JSON substring pre-test), so each form has a benign representative.
            let benign: Vec<(String, usize)> = ["x", "x\""]
                .iter()
                .map(|value| {
                    let filter = parse(&template(value)).unwrap_or_else(|e| panic!("{name}: {e}"));
                    let (sql, values) = sql_parts(&filter, dialect);
                    (sql, values.len())
                })
                .collect();
            for value in hostile {
                let text = template(value);
                let filter = parse(&text).unwrap_or_else(|e| panic!("{name} {text}: {e}"));
                let (sql, values) = sql_parts(&filter, dialect);
                assert!(benign.contains(&(sql, values.len())), "{name} with {value:?} changed the SQL");
            }
        }
    }
}

fn python_string(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

#[test]
fn sql_binds_every_literal() {
    let filter =
        Filter::phoenix("span_kind == 'LLM' and latency_ms > 1000 and evals['correctness'].label == 'incorrect'", Grain::Span).unwrap();
    let (sql, values) = sql_parts(&filter, Dialect::Postgres);
    assert_eq!(
        sql,
        "((spans.span_kind = $1) AND ((CAST(spans.end_time - spans.start_time AS DOUBLE PRECISION) / 1000000.0) > $2) AND \
         spans.id IN (SELECT a1.span_rowid FROM span_annotations AS a1 WHERE a1.name = $3 AND (a1.label = $4)))"
    );
    assert_eq!(values.len(), 4);
    let (sql, values) =
        sql_parts(&Filter::phoenix("evals['a'].label == 'x' or evals['b'].score > 1", Grain::Span).unwrap(), Dialect::Sqlite);
    assert!(sql.starts_with("EXISTS (SELECT 1 FROM (SELECT 1 AS one) AS seed1 LEFT JOIN span_annotations AS a2"), "{sql}");
    assert_eq!(values.len(), 4);
    // An absent annotation satisfies `is None`, so that group keeps the seeded form.
    let (sql, _) = sql_parts(&Filter::phoenix("evals['a'].label is None", Grain::Span).unwrap(), Dialect::Sqlite);
    assert!(sql.starts_with("EXISTS (SELECT 1 FROM (SELECT 1 AS one)"), "{sql}");
}

#[test]
fn sqlite_candidate_subqueries_are_probed_and_planned() {
    let phoenix = |text: &str| Filter::phoenix(text, Grain::Span).unwrap();
    let planned = |filter: &Filter, large: &[bool]| match filter.to_sql_planned(Dialect::Sqlite, large) {
        SimpleExpr::CustomWithExpr(sql, _) => sql,
        other => panic!("{other:?}"),
    };

    let filter = phoenix("evals['correctness'].label == 'incorrect' and metadata['customer_id'] == 'c-42'");
    let probes = filter.probes(Dialect::Sqlite);
    assert_eq!(probes.len(), 2);
    // Conjuncts that read no annotation come first.
    let attribute = probes[0].as_ref().expect("uncorrelated");
    assert_eq!(attribute.sql, "SELECT v1.span_rowid FROM span_attribute_values AS v1 WHERE v1.path = ? AND v1.value IN (?)");
    let annotation = probes[1].as_ref().expect("uncorrelated");
    assert_eq!(annotation.sql, "SELECT a2.span_rowid FROM span_annotations AS a2 WHERE a2.name = ? AND (a2.label = ?)");
    assert_eq!(annotation.values.len(), 2);
    assert!(filter.probes(Dialect::Postgres).is_empty());

    // Small candidate sets drive the query; large ones are tested span by span.
    let driving = planned(&filter, &[false, false]);
    assert!(driving.contains("spans.id IN (SELECT v1.span_rowid") && driving.contains("spans.id IN (SELECT a2.span_rowid"), "{driving}");
    let testing = planned(&filter, &[true, true]);
    assert!(testing.contains("EXISTS (SELECT a1.span_rowid FROM span_annotations AS a1 WHERE a1.span_rowid = spans.id AND"), "{testing}");
    assert!(!testing.contains("span_attribute_values") && testing.contains("json_extract"), "{testing}");

    // Sites nest: the annotation group's subquery holds an attribute site, and reads the span
    // through it, so only the inner one can be counted on its own.
    let nested = phoenix("evals['x'].label == 'a' and (evals['x'].score > 0 or metadata['k'] == 'v')");
    let probes = nested.probes(Dialect::Sqlite);
    assert_eq!(probes.len(), 2);
    assert!(probes[0].is_none());
    assert!(probes[1].as_ref().expect("uncorrelated").sql.contains("FROM span_attribute_values"));

    // A group that reads the span cannot be counted on its own.
    let correlated = phoenix("evals['quality'].score > latency_ms");
    assert_eq!(correlated.probes(Dialect::Sqlite), vec![None]);

    // Only literals that nothing but a JSON string can spell use the attribute index.
    assert!(!planned(&phoenix("metadata['customer_id'] == '42'"), &[]).contains("span_attribute_values"));
    assert!(!planned(&phoenix("not metadata['customer_id'] == 'c-42'"), &[]).contains("span_attribute_values"));
    assert!(planned(&phoenix("llm.model_name in ['a', 'b']"), &[]).contains("v1.value IN (?, ?)"));

    // Substring tests look at the raw JSON first, unless the needle has a character JSON escapes.
    // Only `metadata` can carry a patch set after ingestion; other paths skip looking for one.
    let input = planned(&phoenix("'refund' in input.value"), &[]);
    assert!(input.starts_with("(ember_json_icontains(spans.attributes, ?) = 1 AND"), "{input}");
    assert!(!input.contains("span_metadata_patches"), "{input}");
    let metadata = planned(&phoenix("'gold' in metadata['tier']"), &[]);
    assert!(
        metadata.starts_with(
            "(ember_json_icontains(spans.attributes, ?, (SELECT patch FROM span_metadata_patches WHERE span_rowid = spans.id)) = 1 AND"
        ),
        "{metadata}"
    );
    assert!(metadata.contains("ember_json(spans.attributes, (SELECT patch"), "{metadata}");
    assert!(!planned(&phoenix("'say \"hi\"' in input.value"), &[]).contains("ember_json_icontains"));
    assert!(!planned(&phoenix("'refund' not in input.value"), &[]).contains("ember_json_icontains"));
}

#[test]
fn the_traces_tab_reads_trace_filters_and_root_span_filters() {
    for text in ["num_spans >= 5", "any(s.status_code == 'ERROR' for s in spans)", "latency_ms > 10 and error_count > 0"] {
        assert_eq!(Filter::phoenix_traces(text).unwrap().grain(), Grain::Trace, "{text}");
    }
    for text in ["span_kind == 'LLM'", "'refund' in input.value", "evals['correctness'].label == 'incorrect'"] {
        assert_eq!(Filter::phoenix_traces(text).unwrap().grain(), Grain::Span, "{text}");
    }
    // Neither: the mistake furthest in is the one reported.
    let error = Filter::phoenix_traces("any(s.span_kind == for s in spans)").unwrap_err();
    assert!(error.column > 1, "{error:?}");
}

#[test]
fn every_offered_field_name_parses_in_its_grain() {
    for grain in [Grain::Span, Grain::Trace, Grain::Session] {
        let names = Filter::field_names(grain);
        assert!(names.contains(&"latency_ms"), "{grain:?}");
        for name in names {
            let filter = Filter::phoenix(&format!("{name} is not None"), grain).unwrap_or_else(|e| panic!("{grain:?} {name}: {e}"));
            assert!(!format!("{:?}", filter.condition()).contains("Attribute"), "{name} is a field, not an attribute path");
        }
    }
}

#[test]
fn the_probe_limit_grows_with_the_project_as_the_two_plans_balance() {
    assert_eq!(probe_limit(PROBE_LIMIT, 0), PROBE_LIMIT, "small projects keep the floor");
    assert_eq!(probe_limit(PROBE_LIMIT, 300_000), PROBE_LIMIT);
    assert_eq!(probe_limit(PROBE_LIMIT, 1_000_000), 1_825);
    assert_eq!(probe_limit(PROBE_LIMIT, 10_000_000), 5_773);
    // 1,400 candidates among 10M spans drive the query instead of a walk of ~700,000 spans.
    assert!(probe_limit(PROBE_LIMIT, 10_000_000) > 1_400);
    assert_eq!(probe_limit(0, 10_000_000), 0, "a limit of 0 (tests) still makes every candidate list large");
}
