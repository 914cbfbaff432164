//! Tokens of the Python expression subset Phoenix filters are written in.

use crate::error::{QueryError, Result};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Name(String),
    Str(String),
    Int(i64),
    Float(f64),
    /// Operators and punctuation: `== != < <= > >= + - * / // % ( ) [ ] , .`
    Punct(&'static str),
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// 1-based character column where the token starts.
    pub column: usize,
}

/// Punctuation, longest first so `//` wins over `/` and `<=` over `<`.
const PUNCTUATION: [&str; 19] = ["==", "!=", "<=", ">=", "//", "**", "<", ">", "=", "+", "-", "*", "/", "%", "(", ")", "[", "]", ","];

pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '#' {
            return Err(QueryError::new(column, "comments are not allowed"));
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if i < chars.len() && (chars[i] == '\'' || chars[i] == '"') {
                let (value, next) = string_literal(&chars, start, &word)?;
                tokens.push(Token { tok: Tok::Str(value), column });
                i = next;
                continue;
            }
            if i < chars.len() && !chars[i].is_ascii() && chars[i].is_alphanumeric() {
                return Err(non_ascii_name(i + 1));
            }
            tokens.push(Token { tok: Tok::Name(word), column });
            continue;
        }
        if !c.is_ascii() && c.is_alphanumeric() {
            return Err(non_ascii_name(column));
        }
        if c == '\'' || c == '"' {
            let (value, next) = string_literal(&chars, i, "")?;
            tokens.push(Token { tok: Tok::Str(value), column });
            i = next;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let (tok, next) = number(&chars, i)?;
            tokens.push(Token { tok, column });
            i = next;
            continue;
        }
        if c == '.' {
            tokens.push(Token { tok: Tok::Punct("."), column });
            i += 1;
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        match PUNCTUATION.iter().find(|p| rest.starts_with(**p)) {
            Some(&"**") => return Err(QueryError::new(column, "the power operator '**' is not supported")),
            Some(punct) => {
                tokens.push(Token { tok: Tok::Punct(punct), column });
                i += punct.len();
            }
            None => return Err(QueryError::new(column, format!("unexpected character {c:?}"))),
        }
    }
    tokens.push(Token { tok: Tok::End, column: chars.len() + 1 });
    Ok(tokens)
}

fn non_ascii_name(column: usize) -> QueryError {
    QueryError::new(column, "names must be ASCII; write other attribute keys as attributes['...']")
}

/// A string literal starting at `start` (at its prefix, if any). Returns the value and the index
/// after the closing quote.
fn string_literal(chars: &[char], start: usize, prefix: &str) -> Result<(String, usize)> {
    let column = start + 1;
    let lower = prefix.to_ascii_lowercase();
    let raw = match lower.as_str() {
        "" | "u" => false,
        "r" => true,
        "b" | "br" | "rb" => return Err(QueryError::new(column, "bytes literals are not supported")),
        "f" | "fr" | "rf" => return Err(QueryError::new(column, "f-strings are not supported")),
        _ => return Err(QueryError::new(column, format!("unknown string prefix {prefix:?}"))),
    };
    let mut i = start + prefix.chars().count();
    let quote = chars[i];
    if chars.get(i + 1) == Some(&quote) && chars.get(i + 2) == Some(&quote) {
        return Err(QueryError::new(column, "triple-quoted strings are not supported"));
    }
    i += 1;
    let mut value = String::new();
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(QueryError::new(column, "unterminated string literal"));
        };
        if c == quote {
            i += 1;
            break;
        }
        if c == '\n' {
            return Err(QueryError::new(column, "unterminated string literal"));
        }
        if c == '\\' && !raw {
            let escape_column = i + 1;
            let Some(&next) = chars.get(i + 1) else {
                return Err(QueryError::new(column, "unterminated string literal"));
            };
            i += 2;
            match next {
                '\\' => value.push('\\'),
                '\'' => value.push('\''),
                '"' => value.push('"'),
                'n' => value.push('\n'),
                't' => value.push('\t'),
                'r' => value.push('\r'),
                'a' => value.push('\u{7}'),
                'b' => value.push('\u{8}'),
                'f' => value.push('\u{c}'),
                'v' => value.push('\u{b}'),
                'x' | 'u' | 'U' => {
                    let width = match next {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let digits: String = chars.get(i..i + width).map(|d| d.iter().collect()).unwrap_or_default();
                    let code = u32::from_str_radix(&digits, 16)
                        .ok()
                        .filter(|_| digits.len() == width)
                        .ok_or_else(|| QueryError::new(escape_column, format!("invalid \\{next} escape")))?;
                    let decoded = char::from_u32(code).ok_or_else(|| QueryError::new(escape_column, format!("invalid \\{next} escape")))?;
                    value.push(decoded);
                    i += width;
                }
                // Python keeps unknown escapes as written.
                other => {
                    value.push('\\');
                    value.push(other);
                }
            }
            continue;
        }
        value.push(c);
        i += 1;
    }
    if value.contains('\0') {
        return Err(QueryError::new(column, "strings may not contain NUL characters"));
    }
    Ok((value, i))
}

