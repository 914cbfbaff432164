//! JSON written as Python's `json.dumps` writes it (`", "` and `": "` separators, floats as
//! `repr` prints them), which is what the Phoenix clients record and send and Phoenix writes into
//! its downloads; ember writes the same text so the two compare equal.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::Formatter;
use serde_json::Value;

/// JSON as Python's `json.dumps` may write it: its `NaN`, `Infinity` and `-Infinity` (pandas'
/// missing values, which `json.dumps` writes bare) are read as `null`.
pub fn loads(text: &str) -> serde_json::Result<Value> {
    match serde_json::from_str(text) {
        Ok(value) => Ok(value),
        Err(error) if !(text.contains("NaN") || text.contains("Infinity")) => Err(error),
        Err(_) => serde_json::from_str(&without_non_finite(text)),
    }
}

/// `text` with the bare non-finite numbers outside strings replaced by `null`.
fn without_non_finite(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    let mut rest = text;
    while let Some(character) = rest.chars().next() {
        if in_string {
            out.push(character);
            match (escaped, character) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            rest = &rest[character.len_utf8()..];
            continue;
        }
        if let Some(token) = ["-Infinity", "Infinity", "NaN"].into_iter().find(|token| rest.starts_with(token)) {
            out.push_str("null");
            rest = &rest[token.len()..];
            continue;
        }
        in_string = character == '"';
        out.push(character);
        rest = &rest[character.len_utf8()..];
    }
    out
}

/// `json.dumps(value, ensure_ascii=False)`.
pub fn dumps(value: &Value) -> String {
    write(value, PythonFormatter { ensure_ascii: false })
}

/// `json.dumps(value)`: non-ASCII characters escaped as `\uXXXX` (surrogate pairs above U+FFFF).
pub fn dumps_ascii(value: &Value) -> String {
    write(value, PythonFormatter { ensure_ascii: true })
}

fn write(value: &Value, formatter: PythonFormatter) -> String {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Serializing a `Value` into a `Vec` cannot fail.
    let _ = value.serialize(&mut serializer);
    String::from_utf8(out).unwrap_or_default()
}

/// `repr(value)` of a Python float: the shortest text that reads back as the same number, with an
/// exponent (`1e-05`, `1.2345678901234567e+19`) below 1e-4 and from 1e16 on, else a decimal point.
pub fn float_repr(value: f64) -> String {
    if value.is_nan() {
        return "nan".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-4..1e16).contains(&magnitude) {
        // `{:e}` is the shortest round-trip form too (`1.2345678901234567e19`).
        let text = format!("{value:e}");
        if let Some((mantissa, exponent)) = text.split_once('e') {
            let exponent: i32 = exponent.parse().unwrap_or_default();
            return format!("{mantissa}e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.unsigned_abs());
        }
        return text;
    }
    let text = value.to_string();
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}

struct PythonFormatter {
    ensure_ascii: bool,
}

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_f64<W: ?Sized + Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(float_repr(value).as_bytes())
    }

    fn write_string_fragment<W: ?Sized + Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        if !self.ensure_ascii || fragment.is_ascii() {
            return writer.write_all(fragment.as_bytes());
        }
        for c in fragment.chars() {
            if c.is_ascii() {
                writer.write_all(&[c as u8])?;
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn python_non_finite_numbers_read_as_null() {
        let value = loads(r#"{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN stays", "d": "q\"NaN"}"#).unwrap();
        assert_eq!(value, json!({"a": null, "b": [null, null], "c": "NaN stays", "d": "q\"NaN"}));
        assert!(loads("{nope").is_err());
    }

    #[test]
    fn matches_json_dumps() {
        // json.dumps({"q": "2+2", "n": [1, 2.5, None], "é": {"a": True}}, ensure_ascii=False)
        assert_eq!(
            dumps(&json!({"q": "2+2", "n": [1, 2.5, null], "é": {"a": true}})),
            r#"{"q": "2+2", "n": [1, 2.5, null], "é": {"a": true}}"#
        );
        assert_eq!(dumps(&json!([])), "[]");
        assert_eq!(dumps(&json!({})), "{}");
        // json.dumps({"é": "😀\n"})
        assert_eq!(dumps_ascii(&json!({"é": "😀\n"})), r#"{"\u00e9": "\ud83d\ude00\n"}"#);
        // json.dumps([1e16, 2.0, 1e-05])
        assert_eq!(dumps(&json!([1e16, 2.0, 0.00001])), "[1e+16, 2.0, 1e-05]");
    }

    #[test]
    fn floats_read_as_python_repr_prints_them() {
        let cases = [
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (1.5, "1.5"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (9999999999999998.0, "9999999999999998.0"),
            (1e16, "1e+16"),
            (12345678901234567890.0, "1.2345678901234567e+19"),
            (1.5e-300, "1.5e-300"),
            (f64::INFINITY, "inf"),
        ];
        for (value, repr) in cases {
            assert_eq!(float_repr(value), repr, "{value}");
        }
    }
}
