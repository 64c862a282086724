//! A JSON reader producing template values the way json-smart (Jayway's default provider)
//! does: objects keep key order, arrays are `JSONArray`s, integers are `Integer`, `Long` or
//! `BigInteger` by size, other numbers `Double`. Strings without escapes borrow the source.

use std::rc::Rc;

use crate::value::{JMap, ListKind, Value};

const MAX_DEPTH: u32 = 512;

struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    p: usize,
    depth: u32,
}

/// Parses a whole document. Err: not JSON (with a short reason).
pub(crate) fn parse(s: &str) -> Result<Value<'_>, String> {
    let mut r = Reader {
        s,
        b: s.as_bytes(),
        p: 0,
        depth: 0,
    };
    r.ws();
    let v = r.value()?;
    r.ws();
    if r.p != r.b.len() {
        return Err(format!("unexpected character at {}", r.p));
    }
    Ok(v)
}

/// The document JSONPath sees. API Gateway reads an empty body as `{}` (a GET through the
/// passthrough template yields `"body-json" : {}`). json-smart's permissive parser (Jayway's
/// default) reads a body that is not JSON and does not open an object, array or string as one
/// bare string (a form post `a=1&b=2` becomes `"a=1&b=2"`); anything else that fails to parse
/// is no document.
pub(crate) fn parse_lenient(s: &str) -> Option<Value<'_>> {
    if let Ok(v) = parse(s) {
        return Some(v);
    }
    let t = s.trim();
    if t.is_empty() {
        return Some(Value::map(Vec::new()));
    }
    if t.starts_with(['{', '[', '"', '\'']) {
        return None;
    }
    Some(Value::Borrowed(t))
}

/// Parses into values that own their strings (for text computed during rendering).
pub(crate) fn parse_owned<'a>(s: &str) -> Result<Value<'a>, String> {
    Ok(crate::jsonpath::deep_clone_owned(&parse(s)?))
}

impl<'a> Reader<'a> {
    fn ws(&mut self) {
        while self.p < self.b.len() && matches!(self.b[self.p], b' ' | b'\t' | b'\n' | b'\r') {
            self.p += 1;
        }
    }

