//! Directives: `#if`, `#set`, `#foreach`, `#macro`, `#define` and the rest, plus comments and
//! unparsed blocks that also start with `#`.

use crate::ParseError;
use crate::ast::{Evaluated, Expr, Macro, Node};
use crate::parse::{Parser, Term, flush, is_ident_char};

impl Parser<'_, '_> {
    /// Handles `#`: comments, unparsed blocks, directives, macro calls, or a literal `#`.
    /// Returns a terminator when the directive ends the current block.
    pub(crate) fn hash(
        &mut self,
        text: &mut String,
        nodes: &mut Vec<Node>,
    ) -> Result<Option<Term>, ParseError> {
        let start = self.pos;
        let rest = self.rest();
        if rest.starts_with("##") {
            let n = rest.find('\n').map_or(rest.len(), |i| i + 1);
            let n = match rest.find('\r') {
                Some(i) if i < n => {
                    if rest.as_bytes().get(i + 1) == Some(&b'\n') {
                        i + 2
                    } else {
                        i + 1
                    }
                }
                _ => n,
            };
            self.pos += n;
            self.run_start = text.len();
            return Ok(None);
        }
        if rest.starts_with("#*") {
            // An unterminated block comment runs to the end of the template.
            self.pos += rest
                .strip_prefix("#*")
                .and_then(|r| r.find("*#"))
                .map_or(rest.len(), |i| i + 4);
            self.run_start = text.len();
            return Ok(None);
        }
        if rest.starts_with("#[[") {
            let Some(i) = rest.strip_prefix("#[[").and_then(|r| r.find("]]#")) else {
                return Err(self.err_at(start, "unterminated #[[ block"));
            };
            text.push_str(&rest[3..3 + i]);
            self.pos += i + 6;
            return Ok(None);
        }
        let Some((name, after)) = directive_name(rest) else {
            if rest.len() == 1 {
                return Err(self.err_at(start, "lexical error: template ends after `#`"));
            }
            text.push('#');
            self.pos += 1;
            return Ok(None);
        };
        let known = is_directive(name) || self.macro_index(name).is_some();
        if !known {
            // Not a directive: the `#` and the word are text.
            text.push_str(&rest[..after]);
            self.pos += after;
            return Ok(None);
        }
        if name == "set" {
            let run = self.run_start.min(text.len());
            if text.is_char_boundary(run) && text[run..].bytes().all(|b| b == b' ' || b == b'\t') {
                text.truncate(run);
            }
        }
        flush(text, nodes);
        self.pos += after;
        let span = self.span_at(start);
        match name {
            "end" => {
                self.gobble_line_end();
                return Ok(Some(Term::End));
            }
            "else" => {
                self.gobble_line_end();
                return Ok(Some(Term::Else));
            }
            "elseif" => {
                let e = self.paren_expr(start)?;
                return Ok(Some(Term::ElseIf(e)));
            }
            "if" => {
                let cond = self.paren_expr(start)?;
                let mut branches = Vec::new();
                let mut otherwise = None;
                let (mut body, mut t) = self.block()?;
                let mut cond = cond;
                loop {
                    match t {
                        Term::End => {
                            branches.push((cond, body));
                            break;
                        }
                        Term::ElseIf(c) => {
                            branches.push((cond, body));
                            cond = c;
                            (body, t) = self.block()?;
                        }
                        Term::Else => {
                            branches.push((cond, body));
                            let (b, t2) = self.block()?;
                            if !matches!(t2, Term::End) {
                                return Err(self.err_at(start, "#else not closed by #end"));
                            }
                            otherwise = Some(b);
                            break;
                        }
                        Term::Eof => return Err(self.err_at(start, "#if without #end")),
                    }
                }
                nodes.push(Node::If {
                    branches,
                    otherwise,
                });
            }
            "set" => {
                self.open_paren(start)?;
                self.ws_all();
                if self.peek() != Some(b'$') {
                    return Err(self.err_at(self.pos, "#set needs a reference on the left"));
                }
                let Some((target, _)) = self.reference()? else {
                    return Err(self.err_at(self.pos, "#set needs a reference on the left"));
                };
                self.ws_all();
                if self.peek() != Some(b'=') {
                    return Err(self.err_at(self.pos, "expected `=` in #set"));
                }
                self.pos += 1;
                self.ws_all();
                let value = self.expr()?;
                self.close_paren()?;
                nodes.push(Node::Set {
                    target,
                    value,
                    span,
                });
            }
            "foreach" => {
                self.open_paren(start)?;
                self.ws_all();
                let var = match self.reference()? {
                    Some((r, _)) if r.parts.is_empty() => r.root,
                    _ => return Err(self.err_at(self.pos, "#foreach needs a loop variable")),
                };
                self.ws_all();
                if !self.rest().starts_with("in") || self.peek_at(2).is_some_and(is_ident_char) {
                    return Err(self.err_at(self.pos, "expected `in` in #foreach"));
                }
                self.pos += 2;
                self.ws_all();
                let iterable = self.expr()?;
                self.close_paren()?;
                let (body, t) = self.block()?;
                if !matches!(t, Term::End) {
                    return Err(self.err_at(start, "#foreach without #end"));
                }
                nodes.push(Node::Foreach {
                    var,
                    iterable,
                    body,
                    span,
                });
            }
            "break" => nodes.push(Node::Break),
            "stop" => nodes.push(Node::Stop),
            "define" => {
                self.open_paren(start)?;
                self.ws_all();
                let var = match self.reference()? {
                    Some((r, _)) if r.parts.is_empty() => r.root,
                    _ => return Err(self.err_at(self.pos, "#define needs a reference")),
                };
                self.close_paren()?;
                let (body, t) = self.block()?;
                if !matches!(t, Term::End) {
                    return Err(self.err_at(start, "#define without #end"));
                }
                nodes.push(Node::Define { var, body });
            }
            "evaluate" => {
                let expr = self.paren_expr(start)?;
                let source = match expr {
                    Expr::Str(s) => {
                        let depth = self.depth;
                        let mut sub = Parser::new(&s, self.st, span, depth);
                        let (n, t) = sub.block()?;
                        if !matches!(t, Term::Eof) {
                            return Err(self.err_at(start, "unbalanced directive in #evaluate"));
                        }
                        Evaluated::Parsed(n)
                    }
                    e => Evaluated::Computed(e),
                };
                nodes.push(Node::Evaluate { source, span });
            }
            "macro" => self.macro_def(start)?,
            "include" | "parse" => {
                return Err(self.err_at(
                    start,
                    format!("#{name} is not available in mapping templates"),
                ));
            }
            _ => {
                let index = self.macro_index(name).unwrap_or_default();
                let save = self.pos;
                self.ws_all();
                let args = if self.peek() == Some(b'(') {
                    self.pos += 1;
                    let a = self.macro_args()?;
                    self.gobble_line_end();
                    a
                } else {
                    // `#name` alone calls the macro with no arguments.
                    self.pos = save;
                    Vec::new()
                };
                nodes.push(Node::Call { index, args, span });
            }
        }
        // Nested blocks moved the run marker into their own buffers; text here starts afresh.
        self.run_start = text.len();
        Ok(None)
    }

