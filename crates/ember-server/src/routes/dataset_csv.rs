//! A dataset version as Phoenix 20.26 writes its CSV (observed with `phoenix serve`): columns `id`
//! (the example's own id, else its GlobalID), `node_id`, then `input.*`, `output.*` and
//! `metadata.*` with nested objects flattened by dots and lists as JSON text, in the order keys
//! are first seen, and `splits` (JSON lists) when any example is in a split. Phoenix builds the
//! file with pandas, so each column prints as pandas types it: a whole-number column with a gap
//! prints as floats (`1.0`), booleans as `True`/`False`, floats as Python's `repr`.

use std::collections::HashMap;

use ember_core::python_json::{dumps, float_repr};
use ember_core::{GlobalId, GlobalType};
use ember_store::ExampleRecord;
use serde_json::{Map, Value};

/// How pandas types a column, from its values (missing cells are NaN).
#[derive(Debug, PartialEq)]
enum ColumnType {
    /// Booleans, none missing.
    Bool,
    /// Whole numbers, none missing.
    Int,
    /// Numbers, or whole numbers with gaps.
    Float,
    /// Anything else: each cell prints as itself.
    Object,
}

fn column_type<'a>(cells: impl Iterator<Item = Option<&'a Value>>) -> ColumnType {
    let (mut missing, mut bools, mut ints, mut numbers, mut present) = (false, 0, 0, 0, 0);
    for cell in cells {
        match cell {
            None | Some(Value::Null) => missing = true,
            Some(value) => {
                present += 1;
                match value {
                    Value::Bool(_) => bools += 1,
                    Value::Number(number) if number.is_f64() => numbers += 1,
                    Value::Number(_) => ints += 1,
                    _ => {}
                }
            }
        }
    }
    match () {
        _ if present > 0 && bools == present && !missing => ColumnType::Bool,
        _ if present > 0 && ints == present && !missing => ColumnType::Int,
        _ if ints + numbers == present => ColumnType::Float,
        _ => ColumnType::Object,
    }
}

fn cell_text(value: Option<&Value>, column_type: &ColumnType) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::Bool(true)) => "True".into(),
        Some(Value::Bool(false)) => "False".into(),
        Some(Value::Number(number)) if *column_type == ColumnType::Float || number.is_f64() => {
            float_repr(number.as_f64().unwrap_or(f64::NAN))
        }
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// `(column, value)` pairs of an object flattened below `prefix`; lists become JSON text.
fn flatten(prefix: &str, object: &Value, out: &mut Vec<(String, Value)>) {
    let Value::Object(map) = object else { return };
    for (key, value) in map {
        let column = format!("{prefix}.{key}");
        match value {
            Value::Object(_) => flatten(&column, value, out),
            Value::Array(_) => out.push((column, Value::String(dumps(value)))),
            scalar => out.push((column, scalar.clone())),
        }
    }
}

/// The CSV text of `examples`; `splits` holds the split names of the examples in any.
pub fn dataset_csv(examples: &[ExampleRecord], splits: &HashMap<i64, Vec<String>>) -> Result<Vec<u8>, csv::Error> {
    let mut columns: Vec<String> = vec!["id".into(), "node_id".into()];
    let mut positions: HashMap<String, usize> = columns.iter().cloned().enumerate().map(|(i, c)| (c, i)).collect();
    let mut rows: Vec<Map<String, Value>> = Vec::with_capacity(examples.len());
    for example in examples {
        let node_id = GlobalId::encode(GlobalType::DatasetExample, example.id);
        let mut cells = vec![
            ("id".to_string(), Value::String(example.external_id.clone().unwrap_or_else(|| node_id.clone()))),
            ("node_id".to_string(), Value::String(node_id)),
        ];
        for (prefix, part) in [("input", &example.input), ("output", &example.output), ("metadata", &example.metadata)] {
            flatten(prefix, part, &mut cells);
        }
        if !splits.is_empty() {
            let names = splits.get(&example.id).map(Vec::as_slice).unwrap_or_default();
            cells.push(("splits".into(), Value::String(dumps(&Value::from(names.to_vec())))));
        }
        for (column, _) in &cells {
            if !positions.contains_key(column) {
                positions.insert(column.clone(), columns.len());
                columns.push(column.clone());
            }
        }
        rows.push(cells.into_iter().collect());
    }
    let types: Vec<ColumnType> = columns.iter().map(|column| column_type(rows.iter().map(|row| row.get(column)))).collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&columns)?;
    for row in &rows {
        writer.write_record(columns.iter().zip(&types).map(|(column, column_type)| cell_text(row.get(column), column_type)))?;
    }
    writer.into_inner().map_err(|error| csv::Error::from(error.into_error()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn example(id: i64, external_id: Option<&str>, input: Value) -> ExampleRecord {
        ExampleRecord {
            id,
            external_id: external_id.map(str::to_string),
            input,
            output: json!({}),
            metadata: json!({}),
            updated_at: 0,
            span: None,
        }
    }

    /// The file `phoenix serve` (20.26.1) wrote for the same two examples.
    #[test]
    fn columns_print_as_pandas_types_them() {
        let examples = [
            example(
                31,
                None,
                json!({"i": 1, "f": 1.5, "b": true, "l": ["x", "y"], "d": {"k": "v"}, "e": {}, "mixed": 1, "allint": 3, "bn": true, "s": "a\nb"}),
            ),
            example(
                32,
                None,
                json!({"i": null, "f": 2.0, "b": false, "l": [], "d": {"k": null}, "mixed": "t", "allint": 4, "bn": null, "fl": 0.1}),
            ),
        ];
        let text = String::from_utf8(dataset_csv(&examples, &HashMap::new()).unwrap()).unwrap();
        let expected = "id,node_id,input.i,input.f,input.b,input.l,input.d.k,input.mixed,input.allint,input.bn,input.s,input.fl\n\
            RGF0YXNldEV4YW1wbGU6MzE=,RGF0YXNldEV4YW1wbGU6MzE=,1.0,1.5,True,\"[\"\"x\"\", \"\"y\"\"]\",v,1,3,True,\"a\nb\",\n\
            RGF0YXNldEV4YW1wbGU6MzI=,RGF0YXNldEV4YW1wbGU6MzI=,,2.0,False,[],,t,4,,,0.1\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn ids_outputs_metadata_and_splits() {
        let mut first = example(29, Some("e1"), json!({"question": "q1"}));
        first.output = json!({"answer": "a1"});
        first.metadata = json!({"difficulty": "easy"});
        let mut second = example(30, None, json!({"question": "q2, \"quoted\""}));
        second.output = json!({"answer": 2});
        let splits = HashMap::from([(29, vec!["train".to_string()])]);
        let text = String::from_utf8(dataset_csv(&[first, second], &splits).unwrap()).unwrap();
        let expected = "id,node_id,input.question,output.answer,metadata.difficulty,splits\n\
            e1,RGF0YXNldEV4YW1wbGU6Mjk=,q1,a1,easy,\"[\"\"train\"\"]\"\n\
            RGF0YXNldEV4YW1wbGU6MzA=,RGF0YXNldEV4YW1wbGU6MzA=,\"q2, \"\"quoted\"\"\",2,,[]\n";
        assert_eq!(text, expected);
    }
}
