//! JSON written as Python's `json.dumps` writes it (`", "` and `": "` separators), which is what
//! the Phoenix clients record and send; ember writes the same text so the two compare equal.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::Formatter;
use serde_json::Value;

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
    }
}
