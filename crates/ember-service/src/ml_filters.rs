//! Record filters on a model's features and tags, as clients write them: `name op value`, `op`
//! one of `==` (or `=`), `!=`, `<`, `<=`, `>`, `>=`; `name` a feature's, or a tag's when no feature
//! has it (`feature:` or `tag:` in front chooses); `value` a number for a numeric column, text
//! (quotes optional) otherwise. Each resolves to a store predicate on the column's id.

use ember_core::ml::MlValueType;
use ember_store::{MlColumnRecord, MlColumnRole, MlComparison, MlPredicate, MlPredicateValue};

use crate::error::{Result, ServiceError};

/// Operators longest first, so that `<=` is not read as `<`.
const OPERATORS: [(&str, MlComparison); 7] = [
    ("==", MlComparison::Equal),
    ("!=", MlComparison::NotEqual),
    ("<=", MlComparison::LessOrEqual),
    (">=", MlComparison::GreaterOrEqual),
    ("=", MlComparison::Equal),
    ("<", MlComparison::Less),
    (">", MlComparison::Greater),
];

/// The most filters one request may combine.
pub const MAX_FILTERS: usize = 20;

/// The predicates of `filters` on a model with `columns`.
pub fn predicates(columns: &[MlColumnRecord], filters: &[String]) -> Result<Vec<MlPredicate>> {
    if filters.len() > MAX_FILTERS {
        return Err(ServiceError::bad_request(format!("{} filters were given; at most {MAX_FILTERS} combine", filters.len())));
    }
    filters.iter().filter(|filter| !filter.trim().is_empty()).map(|filter| predicate(columns, filter)).collect()
}

fn predicate(columns: &[MlColumnRecord], filter: &str) -> Result<MlPredicate> {
    let bad = |problem: String| ServiceError::bad_request(format!("the filter {filter:?} {problem}"));
    let position = filter
        .char_indices()
        .find(|(_, character)| matches!(character, '=' | '!' | '<' | '>'))
        .map(|(index, _)| index)
        .ok_or_else(|| bad("has no operator: write name == value (or !=, <, <=, >, >=)".into()))?;
    let (name, rest) = filter.split_at(position);
    let (operator, comparison) = OPERATORS
        .iter()
        .find(|(operator, _)| rest.starts_with(operator))
        .ok_or_else(|| bad("has no operator: write name == value (or !=, <, <=, >, >=)".into()))?;
    let raw_value = rest[operator.len()..].trim();
    let name = name.trim();
    let (roles, name): (&[MlColumnRole], &str) = match name.split_once(':') {
        Some(("feature", name)) => (&[MlColumnRole::Feature], name.trim()),
        Some(("tag", name)) => (&[MlColumnRole::Tag], name.trim()),
        _ => (&[MlColumnRole::Feature, MlColumnRole::Tag], name),
    };
    let column = roles
        .iter()
        .find_map(|role| columns.iter().find(|column| column.role == *role && column.name == name))
        .ok_or_else(|| bad(format!("names {name:?}, which is no feature or tag of the model")))?;
    let value = match column.value_type {
        value_type if value_type.is_numeric() => MlPredicateValue::Number(
            raw_value
                .parse::<f64>()
                .ok()
                .filter(|number| number.is_finite())
                .ok_or_else(|| bad(format!("compares the numeric {name:?} with {raw_value:?}, which is not a number")))?,
        ),
        MlValueType::String => MlPredicateValue::Text(unquoted(raw_value).to_string()),
        other => return Err(bad(format!("compares {name:?}, which holds {}s; only numbers and strings compare", other.name()))),
    };
    Ok(MlPredicate { column_id: column.id, comparison: *comparison, value })
}

fn unquoted(text: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(quote).and_then(|rest| rest.strip_suffix(quote)) {
            return inner;
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<MlColumnRecord> {
        let column = |id, role, name: &str, value_type| MlColumnRecord { id, role, name: name.into(), value_type };
        vec![
            column(1, MlColumnRole::Feature, "age", MlValueType::Int),
            column(2, MlColumnRole::Feature, "state", MlValueType::String),
            column(3, MlColumnRole::Tag, "state", MlValueType::String),
            column(4, MlColumnRole::Tag, "ids", MlValueType::List),
        ]
    }

    #[test]
    fn filters_resolve_names_operators_and_values() {
        let parsed = predicates(&columns(), &["age >= 30".into(), "state == 'CA'".into(), "tag:state!=NY".into()]).unwrap();
        assert_eq!(
            parsed,
            vec![
                MlPredicate { column_id: 1, comparison: MlComparison::GreaterOrEqual, value: MlPredicateValue::Number(30.0) },
                MlPredicate { column_id: 2, comparison: MlComparison::Equal, value: MlPredicateValue::Text("CA".into()) },
                MlPredicate { column_id: 3, comparison: MlComparison::NotEqual, value: MlPredicateValue::Text("NY".into()) },
            ]
        );
    }

    #[test]
    fn bad_filters_name_their_problem() {
        for (filter, problem) in [
            ("age 30", "has no operator"),
            ("height > 3", "no feature or tag"),
            ("age > thirty", "not a number"),
            ("ids == x", "only numbers and strings"),
        ] {
            let error = predicates(&columns(), &[filter.into()]).unwrap_err();
            assert!(error.to_string().contains(problem), "{filter}: {error}");
        }
    }
}
