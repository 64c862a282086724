//! JSONPath over template values, shaped as Jayway JsonPath 2.0 shapes results: a definite
//! path (only single names and indexes) yields one value or nothing; an indefinite path
//! (wildcards, deep scan, slices, unions, filters) yields a JSON array of every match.

use std::rc::Rc;

use crate::value::{JMap, ListKind, Value};

#[derive(Debug)]
enum Seg {
    Names(Vec<String>),
    Indexes(Vec<i64>),
    Slice(Option<i64>, Option<i64>),
    Wild,
    /// `..` followed by a segment.
    Deep(Box<Seg>),
    Filter(Filter),
}

#[derive(Debug)]
enum Operand {
    /// `@.a.b` (relative) or `$.a` (root).
    Path(bool, Vec<Seg>),
    Lit(Lit),
}

#[derive(Debug, Clone)]
enum Lit {
    Num(f64),
    Str(String),
    Bool(bool),
    Null,
}

#[derive(Debug)]
enum Filter {
    Exists(Operand),
    Cmp(Operand, String, Operand),
    Regex(Operand, regex::Regex),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

/// Evaluates `path` on `doc`; the result is a fresh copy the template may mutate.
pub(crate) fn eval<'a>(path: &str, doc: &Value<'a>) -> Option<Value<'a>> {
    eval_ref(path, doc).map(|v| deep_clone(&v))
}

/// Evaluates `path` on `doc`, sharing structure with the document.
pub(crate) fn eval_ref<'a>(path: &str, doc: &Value<'a>) -> Option<Value<'a>> {
    let segs = parse(path)?;
    if path.trim().is_empty() {
        return None;
    }
    let definite = segs.iter().all(|s| {
        matches!(s, Seg::Names(n) if n.len() == 1) || matches!(s, Seg::Indexes(i) if i.len() == 1)
    });
    let mut cur = vec![doc.clone()];
    for s in &segs {
        let mut next = Vec::new();
        for v in &cur {
            step(s, v, doc, &mut next);
        }
        if definite && next.is_empty() {
            return None;
        }
        cur = next;
    }
    if definite {
        cur.pop()
    } else {
        Some(Value::list(ListKind::Json, cur))
    }
}

fn step<'a>(s: &Seg, v: &Value<'a>, root: &Value<'a>, out: &mut Vec<Value<'a>>) {
    match s {
        Seg::Names(names) => {
            if let Value::Map(m) = v {
                let m = m.borrow();
                for n in names {
                    if let Some(x) = m.get(n) {
                        out.push(x.clone());
                    }
                }
            }
        }
        Seg::Indexes(ix) => {
            if let Value::List(l) = v {
                let l = l.borrow();
                let len = l.items.len() as i64;
                for &i in ix {
                    // Jayway 2.0 resolves a lone negative index to nothing; in a union it
                    // counts from the end.
                    if i < 0 && ix.len() == 1 {
                        continue;
                    }
                    let i = if i < 0 { len + i } else { i };
                    if (0..len).contains(&i) {
                        out.push(l.items[i as usize].clone());
                    }
                }
            }
        }
        Seg::Slice(a, b) => {
            if let Value::List(l) = v {
                let l = l.borrow();
                let len = l.items.len() as i64;
                let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                let a = a.map_or(0, norm);
                let b = b.map_or(len, norm);
                for i in a..b.max(a) {
                    out.push(l.items[i as usize].clone());
                }
            }
        }
        Seg::Wild => children(v, out),
        Seg::Deep(inner) => {
            step(inner, v, root, out);
            let mut kids = Vec::new();
            children(v, &mut kids);
            for k in &kids {
                if matches!(k, Value::Map(_) | Value::List(_)) {
                    step(s, k, root, out);
                }
            }
        }
        Seg::Filter(f) => match v {
            Value::List(l) => {
                for item in &l.borrow().items {
                    if test(f, item, root) {
                        out.push(item.clone());
                    }
                }
            }
            Value::Map(_) if test(f, v, root) => out.push(v.clone()),
            _ => {}
        },
    }
}

fn children<'a>(v: &Value<'a>, out: &mut Vec<Value<'a>>) {
    match v {
        Value::Map(m) => out.extend(m.borrow().entries.iter().map(|(_, x)| x.clone())),
        Value::List(l) => out.extend(l.borrow().items.iter().cloned()),
        _ => {}
    }
}

fn resolve<'a>(o: &Operand, at: &Value<'a>, root: &Value<'a>) -> Option<Value<'a>> {
    match o {
        Operand::Lit(l) => Some(match l {
            Lit::Num(n) => Value::Double(*n),
            Lit::Str(s) => Value::string(s.clone()),
            Lit::Bool(b) => Value::Bool(*b),
            Lit::Null => Value::Null,
        }),
        Operand::Path(from_root, segs) => {
            let mut cur = vec![if *from_root { root.clone() } else { at.clone() }];
            for s in segs {
                let mut next = Vec::new();
                for v in &cur {
                    step(s, v, root, &mut next);
                }
                cur = next;
            }
            cur.pop()
        }
    }
}

