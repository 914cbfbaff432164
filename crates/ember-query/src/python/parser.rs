//! The recursive-descent parser of Phoenix's filter language, following Python's precedence:
//! `or` < `and` < `not` < comparisons < `+ -` < `* / // %` < unary < trailers. Anything outside
//! the subset (lambdas, conditionals, slices, keyword arguments...) is refused where it starts.

use super::lexer::{tokenize, Tok, Token};
use crate::error::{QueryError, Result};
use crate::syntax::{check_tree, BinaryOp, CompareOp, Node, NodeKind};
use crate::MAX_DEPTH;

/// Words that are never names.
const KEYWORDS: [&str; 20] = [
    "and", "or", "not", "in", "is", "None", "True", "False", "for", "if", "else", "lambda", "await", "yield", "import", "from", "as",
    "with", "del", "def",
];

pub(crate) fn parse(text: &str) -> Result<Node> {
    let tokens = tokenize(text)?;
    let mut parser = Parser { tokens, position: 0, depth: 0 };
    if parser.peek().tok == Tok::End {
        return Err(QueryError::new(1, "the filter is empty"));
    }
    let node = parser.expression()?;
    let next = parser.peek();
    if next.tok == Tok::Punct("=") {
        return Err(QueryError::new(next.column, "use '==' to compare"));
    }
    if next.tok != Tok::End {
        return Err(QueryError::new(next.column, format!("unexpected {}", describe(&next.tok))));
    }
    check_tree(&node)?;
    Ok(node)
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Name(name) => format!("'{name}'"),
        Tok::Str(_) => "string".into(),
        Tok::Int(_) | Tok::Float(_) => "number".into(),
        Tok::Punct(p) => format!("'{p}'"),
        Tok::End => "end of filter".into(),
    }
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
    /// Current recursion depth (brackets, calls, `not`, unary signs).
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.position]
    }

    fn peek_at(&self, offset: usize) -> &Tok {
        &self.tokens[(self.position + offset).min(self.tokens.len() - 1)].tok
    }

    fn advance(&mut self) -> Token {
        let token = self.tokens[self.position].clone();
        if self.position < self.tokens.len() - 1 {
            self.position += 1;
        }
        token
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(&self.peek().tok, Tok::Name(name) if name == word)
    }

    fn is_punct(&self, punct: &str) -> bool {
        self.peek().tok == Tok::Punct(punct_static(punct))
    }

    fn expect_punct(&mut self, punct: &'static str) -> Result<Token> {
        if self.is_punct(punct) {
            return Ok(self.advance());
        }
        let next = self.peek();
        Err(QueryError::new(next.column, format!("expected '{punct}', found {}", describe(&next.tok))))
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(QueryError::new(self.peek().column, format!("the filter is nested more than {MAX_DEPTH} levels deep")));
        }
        Ok(())
    }

    fn expression(&mut self) -> Result<Node> {
        self.enter()?;
        let node = self.or_test();
        self.depth -= 1;
        let node = node?;
        if self.is_word("if") {
            return Err(QueryError::new(self.peek().column, "conditional expressions are not supported"));
        }
        Ok(node)
    }

    fn or_test(&mut self) -> Result<Node> {
        let first = self.and_test()?;
        if !self.is_word("or") {
            return Ok(first);
        }
        let column = first.column;
        let mut operands = vec![first];
        while self.is_word("or") {
            self.advance();
            operands.push(self.and_test()?);
        }
        Ok(Node { kind: NodeKind::Or(operands), column })
    }

    fn and_test(&mut self) -> Result<Node> {
        let first = self.not_test()?;
        if !self.is_word("and") {
            return Ok(first);
        }
        let column = first.column;
        let mut operands = vec![first];
        while self.is_word("and") {
            self.advance();
            operands.push(self.not_test()?);
        }
        Ok(Node { kind: NodeKind::And(operands), column })
    }

    fn not_test(&mut self) -> Result<Node> {
        if self.is_word("not") {
            let column = self.advance().column;
            self.enter()?;
            let operand = self.not_test();
            self.depth -= 1;
            let operand = operand?;
            return Ok(Node { kind: NodeKind::Not(Box::new(operand)), column });
        }
        self.comparison()
    }

    fn compare_op(&mut self) -> Option<CompareOp> {
        let op = match &self.peek().tok {
            Tok::Punct("==") => CompareOp::Eq,
            Tok::Punct("!=") => CompareOp::NotEq,
            Tok::Punct("<") => CompareOp::Lt,
            Tok::Punct("<=") => CompareOp::LtE,
            Tok::Punct(">") => CompareOp::Gt,
            Tok::Punct(">=") => CompareOp::GtE,
            Tok::Name(word) if word == "in" => CompareOp::In,
            Tok::Name(word) if word == "not" && matches!(self.peek_at(1), Tok::Name(next) if next == "in") => {
                self.advance();
                CompareOp::NotIn
            }
            Tok::Name(word) if word == "is" => {
                if matches!(self.peek_at(1), Tok::Name(next) if next == "not") {
                    self.advance();
                    CompareOp::IsNot
                } else {
                    CompareOp::Is
                }
            }
            _ => return None,
        };
        self.advance();
        Some(op)
    }

    fn comparison(&mut self) -> Result<Node> {
        let first = self.arithmetic()?;
        let mut rest = Vec::new();
        while let Some(op) = self.compare_op() {
            rest.push((op, self.arithmetic()?));
        }
        if rest.is_empty() {
            return Ok(first);
        }
        let column = first.column;
        Ok(Node { kind: NodeKind::Compare(Box::new(first), rest), column })
    }

    fn arithmetic(&mut self) -> Result<Node> {
        let mut left = self.term()?;
        loop {
            let op = match self.peek().tok {
                Tok::Punct("+") => BinaryOp::Add,
                Tok::Punct("-") => BinaryOp::Sub,
                _ => return Ok(left),
            };
            self.advance();
            let right = self.term()?;
            let column = left.column;
            left = Node { kind: NodeKind::Binary(op, Box::new(left), Box::new(right)), column };
        }
    }

    fn term(&mut self) -> Result<Node> {
        let mut left = self.factor()?;
        loop {
            let op = match self.peek().tok {
                Tok::Punct("*") => BinaryOp::Mul,
                Tok::Punct("/") => BinaryOp::Div,
                Tok::Punct("//") => BinaryOp::FloorDiv,
                Tok::Punct("%") => BinaryOp::Mod,
                _ => return Ok(left),
            };
            self.advance();
            let right = self.factor()?;
            let column = left.column;
            left = Node { kind: NodeKind::Binary(op, Box::new(left), Box::new(right)), column };
        }
    }

    fn factor(&mut self) -> Result<Node> {
        match self.peek().tok {
            Tok::Punct("-") => {
                let column = self.advance().column;
                self.enter()?;
                let operand = self.factor();
                self.depth -= 1;
                let operand = operand?;
                // Fold negative literals so `-1` is a literal, as Python's constant folding does.
                let kind = match operand.kind {
                    NodeKind::Int(value) => NodeKind::Int(-value),
                    NodeKind::Float(value) => NodeKind::Float(-value),
                    other => NodeKind::Negate(Box::new(Node { kind: other, column: operand.column })),
                };
                Ok(Node { kind, column })
            }
            Tok::Punct("+") => {
                self.advance();
                self.enter()?;
                let operand = self.factor();
                self.depth -= 1;
                operand
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Node> {
        let mut node = self.atom()?;
        loop {
            if self.is_punct(".") {
                self.advance();
                let token = self.advance();
                match token.tok {
                    Tok::Name(name) if !KEYWORDS.contains(&name.as_str()) => {
                        let column = node.column;
                        node = Node { kind: NodeKind::Attribute(Box::new(node), name), column };
                    }
                    other => return Err(QueryError::new(token.column, format!("expected a name after '.', found {}", describe(&other)))),
                }
            } else if self.is_punct("[") {
                self.advance();
                let index = self.expression()?;
                if self.is_punct(",") {
                    return Err(QueryError::new(
                        self.peek().column,
                        "use a list, e.g. attributes[['a', 'b']], to subscript with several keys",
                    ));
                }
                self.expect_punct("]")?;
                let column = node.column;
                node = Node { kind: NodeKind::Subscript(Box::new(node), Box::new(index)), column };
            } else if self.is_punct("(") {
                let NodeKind::Name(callee) = &node.kind else {
                    return Err(QueryError::new(
                        self.peek().column,
                        "only str(), int(), float() and the aggregate functions may be called",
                    ));
                };
                let callee = callee.clone();
                let column = node.column;
                self.advance();
                let arguments = self.call_arguments()?;
                node = Node { kind: NodeKind::Call(callee, arguments), column };
            } else {
                return Ok(node);
            }
        }
    }

    fn call_arguments(&mut self) -> Result<Vec<Node>> {
        let mut arguments = Vec::new();
        if self.is_punct(")") {
            self.advance();
            return Ok(arguments);
        }
        loop {
            if let (Tok::Name(_), Tok::Punct(p)) = (&self.peek().tok, self.peek_at(1)) {
                if *p == "=" {
                    return Err(QueryError::new(self.peek().column, "keyword arguments are not supported"));
                }
            }
            let argument = self.expression()?;
            if self.is_word("for") {
                let generator = self.generator(argument)?;
                arguments.push(generator);
                self.expect_punct(")")?;
                return Ok(arguments);
            }
            arguments.push(argument);
            if self.is_punct(",") {
                self.advance();
                if self.is_punct(")") {
                    self.advance();
                    return Ok(arguments);
                }
                continue;
            }
            self.expect_punct(")")?;
            return Ok(arguments);
        }
    }

    fn generator(&mut self, element: Node) -> Result<Node> {
        let column = element.column;
        self.advance(); // for
        let token = self.advance();
        let var = match token.tok {
            Tok::Name(name) if !KEYWORDS.contains(&name.as_str()) => name,
            other => return Err(QueryError::new(token.column, format!("expected a loop variable, found {}", describe(&other)))),
        };
        if !self.is_word("in") {
            return Err(QueryError::new(self.peek().column, "expected 'in' in the comprehension"));
        }
        self.advance();
        let iterable = self.or_test()?;
        let condition = if self.is_word("if") {
            self.advance();
            Some(Box::new(self.or_test()?))
        } else {
            None
        };
        if self.is_word("for") {
            return Err(QueryError::new(self.peek().column, "nested comprehensions are not supported"));
        }
        Ok(Node { kind: NodeKind::Generator { element: Box::new(element), var, iterable: Box::new(iterable), condition }, column })
    }

    fn atom(&mut self) -> Result<Node> {
        let token = self.advance();
        let column = token.column;
        let kind = match token.tok {
            Tok::Name(name) => match name.as_str() {
                "None" => NodeKind::None,
                "True" => NodeKind::Bool(true),
                "False" => NodeKind::Bool(false),
                "lambda" => return Err(QueryError::new(column, "lambdas are not supported")),
                word if KEYWORDS.contains(&word) => return Err(QueryError::new(column, format!("unexpected '{word}'"))),
                _ => NodeKind::Name(name),
            },
            Tok::Str(value) => {
                if let Tok::Str(_) = self.peek().tok {
                    return Err(QueryError::new(self.peek().column, "adjacent string literals are not supported"));
                }
                NodeKind::Str(value)
            }
            Tok::Int(value) => NodeKind::Int(value),
            Tok::Float(value) => NodeKind::Float(value),
            Tok::Punct("(") => {
                if self.is_punct(")") {
                    return Err(QueryError::new(column, "empty tuples are not supported"));
                }
                let first = self.expression()?;
                if self.is_word("for") {
                    return Err(QueryError::new(self.peek().column, "comprehensions are only allowed as a function's argument"));
                }
                if self.is_punct(",") {
                    let items = self.sequence_rest(first, ")")?;
                    NodeKind::List(items)
                } else {
                    self.expect_punct(")")?;
                    return Ok(first);
                }
            }
            Tok::Punct("[") => {
                if self.is_punct("]") {
                    self.advance();
                    NodeKind::List(Vec::new())
                } else {
                    let first = self.expression()?;
                    if self.is_word("for") {
                        return Err(QueryError::new(self.peek().column, "list comprehensions are not supported"));
                    }
                    NodeKind::List(self.sequence_rest(first, "]")?)
                }
            }
            other => return Err(QueryError::new(column, format!("unexpected {}", describe(&other)))),
        };
        Ok(Node { kind, column })
    }

    /// The items of a list or tuple after the first, up to and including `close`.
    fn sequence_rest(&mut self, first: Node, close: &'static str) -> Result<Vec<Node>> {
        let mut items = vec![first];
        while self.is_punct(",") {
            self.advance();
            if self.is_punct(close) {
                break;
            }
            items.push(self.expression()?);
        }
        self.expect_punct(close)?;
        Ok(items)
    }
}

fn punct_static(punct: &str) -> &'static str {
    const ALL: [&str; 20] = ["==", "!=", "<=", ">=", "//", "**", "<", ">", "=", "+", "-", "*", "/", "%", "(", ")", "[", "]", ",", "."];
    ALL.iter().find(|p| **p == punct).copied().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_follows_python() {
        let node = parse("not a == 1 or b in [1, 2] and c").unwrap();
        let NodeKind::Or(operands) = node.kind else { panic!("{node:?}") };
        assert!(matches!(operands[0].kind, NodeKind::Not(_)));
        assert!(matches!(operands[1].kind, NodeKind::And(_)));
        let node = parse("a + b * c - -1 > 0").unwrap();
        let NodeKind::Compare(left, _) = node.kind else { panic!() };
        let NodeKind::Binary(BinaryOp::Sub, sum, minus_one) = left.kind else { panic!() };
        assert_eq!(minus_one.kind, NodeKind::Int(-1));
        assert!(matches!(sum.kind, NodeKind::Binary(BinaryOp::Add, _, _)));
    }

    #[test]
    fn trailers_and_generators() {
        let node = parse("llm.input_messages[0].message.content").unwrap();
        assert!(matches!(node.kind, NodeKind::Attribute(_, ref name) if name == "content"));
        let node = parse("any(s.span_kind == 'LLM' for s in spans if s.name != 'x')").unwrap();
        let NodeKind::Call(name, arguments) = node.kind else { panic!() };
        assert_eq!(name, "any");
        assert!(matches!(arguments[0].kind, NodeKind::Generator { ref var, condition: Some(_), .. } if var == "s"));
    }

    #[test]
    fn rejections_carry_their_column() {
        for (text, column, fragment) in [
            ("", 1, "empty"),
            ("a ==", 5, "unexpected end"),
            ("a == 1 b", 8, "unexpected 'b'"),
            ("a if b else c", 3, "conditional"),
            ("(lambda x)", 2, "lambda"),
            ("x[1, 2]", 4, "list"),
            ("f(a=1)", 3, "keyword"),
            ("a.b(1)", 4, "only str()"),
            ("[s for s in spans]", 4, "list comprehensions"),
            ("a.1 == 2", 2, "unexpected number"),
            ("a. and", 4, "expected a name"),
            ("'a' 'b' == x", 5, "adjacent"),
            ("() == a", 1, "empty tuples"),
            ("(a == 1", 8, "expected ')'"),
            ("name = 'x'", 6, "use '=='"),
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.message.contains(fragment), "{text}: {error}");
            assert_eq!(error.column, column, "{text}: {error}");
        }
    }
}
