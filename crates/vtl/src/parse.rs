//! Template-level scanner and recursive-descent parser.
//!
//! Velocity's lexer is context sensitive (text, references, directives and expressions each lex
//! differently), so lexing and parsing are fused: the parser reads the source directly and
//! decides what a `$`, `#` or `\` starts from what follows. Expression syntax lives in
//! `expr.rs`. Whitespace rules are Velocity 1.7's: a directive's closing `)` (and `#else`,
//! `#end`) swallows trailing spaces/tabs plus one newline; `##` comments swallow their newline;
//! text before a directive is kept.

use std::collections::HashMap;

use crate::ParseError;
use crate::ast::{Expr, Macro, Node, Part, Ref, Slot, Span};
use crate::directive::{directive_name, is_directive};

/// Nesting bound for blocks, expressions and string interpolation: deep input must produce an
/// error, not a stack overflow.
const MAX_DEPTH: u32 = 128;

/// Names every template knows; their slots are fixed so the evaluator can seed them.
pub(crate) const SLOT_INPUT: Slot = 0;
pub(crate) const SLOT_UTIL: Slot = 1;
pub(crate) const SLOT_CONTEXT: Slot = 2;
pub(crate) const SLOT_STAGE: Slot = 3;
pub(crate) const SLOT_FOREACH: Slot = 4;
pub(crate) const SLOT_VELOCITY_COUNT: Slot = 5;
pub(crate) const SLOT_VELOCITY_HAS_NEXT: Slot = 6;
const PREDEFINED: [&str; 7] = [
    "input",
    "util",
    "context",
    "stageVariables",
    "foreach",
    "velocityCount",
    "velocityHasNext",
];

/// Names and macros shared by a template and the strings interpolated inside it.
pub(crate) struct State {
    pub names: Vec<Box<str>>,
    name_map: HashMap<Box<str>, Slot>,
    pub macros: Vec<Macro>,
}

impl State {
    pub fn new() -> State {
        let mut st = State {
            names: Vec::new(),
            name_map: HashMap::new(),
            macros: Vec::new(),
        };
        for n in PREDEFINED {
            st.slot(n);
        }
        st
    }

    /// A state continuing `t`'s: same slots for its names, same macros (for `#evaluate`).
    pub fn from_template(t: &crate::Template) -> State {
        State {
            names: t.names.clone(),
            name_map: t
                .names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i as Slot))
                .collect(),
            macros: t.macros.clone(),
        }
    }

    pub fn slot(&mut self, name: &str) -> Slot {
        if let Some(s) = self.name_map.get(name) {
            return *s;
        }
        let s = self.names.len() as Slot;
        self.names.push(name.into());
        self.name_map.insert(name.into(), s);
        s
    }
}

/// What ended a block.
pub(crate) enum Term {
    Eof,
    End,
    Else,
    ElseIf(Expr),
}

pub(crate) struct Parser<'s, 'st> {
    pub src: &'s str,
    pub pos: usize,
    pub st: &'st mut State,
    line_starts: Vec<usize>,
    /// Position of this source inside the template (interpolated strings are sub-sources).
    base: Span,
    pub depth: u32,
    /// Where the current run of plain text began in the block's text buffer: spaces and tabs
    /// forming a whole run right before `#set` belong to the directive (Velocity 1.7 lexes
    /// them into the `#set` token) and are dropped.
    pub(crate) run_start: usize,
}

pub(crate) fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

pub(crate) fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

impl<'s, 'st> Parser<'s, 'st> {
    pub fn new(src: &'s str, st: &'st mut State, base: Span, depth: u32) -> Self {
        let mut line_starts = vec![0];
        for (i, b) in src.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        Parser {
            src,
            pos: 0,
            st,
            line_starts,
            base,
            depth,
            run_start: 0,
        }
    }

    pub fn span_at(&self, pos: usize) -> Span {
        let pos = pos.min(self.src.len());
        let line = self.line_starts.partition_point(|&s| s <= pos) - 1;
        let start = self.line_starts[line];
        let col = self
            .src
            .get(start..pos)
            .map_or(pos - start, |s| s.chars().count()) as u32
            + 1;
        if line == 0 {
            Span {
                line: self.base.line,
                column: self.base.column + col - 1,
            }
        } else {
            Span {
                line: self.base.line + line as u32,
                column: col,
            }
        }
    }