fn test<'a>(f: &Filter, at: &Value<'a>, root: &Value<'a>) -> bool {
    match f {
        Filter::Exists(o) => resolve(o, at, root).is_some(),
        Filter::And(a, b) => test(a, at, root) && test(b, at, root),
        Filter::Or(a, b) => test(a, at, root) || test(b, at, root),
        Filter::Not(a) => !test(a, at, root),
        Filter::Regex(o, re) => resolve(o, at, root)
            .and_then(|v| v.as_str().map(|s| re.is_match(s)))
            .unwrap_or(false),
        Filter::Cmp(l, op, r) => {
            let (Some(a), Some(b)) = (resolve(l, at, root), resolve(r, at, root)) else {
                return false;
            };
            let ord = match (a.as_f64(), b.as_f64(), a.as_str(), b.as_str()) {
                (Some(x), Some(y), _, _) => x.partial_cmp(&y),
                (_, _, Some(x), Some(y)) => Some(x.cmp(y)),
                _ => match (&a, &b) {
                    (Value::Null, Value::Null) => Some(std::cmp::Ordering::Equal),
                    (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
                    _ => None,
                },
            };
            match op.as_str() {
                "==" => ord.is_some_and(|o| o.is_eq()),
                "!=" => !ord.is_some_and(|o| o.is_eq()),
                "<" => ord.is_some_and(|o| o.is_lt()),
                "<=" => ord.is_some_and(|o| o.is_le()),
                ">" => ord.is_some_and(|o| o.is_gt()),
                _ => ord.is_some_and(|o| o.is_ge()),
            }
        }
    }
}

/// A fresh copy of lists and maps, so template mutations don't reach the cached document.
pub(crate) fn deep_clone<'a>(v: &Value<'a>) -> Value<'a> {
    match v {
        Value::List(l) => {
            let l = l.borrow();
            Value::list(l.kind, l.items.iter().map(deep_clone).collect())
        }
        Value::Map(m) => Value::Map(Rc::new(std::cell::RefCell::new(JMap {
            entries: m
                .borrow()
                .entries
                .iter()
                .map(|(k, x)| (k.clone(), deep_clone(x)))
                .collect(),
        }))),
        other => other.clone(),
    }
}

/// A copy that borrows nothing (data values only).
pub(crate) fn deep_clone_owned<'b>(v: &Value<'_>) -> Value<'b> {
    match v {
        Value::Bool(b) => Value::Bool(*b),
        Value::Int(i) => Value::Int(*i),
        Value::Long(i) => Value::Long(*i),
        Value::Big(i) => Value::Big(*i),
        Value::Double(d) => Value::Double(*d),
        Value::Str(s) => Value::Str(s.clone()),
        Value::Borrowed(s) => Value::str(s),
        Value::List(l) => {
            let l = l.borrow();
            Value::list(l.kind, l.items.iter().map(deep_clone_owned).collect())
        }
        Value::Map(m) => Value::Map(Rc::new(std::cell::RefCell::new(JMap {
            entries: m
                .borrow()
                .entries
                .iter()
                .map(|(k, x)| (deep_clone_owned(k), deep_clone_owned(x)))
                .collect(),
        }))),
        _ => Value::Null,
    }
}

struct P<'s> {
    s: &'s str,
    p: usize,
    /// Filter nesting (`!`, parentheses), bounded so a hostile path cannot exhaust the stack.
    depth: u32,
}

fn parse(path: &str) -> Option<Vec<Seg>> {
    let path = path.trim();
    let mut p = P {
        s: path,
        p: 0,
        depth: 0,
    };
    if !p.eat("$") {
        // Jayway accepts a path without the leading `$` as relative to the root.
        if p.s.starts_with('@') {
            return None;
        }
        let mut segs = Vec::new();
        if !p.s.is_empty() && !p.s.starts_with('.') && !p.s.starts_with('[') {
            let name = p.name()?;
            segs.push(Seg::Names(vec![name]));
        }
        segs.extend(p.segments(false)?);
        return (p.p == p.s.len()).then_some(segs);
    }
    let segs = p.segments(false)?;
    (p.p == p.s.len()).then_some(segs)
}