    fn value(&mut self) -> Result<Value<'a>, String> {
        match self.b.get(self.p) {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string().map(|s| match s {
                std::borrow::Cow::Borrowed(b) => Value::Borrowed(b),
                std::borrow::Cow::Owned(o) => Value::string(o),
            }),
            Some(b't') => self.lit("true", Value::Bool(true)),
            Some(b'f') => self.lit("false", Value::Bool(false)),
            Some(b'n') => self.lit("null", Value::Null),
            Some(c) if c.is_ascii_digit() || *c == b'-' => self.number(),
            _ => Err(format!("unexpected input at {}", self.p)),
        }
    }

    fn lit(&mut self, w: &str, v: Value<'a>) -> Result<Value<'a>, String> {
        if self.s[self.p..].starts_with(w) {
            self.p += w.len();
            Ok(v)
        } else {
            Err(format!("bad literal at {}", self.p))
        }
    }

    fn nest(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("document nested too deeply".into());
        }
        Ok(())
    }

    fn object(&mut self) -> Result<Value<'a>, String> {
        self.nest()?;
        self.p += 1;
        let mut m = JMap::default();
        self.ws();
        if self.b.get(self.p) == Some(&b'}') {
            self.p += 1;
            self.depth -= 1;
            return Ok(Value::Map(Rc::new(std::cell::RefCell::new(m))));
        }
        loop {
            self.ws();
            if self.b.get(self.p) != Some(&b'"') {
                return Err(format!("expected key at {}", self.p));
            }
            let k = self.string()?;
            self.ws();
            if self.b.get(self.p) != Some(&b':') {
                return Err(format!("expected `:` at {}", self.p));
            }
            self.p += 1;
            self.ws();
            let v = self.value()?;
            let k = match k {
                std::borrow::Cow::Borrowed(b) => Value::Borrowed(b),
                std::borrow::Cow::Owned(o) => Value::string(o),
            };
            m.put(k, v);
            self.ws();
            match self.b.get(self.p) {
                Some(b',') => self.p += 1,
                Some(b'}') => {
                    self.p += 1;
                    self.depth -= 1;
                    return Ok(Value::Map(Rc::new(std::cell::RefCell::new(m))));
                }
                _ => return Err(format!("expected `,` or `}}` at {}", self.p)),
            }
        }
    }

    fn array(&mut self) -> Result<Value<'a>, String> {
        self.nest()?;
        self.p += 1;
        let mut items = Vec::new();
        self.ws();
        if self.b.get(self.p) == Some(&b']') {
            self.p += 1;
            self.depth -= 1;
            return Ok(Value::list(ListKind::Json, items));
        }
        loop {
            self.ws();
            items.push(self.value()?);
            self.ws();
            match self.b.get(self.p) {
                Some(b',') => self.p += 1,
                Some(b']') => {
                    self.p += 1;
                    self.depth -= 1;
                    return Ok(Value::list(ListKind::Json, items));
                }
                _ => return Err(format!("expected `,` or `]` at {}", self.p)),
            }
        }
    }

    fn string(&mut self) -> Result<std::borrow::Cow<'a, str>, String> {
        let start = self.p + 1;
        let mut p = start;
        while p < self.b.len() && self.b[p] != b'"' && self.b[p] != b'\\' {
            p += 1;
        }
        if self.b.get(p) == Some(&b'"') {
            self.p = p + 1;
            return Ok(std::borrow::Cow::Borrowed(&self.s[start..p]));
        }
        let mut out = String::from(&self.s[start..p]);
        loop {
            match self.b.get(p) {
                None => return Err("unterminated string".into()),
                Some(b'"') => {
                    self.p = p + 1;
                    return Ok(std::borrow::Cow::Owned(out));
                }
                Some(b'\\') => {
                    let c = self.b.get(p + 1).copied();
                    p += 2;
                    match c {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let hi = self.hex4(p)?;
                            p += 4;
                            let cp = if (0xD800..0xDC00).contains(&hi)
                                && self.s[p..].starts_with("\\u")
                            {
                                let lo = self.hex4(p + 2)?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    p += 6;
                                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                } else {
                                    0xFFFD
                                }
                            } else {
                                hi
                            };
                            out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                        }
                        _ => return Err(format!("bad escape at {p}")),
                    }
                }
                Some(_) => {
                    let rest = &self.s[p..];
                    let n = rest
                        .bytes()
                        .position(|b| b == b'"' || b == b'\\')
                        .unwrap_or(rest.len());
                    out.push_str(&rest[..n]);
                    p += n;
                }
            }
        }
    }

    fn hex4(&self, p: usize) -> Result<u32, String> {
        self.s
            .get(p..p + 4)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| format!("bad \\u escape at {p}"))
    }

    fn number(&mut self) -> Result<Value<'a>, String> {
        let start = self.p;
        let b = self.b;
        let mut p = self.p;
        if b[p] == b'-' {
            p += 1;
        }
        let digits = p;
        while p < b.len() && b[p].is_ascii_digit() {
            p += 1;
        }
        if p == digits {
            return Err(format!("bad number at {start}"));
        }
        let mut float = false;
        if b.get(p) == Some(&b'.') {
            float = true;
            p += 1;
            while p < b.len() && b[p].is_ascii_digit() {
                p += 1;
            }
        }
        if matches!(b.get(p), Some(b'e' | b'E')) {
            float = true;
            p += 1;
            if matches!(b.get(p), Some(b'+' | b'-')) {
                p += 1;
            }
            while p < b.len() && b[p].is_ascii_digit() {
                p += 1;
            }
        }
        self.p = p;
        let text = &self.s[start..p];
        if let (false, Ok(i)) = (float, text.parse::<i128>()) {
            return Ok(Value::integral(i, 0));
        }
        text.parse::<f64>()
            .map(Value::Double)
            .map_err(|_| format!("bad number at {start}"))
    }
}