    pub fn span(&self) -> Span {
        self.span_at(self.pos)
    }

    pub fn err_at(&self, pos: usize, msg: impl Into<String>) -> ParseError {
        let sp = self.span_at(pos);
        ParseError {
            line: sp.line,
            column: sp.column,
            message: msg.into(),
        }
    }

    pub fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    pub fn peek_at(&self, off: usize) -> Option<u8> {
        self.src.as_bytes().get(self.pos + off).copied()
    }

    pub fn rest(&self) -> &'s str {
        &self.src[self.pos..]
    }

    pub fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err_at(self.pos, "template nested too deeply"));
        }
        Ok(())
    }

    pub fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Swallows `[ \t]*` and one newline if the line ends there (Velocity 1.7 directive rule).
    pub(crate) fn gobble_line_end(&mut self) {
        let b = self.src.as_bytes();
        let mut p = self.pos;
        while p < b.len() && (b[p] == b' ' || b[p] == b'\t') {
            p += 1;
        }
        if b.get(p) == Some(&b'\n') {
            self.pos = p + 1;
        } else if b.get(p) == Some(&b'\r') {
            self.pos = if b.get(p + 1) == Some(&b'\n') {
                p + 2
            } else {
                p + 1
            };
        }
    }

    /// An identifier at the cursor (letters, digits, `_`, `-`; not starting with a digit).
    pub fn ident(&mut self) -> Option<&'s str> {
        let b = self.src.as_bytes();
        if !b.get(self.pos).copied().is_some_and(is_ident_start) {
            return None;
        }
        let start = self.pos;
        let mut p = start + 1;
        while p < b.len() && is_ident_char(b[p]) {
            p += 1;
        }
        self.pos = p;
        Some(&self.src[start..p])
    }

    /// Parses nodes until `#end`/`#else`/`#elseif` or the end of input.
    pub fn block(&mut self) -> Result<(Vec<Node>, Term), ParseError> {
        self.enter()?;
        let mut nodes = Vec::new();
        let mut text = String::new();
        self.run_start = 0;
        let term = loop {
            let Some(c) = self.peek() else {
                break Term::Eof;
            };
            match c {
                b'$' => {
                    if let Some((r, _)) = self.reference()? {
                        flush(&mut text, &mut nodes);
                        nodes.push(Node::Ref(r));
                    } else {
                        self.take_dollar_text(&mut text)?;
                    }
                    self.run_start = text.len();
                }
                b'#' => {
                    let before = nodes.len();
                    if let Some(t) = self.hash(&mut text, &mut nodes)? {
                        break t;
                    }
                    if nodes.len() != before {
                        self.run_start = text.len();
                    }
                }
                b'\\' => {
                    let before = (nodes.len(), text.len());
                    self.backslashes(&mut text, &mut nodes)?;
                    if nodes.len() != before.0 || !text[before.1..].bytes().all(|b| b == b'\\') {
                        self.run_start = text.len();
                    }
                }
                _ => {
                    let rest = self.rest();
                    let n = rest
                        .bytes()
                        .position(|b| b == b'$' || b == b'#' || b == b'\\')
                        .unwrap_or(rest.len());
                    text.push_str(&rest[..n]);
                    self.pos += n;
                }
            }
        };
        flush(&mut text, &mut nodes);
        self.leave();
        Ok((nodes, term))
    }

    /// A `$` that starts no reference: Velocity prints it, and a following `!` with it. At the
    /// very end of the template Velocity's lexer fails instead.
    fn take_dollar_text(&mut self, text: &mut String) -> Result<(), ParseError> {
        let start = self.pos;
        text.push('$');
        self.pos += 1;
        if self.peek() == Some(b'!') {
            text.push('!');
            self.pos += 1;
        }
        if self.peek().is_none() {
            return Err(self.err_at(start, "lexical error: template ends after `$`"));
        }
        Ok(())
    }

    /// Tries a reference at `$`. Returns the reference and whether it was quiet (`$!`), or
    /// None (cursor unchanged) when the `$` starts no reference.
    pub fn reference(&mut self) -> Result<Option<(Ref, bool)>, ParseError> {
        // References nest through index and argument expressions.
        self.enter()?;
        let r = self.reference_inner();
        self.leave();
        r
    }

    fn reference_inner(&mut self) -> Result<Option<(Ref, bool)>, ParseError> {
        let start = self.pos;
        let span = self.span();
        self.pos += 1;
        let quiet = self.peek() == Some(b'!');
        if quiet {
            self.pos += 1;
        }
        let braced = self.peek() == Some(b'{');
        if braced {
            self.pos += 1;
        }
        let Some(name) = self.ident() else {
            self.pos = start;
            return Ok(None);
        };
        let root = self.st.slot(name);
        let parts = self.ref_parts()?;
        if braced {
            if self.peek() != Some(b'}') {
                if self.peek().is_none() {
                    return Err(self.err_at(self.pos, "unterminated `${` reference"));
                }
                self.pos = start;
                return Ok(None);
            }
            self.pos += 1;
        }
        Ok(Some((
            Ref {
                root,
                parts,
                span,
                raw: self.src[start..self.pos].into(),
            },
            quiet,
        )))
    }

    /// `.prop`, `.method(args)` and `[index]` suffixes.
    fn ref_parts(&mut self) -> Result<Vec<Part>, ParseError> {
        let mut parts = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') if self.peek_at(1).is_some_and(is_ident_start) => {
                    let span = self.span_at(self.pos + 1);
                    self.pos += 1;
                    let name = self.ident().unwrap_or_default();
                    if self.peek() == Some(b'(') {
                        self.pos += 1;
                        let args = self.args(b')')?;
                        parts.push(Part::Method(name.into(), args, span));
                    } else {
                        parts.push(Part::Prop(name.into(), span));
                    }
                }
                Some(b'[') => {
                    let span = self.span();
                    self.pos += 1;
                    self.ws_all();
                    let e = self.index_operand()?;
                    self.ws_all();
                    if self.peek() != Some(b']') {
                        return Err(self.err_at(self.pos, "expected `]` after index"));
                    }
                    self.pos += 1;
                    parts.push(Part::Index(e, span));
                }
                _ => return Ok(parts),
            }
        }
    }

    /// A run of backslashes: before a reference or directive they escape it (pairs print one
    /// backslash each); elsewhere they are text.
    fn backslashes(&mut self, text: &mut String, nodes: &mut Vec<Node>) -> Result<(), ParseError> {
        let rest = self.rest();
        let n = rest.bytes().take_while(|&b| b == b'\\').count();
        let after = &rest[n..];
        if after.starts_with('$') {
            let save = self.pos;
            self.pos += n;
            if let Some((reference, _)) = self.reference()? {
                flush(text, nodes);
                let raw = reference.raw.clone();
                nodes.push(Node::EscapedRef {
                    backslashes: n as u32,
                    reference,
                    raw,
                });
                return Ok(());
            }
            self.pos = save;
        } else if let Some((name, len)) = directive_name(after)
            && after.starts_with('#')
        {
            {
                if is_directive(name) || self.macro_index(name).is_some() {
                    for _ in 0..n / 2 {
                        text.push('\\');
                    }
                    self.pos += n;
                    if n % 2 == 1 {
                        // Escaped: the directive word is text; what follows parses normally.
                        text.push_str(&after[..len]);
                        self.pos += len;
                    }
                    return Ok(());
                }
            }
        }
        text.push_str(&rest[..n]);
        self.pos += n;
        Ok(())
    }

    /// Any whitespace including newlines (allowed inside directive arguments).
    pub fn ws_all(&mut self) {
        let b = self.src.as_bytes();
        while self.pos < b.len() && matches!(b[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }
}

pub(crate) fn flush(text: &mut String, nodes: &mut Vec<Node>) {
    if !text.is_empty() {
        nodes.push(Node::Text(std::mem::take(text).into_boxed_str()));
    }
}

/// Parses a whole template.
pub(crate) fn parse_template(src: &str, st: &mut State) -> Result<Vec<Node>, ParseError> {
    let mut p = Parser::new(src, st, Span { line: 1, column: 1 }, 0);
    let (nodes, term) = p.block()?;
    match term {
        Term::Eof => Ok(nodes),
        Term::End => Err(p.err_at(p.pos.saturating_sub(1), "#end without an open directive")),
        Term::Else | Term::ElseIf(_) => Err(p.err_at(p.pos.saturating_sub(1), "#else without #if")),
    }
}