impl<'s> P<'s> {
    fn rest(&self) -> &'s str {
        &self.s[self.p..]
    }
    fn eat(&mut self, t: &str) -> bool {
        if self.rest().starts_with(t) {
            self.p += t.len();
            true
        } else {
            false
        }
    }
    fn ws(&mut self) {
        while self.rest().starts_with([' ', '\t']) {
            self.p += 1;
        }
    }
    fn name(&mut self) -> Option<String> {
        let r = self.rest();
        let n = r
            .find(['.', '[', ' ', ')', '=', '!', '<', '>', '&', '|'])
            .unwrap_or(r.len());
        if n == 0 {
            return None;
        }
        self.p += n;
        Some(r[..n].to_string())
    }

    /// Segments until the end or (inside a filter) a non-path character.
    fn segments(&mut self, in_filter: bool) -> Option<Vec<Seg>> {
        let mut segs = Vec::new();
        loop {
            if self.eat("..") {
                let inner = if self.rest().starts_with('[') {
                    self.bracket()?
                } else if self.eat("*") {
                    Seg::Wild
                } else {
                    Seg::Names(vec![self.name()?])
                };
                segs.push(Seg::Deep(Box::new(inner)));
            } else if self.eat(".") {
                if self.eat("*") {
                    segs.push(Seg::Wild);
                } else {
                    let n = self.name()?;
                    // Jayway 2.0 has no functions; `length()` is not a property either.
                    if n.ends_with("()") || self.rest().starts_with('(') {
                        return None;
                    }
                    segs.push(Seg::Names(vec![n]));
                }
            } else if self.rest().starts_with('[') {
                segs.push(self.bracket()?);
            } else if self.p == self.s.len() || in_filter {
                return Some(segs);
            } else {
                return None;
            }
        }
    }

    fn quoted(&mut self) -> Option<String> {
        let q = self.rest().chars().next()?;
        self.p += 1;
        let r = self.rest();
        let end = r.find(q)?;
        self.p += end + 1;
        Some(r[..end].to_string())
    }

    fn bracket(&mut self) -> Option<Seg> {
        self.eat("[");
        self.ws();
        let seg = if self.eat("*") {
            Seg::Wild
        } else if self.eat("?(") {
            self.ws();
            let f = self.filter_or()?;
            self.ws();
            if !self.eat(")") {
                return None;
            }
            Seg::Filter(f)
        } else if self.rest().starts_with(['\'', '"']) {
            let mut names = vec![self.quoted()?];
            loop {
                self.ws();
                if !self.eat(",") {
                    break;
                }
                self.ws();
                names.push(self.quoted()?);
            }
            Seg::Names(names)
        } else {
            let r = self.rest();
            let end = r.find(']')?;
            let inner = r[..end].replace(' ', "");
            self.p += end;
            if let Some((a, b)) = inner.split_once(':') {
                let a = if a.is_empty() {
                    None
                } else {
                    Some(a.parse().ok()?)
                };
                let b = if b.is_empty() {
                    None
                } else {
                    Some(b.parse().ok()?)
                };
                Seg::Slice(a, b)
            } else {
                let ix: Option<Vec<i64>> = inner.split(',').map(|x| x.parse().ok()).collect();
                Seg::Indexes(ix?)
            }
        };
        self.ws();
        self.eat("]").then_some(seg)
    }

    fn filter_or(&mut self) -> Option<Filter> {
        let mut l = self.filter_and()?;
        loop {
            self.ws();
            if !self.eat("||") {
                return Some(l);
            }
            self.ws();
            l = Filter::Or(Box::new(l), Box::new(self.filter_and()?));
        }
    }

    fn filter_and(&mut self) -> Option<Filter> {
        let mut l = self.filter_atom()?;
        loop {
            self.ws();
            if !self.eat("&&") {
                return Some(l);
            }
            self.ws();
            l = Filter::And(Box::new(l), Box::new(self.filter_atom()?));
        }
    }

    fn filter_atom(&mut self) -> Option<Filter> {
        self.depth += 1;
        if self.depth > 64 {
            return None;
        }
        let f = self.filter_atom_inner();
        self.depth -= 1;
        f
    }

    fn filter_atom_inner(&mut self) -> Option<Filter> {
        self.ws();
        if self.eat("!") {
            return Some(Filter::Not(Box::new(self.filter_atom()?)));
        }
        if self.eat("(") {
            let f = self.filter_or()?;
            self.ws();
            return self.eat(")").then_some(f);
        }
        let left = self.operand()?;
        self.ws();
        for op in ["==", "!=", "<=", ">=", "<", ">", "=~"] {
            if self.eat(op) {
                self.ws();
                if op == "=~" {
                    if !self.eat("/") {
                        return None;
                    }
                    let r = self.rest();
                    let end = r.find('/')?;
                    let pat = r[..end].to_string();
                    self.p += end + 1;
                    let ci = self.eat("i");
                    let re = regex::RegexBuilder::new(&format!("^(?:{pat})$"))
                        .case_insensitive(ci)
                        .build()
                        .ok()?;
                    return Some(Filter::Regex(left, re));
                }
                let right = self.operand()?;
                return Some(Filter::Cmp(left, op.to_string(), right));
            }
        }
        Some(Filter::Exists(left))
    }

    fn operand(&mut self) -> Option<Operand> {
        if self.eat("@") {
            return Some(Operand::Path(false, self.segments(true)?));
        }
        if self.eat("$") {
            return Some(Operand::Path(true, self.segments(true)?));
        }
        if self.rest().starts_with(['\'', '"']) {
            return Some(Operand::Lit(Lit::Str(self.quoted()?)));
        }
        for (w, l) in [
            ("true", Lit::Bool(true)),
            ("false", Lit::Bool(false)),
            ("null", Lit::Null),
        ] {
            if self.eat(w) {
                return Some(Operand::Lit(l));
            }
        }
        let r = self.rest();
        let n = r
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')))
            .unwrap_or(r.len());
        let num = r[..n].parse().ok()?;
        self.p += n;
        Some(Operand::Lit(Lit::Num(num)))
    }
}