fn number(chars: &[char], start: usize) -> Result<(Tok, usize)> {
    let column = start + 1;
    let mut i = start;
    let mut is_float = false;
    let mut text = String::new();
    if chars[i] == '0' && chars.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic() && !matches!(c, 'e' | 'E' | 'j' | 'J')) {
        return Err(QueryError::new(column, "only decimal numbers are supported"));
    }
    let digits = |i: &mut usize, text: &mut String| {
        while *i < chars.len() && (chars[*i].is_ascii_digit() || chars[*i] == '_') {
            if chars[*i] != '_' {
                text.push(chars[*i]);
            }
            *i += 1;
        }
    };
    digits(&mut i, &mut text);
    if chars.get(i) == Some(&'.') {
        is_float = true;
        text.push('.');
        i += 1;
        digits(&mut i, &mut text);
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        let mut j = i + 1;
        let mut exponent = String::from("e");
        if matches!(chars.get(j), Some('+' | '-')) {
            exponent.push(chars[j]);
            j += 1;
        }
        if chars.get(j).is_some_and(char::is_ascii_digit) {
            is_float = true;
            i = j;
            text.push_str(&exponent);
            digits(&mut i, &mut text);
        }
    }
    if matches!(chars.get(i), Some('j' | 'J')) {
        return Err(QueryError::new(column, "complex numbers are not supported"));
    }
    if chars.get(i).is_some_and(|c| c.is_alphanumeric() || *c == '_') {
        return Err(QueryError::new(column, "invalid number"));
    }
    if !is_float {
        return text.parse::<i64>().map(|value| (Tok::Int(value), i)).map_err(|_| QueryError::new(column, "integer literal is too large"));
    }
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok((Tok::Float(value), i)),
        _ => Err(QueryError::new(column, "number literals must be finite")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<Tok> {
        tokenize(text).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn strings_numbers_and_punctuation() {
        assert_eq!(
            toks(r#"a.b == 'x\'y' and 1_000 <= .5e1 // r"\d""#),
            vec![
                Tok::Name("a".into()),
                Tok::Punct("."),
                Tok::Name("b".into()),
                Tok::Punct("=="),
                Tok::Str("x'y".into()),
                Tok::Name("and".into()),
                Tok::Int(1000),
                Tok::Punct("<="),
                Tok::Float(5.0),
                Tok::Punct("//"),
                Tok::Str("\\d".into()),
                Tok::End,
            ]
        );
        assert_eq!(toks(r"'\u00e9\x41\q'"), vec![Tok::Str("éA\\q".into()), Tok::End]);
    }

    #[test]
    fn rejections_carry_their_column() {
        for (text, column, fragment) in [
            ("a == 'x", 6, "unterminated"),
            ("a == b'x'", 6, "bytes"),
            ("a == f'x'", 6, "f-strings"),
            ("x == 0x10", 6, "decimal"),
            ("x == 1j", 6, "complex"),
            ("x == 1e999", 6, "finite"),
            ("x == 99999999999999999999", 6, "too large"),
            ("x ** 2", 3, "power"),
            ("x == 'a\\x0'", 8, "\\x"),
            ("x == '\\x00'", 6, "NUL"),
            ("café == 1", 4, "ASCII"),
            ("x == 1 # c", 8, "comments"),
            ("x ; y", 3, "unexpected character"),
            ("x == '''a'''", 6, "triple"),
        ] {
            let error = tokenize(text).unwrap_err();
            assert_eq!(error.column, column, "{text}: {error}");
            assert!(error.message.contains(fragment), "{text}: {error}");
        }
    }
}
