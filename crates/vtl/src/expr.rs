//! Expression syntax inside directives and method arguments: literals, references, operators.
//!
//! Precedence, loosest first: `||`/`or`, `&&`/`and`, `==`/`!=`/`eq`/`ne`, `<`/`<=`/`>`/`>=`
//! (and `lt le gt ge`), `+`/`-`, `*`/`/`/`%`, `!`/`not`, primaries. As in Velocity's lexer a `-`
//! directly followed by a digit is part of a number literal, so `5-3` is a syntax error.

use crate::ParseError;
use crate::ast::{BinOp, Expr};
use crate::parse::{Parser, is_ident_char};

impl Parser<'_, '_> {
    pub fn expr(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let e = self.or();
        self.leave();
        e
    }

    /// Comma-separated arguments up to `close` (the opening bracket is already consumed).
    /// Velocity's grammar rejects whitespace alone between empty parentheses.
    pub fn args(&mut self, close: u8) -> Result<Vec<Expr>, ParseError> {
        let mut args = Vec::new();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(args);
        }
        self.ws_all();
        if self.peek() == Some(close) {
            return Err(self.err_at(self.pos, "empty argument list with whitespace"));
        }
        loop {
            self.ws_all();
            args.push(self.expr()?);
            self.ws_all();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(args);
                }
                _ => {
                    return Err(
                        self.err_at(self.pos, format!("expected `,` or `{}`", close as char))
                    );
                }
            }
        }
    }

    /// A word operator (`and`, `not`...) at the cursor, not followed by identifier characters.
    fn word(&mut self, w: &str) -> bool {
        let r = self.rest();
        if r.starts_with(w)
            && !r
                .as_bytes()
                .get(w.len())
                .copied()
                .is_some_and(is_ident_char)
        {
            self.pos += w.len();
            true
        } else {
            false
        }
    }

    fn sym(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn binary(
        &mut self,
        next: fn(&mut Self) -> Result<Expr, ParseError>,
        ops: fn(&mut Self) -> Option<BinOp>,
    ) -> Result<Expr, ParseError> {
        let mut left = next(self)?;
        loop {
            self.ws_all();
            let at = self.pos;
            let span = self.span();
            let Some(op) = ops(self) else {
                self.pos = at;
                return Ok(left);
            };
            self.ws_all();
            let right = next(self)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right), span);
        }
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        self.binary(Self::and, |p| {
            (p.sym("||") || p.word("or")).then_some(BinOp::Or)
        })
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        self.binary(Self::equality, |p| {
            (p.sym("&&") || p.word("and")).then_some(BinOp::And)
        })
    }

    fn equality(&mut self) -> Result<Expr, ParseError> {
        self.binary(Self::relational, |p| {
            if p.sym("==") || p.word("eq") {
                Some(BinOp::Eq)
            } else if p.sym("!=") || p.word("ne") {
                Some(BinOp::Ne)
            } else {
                None
            }
        })
    }

    fn relational(&mut self) -> Result<Expr, ParseError> {
        self.binary(Self::additive, |p| {
            if p.sym("<=") || p.word("le") {
                Some(BinOp::Le)
            } else if p.sym(">=") || p.word("ge") {
                Some(BinOp::Ge)
            } else if p.sym("<") || p.word("lt") {
                Some(BinOp::Lt)
            } else if p.sym(">") || p.word("gt") {
                Some(BinOp::Gt)
            } else {
                None
            }
        })
    }

    fn additive(&mut self) -> Result<Expr, ParseError> {
        self.binary(Self::multiplicative, |p| {
            if p.sym("+") {
                Some(BinOp::Add)
            } else if p.peek() == Some(b'-') && !p.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
                p.pos += 1;
                Some(BinOp::Sub)
            } else {
                None
            }
        })
    }

    fn multiplicative(&mut self) -> Result<Expr, ParseError> {
        self.binary(Self::unary, |p| {
            if p.sym("*") {
                Some(BinOp::Mul)
            } else if p.sym("/") {
                Some(BinOp::Div)
            } else if p.sym("%") {
                Some(BinOp::Mod)
            } else {
                None
            }
        })
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if (self.peek() == Some(b'!') && self.peek_at(1) != Some(b'=')) || self.word("not") {
            if self.peek() == Some(b'!') {
                self.pos += 1;
            }
            self.ws_all();
            self.enter()?;
            let e = self.unary();
            self.leave();
            return Ok(Expr::Not(Box::new(e?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        match self.peek() {
            Some(b'(') => {
                self.pos += 1;
                self.ws_all();
                let e = self.expr()?;
                self.ws_all();
                if self.peek() != Some(b')') {
                    return Err(self.err_at(self.pos, "expected `)`"));
                }
                self.pos += 1;
                Ok(e)
            }
            Some(b'$') => match self.reference()? {
                Some((r, _)) => Ok(Expr::Ref(r)),
                None => Err(self.err_at(start, "expected a reference after `$`")),
            },
            Some(b'"') => self.string(b'"'),
            Some(b'\'') => self.string(b'\''),
            Some(b'[') => self.list(),
            Some(b'{') => {
                self.pos += 1;
                let mut entries = Vec::new();
                self.ws_all();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(Expr::Map(entries));
                }
                loop {
                    self.ws_all();
                    let k = self.expr()?;
                    self.ws_all();
                    if self.peek() != Some(b':') {
                        return Err(self.err_at(self.pos, "expected `:` in map literal"));
                    }
                    self.pos += 1;
                    self.ws_all();
                    let v = self.expr()?;
                    entries.push((k, v));
                    self.ws_all();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Expr::Map(entries));
                        }
                        _ => {
                            return Err(self.err_at(self.pos, "expected `,` or `}` in map literal"));
                        }
                    }
                }
            }
            Some(c) if c.is_ascii_digit() || c == b'-' => self.number(),
            _ => {
                if self.word("true") {
                    Ok(Expr::Bool(true))
                } else if self.word("false") {
                    Ok(Expr::Bool(false))
                } else if self.word("null") {
                    Ok(Expr::Null)
                } else {
                    Err(self.err_at(start, unexpected(self.rest())))
                }
            }
        }
    }

    /// What `$x[...]` and range ends accept: an integer, a string or a reference.
    pub fn index_operand(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        let e = self.primary()?;
        match e {
            Expr::Int(_) | Expr::Str(_) | Expr::Interp(_) | Expr::Ref(_) => Ok(e),
            _ => Err(self.err_at(start, "expected an integer, string or reference")),
        }
    }

    /// `[a, b]` or `[a..b]`.
    fn list(&mut self) -> Result<Expr, ParseError> {
        let span = self.span();
        self.pos += 1;
        self.ws_all();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Expr::List(Vec::new()));
        }
        let first = self.expr()?;
        self.ws_all();
        if self.sym("..") {
            if !matches!(first, Expr::Int(_) | Expr::Ref(_)) {
                return Err(self.err_at(self.pos - 2, "range ends must be integers or references"));
            }
            self.ws_all();
            let at = self.pos;
            let last = self.expr()?;
            if !matches!(last, Expr::Int(_) | Expr::Ref(_)) {
                return Err(self.err_at(at, "range ends must be integers or references"));
            }
            self.ws_all();
            if self.peek() != Some(b']') {
                return Err(self.err_at(self.pos, "expected `]` after range"));
            }
            self.pos += 1;
            return Ok(Expr::Range(Box::new(first), Box::new(last), span));
        }
        let mut items = vec![first];
        loop {
            self.ws_all();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.ws_all();
                    items.push(self.expr()?);
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Expr::List(items));
                }
                _ => return Err(self.err_at(self.pos, "expected `,` or `]` in list literal")),
            }
        }
    }

    fn number(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        let b = self.src.as_bytes();
        let mut p = self.pos;
        if b.get(p) == Some(&b'-') {
            p += 1;
        }
        let digits = p;
        while p < b.len() && b[p].is_ascii_digit() {
            p += 1;
        }
        if p == digits {
            return Err(self.err_at(start, unexpected(self.rest())));
        }
        let mut float = false;
        if b.get(p) == Some(&b'.') && b.get(p + 1).is_some_and(u8::is_ascii_digit) {
            float = true;
            p += 1;
            while p < b.len() && b[p].is_ascii_digit() {
                p += 1;
            }
        }
        if matches!(b.get(p), Some(b'e' | b'E')) {
            let mut q = p + 1;
            if matches!(b.get(q), Some(b'+' | b'-')) {
                q += 1;
            }
            if b.get(q).is_some_and(u8::is_ascii_digit) {
                float = true;
                p = q;
                while p < b.len() && b[p].is_ascii_digit() {
                    p += 1;
                }
            }
        }
        let text = &self.src[start..p];
        self.pos = p;
        if float {
            text.parse::<f64>()
                .map(Expr::Float)
                .map_err(|_| self.err_at(start, "bad number"))
        } else {
            text.parse::<i64>()
                .map(Expr::Int)
                .map_err(|_| self.err_at(start, "integer literal out of range"))
        }
    }

    /// A quoted string. A doubled quote stands for one; `\uXXXX` is decoded; other backslashes
    /// stay as written. Double-quoted strings containing `$` or `#` are parsed as templates.
    fn string(&mut self, q: u8) -> Result<Expr, ParseError> {
        let start = self.pos;
        let span = self.span_at(start + 1);
        let b = self.src.as_bytes();
        let mut p = start + 1;
        let mut s = String::new();
        let mut seg = p;
        loop {
            match b.get(p) {
                None => return Err(self.err_at(start, "unterminated string literal")),
                Some(&c) if c == q => {
                    if b.get(p + 1) == Some(&q) {
                        s.push_str(&self.src[seg..=p]);
                        p += 2;
                        seg = p;
                        continue;
                    }
                    s.push_str(&self.src[seg..p]);
                    p += 1;
                    break;
                }
                Some(b'\\') if q == b'"' && b.get(p + 1) == Some(&b'u') => {
                    let hex = self.src.get(p + 2..p + 6).unwrap_or("");
                    match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) if hex.len() == 4 => {
                            s.push_str(&self.src[seg..p]);
                            s.push(ch);
                            p += 6;
                            seg = p;
                        }
                        _ => p += 1,
                    }
                }
                Some(_) => p += 1,
            }
        }
        self.pos = p;
        if q == b'\'' || !(s.contains('$') || s.contains('#')) {
            return Ok(Expr::Str(s.into_boxed_str()));
        }
        let depth = self.depth;
        let mut sub = Parser::new(&s, self.st, span, depth);
        let (nodes, term) = sub.block()?;
        if !matches!(term, crate::parse::Term::Eof) {
            return Err(self.err_at(start, "unbalanced directive in string literal"));
        }
        Ok(Expr::Interp(nodes))
    }
}

fn unexpected(rest: &str) -> String {
    match rest.chars().next() {
        None => "unexpected end of template".to_string(),
        Some(c) => format!("unexpected `{c}`"),
    }
}