    pub(crate) fn macro_index(&self, name: &str) -> Option<usize> {
        self.st.macros.iter().position(|m| &*m.name == name)
    }

    /// `#macro(name $a $b) body #end`.
    fn macro_def(&mut self, start: usize) -> Result<(), ParseError> {
        self.open_paren(start)?;
        self.ws_all();
        let Some(name) = self.ident() else {
            return Err(self.err_at(self.pos, "#macro needs a name"));
        };
        if is_directive(name) {
            return Err(self.err_at(start, format!("#{name} cannot be redefined as a macro")));
        }
        let mut params = Vec::new();
        loop {
            self.ws_all();
            if self.peek() == Some(b',') {
                self.pos += 1;
                continue;
            }
            match self.peek() {
                Some(b')') => {
                    self.pos += 1;
                    break;
                }
                Some(b'$') => match self.reference()? {
                    Some((r, _)) if r.parts.is_empty() => params.push(r.root),
                    _ => return Err(self.err_at(self.pos, "bad #macro parameter")),
                },
                _ => return Err(self.err_at(self.pos, "bad #macro parameter")),
            }
        }
        self.gobble_line_end();
        // Register before parsing the body so the macro may call itself.
        let index = match self.macro_index(name) {
            Some(i) => i,
            None => {
                self.st.macros.push(Macro {
                    name: name.into(),
                    params: params.clone(),
                    body: Vec::new(),
                });
                self.st.macros.len() - 1
            }
        };
        let (body, t) = self.block()?;
        if !matches!(t, Term::End) {
            return Err(self.err_at(start, "#macro without #end"));
        }
        self.st.macros[index] = Macro {
            name: name.into(),
            params,
            body,
        };
        Ok(())
    }

    /// Macro call arguments: expressions separated by whitespace or commas, up to `)`.
    fn macro_args(&mut self) -> Result<Vec<Expr>, ParseError> {
        let mut args = Vec::new();
        loop {
            self.ws_all();
            match self.peek() {
                Some(b')') => {
                    self.pos += 1;
                    return Ok(args);
                }
                Some(b',') => self.pos += 1,
                None => return Err(self.err_at(self.pos, "unterminated macro call")),
                _ => args.push(self.expr()?),
            }
        }
    }

    fn open_paren(&mut self, start: usize) -> Result<(), ParseError> {
        self.ws_all();
        if self.peek() != Some(b'(') {
            return Err(self.err_at(start, "expected `(` after directive"));
        }
        self.pos += 1;
        Ok(())
    }

    fn close_paren(&mut self) -> Result<(), ParseError> {
        self.ws_all();
        if self.peek() != Some(b')') {
            return Err(self.err_at(self.pos, "expected `)`"));
        }
        self.pos += 1;
        self.gobble_line_end();
        Ok(())
    }

    /// `( expr )` after `#if`/`#elseif`/`#evaluate`, with the newline rule applied.
    fn paren_expr(&mut self, start: usize) -> Result<Expr, ParseError> {
        self.open_paren(start)?;
        self.ws_all();
        let e = self.expr()?;
        self.close_paren()?;
        Ok(e)
    }
}

/// The directive word after `#` (`#name` or `#{name}`) and the length consumed.
pub(crate) fn directive_name(s: &str) -> Option<(&str, usize)> {
    let b = s.as_bytes();
    let braced = b.get(1) == Some(&b'{');
    let start = if braced { 2 } else { 1 };
    if !b
        .get(start)
        .copied()
        .is_some_and(|c| c.is_ascii_alphabetic())
    {
        return None;
    }
    let mut p = start + 1;
    while p < b.len() && (b[p].is_ascii_alphanumeric() || b[p] == b'_') {
        p += 1;
    }
    let name = &s[start..p];
    if braced {
        if b.get(p) != Some(&b'}') {
            return None;
        }
        p += 1;
    }
    Some((name, p))
}

pub(crate) fn is_directive(name: &str) -> bool {
    matches!(
        name,
        "if" | "elseif"
            | "else"
            | "end"
            | "set"
            | "foreach"
            | "break"
            | "stop"
            | "define"
            | "macro"
            | "evaluate"
            | "include"
            | "parse"
    )
}
