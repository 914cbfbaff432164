//! Prompt template rendering, as the Phoenix clients do it when they format a prompt version:
//!
//! - `MUSTACHE`: `{{ name }}` (a word, optional spaces inside the braces) is replaced by the
//!   variable's text, unescaped; a `{{` right after a backslash is left alone; no sections,
//!   partials or dotted names, as in Phoenix.
//! - `F_STRING`: Python `str.format` with named fields: `{name}`, `{name!r}`, `{name:>10}`;
//!   `{{` and `}}` are literal braces; a lone brace is a syntax error.
//! - `NONE`: the template as it is.
//!
//! Every variable the template names must be given; the missing ones are reported together.
//! Variables the template does not name are ignored. Each template is rendered in one pass, so
//! text inserted for a variable is never itself rendered.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// How a prompt version's templates name their variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TemplateFormat {
    Mustache,
    FString,
    None,
}

impl TemplateFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateFormat::Mustache => "MUSTACHE",
            TemplateFormat::FString => "F_STRING",
            TemplateFormat::None => "NONE",
        }
    }
}

impl FromStr for TemplateFormat {
    type Err = TemplateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "MUSTACHE" => Ok(TemplateFormat::Mustache),
            "F_STRING" => Ok(TemplateFormat::FString),
            "NONE" => Ok(TemplateFormat::None),
            other => Err(TemplateError::Syntax(format!("unknown template format {other:?} (MUSTACHE, F_STRING or NONE)"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The names, sorted, of the variables the template needs and was not given.
    #[error("Missing template variable(s): {}", .0.join(", "))]
    MissingVariables(Vec<String>),
    #[error("invalid template: {0}")]
    Syntax(String),
}

/// The variables a template names.
pub fn template_variables(format: TemplateFormat, template: &str) -> Result<BTreeSet<String>, TemplateError> {
    let mut names = BTreeSet::new();
    match format {
        TemplateFormat::Mustache => {
            for piece in mustache_pieces(template) {
                if let Piece::Variable(name) = piece {
                    names.insert(name.to_string());
                }
            }
        }
        TemplateFormat::FString => {
            for piece in fstring_pieces(template)? {
                if let FPiece::Field { name, .. } = piece {
                    names.insert(name.to_string());
                }
            }
        }
        TemplateFormat::None => {}
    }
    Ok(names)
}

/// Renders a template with `variables`.
pub fn render_template(format: TemplateFormat, template: &str, variables: &BTreeMap<String, String>) -> Result<String, TemplateError> {
    let missing: Vec<String> = template_variables(format, template)?.into_iter().filter(|name| !variables.contains_key(name)).collect();
    if !missing.is_empty() {
        return Err(TemplateError::MissingVariables(missing));
    }
    let mut out = String::with_capacity(template.len());
    match format {
        TemplateFormat::Mustache => {
            for piece in mustache_pieces(template) {
                match piece {
                    Piece::Text(text) => out.push_str(text),
                    Piece::Variable(name) => out.push_str(&variables[name]),
                }
            }
        }
        TemplateFormat::FString => {
            for piece in fstring_pieces(template)? {
                match piece {
                    FPiece::Text(text) => out.push_str(&text),
                    FPiece::Field { name, conversion, spec } => {
                        let value = &variables[name];
                        let converted = match conversion {
                            Some('r') | Some('a') => python_repr(value, conversion == Some('a')),
                            _ => value.clone(),
                        };
                        out.push_str(&apply_string_spec(&converted, spec)?);
                    }
                }
            }
        }
        TemplateFormat::None => out.push_str(template),
    }
    Ok(out)
}

enum Piece<'a> {
    Text(&'a str),
    Variable(&'a str),
}

/// Splits a mustache template into text and `{{ word }}` variables.
fn mustache_pieces(template: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut text_start = 0;
    let mut index = 0;
    let bytes = template.as_bytes();
    while index + 1 < bytes.len() {
        let opens = bytes[index] == b'{' && bytes[index + 1] == b'{' && (index == 0 || bytes[index - 1] != b'\\');
        if let Some((name, end)) = opens.then(|| mustache_variable_at(template, index)).flatten() {
            if text_start < index {
                pieces.push(Piece::Text(&template[text_start..index]));
            }
            pieces.push(Piece::Variable(name));
            index = end;
            text_start = end;
        } else {
            index += 1;
        }
    }
    if text_start < template.len() {
        pieces.push(Piece::Text(&template[text_start..]));
    }
    pieces
}

/// `{{\s*(\w+)\s*}}` at `start`: the name and the index after the closing braces.
fn mustache_variable_at(template: &str, start: usize) -> Option<(&str, usize)> {
    let rest = &template[start + 2..];
    let after_space = rest.trim_start();
    let name_length: usize = after_space.chars().take_while(|c| c.is_alphanumeric() || *c == '_').map(char::len_utf8).sum();
    if name_length == 0 {
        return None;
    }
    let name = &after_space[..name_length];
    let closing = after_space[name_length..].trim_start();
    if !closing.starts_with("}}") {
        return None;
    }
    let end = template.len() - closing.len() + 2;
    Some((name, end))
}

enum FPiece<'a> {
    Text(String),
    Field { name: &'a str, conversion: Option<char>, spec: &'a str },
}

/// Splits an f-string template as Python's `string.Formatter().parse` does.
fn fstring_pieces(template: &str) -> Result<Vec<FPiece<'_>>, TemplateError> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = template.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|(_, next)| *next) == Some('{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek().map(|(_, next)| *next) == Some('}') => {
                chars.next();
                text.push('}');
            }
            '}' => return Err(TemplateError::Syntax("Single '}' encountered in format string".into())),
            '{' => {
                let body_start = index + 1;
                let mut depth = 1;
                let mut body_end = None;
                for (inner, c) in chars.by_ref() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                body_end = Some(inner);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let body_end = body_end.ok_or_else(|| {
                    let message = if body_start == template.len() {
                        "Single '{' encountered in format string"
                    } else {
                        "expected '}' before end of string"
                    };
                    TemplateError::Syntax(message.into())
                })?;
                if !text.is_empty() {
                    pieces.push(FPiece::Text(std::mem::take(&mut text)));
                }
                pieces.push(fstring_field(&template[body_start..body_end])?);
            }
            other => text.push(other),
        }
    }
    if !text.is_empty() {
        pieces.push(FPiece::Text(text));
    }
    Ok(pieces)
}

/// `name[!conversion][:spec]`; only plain names, as the clients pass variables by keyword.
fn fstring_field(body: &str) -> Result<FPiece<'_>, TemplateError> {
    let (head, spec) = match body.find(':') {
        Some(colon) => (&body[..colon], &body[colon + 1..]),
        None => (body, ""),
    };
    let (name, conversion) = match head.split_once('!') {
        Some((name, conversion)) => {
            let mut conversion_chars = conversion.chars();
            match (conversion_chars.next(), conversion_chars.next()) {
                (Some(c @ ('r' | 's' | 'a')), None) => (name, Some(c)),
                _ => return Err(TemplateError::Syntax(format!("invalid conversion {conversion:?} in {{{body}}}"))),
            }
        }
        None => (head, None),
    };
    if name.is_empty() {
        return Err(TemplateError::Syntax(format!("the field {{{body}}} has no name; name every field")));
    }
    if !name.chars().all(|c| c.is_alphanumeric() || c == '_') || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(TemplateError::Syntax(format!("the field {{{body}}} is not a plain variable name")));
    }
    if spec.contains('{') {
        return Err(TemplateError::Syntax(format!("nested fields in {{{body}}} are not supported")));
    }
    Ok(FPiece::Field { name, conversion, spec })
}

/// Python's string format spec: `[[fill]align][width][.precision]` (`s` type allowed).
fn apply_string_spec(value: &str, spec: &str) -> Result<String, TemplateError> {
    if spec.is_empty() {
        return Ok(value.to_string());
    }
    let bad = || TemplateError::Syntax(format!("the format spec {spec:?} does not apply to text"));
    let spec_chars: Vec<char> = spec.chars().collect();
    let mut position = 0;
    let is_align = |c: char| matches!(c, '<' | '>' | '^');
    let (mut fill, mut align) = (' ', '<');
    if spec_chars.len() >= 2 && is_align(spec_chars[1]) {
        fill = spec_chars[0];
        align = spec_chars[1];
        position = 2;
    } else if !spec_chars.is_empty() && is_align(spec_chars[0]) {
        align = spec_chars[0];
        position = 1;
    }
    let digits = |from: usize| spec_chars[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let width_length = digits(position);
    let width: usize = if width_length > 0 {
        spec_chars[position..position + width_length].iter().collect::<String>().parse().map_err(|_| bad())?
    } else {
        0
    };
    position += width_length;
    let mut precision = None;
    if spec_chars.get(position) == Some(&'.') {
        let precision_length = digits(position + 1);
        if precision_length == 0 {
            return Err(bad());
        }
        precision =
            Some(spec_chars[position + 1..position + 1 + precision_length].iter().collect::<String>().parse::<usize>().map_err(|_| bad())?);
        position += 1 + precision_length;
    }
    match &spec_chars[position..] {
        [] | ['s'] => {}
        [code] if code.is_ascii_alphabetic() || *code == '%' => {
            return Err(TemplateError::Syntax(format!("Unknown format code '{code}' for object of type 'str'")))
        }
        _ => return Err(bad()),
    }
    let mut text: String = match precision {
        Some(limit) => value.chars().take(limit).collect(),
        None => value.to_string(),
    };
    let length = text.chars().count();
    if width > length {
        let padding = width - length;
        let (left, right) = match align {
            '>' => (padding, 0),
            '^' => (padding / 2, padding - padding / 2),
            _ => (0, padding),
        };
        text = format!("{}{text}{}", fill.to_string().repeat(left), fill.to_string().repeat(right));
    }
    Ok(text)
}

/// Python's `repr` of a string (`ascii` escapes non-ASCII too).
fn python_repr(value: &str, ascii: bool) -> String {
    let quote = if value.contains('\'') && !value.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(value.len() + 2);
    out.push(quote);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if ascii && !c.is_ascii() => match c as u32 {
                code if code <= 0xff => out.push_str(&format!("\\x{code:02x}")),
                code if code <= 0xffff => out.push_str(&format!("\\u{code:04x}")),
                code => out.push_str(&format!("\\U{code:08x}")),
            },
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

impl fmt::Display for TemplateFormat {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect()
    }

    fn mustache(template: &str, pairs: &[(&str, &str)]) -> Result<String, TemplateError> {
        render_template(TemplateFormat::Mustache, template, &vars(pairs))
    }

    fn fstring(template: &str, pairs: &[(&str, &str)]) -> Result<String, TemplateError> {
        render_template(TemplateFormat::FString, template, &vars(pairs))
    }

    #[test]
    fn mustache_replaces_words_without_escaping() {
        assert_eq!(
            mustache("Hello {{name}}, {{ name }}!", &[("name", "<b>Ann & Bo</b>")]).unwrap(),
            "Hello <b>Ann & Bo</b>, <b>Ann & Bo</b>!"
        );
        assert_eq!(mustache("{{{x}}}", &[("x", "1")]).unwrap(), "{1}");
        assert_eq!(mustache(r"\{{x}} {{x}}", &[("x", "1")]).unwrap(), r"\{{x}} 1", "an escaped opening is left alone");
        assert_eq!(mustache("{{ a.b }} {{}} {{ two words }}", &[]).unwrap(), "{{ a.b }} {{}} {{ two words }}", "not variables");
        assert_eq!(mustache("{{ café_1 }}", &[("café_1", "ok")]).unwrap(), "ok", "word characters are Unicode");
        assert_eq!(mustache("{{a}}{{b}}", &[("a", "{{b}}"), ("b", "B")]).unwrap(), "{{b}}B", "inserted text is not rendered again");
        assert_eq!(mustache("{{ x }}", &[("x", "1"), ("unused", "2")]).unwrap(), "1");
    }

    #[test]
    fn missing_variables_are_reported_together_and_sorted() {
        assert_eq!(mustache("{{b}} {{a}} {{c}}", &[("c", "")]), Err(TemplateError::MissingVariables(vec!["a".into(), "b".into()])));
        assert_eq!(mustache("{{b}} {{a}}", &[]).unwrap_err().to_string(), "Missing template variable(s): a, b");
        assert_eq!(fstring("{q} {r}", &[("q", "1")]), Err(TemplateError::MissingVariables(vec!["r".into()])));
        assert_eq!(
            template_variables(TemplateFormat::FString, "{a} {{b}} {c!r:>3}").unwrap(),
            BTreeSet::from(["a".to_string(), "c".to_string()])
        );
    }

    #[test]
    fn f_strings_follow_python_format() {
        assert_eq!(fstring("Q: {question}\nA:", &[("question", "2+2?")]).unwrap(), "Q: 2+2?\nA:");
        assert_eq!(fstring("{{literal}} {x}", &[("x", "1")]).unwrap(), "{literal} 1");
        assert_eq!(fstring("[{x:>5}] [{x:*^6}] [{x:<4}] [{x:.2}]", &[("x", "abc")]).unwrap(), "[  abc] [*abc**] [abc ] [ab]");
        assert_eq!(fstring("{x!r} {x!s} {y!a}", &[("x", "it's"), ("y", "é\n")]).unwrap(), r#""it's" it's '\xe9\n'"#);
        assert_eq!(fstring("{x!r}", &[("x", "a'b\"c")]).unwrap(), r#"'a\'b"c'"#);
        assert_eq!(fstring("{x}", &[("x", "{y}")]).unwrap(), "{y}");
    }

    #[test]
    fn bad_f_strings_name_the_problem() {
        let error = |template: &str| fstring(template, &[("x", "1")]).unwrap_err().to_string();
        assert_eq!(error("a } b"), "invalid template: Single '}' encountered in format string");
        assert_eq!(error("a { b"), "invalid template: expected '}' before end of string");
        assert_eq!(error("a {"), "invalid template: Single '{' encountered in format string");
        assert_eq!(error("{}"), "invalid template: the field {} has no name; name every field");
        assert_eq!(error("{0}"), "invalid template: the field {0} is not a plain variable name");
        assert_eq!(error("{x.y}"), "invalid template: the field {x.y} is not a plain variable name");
        assert_eq!(error("{x!z}"), "invalid template: invalid conversion \"z\" in {x!z}");
        assert_eq!(error("{x:d}"), "invalid template: Unknown format code 'd' for object of type 'str'");
        assert_eq!(error("{x:+5}"), "invalid template: the format spec \"+5\" does not apply to text");
        assert_eq!(error("{x:{x}}"), "invalid template: nested fields in {x:{x}} are not supported");
    }

    #[test]
    fn none_and_formats_by_name() {
        assert_eq!(render_template(TemplateFormat::None, "{{x}} {y}", &vars(&[])).unwrap(), "{{x}} {y}");
        for format in [TemplateFormat::Mustache, TemplateFormat::FString, TemplateFormat::None] {
            assert_eq!(format.as_str().parse::<TemplateFormat>().unwrap(), format);
        }
        assert!("JINJA".parse::<TemplateFormat>().is_err());
    }
}
